"""What a finished run produced, read back from its artifacts: rows, anomalies, metrics, blessing, push."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from components.anomalies_gate.schema_diff import Finding, read_findings, split_dirs
from components.atomic_pusher.properties import PUSHED_DESTINATION_KEY, PUSHED_KEY, PUSHED_MODEL_KEY
from pipeline.config.schema import PipelineConfig
from pipeline.dag import node_ids
from pipeline.metadata import statistics
from pipeline.metadata.eval_results import OVERALL, failed_checks, load_metrics
from pipeline.metadata.runs import Artifact, NodeExecution


@dataclass(frozen=True)
class MetricRow:
    name: str
    value: float
    baseline: Optional[float] = None
    lower: Optional[float] = None
    upper: Optional[float] = None
    passed: Optional[bool] = None  # None when no threshold applies


@dataclass
class RunSummary:
    rows: dict[str, int] = field(default_factory=dict)
    anomalies: list[Finding] = field(default_factory=list)
    anomalies_uri: Optional[str] = None
    metrics: list[MetricRow] = field(default_factory=list)
    evaluation_uri: Optional[str] = None
    has_baseline: bool = False
    blessed: Optional[bool] = None
    pushed: Optional[str] = None  # the version directory of this run's push
    pushed_now: bool = False  # False when the Pusher was served from cache (nothing new pushed)


def _one(executions: dict[str, NodeExecution], node: str, key: str) -> Optional[Artifact]:
    execution = executions.get(node)
    artifacts = execution.outputs.get(key, []) if execution else []
    return artifacts[0] if artifacts else None


def read_metrics(evaluation_uri: str, cfg: PipelineConfig) -> tuple[list[MetricRow], bool]:
    """Overall-slice metrics of the candidate, with the baseline's value and the configured bounds; and whether
    there was a baseline."""
    metrics = load_metrics(evaluation_uri)
    candidate = metrics["candidate"].get(OVERALL, {})
    baseline = metrics["baseline"].get(OVERALL, {})
    failed = {metric for metric, slc, _ in failed_checks(evaluation_uri) if slc == OVERALL}
    gates = cfg.gates
    rows = []
    for name, value in sorted(candidate.items()):
        bound = gates.thresholds.get(name)
        checked = bound is not None or (name in gates.change_thresholds and baseline)
        rows.append(
            MetricRow(
                name=name,
                value=value,
                baseline=baseline.get(name),
                lower=bound.lower if bound else None,
                upper=bound.upper if bound else None,
                passed=(name not in failed) if checked else None,
            )
        )
    return rows, bool(baseline)


def summarize(cfg: PipelineConfig, executions: dict[str, NodeExecution]) -> RunSummary:
    summary = RunSummary()
    stats = _one(executions, node_ids.STATISTICS_GEN, "statistics")
    if stats:
        summary.rows = statistics.rows(stats.uri)
    anomalies = _one(executions, node_ids.EXAMPLE_VALIDATOR, "anomalies")
    if anomalies:
        summary.anomalies_uri = anomalies.uri
        summary.anomalies = read_findings(split_dirs(anomalies.uri))
    evaluation = _one(executions, node_ids.EVALUATOR, "evaluation")
    if evaluation:
        summary.evaluation_uri = evaluation.uri
        summary.metrics, summary.has_baseline = read_metrics(evaluation.uri, cfg)
    blessing = _one(executions, node_ids.EVALUATOR, "blessing")
    if blessing:
        summary.blessed = bool(blessing.properties.get("blessed"))
    pushed = _one(executions, node_ids.PUSHER, PUSHED_MODEL_KEY)
    if pushed and pushed.properties.get(PUSHED_KEY):
        summary.pushed = str(pushed.properties.get(PUSHED_DESTINATION_KEY))
        summary.pushed_now = executions[node_ids.PUSHER].state == "complete"
    return summary
