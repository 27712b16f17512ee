"""The gates an Evaluator applied: the `gates` property of its evaluation artifact (each gate with its source,
default or config, and why), or the config's thresholds for an evaluation recorded before that property existed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Optional

from pipeline.config.evaluation import Gates

# The string custom property the gated Evaluator (components/gated_evaluator) writes on its evaluation artifact:
# a JSON list of {metric, kind, lower, upper, change, source, why}, one per gate in force.
GATES_PROPERTY = "gates"
DEFAULT = "default"
CONFIG = "config"
# Change thresholds carry an epsilon (pipeline/dag/tfma_config.py): below this an allowed change is 0.
_ZERO = 1e-9
# Strict value gates are inclusive TFMA bounds moved by an epsilon (components/gated_evaluator: 1e-9): at most this.
_STRICT = 1e-8


@dataclass(frozen=True)
class Gate:
    metric: str
    kind: str  # value | change
    lower: Optional[float] = None
    upper: Optional[float] = None
    change: Optional[float] = None  # allowed change vs the baseline in the metric's better direction (0: not worse)
    source: str = CONFIG  # default (the Evaluator's "better than the naive model" and "not worse" gates) | config
    why: str = ""

    @property
    def is_default(self) -> bool:
        return self.source == DEFAULT


def read_gates(properties: Mapping) -> Optional[list[Gate]]:
    """The gates recorded on an evaluation artifact (its properties), or None when it records none (an evaluation
    from before default gates: every gate then came from the config)."""
    raw = properties.get(GATES_PROPERTY)
    try:
        items = json.loads(raw) if raw else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return None
    return [
        Gate(metric=g["metric"], kind=g["kind"], lower=g.get("lower"), upper=g.get("upper"), change=g.get("change"),
             source=g.get("source") or CONFIG, why=g.get("why") or "")
        for g in items
    ]


def config_gates(gates: Gates) -> list[Gate]:
    """A config's value and change thresholds as gates (source config)."""
    out = [Gate(metric, "value", lower=t.lower, upper=t.upper) for metric, t in gates.thresholds.items()]
    out += [Gate(metric, "change", change=c) for metric, c in gates.change_thresholds.items()]
    return out


def find(gates: list[Gate], metric: str, kind: str) -> Optional[Gate]:
    return next((g for g in gates if g.metric == metric and g.kind == kind), None)


def _strict(bound: float, toward: float) -> Optional[float]:
    """The round number a bound was moved off by a tiny epsilon to make TFMA's inclusive bound strict (the gated
    Evaluator's "AUC > 0.5" is lower bound 0.5 + 1e-9), else None."""
    rounded = float(f"{bound:.6g}") if abs(bound) > _STRICT else 0.0
    return rounded if 0 < (bound - rounded) * toward <= _STRICT else None


def lower_text(lower: float) -> str:
    """`>= 0.71`; `> 0.5` for a bound a tiny epsilon above 0.5."""
    strict = _strict(lower, 1)
    return f"> {strict:g}" if strict is not None else f">= {lower:g}"


def upper_text(upper: float) -> str:
    strict = _strict(upper, -1)
    return f"< {strict:g}" if strict is not None else f"<= {upper:g}"


def bound_text(lower: Optional[float], upper: Optional[float], sep: str = " and ") -> str:
    """`>= 0.71`, `> 0.5`, `<= 0.5`, `>= 0.1 and <= 0.5` ('' when neither)."""
    parts = ([lower_text(lower)] if lower is not None else []) + ([upper_text(upper)] if upper is not None else [])
    return sep.join(parts)


def allowed_change(change: float) -> float:
    return 0.0 if abs(change) < _ZERO else change


def change_text(change: float) -> str:
    """An allowed change against the blessed baseline, in words."""
    change = allowed_change(change)
    if change == 0:
        return "not worse than the baseline"
    if change < 0:
        return f"at most {-change:g} worse than the baseline"
    return f"at least {change:g} better than the baseline"
