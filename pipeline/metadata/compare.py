"""Two runs side by side: metric deltas per slice, changed execution properties, data deltas, re-ran vs cached."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

import ml_metadata as mlmd

from pipeline.dag import node_ids
from pipeline.metadata import runs as R
from pipeline.metadata import importance, statistics
from pipeline.metadata.eval_results import OVERALL, load_metrics


@dataclass(frozen=True)
class Delta:
    name: str  # metric, property, statistic
    where: str  # slice, node, split/feature
    a: Any
    b: Any
    delta: Optional[float] = None


@dataclass
class Comparison:
    run_a: str
    run_b: str
    pipeline_a: str
    pipeline_b: str
    metrics: list[Delta] = field(default_factory=list)
    properties: list[Delta] = field(default_factory=list)
    rows: list[Delta] = field(default_factory=list)
    features: list[Delta] = field(default_factory=list)
    nodes: list[Delta] = field(default_factory=list)  # state per node: complete (re-ran) / cached / failed
    # The trained model's hyperparameters (training_summary.json), " (tuned)" after a name the Tuner chose.
    hyperparameters: list[Delta] = field(default_factory=list)
    # Permutation importance per raw feature (where: "rank in A/rank in B"), B's order; and what it measures.
    importance: list[Delta] = field(default_factory=list)
    importance_metric: str = ""


def _diff(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else b - a


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """JSON-valued exec properties (custom_config, train_args) as dotted keys, so one hyperparameter shows alone."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _output_uri(executions: dict[str, R.NodeExecution], node: str, key: str) -> Optional[str]:
    e = executions.get(node)
    return e.outputs[key][0].uri if e and e.outputs.get(key) else None


def _node_deltas(ex_a: dict[str, R.NodeExecution], ex_b: dict[str, R.NodeExecution]) -> tuple[list[Delta], list[Delta]]:
    """(state per node, changed exec properties per node)."""
    nodes, properties = [], []
    for node in sorted(set(ex_a) | set(ex_b)):
        nodes.append(Delta("state", node, ex_a[node].state if node in ex_a else None,
                           ex_b[node].state if node in ex_b else None))
        props_a = _flatten(ex_a[node].properties if node in ex_a else {})
        props_b = _flatten(ex_b[node].properties if node in ex_b else {})
        for key in sorted(set(props_a) | set(props_b)):
            if props_a.get(key) != props_b.get(key):
                a, b = props_a.get(key), props_b.get(key)
                numeric = isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
                properties.append(Delta(key, node, a, b, _diff(a, b) if numeric else None))
    return nodes, properties


def _metric_deltas(evaluation_a: str, evaluation_b: str) -> list[Delta]:
    """The candidate's metrics per slice, the overall slice first."""
    ma, mb = load_metrics(evaluation_a)["candidate"], load_metrics(evaluation_b)["candidate"]
    deltas = []
    for slc in sorted(set(ma) | set(mb), key=lambda s: (s != OVERALL, s)):
        for metric in sorted(set(ma.get(slc, {})) | set(mb.get(slc, {}))):
            a, b = ma.get(slc, {}).get(metric), mb.get(slc, {}).get(metric)
            deltas.append(Delta(metric, slc, a, b, _diff(a, b)))
    return deltas


def _data_deltas(statistics_a: str, statistics_b: str) -> tuple[list[Delta], list[Delta]]:
    """(rows per split, statistics per split/feature)."""
    sa, sb = statistics.feature_stats(statistics_a), statistics.feature_stats(statistics_b)
    rows, features = [], []
    for split in sorted(set(sa) | set(sb)):
        a, b = sa.get(split, {}).get("rows"), sb.get(split, {}).get("rows")
        rows.append(Delta("rows", split, a, b, _diff(a, b)))
        fa, fb = sa.get(split, {}).get("features", {}), sb.get(split, {}).get("features", {})
        for feature in sorted(set(fa) | set(fb)):
            for stat in ("mean", "std_dev", "missing", "unique"):
                a, b = fa.get(feature, {}).get(stat), fb.get(feature, {}).get(stat)
                if a is None and b is None:
                    continue
                features.append(Delta(stat, f"{split}/{feature}", a, b, _diff(a, b)))
    return rows, features


def _hyperparameter_deltas(model_run_a: str, model_run_b: str) -> list[Delta]:
    """Every hyperparameter of either run's model, with its value in each; family first."""
    from trainer_module import training_summary

    def read(uri: str) -> tuple[dict, set]:
        try:
            record = training_summary.read(uri)
        except (OSError, ValueError):
            return {}, set()
        values = {"family": record.get("model_family"), **(record.get("hyperparameters") or {})}
        tuned = set((record.get("tuned") or {}).get("hyperparameters", {}))
        return values, tuned | ({"family"} if (record.get("tuned") or {}).get("family") else set())

    (a, tuned_a), (b, tuned_b) = read(model_run_a), read(model_run_b)
    deltas = []
    for name in sorted(set(a) | set(b), key=lambda n: (n != "family", n)):
        va, vb = a.get(name), b.get(name)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb))
        label = name + (" (tuned)" if name in tuned_a | tuned_b else "")
        deltas.append(Delta(label, "Trainer", va, vb, _diff(va, vb) if numeric else None))
    return deltas


def compare(store: mlmd.MetadataStore, run_a: str, pipeline_a: str, run_b: str, pipeline_b: str) -> Comparison:
    ex_a = R.node_executions(store, pipeline_a, run_a)
    ex_b = R.node_executions(store, pipeline_b, run_b)
    result = Comparison(run_a, run_b, pipeline_a, pipeline_b)
    result.nodes, result.properties = _node_deltas(ex_a, ex_b)
    eval_a, eval_b = (_output_uri(ex, node_ids.EVALUATOR, "evaluation") for ex in (ex_a, ex_b))
    if eval_a and eval_b:
        result.metrics = _metric_deltas(eval_a, eval_b)
    run_a_uri, run_b_uri = (_output_uri(ex, node_ids.TRAINER, "model_run") for ex in (ex_a, ex_b))
    if run_a_uri and run_b_uri:
        result.hyperparameters = _hyperparameter_deltas(run_a_uri, run_b_uri)
    table_a, table_b = importance.from_executions(ex_a), importance.from_executions(ex_b)
    if table_a and table_b:
        result.importance = [Delta(name, ranks, a, b, _diff(a, b))
                             for name, ranks, a, b in importance.side_by_side(table_a, table_b)]
        result.importance_metric = table_b.drop_words
    stats_a, stats_b = (_output_uri(ex, node_ids.STATISTICS_GEN, "statistics") for ex in (ex_a, ex_b))
    if stats_a and stats_b:
        result.rows, result.features = _data_deltas(stats_a, stats_b)
    return result
