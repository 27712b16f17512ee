"""Reading an Evaluator's outputs: metrics per slice (candidate and baseline), thresholds, and the verdict."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional

import ml_metadata as mlmd

from pipeline.config.evaluation import metric_default_name
from pipeline.dag import node_ids
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError

OVERALL = "overall"


def slice_name(slice_key) -> str:
    parts = []
    for single in slice_key.single_slice_keys:
        kind = single.WhichOneof("kind")
        value = getattr(single, kind) if kind else ""
        parts.append(f"{single.column}={value.decode() if isinstance(value, bytes) else value}")
    return ", ".join(parts) or OVERALL


def slice_spec_name(spec) -> str:
    keys = list(spec.feature_keys) + [f"{k}={v}" for k, v in spec.feature_values.items()]
    return ", ".join(keys) or OVERALL


def load_metrics(evaluation_uri: str) -> dict[str, dict[str, dict[str, float]]]:
    """{model ('candidate'|'baseline'): {slice: {metric: value}}}, diffs excluded."""
    import tensorflow_model_analysis as tfma

    out: dict[str, dict[str, dict[str, float]]] = {"candidate": {}, "baseline": {}}
    for metrics in tfma.load_metrics(evaluation_uri):
        name = slice_name(metrics.slice_key)
        for kv in metrics.metric_keys_and_values:
            if kv.key.is_diff or not kv.value.HasField("double_value"):
                continue
            model = "baseline" if kv.key.model_name == "baseline" else "candidate"
            out[model].setdefault(name, {})[kv.key.name] = kv.value.double_value.value
    return out


def failed_checks(evaluation_uri: str) -> set[tuple[str, str, str]]:
    """(metric, slice, kind) of every threshold the Evaluator's validation failed; kind is `value` or `change`."""
    import tensorflow_model_analysis as tfma

    failed = set()
    for per_slice in tfma.load_validation_result(evaluation_uri).metric_validations_per_slice:
        for failure in per_slice.failures:
            kind = "change" if failure.metric_threshold.HasField("change_threshold") else "value"
            failed.add((failure.metric_key.name, slice_name(per_slice.slice_key), kind))
    return failed


def load_eval_config(evaluation_uri: str):
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format

    with open(os.path.join(evaluation_uri, "eval_config.json")) as f:
        raw = json.load(f)
    return json_format.ParseDict(raw.get("evalConfig", raw), tfma.EvalConfig(), ignore_unknown_fields=True)


@dataclass(frozen=True)
class ThresholdCheck:
    metric: str
    slice: str
    kind: str  # value | change
    bound: str  # e.g. ">= 0.9", "<= 0.6", "change >= -0.005"
    value: Optional[float]
    baseline: Optional[float]
    change: Optional[float]
    passed: bool


@dataclass(frozen=True)
class BlessingReport:
    run_id: str
    model_id: Optional[int]
    blessed: bool
    has_baseline: bool
    checks: list[ThresholdCheck]
    verdict: str


def _metric_name(config) -> str:
    if config.config:
        try:
            return json.loads(config.config).get("name") or metric_default_name(config.class_name)
        except ValueError:
            pass
    return metric_default_name(config.class_name)


def _thresholds(eval_config) -> list[tuple[str, str, object]]:
    """(metric, slice, MetricThreshold) for every threshold in the config."""
    out = []
    for spec in eval_config.metrics_specs:
        for config in spec.metrics:
            name = _metric_name(config)
            if config.HasField("threshold"):
                for s in eval_config.slicing_specs or [None]:
                    out.append((name, slice_spec_name(s) if s is not None else OVERALL, config.threshold))
            for per_slice in config.per_slice_thresholds:
                for s in per_slice.slicing_specs:
                    out.append((name, slice_spec_name(s), per_slice.threshold))
    return out


def _fmt_bound(threshold, kind: str) -> str:
    if kind == "value":
        v = threshold.value_threshold
        parts = []
        if v.HasField("lower_bound"):
            parts.append(f">= {v.lower_bound.value:g}")
        if v.HasField("upper_bound"):
            parts.append(f"<= {v.upper_bound.value:g}")
        return " and ".join(parts)
    c = threshold.change_threshold
    op = ">" if c.direction == 2 else "<"  # HIGHER_IS_BETTER = 2
    return f"change {op} {c.absolute.value:+.4g} vs baseline"


def _verdict(blessed: bool, has_baseline: bool, checks: list[ThresholdCheck]) -> str:
    failures = [c for c in checks if not c.passed]
    if blessed:
        return f"blessed: all {len(checks)} threshold checks pass" + ("" if has_baseline else " (no baseline yet)")
    if not failures:
        return "not blessed: the Evaluator's validation failed (see its evaluation artifact)"
    f = failures[0]
    what = (f"{f.metric} {f.value:.4g} fails {f.bound}" if f.kind == "value" else
            f"{f.metric} changed {f.change:+.4g} vs baseline {f.baseline:.4g}, needs {f.bound}")
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return f"not blessed: {what} on slice {f.slice}{more}"


def blessing_report(store: mlmd.MetadataStore, pipeline: str, run_id: str) -> BlessingReport:
    executions = R.node_executions(store, pipeline, run_id)
    evaluator = executions.get(node_ids.EVALUATOR)
    if evaluator is None or not evaluator.outputs.get("evaluation"):
        raise MetadataError(f"run {run_id} has no evaluation (its Evaluator did not run or failed).")
    uri = evaluator.outputs["evaluation"][0].uri
    blessing = evaluator.outputs["blessing"][0]
    model = (evaluator.inputs.get("model") or [None])[0]
    metrics = load_metrics(uri)
    eval_config = load_eval_config(uri)
    failed = failed_checks(uri)
    has_baseline = bool(metrics["baseline"])
    checks = []
    for metric, slc, threshold in _thresholds(eval_config):
        value = metrics["candidate"].get(slc, {}).get(metric)
        base = metrics["baseline"].get(slc, {}).get(metric)
        for kind in ("value", "change"):
            if not threshold.HasField(f"{kind}_threshold"):
                continue
            if kind == "change" and not has_baseline:
                continue  # TFX applies change thresholds only when a baseline exists
            checks.append(ThresholdCheck(
                metric=metric, slice=slc, kind=kind, bound=_fmt_bound(threshold, kind), value=value, baseline=base,
                change=None if value is None or base is None else value - base,
                passed=(metric, slc, kind) not in failed,
            ))
    blessed = bool(blessing.properties.get("blessed"))
    verdict = _verdict(blessed, has_baseline, checks)
    return BlessingReport(run_id, model.id if model else None, blessed, has_baseline, checks, verdict)


def run_of_model(store: mlmd.MetadataStore, model_id: int) -> tuple[str, str]:
    """(pipeline, run_id) of the Evaluator run that evaluated this model artifact as its candidate."""
    from ml_metadata.proto import metadata_store_pb2

    events = [e for e in store.get_events_by_artifact_ids([model_id]) if e.type == metadata_store_pb2.Event.INPUT]
    run_type = store.get_context_type(R.RUN_CONTEXT).id
    for execution in sorted(store.get_executions_by_id([e.execution_id for e in events]), key=lambda e: -e.id):
        key_events = [e for e in events if e.execution_id == execution.id]
        if not any(s.key == "model" for e in key_events for s in e.path.steps):
            continue
        for ctx in store.get_contexts_by_execution(execution.id):
            if ctx.type_id == run_type:
                pipeline = R.find_run(store, ctx.name)
                if pipeline and node_ids.EVALUATOR in R.node_executions(store, pipeline, ctx.name):
                    return pipeline, ctx.name
    raise MetadataError(f"model {model_id} was never evaluated (or is not a Model artifact id).")
