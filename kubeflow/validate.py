"""`tfx-e2e validate`: offline checks of a compiled PipelineJob, each failure naming the node it is about.

One function per rule (RULES); each takes the parsed job and returns its findings, and `validate` runs them all.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator

from google.protobuf import json_format

from kubeflow.targets import TARGETS

REMOTE_SCHEMES = ("gs://", "s3://", "minio://")
DOTTED_PATH_PARAMETERS = ("run_fn", "preprocessing_fn", "stats_options_updater_fn", "module_path")
REMOTE_URI_KEYS = ("input_base", "base_directory", "data-root")
_CREDENTIAL_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)", re.I)
_CREDENTIAL_VALUE = [
    (re.compile(r"AKIA[0-9A-Z]{16}"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"), "a Google OAuth access token"),
    (re.compile(r"\bgh[pousr]_[0-9A-Za-z]{30,}"), "a GitHub token"),
    (re.compile(r"\"private_key_id\"\s*:"), "a service-account key file"),
    (re.compile(r"[a-z][a-z0-9+.\-]*://[^/\s:@\"]+:[^/\s@\"]+@"), "a URI with a password"),
    (re.compile(r"(?i)\b(password|passwd|secret|token)\s*[=:]\s*[^\s,\"'{}]{4,}"), "a password or token assignment"),
]


@dataclass
class Report:
    path: str
    target: str
    schema_version: str = ""
    sdk_version: str = ""
    nodes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Compiled:
    """A compiled job three ways: the JSON document, its parsed PipelineSpec, and the spec's executors as JSON."""

    job: dict
    spec: Any  # kfp.pipeline_spec.pipeline_spec_pb2.PipelineSpec
    target: str

    @cached_property
    def executors(self) -> dict:
        return json_format.MessageToDict(self.spec.deployment_spec).get("executors", {})


def parse(job: dict, target: str) -> Compiled:
    """Raises json_format.ParseError when the document is not a KFP PipelineJob / PipelineSpec."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = json_format.ParseDict(job.get("pipelineSpec", {}), pipeline_spec_pb2.PipelineSpec())
    json_format.ParseDict({k: v for k, v in job.items() if k != "pipelineSpec"}, pipeline_spec_pb2.PipelineJob())
    return Compiled(job=job, spec=spec, target=target)


def _strings(obj: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON document with its JSON path, JSON strings inside strings included."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(value, f"{where}.{key}" if where else key)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _strings(value, f"{where}[{i}]")
    elif isinstance(obj, str):
        yield where, obj
        if obj[:1] in "{[":
            try:
                yield from _strings(json.loads(obj), where)
            except ValueError:
                pass


def _node_of(json_path: str) -> str:
    """`pipelineSpec.root.dag.tasks.Trainer....` → `Trainer`; executors and components likewise."""
    for marker in (".tasks.", ".executors.", ".components."):
        if marker in json_path:
            name = json_path.split(marker, 1)[1].split(".", 1)[0].split("[", 1)[0]
            return re.sub(r"^comp-|_executor$", "", name)
    return "pipeline"


def _importable(dotted: str) -> str | None:
    """None when `package.module.attr` imports and resolves, else why not."""
    module, _, attr = dotted.rpartition(".")
    if not module:
        return f"{dotted!r} is not a dotted path"
    try:
        return None if hasattr(importlib.import_module(module), attr) else f"module {module} has no {attr!r}"
    except Exception as err:  # pylint: disable=broad-except  (any import failure is the finding)
        return f"cannot import {module}: {type(err).__name__}: {err}"


def _constant(parameter: dict) -> Any:
    value = parameter.get("runtimeValue", {}).get("constantValue", {})
    if "stringValue" in value:
        return value["stringValue"]
    return value.get("intValue", value.get("doubleValue", parameter.get("runtimeValue", {}).get("constant")))


def _task_parameters(task: Any) -> dict:
    return json_format.MessageToDict(task.inputs).get("parameters", {})


# ---------------------------------------------------------------------------------------------------------------
# The rules


def sdk_versions(compiled: Compiled) -> Iterator[str]:
    """The spec records the IR schema and the SDK (TFX) version that wrote it."""
    if not compiled.spec.schema_version:
        yield "pipeline: no schemaVersion recorded"
    if not compiled.spec.sdk_version:
        yield "pipeline: no sdkVersion recorded"


def container_executors(compiled: Compiled) -> Iterator[str]:
    """Every executor is a container with an image and a command, an importer or a resolver."""
    for name, executor in compiled.executors.items():
        node = _node_of(f"deploymentSpec.executors.{name}")
        if "container" in executor:
            if not executor["container"].get("image"):
                yield f"node {node}: its executor has no container image"
            if not executor["container"].get("command"):
                yield f"node {node}: its executor has no command"
        elif not ({"importer", "resolver"} & set(executor)):
            yield f"node {node}: its executor is neither a container, an importer nor a resolver"


def task_wiring(compiled: Compiled) -> Iterator[str]:
    """Every task's component and executor exist, and each input comes from a task that declares that output."""
    spec, executors = compiled.spec, compiled.executors
    tasks = spec.root.dag.tasks
    for name, task in tasks.items():
        component = spec.components.get(task.component_ref.name)
        if component is None:
            yield f"node {name}: refers to component {task.component_ref.name!r}, which is not defined"
        elif component.executor_label and component.executor_label not in executors:
            yield f"node {name}: its executor {component.executor_label!r} is not defined"
        for dependency in task.dependent_tasks:
            if dependency not in tasks:
                yield f"node {name}: depends on {dependency!r}, which is not in the pipeline"
        for key, spec_in in task.inputs.artifacts.items():
            if spec_in.WhichOneof("kind") != "task_output_artifact":
                continue
            producer = spec_in.task_output_artifact.producer_task
            output_key = spec_in.task_output_artifact.output_artifact_key
            if producer not in tasks:
                yield f"node {name}: input {key!r} comes from {producer!r}, which is not in the pipeline"
                continue
            producer_component = spec.components.get(tasks[producer].component_ref.name)
            if producer_component is not None and output_key not in producer_component.output_definitions.artifacts:
                yield f"node {name}: input {key!r} wants output {output_key!r} that {producer} lacks"


def dotted_paths(compiled: Compiled) -> Iterator[str]:
    """Code is referenced by dotted paths that import here (executor classes, run_fn, ...), never by module_file."""
    for name, executor in compiled.executors.items():
        args = executor.get("container", {}).get("args", [])
        for flag, value in zip(args, args[1:]):
            if flag == "--executor_class_path":
                why = _importable(value)
                if why:
                    yield f"node {_node_of(f'deploymentSpec.executors.{name}')}: executor class {value}: {why}"
    for name, task in compiled.spec.root.dag.tasks.items():
        parameters = _task_parameters(task)
        for key in DOTTED_PATH_PARAMETERS:
            value = _constant(parameters.get(key, {})) if key in parameters else None
            if isinstance(value, str) and value:
                why = _importable(value)
                if why:
                    yield f"node {name}: {key} {value}: {why}"
        if "module_file" in parameters and _constant(parameters["module_file"]):
            yield f"node {name}: uses module_file; reference code by dotted path instead"


def remote_locations(compiled: Compiled) -> Iterator[str]:
    """For a cloud target the pipeline root, every *root* parameter and every data/serving location is remote."""
    runtime = compiled.job.get("runtimeConfig", {})
    if compiled.target in TARGETS:
        root = runtime.get("gcsOutputDirectory", "")
        if not root.startswith(REMOTE_SCHEMES):
            yield (f"pipeline: pipeline root {root or '(none)'!r} is not remote; use gs://, s3:// or minio:// for "
                   f"{compiled.target}")
        values = dict(runtime.get("parameterValues", {}))
        values.update({k: v.get("stringValue") for k, v in runtime.get("parameters", {}).items() if isinstance(v, dict)})
        for name, value in values.items():
            if isinstance(value, str) and "root" in name and not value.startswith(REMOTE_SCHEMES):
                yield f"pipeline: parameter {name} = {value!r} is not a remote URI"
    for json_path, value in _strings(compiled.job):
        for uri_key in REMOTE_URI_KEYS:
            if json_path.endswith(uri_key) and value and not value.startswith(REMOTE_SCHEMES):
                yield f"node {_node_of(json_path)}: {uri_key} {value!r} is not a remote URI"


def no_local_paths(compiled: Compiled) -> Iterator[str]:
    """No absolute path of this machine anywhere (the container does not have it); /tmp/ is the container's own."""
    for json_path, value in _strings(compiled.job):
        if value.startswith("/") and not value.startswith("/tmp/") and len(value) > 1 and " " not in value:
            yield f"node {_node_of(json_path)}: local absolute path {value!r} in {json_path}"


def no_credentials(compiled: Compiled) -> Iterator[str]:
    """No value under a secret-sounding key, and nothing that looks like a key, token or password."""
    for json_path, value in _strings(compiled.job):
        node = _node_of(json_path)
        secret_keys = [part for part in re.split(r"[.\[]", json_path) if _CREDENTIAL_KEY.search(part)]
        if secret_keys and value.strip():
            yield f"node {node}: {secret_keys[-1]} carries a value that looks like a credential"
        for pattern, what in _CREDENTIAL_VALUE:
            if pattern.search(value):
                yield f"node {node}: {json_path} contains {what}; pass secrets at run time instead"


RULES: tuple[Callable[[Compiled], Iterator[str]], ...] = (
    sdk_versions, container_executors, task_wiring, dotted_paths, remote_locations, no_local_paths, no_credentials,
)


def validate(path: Path, target: str = "vertex") -> Report:
    report = Report(path=str(path), target=target)
    try:
        job = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        report.errors.append(f"{path}: not a readable JSON PipelineJob: {err}")
        return report
    try:
        compiled = parse(job, target)
    except json_format.ParseError as err:
        report.errors.append(f"{path}: not a valid KFP PipelineJob/PipelineSpec: {err}")
        return report
    report.schema_version, report.sdk_version = compiled.spec.schema_version, compiled.spec.sdk_version
    report.nodes = sorted(compiled.spec.root.dag.tasks)
    errors = [error for rule in RULES for error in rule(compiled)]
    report.errors = list(dict.fromkeys(errors))  # the same finding can be reached twice (nested JSON)
    return report
