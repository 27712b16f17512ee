"""Why a run has no evaluation: its Evaluator failed, a node before it stopped the run (the AnomaliesGate: with
ExampleValidator's findings), or it has not finished; a failed node's error is the one ML Metadata records for its
execution, else the one in the run's log.

TFX records an error message on a failed execution (custom property `__execution_result__`) only when the executor
returns one (a container's entrypoint does); an in-process executor that raises, as every component of a local
`tfx-e2e run`, leaves none. The local runner logs `pipeline run <id> failed` with the traceback instead
(pipeline/local/runner.py), into the run's log file <home>/logs/run-<timestamp>.log (none with --verbose)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import ml_metadata as mlmd

from pipeline.dag import node_ids
from pipeline.metadata import blessing_words as W
from pipeline.metadata.runs import NodeExecution

EXECUTION_RESULT = "__execution_result__"  # tfx.orchestration.portable.mlmd.execution_lib._EXECUTION_RESULT
RUN_LOG_GLOB = "run-*.log"  # cli/logfile.py: `tfx-e2e run` → run-<timestamp>.log
_LOG_RECORD_PREFIXES = ("INFO:", "WARNING:", "ERROR:", "DEBUG:", "CRITICAL:")
_SCAN_LINES = 5000  # lines read past the failure notice when looking for its traceback


@dataclass(frozen=True)
class NodeError:
    """A failed node's error: its message ('' when none is recorded) and where it was found."""

    node: str
    message: str
    source: str  # "ML Metadata" | the log file's path | "" (nowhere)


def stopping_node(executions: dict[str, NodeExecution]) -> Optional[NodeExecution]:
    """The execution that stopped a run: the first one that failed or was canceled (None when none did)."""
    stopped = [e for e in executions.values() if e.state in ("failed", "canceled")]
    return min(stopped, key=lambda e: e.execution_id) if stopped else None


def node_error(store: mlmd.MetadataStore, execution: NodeExecution, run_id: str,
               logs_dir: Optional[Path]) -> NodeError:
    """The error of a failed execution: from ML Metadata when recorded there, else from the log of its run."""
    [raw] = store.get_executions_by_id([execution.execution_id])
    if EXECUTION_RESULT in raw.custom_properties:
        try:
            result = json.loads(raw.custom_properties[EXECUTION_RESULT].string_value)
        except ValueError:
            result = {}
        lines = [line.strip() for line in str(result.get("resultMessage", "")).splitlines() if line.strip()]
        if lines:
            return NodeError(execution.node_id, lines[-1], "ML Metadata")
    if logs_dir is not None:
        for log in sorted(Path(logs_dir).glob(RUN_LOG_GLOB), reverse=True):
            found = _error_in_log(log, run_id)
            if found is not None:
                return NodeError(execution.node_id, found, str(log))
    return NodeError(execution.node_id, "", "")


def _error_in_log(log: Path, run_id: str) -> Optional[str]:
    """The exception line of the traceback the runner logged after `pipeline run <run_id> failed` ('' when the
    notice has no traceback); None when the log has no such notice."""
    notice = f"pipeline run {run_id} failed"
    try:
        with open(log, errors="replace") as f:
            lines = iter(f)
            if not any(notice in line for line in lines):
                return None
            return _exception_line(lines)
    except OSError:
        return None


def _exception_line(lines: Iterator[str]) -> str:
    """The first exception line after a `Traceback` header and its indented frames; '' when another log record
    comes first."""
    in_traceback = False
    for count, line in enumerate(lines):
        if count > _SCAN_LINES or (not in_traceback and line.startswith(_LOG_RECORD_PREFIXES)):
            break
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line.strip() and not line[0].isspace():
            return line.strip()
    return ""


def not_evaluated(store: mlmd.MetadataStore, run_id: str, executions: dict[str, NodeExecution],
                  logs_dir: Optional[Path]) -> str:
    """The verdict for a run without an evaluation, in words: which node stopped it, and why."""
    evaluator = executions.get(node_ids.EVALUATOR)
    if evaluator is not None and evaluator.state in ("failed", "canceled"):
        stop: Optional[NodeExecution] = evaluator
    else:
        stop = stopping_node(executions)
    if stop is None:
        return W.still_running(run_id, evaluator.state if evaluator else None)
    findings = _anomalies(executions) if stop.node_id == node_ids.ANOMALIES_GATE else []
    if findings:
        return W.anomalies_stop(findings)
    error = node_error(store, stop, run_id, logs_dir)
    return W.node_failed(stop.node_id, stop.state, error.message, error.source, str(logs_dir) if logs_dir else None,
                         run_id)


def _anomalies(executions: dict[str, NodeExecution]) -> list:
    """ExampleValidator's findings in this run ([] when they cannot be read)."""
    from google.protobuf.message import DecodeError

    from components.anomalies_gate.schema_diff import read_findings, split_dirs

    validator = executions.get(node_ids.EXAMPLE_VALIDATOR)
    anomalies = validator.outputs.get("anomalies") if validator else None
    if not anomalies:
        return []
    try:
        return read_findings(split_dirs(anomalies[0].uri))
    except (OSError, DecodeError):
        return []
