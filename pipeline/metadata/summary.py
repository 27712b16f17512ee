"""What a finished run produced, read back from its artifacts: rows, anomalies, the label as trained, metrics,
blessing, push."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from components.anomalies_gate.schema_diff import Finding, read_findings, split_dirs
from components.atomic_pusher.properties import PUSHED_DESTINATION_KEY, PUSHED_KEY, PUSHED_MODEL_KEY
from pipeline.config.schema import PipelineConfig
from pipeline.dag import node_ids
from pipeline.metadata import compressed, importance, statistics, tuning
from pipeline.metadata.eval_results import OVERALL, failed_checks, load_metrics
from pipeline.metadata.gates import Gate, config_gates, find, read_gates
from pipeline.metadata.runs import Artifact, NodeExecution
from trainer_module import pruning, training_summary


@dataclass(frozen=True)
class MetricRow:
    name: str
    value: float
    baseline: Optional[float] = None
    lower: Optional[float] = None
    upper: Optional[float] = None
    passed: Optional[bool] = None  # None when no threshold applies
    default: bool = False  # the value gate (lower/upper) is a default one, not the config's
    change: Optional[float] = None  # a change gate: the allowed change vs the baseline in the better direction
    change_default: bool = False  # the change gate is a default one


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
    label: Optional[dict] = None  # the Trainer's record of the label (training_summary.json "label")
    auto: Optional[dict] = None  # model.family auto: the candidates' scores and the family kept ("auto")
    tuned: Optional[dict] = None  # the Tuner's best values as the Trainer used them ("tuned"), when the run tuned
    tuning: Optional[str] = None  # what the Tuner found, in words (pipeline.metadata.tuning.describe)
    compressed: Optional[str] = None  # the TFLite model: size, metric vs the full model, gate (compressed.py)
    importance: Optional[str] = None  # the top features by permutation importance (importance.summary_line)
    pruned: Optional[str] = None  # training.prune: the sparsity reached (trainer_module.pruning.summary_line)


def _one(executions: dict[str, NodeExecution], node: str, key: str) -> Optional[Artifact]:
    execution = executions.get(node)
    artifacts = execution.outputs.get(key, []) if execution else []
    return artifacts[0] if artifacts else None


def read_metrics(evaluation_uri: str, cfg: PipelineConfig,
                 gates: Optional[list[Gate]] = None) -> tuple[list[MetricRow], bool]:
    """Overall-slice metrics of the candidate, with the baseline's value and the gates on them; and whether there
    was a baseline. `gates`: those the evaluation recorded (gates.read_gates), else the config's."""
    metrics = load_metrics(evaluation_uri)
    candidate = metrics["candidate"].get(OVERALL, {})
    baseline = metrics["baseline"].get(OVERALL, {})
    failed = {metric for metric, slc, _ in failed_checks(evaluation_uri) if slc == OVERALL}
    gates = gates if gates is not None else config_gates(cfg.gates)
    rows = []
    for name, value in sorted(candidate.items()):
        bound, change = find(gates, name, "value"), find(gates, name, "change")
        checked = bound is not None or (change is not None and bool(baseline))
        rows.append(
            MetricRow(
                name=name,
                value=value,
                baseline=baseline.get(name),
                lower=bound.lower if bound else None,
                upper=bound.upper if bound else None,
                passed=(name not in failed) if checked else None,
                default=bool(bound and bound.is_default),
                change=change.change if change else None,
                change_default=bool(change and change.is_default),
            )
        )
    return rows, bool(baseline)


def trained_record(model_run_uri: str) -> dict:
    """What the Trainer recorded (trainer_module.training_summary), or {} when it wrote nothing readable."""
    try:
        return training_summary.read(model_run_uri)
    except (OSError, ValueError):
        return {}


def summarize(cfg: PipelineConfig, executions: dict[str, NodeExecution]) -> RunSummary:
    summary = RunSummary()
    stats = _one(executions, node_ids.STATISTICS_GEN, "statistics")
    if stats:
        summary.rows = statistics.rows(stats.uri)
    anomalies = _one(executions, node_ids.EXAMPLE_VALIDATOR, "anomalies")
    if anomalies:
        summary.anomalies_uri = anomalies.uri
        summary.anomalies = read_findings(split_dirs(anomalies.uri))
    model_run = _one(executions, node_ids.TRAINER, "model_run")
    if model_run:
        record = trained_record(model_run.uri)
        summary.label, summary.auto, summary.tuned = record.get("label"), record.get("auto"), record.get("tuned")
        summary.compressed = compressed.summary_line(None, record.get("compressed"))
        summary.pruned = pruning.summary_line(record.get("pruning"))
    tuner_results = _one(executions, node_ids.TUNER, "tuner_results")
    if tuner_results and summary.tuned is not None:
        from trainer_module.auto_family import METRIC

        summary.tuning = tuning.describe(summary.tuned, tuning.read_trials(tuner_results.uri), METRIC.get(cfg.task))
    evaluation = _one(executions, node_ids.EVALUATOR, "evaluation")
    if evaluation:
        summary.evaluation_uri = evaluation.uri
        summary.metrics, summary.has_baseline = read_metrics(evaluation.uri, cfg, read_gates(evaluation.properties))
        summary.compressed = compressed.summary_line(compressed.read(evaluation.properties), None) or summary.compressed
    table = importance.from_executions(executions)
    summary.importance = importance.summary_line(table) if table else None
    blessing = _one(executions, node_ids.EVALUATOR, "blessing")
    if blessing:
        summary.blessed = bool(blessing.properties.get("blessed"))
    pushed = _one(executions, node_ids.PUSHER, PUSHED_MODEL_KEY)
    if pushed and pushed.properties.get(PUSHED_KEY):
        summary.pushed = str(pushed.properties.get(PUSHED_DESTINATION_KEY))
        summary.pushed_now = executions[node_ids.PUSHER].state == "complete"
    return summary
