"""What a finished run produced, read back from its artifacts: rows, anomalies, metrics, blessing, push."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from pipeline.config.schema import PipelineConfig
from pipeline.metadata.runs import Artifact, NodeExecution


@dataclass(frozen=True)
class Anomaly:
    split: str
    feature: str
    kind: str
    description: str


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
    anomalies: list[Anomaly] = field(default_factory=list)
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


def split_dirs(uri: str) -> dict[str, str]:
    import tensorflow as tf

    if not tf.io.gfile.isdir(uri):
        return {}
    return {
        name.rstrip("/")[len("Split-"):]: os.path.join(uri, name.rstrip("/"))
        for name in tf.io.gfile.listdir(uri)
        if name.startswith("Split-")
    }


def read_rows(statistics_uri: str) -> dict[str, int]:
    import tensorflow_data_validation as tfdv

    rows = {}
    for split, path in split_dirs(statistics_uri).items():
        stats = tfdv.load_stats_binary(os.path.join(path, "FeatureStats.pb"))
        rows[split] = int(stats.datasets[0].num_examples) if stats.datasets else 0
    return rows


def read_anomalies(anomalies_uri: str) -> list[Anomaly]:
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = []
    for split, path in sorted(split_dirs(anomalies_uri).items()):
        anomalies = anomalies_pb2.Anomalies()
        with tf.io.gfile.GFile(os.path.join(path, "SchemaDiff.pb"), "rb") as f:
            anomalies.ParseFromString(f.read())
        for feature, info in sorted(anomalies.anomaly_info.items()):
            kinds = ", ".join(sorted({r.short_description for r in info.reason})) or info.short_description
            found.append(Anomaly(split, feature, kinds, info.description))
        if anomalies.HasField("dataset_anomaly_info") and anomalies.dataset_anomaly_info.reason:
            info = anomalies.dataset_anomaly_info
            found.append(Anomaly(split, "<dataset>", info.short_description, info.description))
    return found


def read_metrics(evaluation_uri: str, cfg: PipelineConfig) -> tuple[list[MetricRow], bool]:
    """Overall-slice metrics of the candidate, with the baseline's value and the configured bounds."""
    import tensorflow_model_analysis as tfma

    candidate: dict[str, float] = {}
    baseline: dict[str, float] = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        if metrics.slice_key.single_slice_keys:
            continue  # overall slice only
        for kv in metrics.metric_keys_and_values:
            key = kv.key
            if key.is_diff or not kv.value.HasField("double_value"):
                continue
            target = baseline if key.model_name == "baseline" else candidate
            target[key.name] = kv.value.double_value.value
    failed = set()
    validation = tfma.load_validation_result(evaluation_uri)
    for per_slice in validation.metric_validations_per_slice:
        if not per_slice.slice_key.single_slice_keys:
            failed |= {f.metric_key.name for f in per_slice.failures}
    rows = []
    for name, value in sorted(candidate.items()):
        gates = cfg.gates
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
    statistics = _one(executions, "StatisticsGen", "statistics")
    if statistics:
        summary.rows = read_rows(statistics.uri)
    anomalies = _one(executions, "ExampleValidator", "anomalies")
    if anomalies:
        summary.anomalies_uri = anomalies.uri
        summary.anomalies = read_anomalies(anomalies.uri)
    evaluation = _one(executions, "Evaluator", "evaluation")
    if evaluation:
        summary.evaluation_uri = evaluation.uri
        summary.metrics, summary.has_baseline = read_metrics(evaluation.uri, cfg)
    blessing = _one(executions, "Evaluator", "blessing")
    if blessing:
        summary.blessed = bool(blessing.properties.get("blessed"))
    pushed = _one(executions, "Pusher", "pushed_model")
    if pushed and pushed.properties.get("pushed"):
        summary.pushed = str(pushed.properties.get("pushed_destination"))
        summary.pushed_now = executions["Pusher"].state == "complete"
    return summary
