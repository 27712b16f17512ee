"""What a run report shows, as plain dataclasses built from ML Metadata and the run's artifacts on disk.

`build()` reads only through pipeline/metadata's readers and the artifact files; each section is built on its own,
and one that cannot be read (deleted files, an artifact the run never produced) says so in `problems` instead of
failing the report.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pipeline.dag import node_ids
from pipeline.metadata import importance as feature_importance
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError
from pipeline.paths import Home
from pipeline.report import model_data, model_eval, model_outputs

# The section a DAG node links to (the node's outputs are shown there).
NODE_SECTION = {
    node_ids.EXAMPLE_GEN: "data", node_ids.DIGITS_EXAMPLE_GEN: "data", node_ids.STATISTICS_GEN: "data",
    node_ids.SCHEMA_GEN: "data", node_ids.IMPORT_SCHEMA_GEN: "data", node_ids.EXAMPLE_VALIDATOR: "data",
    node_ids.ANOMALIES_GATE: "data", node_ids.TRANSFORM: "training", node_ids.WARM_START_RESOLVER: "training",
    node_ids.TRAINER: "training", node_ids.BASELINE_RESOLVER: "evaluation", node_ids.EVALUATOR: "evaluation",
    node_ids.FEATURE_IMPORTANCE: "importance", node_ids.PUSHER: "push",
}
# ML Metadata's execution states as the report names them.
STATE_WORDS = {"complete": "ran", "cached": "cached", "failed": "failed", "canceled": "failed", "running": "running",
               "new": "running"}


@dataclass
class Node:
    node_id: str
    state: str  # ran | cached | failed | running | not run
    seconds: Optional[float] = None
    started: str = ""
    execution_id: Optional[int] = None
    error: str = ""  # a failed node's error line
    error_source: str = ""  # where it was found: "ML Metadata" or a log file
    outputs: list[tuple[str, str, str, int]] = field(default_factory=list)  # (key, type, uri, artifact id)


@dataclass
class RunView:
    pipeline: str
    run_id: str
    state: str = ""  # complete | failed | running
    started: str = ""
    wall_seconds: Optional[float] = None
    record: dict = field(default_factory=dict)  # pipeline.metadata.run_record.read_record (may be empty)
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    blessed: Optional[bool] = None
    pushed_version: Optional[str] = None


@dataclass
class RunReport:
    run: RunView
    data: Optional[model_data.DataView] = None
    training: Optional[model_outputs.TrainingView] = None
    evaluation: Optional[model_eval.EvaluationView] = None
    importance: Optional[feature_importance.ImportanceTable] = None
    push: Optional[model_outputs.PushView] = None
    lineage: Optional[model_outputs.LineageView] = None
    generated: str = ""


def iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).isoformat(timespec="seconds")


def _record(store: Any, run_id: str) -> dict:
    try:
        from pipeline.metadata import run_record
    except ImportError:  # a checkout from before run records: the report shows what ML Metadata has
        return {}
    return run_record.read_record(store, run_id)


def _edges(executions: dict[str, R.NodeExecution]) -> list[tuple[str, str]]:
    """producer → consumer for every artifact a node of this run read that a node of this run wrote."""
    producers: dict[int, list[str]] = {}
    for e in sorted(executions.values(), key=lambda e: e.execution_id):
        for artifacts in e.outputs.values():
            for a in artifacts:
                producers.setdefault(a.id, []).append(e.node_id)
    edges = set()
    for e in executions.values():
        for artifacts in e.inputs.values():
            for a in artifacts:
                edges.update((p, e.node_id) for p in producers.get(a.id, []) if p != e.node_id)
    return sorted(edges)


def _other_runs_nodes(store: Any, pipeline: str, run_id: str, have: set[str]) -> tuple[list[str], list]:
    """Nodes this run never started, and the edges of the newest other run that ran them (the DAG's shape)."""
    prefix = f"{pipeline}."
    known = [c.name[len(prefix):] for c in store.get_contexts_by_type(R.NODE_CONTEXT) if c.name.startswith(prefix)]
    missing = [n for n in known if n not in have]
    if not missing:
        return [], []
    for other in reversed(R.run_ids(store, pipeline)):
        if other == run_id:
            continue
        executions = R.node_executions(store, pipeline, other)
        if set(missing) <= set(executions):
            return missing, _edges(executions)
    return missing, []


def run_view(store: Any, pipeline: str, run_id: str, executions: dict[str, R.NodeExecution],
             logs_dir: Optional[Path]) -> RunView:
    from pipeline.metadata import queries, run_failure

    summary = queries.run_record(store, pipeline, run_id)
    record = _record(store, run_id)
    seconds = record.get("node_seconds") or {}
    view = RunView(pipeline, run_id, summary.state, summary.started, record.get("wall_seconds"), record,
                   blessed=summary.blessed, pushed_version=summary.pushed_version)
    if view.wall_seconds is None:
        view.wall_seconds = summary.duration_seconds
    for e in sorted(executions.values(), key=lambda e: (e.started_ms, e.execution_id)):
        node = Node(e.node_id, STATE_WORDS.get(e.state, e.state), seconds.get(e.node_id, round(e.seconds, 3)),
                    iso(e.started_ms), e.execution_id,
                    outputs=[(k, a.type, a.uri, a.id) for k, items in sorted(e.outputs.items()) for a in items])
        if e.state in ("failed", "canceled"):
            found = run_failure.node_error(store, e, run_id, logs_dir)
            node.error, node.error_source = found.message, found.source
            if not node.error and record.get("error"):
                node.error, node.error_source = record["error"], record.get("log_file", "")
        view.nodes.append(node)
    view.edges = _edges(executions)
    dag = record.get("dag") or {}
    if dag.get("nodes"):  # the shape `tfx-e2e run` recorded: exact, also for a pipeline's first, failed run
        missing = [n for n in dag["nodes"] if n not in executions]
        shape = [tuple(e) for e in dag.get("edges", [])]
    else:  # runs recorded before the shape was: the newest other run that ran the missing nodes
        missing, shape = _other_runs_nodes(store, pipeline, run_id, set(executions))
    view.nodes += [Node(n, "not run") for n in missing]
    view.edges = sorted(set(view.edges) | {(a, b) for a, b in shape if a in missing or b in missing})
    return view


def _home(home: Any) -> Optional[Home]:
    if home is None or isinstance(home, Home):
        return home
    return Home(Path(home))


def build(store: Any, pipeline: str, run_id: str, *, home: Any = None) -> RunReport:
    """The report of one run. Raises MetadataError for a run the store does not hold; everything else that cannot
    be read is reported inside the section it belongs to."""
    home = _home(home)
    logs_dir = home.logs if home else None
    executions = R.node_executions(store, pipeline, run_id)
    if not executions:
        raise MetadataError(f"no run {run_id!r} of pipeline {pipeline!r} in this store; `tfx-e2e runs` lists them.")
    run = run_view(store, pipeline, run_id, executions, logs_dir)
    report = RunReport(run=run, generated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    report.data = model_data.build(executions)
    report.training = model_outputs.training(executions)
    report.evaluation = model_eval.build(store, pipeline, run_id, executions, logs_dir)
    report.importance = feature_importance.from_executions(executions)
    report.push = model_outputs.push(executions)
    report.lineage = model_outputs.lineage(store, executions)
    return report


def flags_text(flags: Any) -> list[tuple[str, str]]:
    """The recorded flags as (name, value) rows, for flags that were given (not None/False/[])."""
    if not isinstance(flags, dict):
        return []
    rows = []
    for key, value in sorted(flags.items()):
        if value in (None, False, [], {}, "") or key in ("command", "handler"):
            continue
        rows.append((key, value if isinstance(value, str) else json.dumps(value)))
    return rows
