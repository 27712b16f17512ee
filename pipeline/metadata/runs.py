"""Typed records of one pipeline run read from MLMD: node executions and their output artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

PIPELINE_CONTEXT = "pipeline"
RUN_CONTEXT = "pipeline_run"
NODE_CONTEXT = "node"

_STATES = {
    metadata_store_pb2.Execution.NEW: "new",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.COMPLETE: "complete",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


@dataclass(frozen=True)
class Artifact:
    id: int
    type: str
    uri: str
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NodeExecution:
    node_id: str
    execution_id: int
    state: str  # complete | cached | failed | running | new | canceled
    started_ms: int
    finished_ms: int
    outputs: dict[str, list[Artifact]]
    inputs: dict[str, list[Artifact]] = field(default_factory=dict)
    properties: dict = field(default_factory=dict)  # the execution's exec properties (hyperparameters, steps, ...)

    @property
    def seconds(self) -> float:
        return max(0, self.finished_ms - self.started_ms) / 1000.0


def _value(v: metadata_store_pb2.Value):
    kind = v.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        # Keys sorted at every level (protobuf map order differs from one process to the next).
        return json.loads(json.dumps(json_format.MessageToDict(v.struct_value), sort_keys=True))
    if kind == "proto_value":
        return str(v.proto_value.type_url)
    return getattr(v, kind) if kind else None


def to_artifact(a: metadata_store_pb2.Artifact, types: dict[int, str]) -> Artifact:
    props = {k: _value(v) for k, v in a.properties.items()}
    props.update({k: _value(v) for k, v in a.custom_properties.items()})
    # Sorted, as protobuf map order differs from one process to the next: `tfx-e2e show` prints them in order.
    props = dict(sorted(props.items()))
    return Artifact(id=a.id, type=types.get(a.type_id, str(a.type_id)), uri=a.uri, properties=props)


def execution_properties(e: metadata_store_pb2.Execution) -> dict:
    """An execution's exec properties (hyperparameters, steps, ...), without TFX's internal `__*` ones."""
    return {
        **{k: _value(v) for k, v in e.properties.items()},
        **{k: _value(v) for k, v in e.custom_properties.items() if not k.startswith("__")},
    }


def run_context(store: mlmd.MetadataStore, run_id: str) -> Optional[metadata_store_pb2.Context]:
    # TFX names a run's context by the run id alone; executions tie it to a pipeline (see node_executions).
    return store.get_context_by_type_and_name(RUN_CONTEXT, run_id)


def node_executions(store: mlmd.MetadataStore, pipeline_name: str, run_id: str) -> dict[str, NodeExecution]:
    """Every node execution of one run, keyed by node id."""
    run_ctx = run_context(store, run_id)
    if run_ctx is None:
        return {}
    executions = {e.id: e for e in store.get_executions_by_context(run_ctx.id)}
    if not executions:
        return {}
    type_names = {t.id: t.name for t in store.get_artifact_types()}
    result: dict[str, NodeExecution] = {}
    prefix = f"{pipeline_name}."
    # Each of this run's executions names its node through its node context. (Asking each node context for its
    # executions instead returns every run's: the runs list grew slower with every run in the store.)
    node_type = next((t.id for t in store.get_context_types() if t.name == NODE_CONTEXT), None)
    latest: dict[str, metadata_store_pb2.Execution] = {}
    for execution in executions.values():
        for ctx in store.get_contexts_by_execution(execution.id):
            if ctx.type_id == node_type and ctx.name.startswith(prefix):
                node_id = ctx.name[len(prefix):]
                if node_id not in latest or execution.id > latest[node_id].id:
                    latest[node_id] = execution
    for node_id, execution in sorted(latest.items()):
        outputs: dict[str, list[Artifact]] = {}
        inputs: dict[str, list[Artifact]] = {}
        events = store.get_events_by_execution_ids([execution.id])
        artifacts = {a.id: a for a in store.get_artifacts_by_id([ev.artifact_id for ev in events])}
        for ev in events:
            if ev.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.INTERNAL_OUTPUT):
                target = outputs
            elif ev.type in (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.INTERNAL_INPUT):
                target = inputs
            else:
                continue
            key = ev.path.steps[0].key if ev.path.steps else "artifact"
            target.setdefault(key, []).append(to_artifact(artifacts[ev.artifact_id], type_names))
        result[node_id] = NodeExecution(
            node_id=node_id,
            execution_id=execution.id,
            state=_STATES.get(execution.last_known_state, "unknown"),
            started_ms=execution.create_time_since_epoch,
            finished_ms=execution.last_update_time_since_epoch,
            outputs=outputs,
            inputs=inputs,
            properties=execution_properties(execution),
        )
    return result


def run_ids(store: mlmd.MetadataStore, pipeline_name: str) -> list[str]:
    """Run ids of a pipeline, oldest first."""
    pipeline_ctx = store.get_context_by_type_and_name(PIPELINE_CONTEXT, pipeline_name)
    if pipeline_ctx is None:
        return []
    run_type = store.get_context_type(RUN_CONTEXT)
    runs: dict[int, metadata_store_pb2.Context] = {}
    for execution in store.get_executions_by_context(pipeline_ctx.id):
        for ctx in store.get_contexts_by_execution(execution.id):
            if ctx.type_id == run_type.id:
                runs[ctx.id] = ctx
    return [c.name for c in sorted(runs.values(), key=lambda c: (c.create_time_since_epoch, c.id))]


def pipeline_names(store: mlmd.MetadataStore) -> list[str]:
    return sorted(c.name for c in store.get_contexts_by_type(PIPELINE_CONTEXT))


def find_run(store: mlmd.MetadataStore, run_id: str) -> Optional[str]:
    """The pipeline a run id belongs to, or None when no such run exists."""
    ctx = run_context(store, run_id)
    if ctx is None:
        return None
    for execution in store.get_executions_by_context(ctx.id):
        for other in store.get_contexts_by_execution(execution.id):
            if other.type_id == store.get_context_type(PIPELINE_CONTEXT).id:
                return other.name
    return None
