"""Reading an Evaluator's outputs: metrics per slice (candidate and baseline), thresholds, each gate's check and
the verdict (`tfx-e2e blessing`; the sentences are blessing_words'), and why a run that has no evaluation has none."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import ml_metadata as mlmd

from components import proto_io
from components.gated_evaluator.gates import metric_name
from pipeline.config.evaluation import TASK_METRICS
from pipeline.dag import node_ids
from pipeline.metadata import blessing_words as W
from pipeline.metadata import compressed
from pipeline.metadata import run_failure
from pipeline.metadata import runs as R
from pipeline.metadata.gates import CONFIG, Gate, bound_text, change_text, find, read_gates
from pipeline.metadata.store import MetadataError

OVERALL = "overall"
TFMA_CONFIG = "tensorflow_model_analysis.proto.config_pb2"
TFMA_VALIDATION = "tensorflow_model_analysis.proto.validation_result_pb2"


def _tfma(module: str, name: str):
    """A TFMA message class without importing TFMA (components.proto_io)."""
    return proto_io.message_class(module, f"tensorflow_model_analysis.{name}")


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
    out: dict[str, dict[str, dict[str, float]]] = {"candidate": {}, "baseline": {}}
    for metrics in proto_io.tfma_records(evaluation_uri, "metrics", "MetricsForSlice"):
        name = slice_name(metrics.slice_key)
        for kv in metrics.metric_keys_and_values:
            if kv.key.is_diff or not kv.value.HasField("double_value"):
                continue
            model = "baseline" if kv.key.model_name == "baseline" else "candidate"
            out[model].setdefault(name, {})[kv.key.name] = kv.value.double_value.value
    return out


def load_validation(evaluation_uri: str):
    """TFMA's ValidationResult (an empty one when the evaluation has no validations file)."""
    records = proto_io.tfma_records(evaluation_uri, "validations", "ValidationResult", TFMA_VALIDATION)
    return records[0] if records else _tfma(TFMA_VALIDATION, "ValidationResult")()


def failed_checks(evaluation_uri: str, validation=None) -> set[tuple[str, str, str]]:
    """(metric, slice, kind) of every threshold the Evaluator's validation failed; kind is `value` or `change`."""
    failed = set()
    validation = validation if validation is not None else load_validation(evaluation_uri)
    for per_slice in validation.metric_validations_per_slice:
        for failure in per_slice.failures:
            kind = "change" if failure.metric_threshold.HasField("change_threshold") else "value"
            failed.add((failure.metric_key.name, slice_name(per_slice.slice_key), kind))
    return failed


def load_eval_config(evaluation_uri: str):
    """The EvalConfig TFMA used (its defaults applied: without a baseline, no change thresholds)."""
    with proto_io.open_file(os.path.join(evaluation_uri, "eval_config.json"), "r") as f:
        raw = json.load(f)
    return parse_eval_config(raw.get("evalConfig", raw))


def parse_eval_config(raw):
    """An EvalConfig from its JSON (a dict, or a string as the Evaluator's `eval_config` exec property)."""
    from google.protobuf import json_format

    raw = json.loads(raw) if isinstance(raw, str) else raw
    return json_format.ParseDict(raw, _tfma(TFMA_CONFIG, "EvalConfig")(), ignore_unknown_fields=True)


@dataclass(frozen=True)
class ThresholdCheck:
    metric: str
    slice: str
    kind: str  # value | change | compressed (the TFLite model against the full one)
    bound: str  # e.g. ">= 0.9", "<= 0.6", "not worse than the baseline"
    value: Optional[float]
    baseline: Optional[float]
    change: Optional[float]
    passed: bool
    source: str = CONFIG  # default | config (pipeline/metadata/gates.py)
    why: str = ""  # why a default gate is what it is
    words: str = ""  # the check in one sentence


# How an evaluation ended (BlessingReport.outcome).
BLESSED, NOT_BLESSED, NOT_VALIDATED, NOT_EVALUATED = "blessed", "not_blessed", "not_validated", "not_evaluated"


@dataclass(frozen=True)
class BlessingReport:
    run_id: str
    model_id: Optional[int]
    blessed: bool
    has_baseline: bool
    checks: list[ThresholdCheck]
    verdict: str
    outcome: str = ""  # blessed | not_blessed (a gate or the validation failed) | not_validated | not_evaluated
    baseline_model_id: Optional[int] = None
    notes: list[str] = field(default_factory=list)  # sentences beyond the checks' (skipped gates, ...)


def _metric_name(config) -> str:
    return metric_name(config.class_name, config.config)


def _thresholds(eval_config) -> list[tuple[str, object, object]]:
    """(metric, SlicingSpec, MetricThreshold) for every threshold in the config; a threshold set on the metric
    itself applies to each of the config's slicing specs."""
    out = []
    for spec in eval_config.metrics_specs:
        for config in spec.metrics:
            name = _metric_name(config)
            if config.HasField("threshold"):
                for s in eval_config.slicing_specs or [_tfma(TFMA_CONFIG, "SlicingSpec")()]:
                    out.append((name, s, config.threshold))
            for per_slice in config.per_slice_thresholds:
                for s in per_slice.slicing_specs:
                    out.append((name, s, per_slice.threshold))
    return out


def objective_of_config(eval_config) -> Optional[str]:
    """The TASK_METRICS objective whose metrics the config computes (None when none matches)."""
    names = {_metric_name(c) for spec in eval_config.metrics_specs for c in spec.metrics} - {"example_count"}
    return next((o for o, metrics in TASK_METRICS.items() if names and names <= set(metrics)), None)


def _applies(spec, slc: str) -> bool:
    """Whether TFMA's slicing spec selects the slice named `slc` (`overall`, `hour=7`, `a=1, b=x`)."""
    parts = [part.split("=", 1) for part in slc.split(", ")] if slc != OVERALL else []
    if any(len(p) != 2 for p in parts):
        return False
    columns = dict(parts)
    if set(columns) != set(spec.feature_keys) | set(spec.feature_values):
        return False
    return all(columns[k] == v for k, v in spec.feature_values.items())


def _fmt_bound(threshold) -> str:
    v = threshold.value_threshold
    return bound_text(v.lower_bound.value if v.HasField("lower_bound") else None,
                      v.upper_bound.value if v.HasField("upper_bound") else None)


def _allowed(threshold) -> tuple[bool, float]:
    """(higher is better, the allowed change in the better direction) of a TFMA change threshold."""
    c = threshold.change_threshold
    higher = c.direction == 2  # MetricDirection.HIGHER_IS_BETTER
    return higher, c.absolute.value if higher else -c.absolute.value


def _checks(eval_config, metrics, failed, has_baseline: bool, gates: Optional[list[Gate]],
            baseline_id: Optional[int]) -> list[ThresholdCheck]:
    """One check per threshold and slice it applies to (a slice the eval split lacks: one unchecked check)."""
    candidate, base = metrics["candidate"], metrics["baseline"]
    slices = sorted(candidate, key=lambda n: (n != OVERALL, n))
    checks, seen = [], set()
    for metric, spec, threshold in _thresholds(eval_config):
        matching = [s for s in slices if _applies(spec, s)]
        for kind in ("value", "change"):
            if not threshold.HasField(f"{kind}_threshold") or (kind == "change" and not has_baseline):
                continue  # TFX applies change thresholds only when a baseline exists
            gate = find(gates, metric, kind) if gates else None
            source, why = (gate.source, gate.why) if gate else (CONFIG, "")
            for slc in matching or [slice_spec_name(spec)]:
                if (metric, slc, kind) in seen:
                    continue
                seen.add((metric, slc, kind))
                value, b = candidate.get(slc, {}).get(metric), base.get(slc, {}).get(metric)
                passed = bool(matching) and (metric, slc, kind) not in failed
                if kind == "value":
                    bound = _fmt_bound(threshold)
                    words = W.value_words(metric, slc, value, bound, passed, missing_slice=not matching)
                else:
                    higher, allowed = _allowed(threshold)
                    bound = change_text(allowed)
                    words = W.change_words(metric, slc, value, b, baseline_id, higher, allowed)
                checks.append(ThresholdCheck(
                    metric=metric, slice=slc, kind=kind, bound=bound, value=value, baseline=b,
                    change=None if value is None or b is None else value - b, passed=passed, source=source,
                    why=why, words=words + W.source_note(source, why)))
    return checks


def _skipped_change_gates(gates: Optional[list[Gate]], evaluator: R.NodeExecution) -> list[Gate]:
    """The change gates in force for a run without a baseline (TFX skips them): from the recorded gates, else from
    the Evaluator's own eval_config (an exec property; TFMA's eval_config.json has them removed)."""
    if gates is not None:
        return [g for g in gates if g.kind == "change"]
    raw = evaluator.properties.get("eval_config")
    try:
        config = parse_eval_config(raw) if raw else None
    except ValueError:
        config = None
    skipped: dict[str, Gate] = {}
    for metric, _, threshold in _thresholds(config) if config is not None else []:
        if threshold.HasField("change_threshold") and metric not in skipped:
            skipped[metric] = Gate(metric, "change", change=_allowed(threshold)[1])
    return list(skipped.values())


def _first_id(artifacts: dict, key: str) -> Optional[int]:
    found = artifacts.get(key) or []
    return found[0].id if found else None


def blessing_report(store: mlmd.MetadataStore, pipeline: str, run_id: str,
                    logs_dir: Optional[Path] = None) -> BlessingReport:
    """Why run_id's model was (not) blessed. `logs_dir`: where `tfx-e2e run` keeps its logs (<home>/logs), read
    for the error of a failed node when ML Metadata records none."""
    executions = R.node_executions(store, pipeline, run_id)
    if not executions:
        raise MetadataError(f"run {run_id} recorded no execution of pipeline {pipeline}.")
    evaluator = executions.get(node_ids.EVALUATOR)
    if evaluator is None or not evaluator.outputs.get("evaluation"):
        trainer = executions.get(node_ids.TRAINER)
        verdict = run_failure.not_evaluated(store, run_id, executions, logs_dir)
        return BlessingReport(run_id, _first_id(trainer.outputs, "model") if trainer else None, False, False, [],
                              verdict, outcome=NOT_EVALUATED)
    evaluation = evaluator.outputs["evaluation"][0]
    uri = evaluation.uri
    blessing = (evaluator.outputs.get("blessing") or [None])[0]
    model_id, baseline_id = _first_id(evaluator.inputs, "model"), _first_id(evaluator.inputs, "baseline_model")
    metrics, eval_config, validation = load_metrics(uri), load_eval_config(uri), load_validation(uri)
    has_baseline = bool(metrics["baseline"])
    gates = read_gates(evaluation.properties)
    checks = _checks(eval_config, metrics, failed_checks(uri, validation), has_baseline, gates, baseline_id)
    verdict = compressed.read(evaluation.properties)  # the TFLite model's gate (model.export.quantize)
    if verdict is not None:
        gate = find(gates or [], verdict["metric"], "compressed")
        checks.append(ThresholdCheck(**compressed.check_fields(verdict, gate.source if gate else CONFIG,
                                                               gate.why if gate else "")))
    skipped = [] if has_baseline else _skipped_change_gates(gates, evaluator)
    objective = objective_of_config(eval_config)
    candidate = metrics["candidate"].get(OVERALL, {})
    blessed = blessing.properties.get("blessed") if blessing else None
    notes = []
    if blessed is None:  # TFX validates only when a threshold applies, else it writes no `blessed`
        outcome, verdict = NOT_VALIDATED, W.not_validated(objective, skipped, candidate)
    elif blessed:
        outcome, verdict = BLESSED, W.blessed(len(checks), skipped)
    else:
        outcome = NOT_BLESSED
        failures = [c.words for c in checks if not c.passed]
        if failures:
            verdict = W.failed(failures)
        elif validation.validation_ok:
            verdict = W.blessed_without_pass()
        else:
            verdict = W.validation_failed(
                validation.missing_thresholds, [slice_spec_name(s) for s in validation.missing_slices],
                [(slice_spec_name(d.slicing_spec), d.num_matching_slices)
                 for d in validation.validation_details.slicing_details], objective, candidate)
        notes = [W.skipped_note(skipped)] if skipped else []
    return BlessingReport(run_id, model_id, bool(blessed), has_baseline, checks, verdict, outcome=outcome,
                          baseline_model_id=baseline_id, notes=notes)


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
