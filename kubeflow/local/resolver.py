"""The two executor kinds that run inside the runner rather than as a process: resolver tasks (each output's
`outputArtifactQueries` filter evaluated against the local store; the newest match wins, as on Vertex) and importer
tasks (an artifact registered from a URI, reused when `reimport` is off)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from kubeflow.local import filters
from kubeflow.local.errors import LocalRunError
from kubeflow.local.executor_input import Artifact, constant_of, schema_title, substitute
from kubeflow.local.mirror import GcsMirror
from kubeflow.local.spec import Task
from kubeflow.local.store import LocalStore


def _record(artifact: Artifact) -> dict[str, Any]:
    return {"schema_title": artifact.schema_title, "state": "LIVE", "name": artifact.name, "uri": artifact.uri,
            "display_name": "", "create_time": artifact.create_time, "update_time": artifact.create_time,
            "metadata": dict(artifact.metadata)}


def _schema_title(filter_: filters.Filter, where: str) -> str:
    titles = [c.value for c in filter_.conditions if c.field == "schema_title" and c.op == "="]
    if not titles:
        raise LocalRunError(f"{where}: the query names no schema_title=\"...\"; the local runner needs the type.")
    return str(titles[0])


def resolve(task: Task, inputs: Mapping[str, list[Artifact]], store: LocalStore) -> tuple[dict[str, list[Artifact]], dict[str, str]]:
    """Each output key → the newest matching artifact (or none), and the filters as evaluated (for the log)."""
    executor_input = {"inputs": {"parameterValues": {}, "artifacts": {
        k: {"artifacts": [{"uri": a.uri, "metadata": dict(a.metadata)} for a in arts]} for k, arts in inputs.items()}},
        "outputs": {"artifacts": {}, "parameters": {}, "outputFile": ""}}
    outputs: dict[str, list[Artifact]] = {}
    evaluated: dict[str, str] = {}
    for key, query in sorted(task.executor.resolver.output_artifact_queries.items()):
        where = f"task {task.name}, query {key!r}"
        try:
            text = substitute(query.filter, executor_input, {}, where)
        except LocalRunError:
            if any(not arts for arts in inputs.values()):  # an upstream resolver found nothing: nothing to look up
                outputs[key], evaluated[key] = [], f"{query.filter}  (not evaluated: its input has no artifact)"
                continue
            raise
        parsed = filters.parse(text)
        matches = [a for a in store.artifacts_of(_schema_title(parsed, where)) if parsed.matches(_record(a))]
        outputs[key] = matches[-1:]
        evaluated[key] = text
    return outputs, evaluated


def import_artifact(task: Task, parameters: Mapping[str, Any], store: LocalStore,
                    mirror: GcsMirror) -> tuple[dict[str, list[Artifact]], bool]:
    """The importer's one output: (the artifact, whether an existing one was reused)."""
    from google.protobuf import json_format

    spec = task.executor.importer
    which = spec.artifact_uri.WhichOneof("value")
    if which == "runtime_parameter":
        name = spec.artifact_uri.runtime_parameter
        if name not in parameters:
            raise LocalRunError(f"task {task.name}: the importer's URI comes from parameter {name!r}, which has no value.")
        uri = parameters[name]
    else:
        uri = constant_of(spec.artifact_uri)
    if not isinstance(uri, str) or not uri:
        raise LocalRunError(f"task {task.name}: the importer has no artifact URI.")
    keys = list(task.component.output_definitions.artifacts)
    if len(keys) != 1:
        raise LocalRunError(f"task {task.name}: an importer must have one output artifact, this one has {len(keys)}.")
    type_schema = json_format.MessageToDict(spec.type_schema)
    title = schema_title(type_schema)
    if not Path(mirror.local(uri)).exists():
        raise LocalRunError(f"task {task.name}: the importer's URI {uri} does not exist here ({mirror.local(uri)}).")
    if not spec.reimport:
        for existing in reversed(store.artifacts_of(title)):
            if existing.uri == uri:
                return {keys[0]: [existing]}, True
    metadata = json_format.MessageToDict(spec.metadata) if spec.HasField("metadata") else {}
    return {keys[0]: [Artifact(name="", schema_title=title, uri=uri, metadata=metadata, type_schema=type_schema)]}, False


def describe(outputs: Mapping[str, list[Artifact]]) -> str:
    return json.dumps({k: [a.name for a in v] for k, v in outputs.items()})
