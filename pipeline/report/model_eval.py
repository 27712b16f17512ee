"""The report's Evaluation section: the blessing verdict and checks (pipeline.metadata.eval_results), metrics per
slice of the candidate and the baseline, the main metric per slice with example counts and its gate, and the
binary task's calibration, ROC and precision-recall curves from TFMA's plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pipeline.dag import node_ids
from pipeline.metadata.runs import NodeExecution
from pipeline.report.problems import output, problem

# The metric a task is judged by first, in this order of preference (the first the evaluation has; a gated one wins).
MAIN_METRICS = ("auc", "sparse_categorical_accuracy", "mean_squared_error", "r_squared", "mean_reconstruction_error",
                "binary_accuracy", "mean_absolute_error")
OVERALL = "overall"


@dataclass
class MetricLine:
    """One metric on the overall slice: value, baseline, change and the gates on it."""

    name: str
    value: Optional[float]
    baseline: Optional[float] = None
    change: Optional[float] = None
    gates: str = ""  # e.g. ">= 0.9; not worse than the baseline"
    passed: Optional[bool] = None  # None: no gate checked


@dataclass
class SliceChart:
    column: str  # the slicing column(s), e.g. trip_start_hour
    labels: list[str]
    values: list[Optional[float]]
    counts: list[Optional[int]]


@dataclass
class Curve:
    kind: str  # calibration | roc | pr
    title: str
    x_label: str
    y_label: str
    points: list[tuple[float, float]]
    diagonal: bool = False


@dataclass
class EvaluationView:
    uri: str
    blessing: Any = None  # pipeline.metadata.eval_results.BlessingReport
    metrics: dict = field(default_factory=dict)  # {candidate|baseline: {slice: {metric: value}}}
    overall: list[MetricLine] = field(default_factory=list)
    main_metric: Optional[str] = None
    threshold: Optional[float] = None  # the main metric's value gate (lower or upper bound)
    slice_charts: list[SliceChart] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _main_metric(names: set[str], gated: set[str]) -> Optional[str]:
    ranked = [m for m in MAIN_METRICS if m in names]
    return next((m for m in ranked if m in gated), ranked[0] if ranked else None)


def slice_order(label: str) -> tuple:
    """Slices of one column by value, numbers numerically (hour=2 before hour=10)."""
    value = label.split("=", 1)[-1]
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def slice_charts(candidate: dict[str, dict[str, float]], metric: str) -> list[SliceChart]:
    """One chart per slicing column: the overall slice first, then each slice of that column."""
    groups: dict[str, list[str]] = {}
    for name in candidate:
        if name != OVERALL:
            column = ", ".join(part.split("=", 1)[0] for part in name.split(", "))
            groups.setdefault(column, []).append(name)
    charts = []
    for column, names in sorted(groups.items()):
        labels = [OVERALL] + sorted(names, key=slice_order) if OVERALL in candidate else sorted(names, key=slice_order)
        charts.append(SliceChart(column, labels, [candidate[n].get(metric) for n in labels],
                                 [_count(candidate[n].get("example_count")) for n in labels]))
    if not charts and OVERALL in candidate:
        charts.append(SliceChart(OVERALL, [OVERALL], [candidate[OVERALL].get(metric)],
                                 [_count(candidate[OVERALL].get("example_count"))]))
    return charts


def _count(value: Optional[float]) -> Optional[int]:
    return None if value is None else int(round(value))


def overall_lines(metrics: dict, checks: list) -> list[MetricLine]:
    candidate = metrics.get("candidate", {}).get(OVERALL, {})
    baseline = metrics.get("baseline", {}).get(OVERALL, {})
    lines = []
    for name in sorted(candidate):
        mine = [c for c in checks if c.metric == name and c.slice == OVERALL]
        base = baseline.get(name)
        lines.append(MetricLine(
            name, candidate[name], base, None if base is None else candidate[name] - base,
            "; ".join(c.bound for c in mine), all(c.passed for c in mine) if mine else None))
    return lines


def _finite(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [p for p in points if all(math.isfinite(v) for v in p)]


def curves(plots: list) -> list[Curve]:
    """Calibration, ROC and precision-recall curves of the overall slice (TFMA's CalibrationPlot and
    ConfusionMatrixPlot; empty when the evaluation computed no plots)."""
    from pipeline.metadata.eval_results import slice_name

    out = []
    for record in plots:
        if slice_name(record.slice_key) != OVERALL:
            continue
        for kv in record.plot_keys_and_values:
            if kv.key.model_name not in ("", "candidate"):
                continue
            value = kv.value
            if value.HasField("calibration_histogram_buckets"):
                points = []
                for b in value.calibration_histogram_buckets.buckets:
                    n = b.num_weighted_examples.value
                    if n > 0:
                        points.append((b.total_weighted_refined_prediction.value / n, b.total_weighted_label.value / n))
                out.append(Curve("calibration", "calibration (overall)", "mean prediction", "mean label", points,
                                 diagonal=True))
            if value.HasField("confusion_matrix_at_thresholds"):
                matrices = value.confusion_matrix_at_thresholds.matrices
                roc = [(m.false_positive_rate, m.recall) for m in matrices]
                pr = [(m.recall, m.precision) for m in matrices if m.true_positives + m.false_positives > 0]
                out.append(Curve("roc", "ROC (overall)", "false positive rate", "true positive rate", _finite(roc),
                                 diagonal=True))
                out.append(Curve("pr", "precision-recall (overall)", "recall", "precision", _finite(pr)))
    return out


def build(store: Any, pipeline: str, run_id: str, executions: dict[str, NodeExecution],
          logs_dir: Optional[Path]) -> Optional[EvaluationView]:
    """The Evaluation section, or None when the run has no evaluation artifact."""
    evaluation = output(executions, node_ids.EVALUATOR, "evaluation")
    if evaluation is None:
        return None
    from pipeline.metadata.eval_results import blessing_report, load_metrics
    from pipeline.metadata.gates import find, read_gates
    from components import proto_io as protos

    view = EvaluationView(uri=evaluation.uri)
    try:
        view.metrics = load_metrics(evaluation.uri)
        view.blessing = blessing_report(store, pipeline, run_id, logs_dir)
    except Exception as err:  # pylint: disable=broad-except  # deleted or unreadable TFMA output
        view.problems.append(f"evaluation not readable: {problem(err)}")
        return view
    checks = view.blessing.checks
    view.overall = overall_lines(view.metrics, checks)
    candidate = view.metrics.get("candidate", {})
    gates = read_gates(evaluation.properties) or []
    names = {m for values in candidate.values() for m in values}
    view.main_metric = _main_metric(names, {c.metric for c in checks} | {g.metric for g in gates})
    if view.main_metric:
        gate = find(gates, view.main_metric, "value")
        if gate is not None:
            view.threshold = gate.lower if gate.lower is not None else gate.upper
        view.slice_charts = slice_charts(candidate, view.main_metric)
    try:
        view.curves = curves(protos.tfma_records(evaluation.uri, "plots", "PlotsForSlice"))
    except Exception as err:  # pylint: disable=broad-except
        view.problems.append(f"plots not readable: {problem(err)}")
    return view
