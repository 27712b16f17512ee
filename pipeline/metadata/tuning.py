"""What a run's Tuner found: its trials (TFX's tuner_results.json: one record per completed trial, best first, with
the trial's score and values) and the line the run summary prints about them."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional

RESULTS_FILE = "tuner_results.json"  # tfx.components.tuner.executor's file name


def read_trials(tuner_results_uri: str) -> list[dict[str, Any]]:
    """The completed trials, best first; [] when the file is missing or unreadable."""
    try:
        with open(os.path.join(tuner_results_uri, RESULTS_FILE), encoding="utf-8") as f:
            trials = json.load(f)
    except (OSError, ValueError):
        return []
    return [t for t in trials if isinstance(t, dict)] if isinstance(trials, list) else []


def describe(tuned: Mapping[str, Any], trials: list[dict[str, Any]], metric: Optional[str]) -> str:
    """`8 trials, best auc 0.9418 (trial 1; the configured values scored 0.9414): dropout=0.0 ...`."""
    values = dict(tuned.get("hyperparameters", {}))
    family = tuned.get("family")
    chosen = " ".join(f"{k}={_short(v)}" for k, v in sorted(values.items()))
    if family:
        chosen = f"family={family} {chosen}".strip()
    if not trials:
        return chosen
    best = trials[0]
    first = next((t for t in trials if str(t.get("trial_id", "")).lstrip("0") == ""), None)
    where = f"trial {best.get('trial_id')}"
    if first is not None and first is not best:
        where += f"; the configured values scored {first['score']:.4f}"
    elif first is best:
        where += ": the configured values"
    return f"{len(trials)} trials, best {metric or 'score'} {best['score']:.4f} ({where}): {chosen}"


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else json.dumps(value) if isinstance(value, list) else str(value)
