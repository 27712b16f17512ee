"""The compiled PipelineJob as the local runner reads it: parsed with KFP's `pipeline_spec` protos, checked for the
constructs the runner implements (anything else is refused by name), its tasks in dependency order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from kubeflow.local.errors import LocalRunError

SCHEMA_VERSIONS = ("2.0.0", "2.1.0")
CONTAINER, IMPORTER, RESOLVER = "container", "importer", "resolver"
HINT = "give the PipelineJob JSON `tfx-e2e compile` wrote (compile it again if it was edited or cut short)"


@dataclass
class Task:
    name: str
    spec: Any  # pipeline_spec_pb2.PipelineTaskSpec
    component: Any  # pipeline_spec_pb2.ComponentSpec
    executor: Any  # pipeline_spec_pb2.PipelineDeploymentConfig.ExecutorSpec
    kind: str  # CONTAINER | IMPORTER | RESOLVER
    upstream: tuple[str, ...] = ()

    @property
    def executor_class(self) -> str:
        """`--executor_class_path` of a TFX container task ('' for others)."""
        args = list(self.executor.container.args) if self.kind == CONTAINER else []
        for i, arg in enumerate(args[:-1]):
            if arg == "--executor_class_path":
                return args[i + 1]
        return ""


@dataclass
class CompiledJob:
    path: Path
    pipeline_name: str
    schema_version: str
    sdk_version: str
    pipeline_root: str
    parameters: dict[str, Any]  # runtime parameter values (runtimeConfig, then definitions' defaults)
    parameter_types: dict[str, str]
    tasks: dict[str, Task]
    order: list[str] = field(default_factory=list)  # dependency order, ties by name


def _read(path: Path) -> dict:
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise LocalRunError(f"{path}: cannot read the compiled pipeline ({err}); {HINT}.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        ends_early = err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string")
        cut = " (the file ends early: cut short?)" if ends_early else ""
        msg = err.msg.removesuffix(" at")
        raise LocalRunError(
            f"{path} is not JSON: {msg} at line {err.lineno} column {err.colno}{cut}; {HINT}.") from None
    if not isinstance(document, dict) or not isinstance(document.get("pipelineSpec"), dict):
        raise LocalRunError(f"{path} is JSON but not a KFP PipelineJob (no `pipelineSpec` object); {HINT}.")
    return document


def _parse(path: Path, document: dict):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    try:
        spec = json_format.ParseDict(document["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
        runtime = json_format.ParseDict(document.get("runtimeConfig", {}), pipeline_spec_pb2.PipelineJob.RuntimeConfig())
        # PipelineSpec keeps deploymentSpec as a Struct; its schema is PipelineDeploymentConfig.
        deployment = json_format.ParseDict(document["pipelineSpec"].get("deploymentSpec", {}),
                                           pipeline_spec_pb2.PipelineDeploymentConfig())
    except json_format.ParseError as err:
        raise LocalRunError(f"{path} does not follow KFP's PipelineSpec schema: {' '.join(str(err).split())}; {HINT}.") from None
    return spec, runtime, deployment


def _value(value: Any) -> Any:
    """A legacy `Value` (intValue / doubleValue / stringValue) or a struct `Value` as a plain Python value."""
    from google.protobuf import json_format, struct_pb2

    if isinstance(value, struct_pb2.Value):
        return json_format.MessageToDict(value)
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _parameters(spec, runtime) -> tuple[dict[str, Any], dict[str, str]]:
    from kfp.pipeline_spec import pipeline_spec_pb2

    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    for name, definition in spec.root.input_definitions.parameters.items():
        if definition.parameter_type:
            types[name] = pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(definition.parameter_type)
        else:
            types[name] = pipeline_spec_pb2.PrimitiveType.PrimitiveTypeEnum.Name(definition.type)
        if definition.HasField("default_value"):
            values[name] = _value(definition.default_value)
    for name, value in runtime.parameters.items():
        values[name] = _value(value)
    for name, value in runtime.parameter_values.items():
        values[name] = _value(value)
    return values, types


def _refuse(path: Path, what: str, where: str) -> LocalRunError:
    return LocalRunError(
        f"{path}: {what} (in {where}) is a KFP construct the local runner does not implement; "
        "run this pipeline on Vertex AI or Kubeflow Pipelines (submit --target vertex|kubeflow).")


def _check_task(path: Path, name: str, task, component, executor) -> str:
    where = f"task {name}"
    if task.HasField("artifact_iterator") or task.HasField("parameter_iterator"):
        raise _refuse(path, "a loop over items (dsl.ParallelFor: artifactIterator/parameterIterator)", where)
    if task.trigger_policy.condition:
        raise _refuse(path, f"a run condition (dsl.Condition: {task.trigger_policy.condition!r})", where)
    if task.trigger_policy.strategy > 1:  # ALL_UPSTREAM_TASKS_COMPLETED: an exit handler's task
        raise _refuse(path, "an exit handler (triggerPolicy.strategy ALL_UPSTREAM_TASKS_COMPLETED)", where)
    for key, parameter in task.inputs.parameters.items():
        kind = parameter.WhichOneof("kind")
        if kind in ("task_final_status", "parameter_expression_selector"):
            raise _refuse(path, f"input parameter {key!r} given by {kind}", where)
    for key, artifact in task.inputs.artifacts.items():
        if artifact.WhichOneof("kind") != "task_output_artifact":
            raise _refuse(path, f"input artifact {key!r} given by {artifact.WhichOneof('kind')}", where)
    if component.HasField("dag"):
        raise _refuse(path, f"a sub-DAG (component {task.component_ref.name})", where)
    kind = executor.WhichOneof("spec")
    if kind == "custom_job":
        raise _refuse(path, "a Vertex AI custom job executor (customJob)", where)
    if kind not in (CONTAINER, IMPORTER, RESOLVER):
        raise _refuse(path, f"an executor of kind {kind!r}", where)
    return kind


def _order(path: Path, tasks: dict[str, Task]) -> list[str]:
    done: list[str] = []
    pending = dict(tasks)
    while pending:
        ready = sorted(n for n, t in pending.items() if all(u in done for u in t.upstream))
        if not ready:
            raise LocalRunError(f"{path}: the tasks {', '.join(sorted(pending))} depend on each other in a cycle; {HINT}.")
        done.extend(ready[:1])
        pending.pop(ready[0])
    return done


def load(path: Path) -> CompiledJob:
    """The job in `path`, or LocalRunError (one line) when it is not a PipelineJob this runner can execute."""
    path = Path(path)
    document = _read(path)
    spec, runtime, deployment = _parse(path, document)
    if spec.schema_version not in SCHEMA_VERSIONS:
        raise LocalRunError(
            f"{path}: pipeline schema version {spec.schema_version or '(none)'!r} is not one the local runner reads "
            f"({', '.join(SCHEMA_VERSIONS)}); {HINT}.")
    if not spec.root.HasField("dag") or not spec.root.dag.tasks:
        raise LocalRunError(f"{path}: the pipeline's root has no DAG of tasks; {HINT}.")
    executors = deployment.executors
    tasks: dict[str, Task] = {}
    for name, task in spec.root.dag.tasks.items():
        ref = task.component_ref.name
        if ref not in spec.components:
            raise LocalRunError(f"{path}: task {name} names component {ref!r}, which the spec does not define; {HINT}.")
        component = spec.components[ref]
        if not component.HasField("dag") and component.executor_label not in executors:
            raise LocalRunError(
                f"{path}: component {ref} names executor {component.executor_label!r}, which the spec does not define; {HINT}.")
        executor = executors[component.executor_label] if not component.HasField("dag") else None
        kind = _check_task(path, name, task, component, executor)
        upstream = set(task.dependent_tasks)
        upstream.update(a.task_output_artifact.producer_task for a in task.inputs.artifacts.values())
        upstream.update(p.task_output_parameter.producer_task for p in task.inputs.parameters.values()
                        if p.WhichOneof("kind") == "task_output_parameter")
        tasks[name] = Task(name, task, component, executor, kind, tuple(sorted(upstream)))
    for task in tasks.values():
        for up in task.upstream:
            if up not in tasks:
                raise LocalRunError(f"{path}: task {task.name} depends on {up!r}, which is not a task of the pipeline; {HINT}.")
    values, types = _parameters(spec, runtime)
    job = CompiledJob(
        path=path, pipeline_name=spec.pipeline_info.name, schema_version=spec.schema_version,
        sdk_version=spec.sdk_version, pipeline_root=runtime.gcs_output_directory, parameters=values,
        parameter_types=types, tasks=tasks,
    )
    job.order = _order(path, tasks)
    return job


def _typed(job: CompiledJob, name: str, text: str) -> Any:
    ptype = job.parameter_types.get(name, "STRING")
    try:
        if ptype in ("INT", "NUMBER_INTEGER"):
            return int(text)
        if ptype in ("DOUBLE", "NUMBER_DOUBLE"):
            return float(text)
    except ValueError:
        raise LocalRunError(f"--param {name}={text}: {name} is a parameter of type {ptype}; give a number.") from None
    if "://" not in text and (Path(text).expanduser().exists() or text.startswith((".", "~", "/"))):
        return str(Path(text).expanduser().resolve())  # a local directory: the task processes run elsewhere
    return text


def apply_params(job: CompiledJob, params: Mapping[str, str]) -> dict[str, str]:
    """--param NAME=VALUE over runtimeConfig; returns {name: "--param"} for the summary."""
    known = sorted(job.parameter_types)
    for name, text in params.items():
        if name not in job.parameter_types:
            raise LocalRunError(f"--param {name}=...: the pipeline has no parameter {name!r}; its parameters: "
                                f"{', '.join(known) or '(none)'}.")
        job.parameters[name] = _typed(job, name, text)
    return {name: "--param" for name in params}
