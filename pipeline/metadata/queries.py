"""Runs and artifacts as typed records: what `tfx-e2e runs`, `show` and `artifacts` print."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Optional

import ml_metadata as mlmd

from components.atomic_pusher.properties import PUSHED_DESTINATION_KEY, PUSHED_KEY, PUSHED_MODEL_KEY, PUSHED_VERSION_KEY
from pipeline.dag import node_ids
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError


def iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    pipeline: str
    started: str
    duration_seconds: float
    state: str  # complete | failed | running
    nodes_ran: int
    nodes_cached: int
    nodes_failed: int
    blessed: Optional[bool]
    pushed_version: Optional[str]


@dataclass(frozen=True)
class NodeRecord:
    node: str
    state: str
    started: str
    duration_seconds: float
    cached: bool
    inputs: dict
    outputs: dict


@dataclass(frozen=True)
class ArtifactRecord(R.Artifact):
    run_id: Optional[str] = None  # with the producer, when listed per run
    producer: Optional[str] = None


def run_record(store: mlmd.MetadataStore, pipeline: str, run_id: str) -> RunRecord:
    executions = R.node_executions(store, pipeline, run_id)
    states = [e.state for n, e in executions.items() if not n.endswith(node_ids.SYSTEM_NODE_SUFFIX)]
    start = min((e.started_ms for e in executions.values()), default=0)
    end = max((e.finished_ms for e in executions.values()), default=0)
    if "failed" in states or "canceled" in states:
        state = "failed"
    elif any(s in ("running", "new") for s in states):
        state = "running"
    else:
        state = "complete"
    blessed = None
    evaluator, pusher = executions.get(node_ids.EVALUATOR), executions.get(node_ids.PUSHER)
    if evaluator and evaluator.outputs.get("blessing"):
        blessed = bool(evaluator.outputs["blessing"][0].properties.get("blessed"))
    pushed = None
    if pusher and pusher.outputs.get(PUSHED_MODEL_KEY):
        props = pusher.outputs[PUSHED_MODEL_KEY][0].properties
        if props.get(PUSHED_KEY):
            pushed = str(props.get(PUSHED_VERSION_KEY) or props.get(PUSHED_DESTINATION_KEY))
    return RunRecord(
        run_id=run_id,
        pipeline=pipeline,
        started=iso(start),
        duration_seconds=round((end - start) / 1000, 1),
        state=state,
        nodes_ran=states.count("complete"),
        nodes_cached=states.count("cached"),
        nodes_failed=states.count("failed"),
        blessed=blessed,
        pushed_version=pushed,
    )


def list_runs(store: mlmd.MetadataStore, pipeline: Optional[str] = None, limit: int = 20) -> list[RunRecord]:
    known = R.pipeline_names(store)
    if pipeline and pipeline not in known:
        raise MetadataError(f"no pipeline named {pipeline!r} in this store; pipelines: {', '.join(known) or 'none'}.")
    names = [pipeline] if pipeline else known
    records = [run_record(store, name, run_id) for name in names for run_id in R.run_ids(store, name)]
    if not records:
        raise MetadataError("this metadata store has no pipeline runs yet; run `tfx-e2e run` first.")
    # Newest first; of runs started in the same second (`started` has no finer grain), the later recorded first.
    order = {r.run_id: R.run_context(store, r.run_id).id for r in records}
    return sorted(records, key=lambda r: (r.started, order[r.run_id]), reverse=True)[:limit]


def resolve_run(store: mlmd.MetadataStore, run_id: str) -> str:
    """A run id as given, or the newest run's id for `latest`."""
    if run_id == "latest":
        return list_runs(store, limit=1)[0].run_id
    return run_id


def pipeline_of(store: mlmd.MetadataStore, run_id: str) -> str:
    pipeline = R.find_run(store, run_id)
    if pipeline is None:
        raise MetadataError(f"no run {run_id!r} in this store; `tfx-e2e runs` lists the run ids.")
    return pipeline


def _artifact_dict(a: R.Artifact) -> dict:
    return {"id": a.id, "type": a.type, "uri": a.uri, "properties": a.properties}


def show_run(store: mlmd.MetadataStore, run_id: str) -> tuple[RunRecord, list[NodeRecord]]:
    run_id = resolve_run(store, run_id)
    pipeline = pipeline_of(store, run_id)
    executions = R.node_executions(store, pipeline, run_id)
    nodes = [
        NodeRecord(
            node=name,
            state=e.state,
            started=iso(e.started_ms),
            duration_seconds=round(e.seconds, 1),
            cached=e.state == "cached",
            inputs={k: [_artifact_dict(a) for a in v] for k, v in e.inputs.items()},
            outputs={k: [_artifact_dict(a) for a in v] for k, v in e.outputs.items()},
        )
        for name, e in sorted(executions.items(), key=lambda kv: (kv[1].started_ms, kv[1].execution_id))
    ]
    return run_record(store, pipeline, run_id), nodes


def list_artifacts(
    store: mlmd.MetadataStore, type_name: Optional[str] = None, run_id: Optional[str] = None
) -> list[ArtifactRecord]:
    records: list[ArtifactRecord] = []
    if run_id:
        run_id = resolve_run(store, run_id)
        pipeline = pipeline_of(store, run_id)
        # The producer is the first execution that output an artifact: a resolver later hands the model on.
        executions = sorted(R.node_executions(store, pipeline, run_id).values(), key=lambda e: e.execution_id)
        for e in reversed(executions):  # the last record per id is the one kept below
            for artifacts in e.outputs.values():
                for a in artifacts:
                    records.append(ArtifactRecord(a.id, a.type, a.uri, a.properties, run_id, e.node_id))
    else:
        types = {t.id: t.name for t in store.get_artifact_types()}
        for a in store.get_artifacts():
            art = R.to_artifact(a, types)
            records.append(ArtifactRecord(art.id, art.type, art.uri, art.properties))
    if type_name:
        known = sorted({r.type for r in records})
        records = [r for r in records if r.type == type_name or r.type.split(".")[-1] == type_name]
        if not records and type_name not in known:
            raise MetadataError(f"no artifacts of type {type_name!r}; types here: {', '.join(known) or 'none'}.")
    return sorted({r.id: r for r in records}.values(), key=lambda r: r.id)
