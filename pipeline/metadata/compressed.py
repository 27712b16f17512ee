"""The compressed (TFLite) model of a run, read back: the gated Evaluator's verdict (the evaluation artifact's
`compressed` property: mode, bytes, the main metric of the full and the compressed model, the allowed drop,
passed) and the Trainer's record (training_summary.json `compressed`), as the run summary's line and as a check
of `tfx-e2e blessing`."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

COMPRESSED_PROPERTY = "compressed"  # components/gated_evaluator/compressed.py writes it


def read(properties: Mapping) -> Optional[dict[str, Any]]:
    """The Evaluator's verdict on the compressed model, or None (no TFLite model, or evaluated before it)."""
    raw = properties.get(COMPRESSED_PROPERTY)
    try:
        verdict = json.loads(raw) if raw else None
    except ValueError:
        return None
    return verdict if isinstance(verdict, dict) and "metric" in verdict else None


def _size(n: Optional[int]) -> str:
    if n is None:
        return "?"
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _num(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.4g}"


def bound(verdict: Mapping[str, Any]) -> str:
    """`at most 0.005 worse than the full model` (or `5% worse` for a relative gate)."""
    drop = float(verdict["max_drop"])
    how = f"{100 * drop:g}%" if verdict.get("relative") else f"{drop:g}"
    return f"at most {how} worse than the full model"


def words(verdict: Mapping[str, Any]) -> str:
    """The check in one sentence, for `tfx-e2e blessing`."""
    metric, mode = verdict["metric"], verdict.get("mode")
    if verdict.get("drop") is None:
        return (f"{metric} of the compressed model (TFLite {mode}) was not computed (full "
                f"{_num(verdict.get('full'))}, compressed {_num(verdict.get('compressed'))}), so its gate failed")
    drop = float(verdict["drop"])
    worse = f"{100 * drop:.3g}%" if verdict.get("relative") else _num(drop)
    how = f"worse by {worse}" if drop > 0 else ("the same" if drop == 0 else f"better by {worse.lstrip('-')}")
    return (f"{metric} of the compressed model (TFLite {mode}) on slice overall is {_num(verdict['compressed'])}, "
            f"the full model has {_num(verdict['full'])}: {how}, allowed: {bound(verdict)}")


def check_fields(verdict: Mapping[str, Any], source: str = "config", why: str = "") -> dict[str, Any]:
    """The keyword arguments of an eval_results.ThresholdCheck for this gate."""
    full, small = verdict.get("full"), verdict.get("compressed")
    return dict(metric=verdict["metric"], slice="overall", kind="compressed", bound=bound(verdict), value=small,
                baseline=full, change=None if full is None or small is None else small - full,
                passed=bool(verdict.get("passed")), source=source, why=why, words=words(verdict))


def summary_line(verdict: Optional[Mapping[str, Any]], trained: Optional[Mapping[str, Any]]) -> Optional[str]:
    """`dynamic TFLite 19.4 kB (SavedModel 1.2 MB: 0.016×); auc 0.9412 vs full 0.942: worse by 0.0008, allowed
    0.005: pass`; the Trainer's reason when it wrote none; None when no compressed model was asked for."""
    if verdict is None:
        if not trained:
            return None
        if trained.get("skipped"):
            return str(trained["skipped"])
        return (f"{trained.get('mode')} TFLite {_size(trained.get('bytes'))} (not evaluated: the Evaluator has no "
                "result for it)")
    size, full_size = verdict.get("bytes"), verdict.get("saved_model_bytes")
    ratio = f": {size / full_size:.3g}×" if size and full_size else ""
    gate = "pass" if verdict.get("passed") else "FAIL (not blessed)"
    metric = verdict["metric"]
    if verdict.get("drop") is None:
        measured = f"{metric} not computed"
    else:
        drop = float(verdict["drop"])
        size_of = f"{100 * abs(drop):.3g}%" if verdict.get("relative") else f"{abs(drop):.4g}"
        how = f"{'worse' if drop > 0 else 'better'} by {size_of}" if drop else "the same"
        allowed = bound(verdict).replace("at most ", "").replace(" worse than the full model", "")
        measured = f"{metric} {_num(verdict.get('compressed'))} vs full {_num(verdict.get('full'))}: {how}, allowed {allowed}"
    return f"{verdict.get('mode')} TFLite {_size(size)} (SavedModel {_size(full_size)}{ratio}); {measured}: {gate}"
