"""`tfx-e2e explain` output: a header (model, method, baseline, tolerance) and one table per row, or one JSON object."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pipeline.explain.explain import BASELINE_TEXT
from pipeline.explain.integrated import MAX_STEPS, tolerance_text

VALUE_WIDTH = 24


def _value(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "(missing)"
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def _finite(x: float) -> Any:
    return x if math.isfinite(x) else None


def method(result: Any) -> str:
    return f"integrated gradients, {result.steps} steps (trapezoid rule; doubled for a row, up to {MAX_STEPS}, while its " \
           "gap exceeds the tolerance)"


def as_object(result: Any, top: int) -> dict[str, Any]:
    """The --json document: what was explained and how, and per row the top `top` attributions and completeness."""
    rows = []
    for r in result.rows:
        rows.append({
            "row": r.row,
            "output": result.output,
            **({"class": r.class_name if r.class_name is not None else r.target_class}
               if r.target_class is not None or r.class_name is not None else {}),
            "prediction": _finite(r.prediction),
            "baseline_prediction": _finite(r.baseline),
            "attributions": [{"feature": c, "attribution": _finite(a), "value": r.values.get(c)}
                             for c, a in r.attributions[:top]],
            "features": len(r.attributions),
            "completeness": {"sum": _finite(r.total), "delta": _finite(r.prediction - r.baseline),
                             "gap": _finite(r.gap), "tolerance": r.allowed, "holds": r.holds,
                             "steps": r.steps},
        })
    return {"model": str(result.model_dir), "method": method(result), "baseline": BASELINE_TEXT,
            "tolerance": tolerance_text(), "ignored_columns": result.ignored_columns, "rows": rows}


def write(result: Any, as_json: bool, top: int, out: Any, input_path: Path) -> None:
    """`result` is a pipeline.explain.explain.Explanations."""
    if as_json:
        print(json.dumps(as_object(result, top)), file=out)
        return
    print(f"model      {result.model_dir}", file=out)
    print(f"input      {input_path} ({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})", file=out)
    print(f"method     {method(result)} of `{result.output}`", file=out)
    print(f"baseline   {BASELINE_TEXT}", file=out)
    print(f"tolerance  {tolerance_text()}", file=out)
    for r in result.rows:
        what = result.output
        if r.class_name is not None or r.target_class is not None:
            what += f" of class {r.class_name if r.class_name is not None else r.target_class}"
        verdict = "holds" if r.holds else "DOES NOT HOLD"
        print("", file=out)
        print(f"row {r.row}: {what} {r.prediction:.6g}  (baseline {r.baseline:.6g}, difference "
              f"{r.prediction - r.baseline:+.6g})", file=out)
        print(f"  completeness {verdict}: attributions sum to {r.total:+.6g}, gap {r.gap:.2g} "
              f"(tolerance {r.allowed:.2g}{'' if r.steps == result.steps else f', {r.steps} steps'})", file=out)
        width = max([len("feature")] + [len(c) for c, _ in r.attributions[:top]])
        print(f"  {'feature':<{width}}  {'value':<{VALUE_WIDTH}}  attribution", file=out)
        for column, attribution in r.attributions[:top]:
            print(f"  {column:<{width}}  {_value(r.values.get(column)):<{VALUE_WIDTH}}  {attribution:+.6g}", file=out)
        rest = r.attributions[top:]
        if rest:
            print(f"  ({len(rest)} more feature{'s' if len(rest) != 1 else ''}, together {sum(a for _, a in rest):+.4g})",
                  file=out)
