"""A task's `ExecutorInput`, built the way KFP's v2 launcher builds it (parameters from runtimeConfig, constants and
upstream outputs; input artifacts with name, type, URI and metadata; output artifacts under
`<pipeline root>/<job>/<task>/<output>`; `outputs.outputFile`), and the placeholders of a container's arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Mapping

from kubeflow.local.errors import LocalRunError
from kubeflow.local.spec import CompiledJob, Task

EXECUTOR_OUTPUT = "executor_output.json"


@dataclass(frozen=True)
class Artifact:
    """One artifact as tasks hand it to each other: the RuntimeArtifact fields, in their cloud form."""

    name: str  # "artifacts/<id in the local store>"
    schema_title: str
    uri: str
    metadata: Mapping[str, Any]
    type_schema: Mapping[str, Any]  # the ArtifactTypeSchema as JSON (schemaTitle or instanceSchema)
    create_time: str = ""


@dataclass
class TaskOutputs:
    artifacts: dict[str, list[Artifact]]
    parameters: dict[str, Any]


def schema_title(type_schema: Mapping[str, Any]) -> str:
    """The type's title from an ArtifactTypeSchema as JSON: `schemaTitle`, or the `title:` of `instanceSchema`."""
    if type_schema.get("schemaTitle"):
        return str(type_schema["schemaTitle"])
    for line in str(type_schema.get("instanceSchema", "")).splitlines():
        if line.startswith("title:"):
            return line.split(":", 1)[1].strip()
    return "system.Artifact"


def task_root(job: CompiledJob, job_id: str, task: str) -> str:
    return f"{job.pipeline_root.rstrip('/')}/{job_id}/{task}"


def _legacy_value(value: Any, ptype: str = "") -> dict:
    if isinstance(value, bool):
        return {"intValue": str(int(value))}
    if isinstance(value, int) or ptype in ("INT", "NUMBER_INTEGER"):
        return {"intValue": str(int(value))}
    if isinstance(value, float) or ptype in ("DOUBLE", "NUMBER_DOUBLE"):
        return {"doubleValue": float(value)}
    return {"stringValue": value if isinstance(value, str) else json.dumps(value)}


def _legacy_to_python(value: dict) -> Any:
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    return value.get("stringValue", "")


def constant_of(value: Any) -> Any:
    """A `ValueOrRuntimeParameter`'s constant (legacy `constant_value` or struct `constant`) as a plain value; None
    when it names a runtime parameter instead."""
    from google.protobuf import json_format

    which = value.WhichOneof("value")
    if which == "constant_value":
        return _legacy_to_python(json_format.MessageToDict(value.constant_value))
    if which == "constant":
        return json_format.MessageToDict(value.constant)
    return None


def input_parameters(job: CompiledJob, task: Task, upstream: Mapping[str, TaskOutputs]) -> dict[str, Any]:
    """Each input parameter of the task as a plain value (what the cache key and the executor see)."""
    values: dict[str, Any] = {}
    definitions = task.component.input_definitions.parameters
    for key, spec in task.spec.inputs.parameters.items():
        kind = spec.WhichOneof("kind")
        if kind == "runtime_value":
            runtime = spec.runtime_value
            if runtime.WhichOneof("value") in ("constant_value", "constant"):
                values[key] = constant_of(runtime)
            else:
                raise LocalRunError(f"task {task.name}: parameter {key!r} is a runtime parameter of the task itself "
                                    f"({runtime.runtime_parameter!r}), which the local runner does not implement.")
        elif kind == "component_input_parameter":
            name = spec.component_input_parameter
            if name not in job.parameters:
                raise LocalRunError(f"task {task.name}: pipeline parameter {name!r} has no value; give it with "
                                    f"--param {name}=VALUE.")
            values[key] = job.parameters[name]
        elif kind == "task_output_parameter":
            out = spec.task_output_parameter
            values[key] = upstream[out.producer_task].parameters.get(out.output_parameter_key)
        if key in definitions and definitions[key].type == 1 and isinstance(values.get(key), float):  # PrimitiveType INT
            values[key] = int(values[key])
    return values


def _runtime_artifact(artifact: Artifact) -> dict:
    return {"name": artifact.name, "type": dict(artifact.type_schema), "uri": artifact.uri,
            "metadata": dict(artifact.metadata)}


def build(job: CompiledJob, job_id: str, task: Task, parameters: Mapping[str, Any],
          inputs: Mapping[str, list[Artifact]]) -> dict:
    """The ExecutorInput as a JSON-ready dict (cloud locations; the runner localizes the text)."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    root = task_root(job, job_id, task.name)
    definitions = task.component.input_definitions.parameters
    ptypes = {k: pipeline_spec_pb2.PrimitiveType.PrimitiveTypeEnum.Name(d.type) if d.type
              else pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(d.parameter_type) for k, d in definitions.items()}
    outputs = task.component.output_definitions
    document = {
        "inputs": {
            "parameters": {k: _legacy_value(v, ptypes.get(k, "")) for k, v in parameters.items()},
            "parameterValues": dict(parameters),
            "artifacts": {k: {"artifacts": [_runtime_artifact(a) for a in arts]} for k, arts in inputs.items()},
        },
        "outputs": {
            "artifacts": {
                key: {"artifacts": [{"name": "", "type": json_format.MessageToDict(spec.artifact_type),
                                     "uri": f"{root}/{key}", "metadata": {}}]}
                for key, spec in outputs.artifacts.items()
            },
            "parameters": {key: {"outputFile": f"{root}/{key}"} for key in outputs.parameters},
            "outputFile": f"{root}/{EXECUTOR_OUTPUT}",
        },
    }
    json_format.ParseDict(document, pipeline_spec_pb2.ExecutorInput())  # fails loudly if we ever build a wrong one
    return document


_PLACEHOLDER = re.compile(r"\{\{\$(?P<path>[^}]*)\}\}")
_IO = re.compile(r"^\.(?P<side>inputs|outputs)\.(?P<what>parameters|artifacts)\['(?P<key>[^']+)'\]"
                 r"(?:\.(?P<field>uri|path|output_file|metadata)(?:\['(?P<meta>[^']+)'\])?)?$")


def _lookup(executor_input: dict, path: str, context: Mapping[str, str], where: str) -> str:
    if path in context:
        return context[path]
    if path == ".outputs.output_file":
        return executor_input["outputs"]["outputFile"]
    match = _IO.match(path)
    if not match:
        raise LocalRunError(f"{where}: the placeholder {{{{${path}}}}} is not one the local runner implements.")
    side, what, key, fld, meta = match.group("side", "what", "key", "field", "meta")
    block = executor_input[side]
    if what == "parameters":
        if side == "inputs" and not fld:
            if key not in block["parameterValues"]:
                raise LocalRunError(f"{where}: {{{{${path}}}}} names parameter {key!r}, which has no value here.")
            value = block["parameterValues"][key]
            return value if isinstance(value, str) else json.dumps(value)
        if side == "outputs" and fld == "output_file":
            if key not in block["parameters"]:
                raise LocalRunError(f"{where}: {{{{${path}}}}} names output parameter {key!r}, which the component "
                                    "does not declare.")
            return block["parameters"][key]["outputFile"]
    else:
        artifacts = block["artifacts"].get(key, {}).get("artifacts", [])
        if not artifacts:
            raise LocalRunError(f"{where}: {{{{${path}}}}} names artifact {key!r}, which has no value here.")
        artifact = artifacts[0]
        if fld in ("uri", "path"):
            return artifact["uri"]
        if fld == "metadata":
            value = artifact.get("metadata", {}) if meta is None else artifact.get("metadata", {}).get(meta)
            if value is None:
                raise LocalRunError(f"{where}: artifact {key!r} has no metadata {meta!r} for {{{{${path}}}}}.")
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return value if isinstance(value, str) else json.dumps(value)
    raise LocalRunError(f"{where}: the placeholder {{{{${path}}}}} is not one the local runner implements.")


def substitute(text: str, executor_input: dict, context: Mapping[str, str], where: str) -> str:
    """KFP's placeholders in one argument: `{{$}}` (the ExecutorInput as JSON), `{{$.inputs...}}`,
    `{{$.outputs...}}` and the job/task ones in `context` (`.pipeline_job_name`, ...)."""
    if text.lstrip().startswith("{") and any(k in text for k in ('"Concat"', '"IfPresent"', '"concat"', '"if_present"')):
        raise LocalRunError(f"{where}: a structured placeholder (Concat/IfPresent) is not implemented by the local runner.")

    def one(match: re.Match) -> str:
        path = match.group("path")
        if path == "":
            return json.dumps(executor_input, sort_keys=True)
        return _lookup(executor_input, path, context, where)

    return _PLACEHOLDER.sub(one, text)


def read_output(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text() or "{}")
    except ValueError:
        raise LocalRunError(f"the executor output {path} is not JSON; see the task's log.") from None


def merge_outputs(document: dict, produced: dict) -> dict[str, list[Artifact]]:
    """The output artifacts as the launcher records them: the ones planned, updated from the executor output."""
    outputs: dict[str, list[Artifact]] = {}
    for key, planned in document["outputs"]["artifacts"].items():
        [base] = planned["artifacts"]
        written = (produced.get("artifacts", {}).get(key, {}).get("artifacts") or [{}])[0]
        outputs[key] = [Artifact(
            name="", schema_title=schema_title(base["type"]), uri=written.get("uri") or base["uri"],
            metadata=written.get("metadata", {}), type_schema=base["type"])]
    return outputs
