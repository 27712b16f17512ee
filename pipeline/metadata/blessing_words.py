"""The sentences of `tfx-e2e blessing`: one per gate check, and the verdict for every way an evaluation ends (blessed,
a gate failed, no thresholds, a validation that failed without a failed gate, an Evaluator that failed or never ran)."""

from __future__ import annotations

from typing import Optional, Sequence

from pipeline.config.evaluation import TASK_METRICS
from pipeline.metadata.gates import Gate, allowed_change, change_text


def _num(v: float) -> str:
    return f"{v:.4g}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def source_note(source: str, why: str) -> str:
    """` (default: <why>)` for a default gate, '' for one the config sets."""
    if source != "default":
        return ""
    return f" (default: {why})" if why else " (default)"


def value_words(metric: str, slc: str, value: Optional[float], bound: str, passed: bool, missing_slice: bool) -> str:
    if missing_slice:
        return (f"{metric} on slice {slc}: the eval split has no example in this slice, so its gate {bound} was "
                "never checked, and an unchecked gate fails the validation (TFMA's missing_slices)")
    if value is None:
        return f"{metric} on slice {slc} was not computed, so its gate {bound} " + ("passed" if passed else "failed")
    return f"{metric} on slice {slc} is {_num(value)}, needs {bound}"


def change_words(metric: str, slc: str, value: Optional[float], baseline: Optional[float],
                 baseline_model_id: Optional[int], higher_is_better: bool, allowed: float) -> str:
    """`auc on slice overall is 0.84, the blessed baseline (model id 7) has 0.86: worse by 0.02, allowed: not
    worse`."""
    model = f" (model id {baseline_model_id})" if baseline_model_id is not None else ""
    if value is None or baseline is None:
        return f"{metric} on slice {slc} was not computed for the candidate and the blessed baseline{model}"
    worse_by = (baseline - value) if higher_is_better else (value - baseline)
    if abs(worse_by) < 1e-12:
        how = "the same"
    else:
        how = f"worse by {_num(worse_by)}" if worse_by > 0 else f"better by {_num(-worse_by)}"
    allowed = allowed_change(allowed)
    if allowed == 0:
        allowance = "allowed: not worse"
    elif allowed < 0:
        allowance = f"allowed: worse by at most {-allowed:g}"
    else:
        allowance = f"allowed: better by at least {allowed:g}"
    return (f"{metric} on slice {slc} is {_num(value)}, the blessed baseline{model} has {_num(baseline)}: "
            f"{how}, {allowance}")


def skipped_note(skipped: Sequence[Gate]) -> str:
    """The change gates a run without a blessed baseline did not apply."""
    names = ", ".join(f"{g.metric} {change_text(g.change or 0.0)}{source_note(g.source, '')}" for g in skipped)
    return f"no blessed baseline yet: its change {'gate was' if len(skipped) == 1 else 'gates were'} skipped ({names})"


def blessed(n_checks: int, skipped: Sequence[Gate]) -> str:
    gates = "its 1 gate passes" if n_checks == 1 else f"all {n_checks} gates pass"
    return f"blessed: {gates}" + (f"; {skipped_note(skipped)}" if skipped else "")


def failed(failures: Sequence[str]) -> str:
    """`not blessed: <the first failed check's words> (and N more failed gates)`."""
    more = f" (and {_plural(len(failures) - 1, 'more failed gate')})" if len(failures) > 1 else ""
    return f"not blessed: {failures[0]}{more}"


def example_threshold(objective: Optional[str], candidate: dict[str, float]) -> str:
    """An evaluation.thresholds entry for the objective, at this model's own level when its value is known."""
    metrics = TASK_METRICS.get(objective or "", {})
    names = [m for m in ("r_squared", *metrics) if m in metrics and m != "example_count"]
    if not names:
        return "`evaluation: {thresholds: {<metric>: {lower: <value>}}}`"
    metric = names[0]
    key = "lower" if metrics[metric][1] == "higher" else "upper"
    value = candidate.get(metric)
    if value is None:
        return f"`evaluation: {{thresholds: {{{metric}: {{{key}: <value>}}}}}}`"
    return (f"`evaluation: {{thresholds: {{{metric}: {{{key}: {_num(value)}}}}}}}` to require this model's "
            f"{metric} of later ones")


def not_validated(objective: Optional[str], skipped: Sequence[Gate], candidate: dict[str, float]) -> str:
    """TFX's Evaluator validates only when a threshold applies: none did, so it wrote no `blessed` property."""
    what = objective or "this model"
    if objective == "reconstruction":
        what = "reconstruction (an autoencoder has no default gates)"
    if skipped:
        reason = (f"no value thresholds are configured for {what}, and its change thresholds apply only against "
                  "a blessed baseline, which does not exist yet")
    else:
        reason = f"no thresholds are configured for {what}"
    return (f"not blessed: {reason}, so the Evaluator did not validate the model; set evaluation.thresholds "
            f"(e.g. {example_threshold(objective, candidate)})")


def validation_failed(missing_thresholds: bool, missing_slices: Sequence[str], details: Sequence[tuple[str, int]],
                      objective: Optional[str], candidate: dict[str, float]) -> str:
    """The validation failed and names no failed gate: TFMA's ValidationResult fields, in words."""
    if missing_thresholds:
        return ("not blessed: TFMA's validation found no threshold that applies to this model (missing_thresholds) "
                f"and fails such a validation; set evaluation.thresholds (e.g. "
                f"{example_threshold(objective, candidate)})")
    if missing_slices:
        return (f"not blessed: the eval split has no example in gated slice{'s' if len(missing_slices) > 1 else ''} "
                f"{', '.join(missing_slices)}, so {'their gates were' if len(missing_slices) > 1 else 'its gate was'} "
                "never checked, and an unchecked gate fails the validation (TFMA's missing_slices)")
    checked = "; ".join(f"{spec}: {_plural(n, 'slice')}" for spec, n in details) or "none"
    return ("not blessed: TFMA's validation result is not ok, yet it names no failed gate, missing threshold or "
            f"missing slice (gates checked on: {checked})")


def blessed_without_pass() -> str:
    return ("not blessed: the Evaluator wrote blessed=0, yet TFMA's validation result is ok (the evaluation files "
            "do not belong to this blessing, or were rewritten since)")


def node_failed(node: str, state: str, message: str, source: str, logs_dir: Optional[str], run_id: str) -> str:
    """The Evaluator failed, or a node before it stopped the run: what happened and the error, with where it is."""
    if node == "Evaluator":
        what = "the Evaluator was canceled" if state == "canceled" else "the Evaluator failed"
    else:
        what = f"the run stopped at {node} ({state}) before the Evaluator ran"
    if message:
        where = f" (its traceback is in {source})" if source and source != "ML Metadata" else ""
        return f"not evaluated: {what}: {message}{where}"
    if source:
        return f"not evaluated: {what}; its log is {source}"
    if logs_dir:
        return (f"not evaluated: {what}; ML Metadata records no error message for it, and no log under {logs_dir} "
                f"names run {run_id} (a --verbose run prints its traceback to the terminal only)")
    return f"not evaluated: {what}; ML Metadata records no error message for it"


def anomalies_stop(findings: Sequence) -> str:
    """The AnomaliesGate stopped the run: ExampleValidator's findings (components.anomalies_gate Findings)."""
    items = [f"{f.feature} in {f.split}: {f.kind}" for f in findings[:3]]
    if len(findings) > 3:
        items.append(f"and {len(findings) - 3} more")
    return (f"not evaluated: the AnomaliesGate stopped the run before Transform: ExampleValidator found "
            f"{_plural(len(findings), 'anomaly').replace('anomalys', 'anomalies')} ({'; '.join(items)}); fix the "
            "data or the schema, or re-run with --allow-anomalies")


def still_running(run_id: str, evaluator_state: Optional[str]) -> str:
    """No node failed, and the run has no evaluation."""
    if evaluator_state in ("complete", "cached"):
        return f"not evaluated: the Evaluator of run {run_id} ({evaluator_state}) recorded no evaluation artifact"
    if evaluator_state:
        return (f"not evaluated: the Evaluator of run {run_id} is {evaluator_state} and recorded no evaluation (it "
                "is still running, or its process was killed)")
    return (f"not evaluated: run {run_id} has no Evaluator execution and no node of it failed (it is still "
            "running, or its process was killed)")
