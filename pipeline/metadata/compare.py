"""Two runs side by side: metric deltas per slice, changed execution properties, data deltas, re-ran vs cached."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

import ml_metadata as mlmd

from pipeline.metadata import runs as R
from pipeline.metadata.eval_results import load_metrics


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


def _stats(statistics_uri: str) -> dict[str, dict]:
    """{split: {"rows": n, "features": {name: {mean, std_dev, missing, unique}}}} from StatisticsGen output."""
    import tensorflow_data_validation as tfdv

    from pipeline.metadata.summary import split_dirs

    out = {}
    for split, path in split_dirs(statistics_uri).items():
        stats = tfdv.load_stats_binary(os.path.join(path, "FeatureStats.pb"))
        if not stats.datasets:
            continue
        dataset = stats.datasets[0]
        features = {}
        for f in dataset.features:
            name = f.path.step[0] if f.path.step else f.name
            kind = f.WhichOneof("stats")
            if kind == "num_stats":
                common = f.num_stats.common_stats
                features[name] = {"mean": f.num_stats.mean, "std_dev": f.num_stats.std_dev,
                                  "missing": common.num_missing}
            elif kind == "string_stats":
                common = f.string_stats.common_stats
                features[name] = {"unique": f.string_stats.unique, "missing": common.num_missing}
        out[split] = {"rows": int(dataset.num_examples), "features": features}
    return out


def compare(store: mlmd.MetadataStore, run_a: str, pipeline_a: str, run_b: str, pipeline_b: str) -> Comparison:
    ex_a = R.node_executions(store, pipeline_a, run_a)
    ex_b = R.node_executions(store, pipeline_b, run_b)
    result = Comparison(run_a, run_b, pipeline_a, pipeline_b)

    for node in sorted(set(ex_a) | set(ex_b)):
        result.nodes.append(Delta("state", node, ex_a[node].state if node in ex_a else None,
                                  ex_b[node].state if node in ex_b else None))
        props_a = _flatten({k: v for k, v in (ex_a[node].properties if node in ex_a else {}).items()})
        props_b = _flatten({k: v for k, v in (ex_b[node].properties if node in ex_b else {}).items()})
        for key in sorted(set(props_a) | set(props_b)):
            if props_a.get(key) != props_b.get(key):
                a, b = props_a.get(key), props_b.get(key)
                numeric = isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
                result.properties.append(Delta(key, node, a, b, _diff(a, b) if numeric else None))

    def output(executions, node, key):
        e = executions.get(node)
        return e.outputs[key][0].uri if e and e.outputs.get(key) else None

    eval_a, eval_b = output(ex_a, "Evaluator", "evaluation"), output(ex_b, "Evaluator", "evaluation")
    if eval_a and eval_b:
        ma, mb = load_metrics(eval_a)["candidate"], load_metrics(eval_b)["candidate"]
        for slc in sorted(set(ma) | set(mb), key=lambda s: (s != "overall", s)):
            for metric in sorted(set(ma.get(slc, {})) | set(mb.get(slc, {}))):
                a, b = ma.get(slc, {}).get(metric), mb.get(slc, {}).get(metric)
                result.metrics.append(Delta(metric, slc, a, b, _diff(a, b)))

    stats_a, stats_b = output(ex_a, "StatisticsGen", "statistics"), output(ex_b, "StatisticsGen", "statistics")
    if stats_a and stats_b:
        sa, sb = _stats(stats_a), _stats(stats_b)
        for split in sorted(set(sa) | set(sb)):
            a, b = sa.get(split, {}).get("rows"), sb.get(split, {}).get("rows")
            result.rows.append(Delta("rows", split, a, b, _diff(a, b)))
            fa, fb = sa.get(split, {}).get("features", {}), sb.get(split, {}).get("features", {})
            for feature in sorted(set(fa) | set(fb)):
                for stat in ("mean", "std_dev", "missing", "unique"):
                    a, b = fa.get(feature, {}).get(stat), fb.get(feature, {}).get(stat)
                    if a is None and b is None:
                        continue
                    result.features.append(Delta(stat, f"{split}/{feature}", a, b, _diff(a, b)))
    return result
