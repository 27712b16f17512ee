"""training_summary.json: what one Trainer run did (strategy, batch, warm start, epochs, history, speed, label)."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional

SUMMARY_FILE = "training_summary.json"  # in the Trainer's model-run artifact


def build(
    *,
    strategy: str,
    reason: str,
    replicas: int,
    workers: int,
    global_batch_size: int,
    mixed_precision: Optional[str],
    steps_per_execution: int,
    model_family: str,
    warm_start: bool,
    warm_start_reason: str,
    seed: Optional[int],
    history: Mapping[str, list],
    steps_per_epoch: int,
    fit_seconds: float,
    wall_seconds: float,
    inputs: list[str],
    label: Optional[Mapping[str, Any]] = None,
) -> dict[str, Any]:
    """The summary as written; `history` is Keras' History.history (metric → value per epoch)."""
    epochs_run = len(history.get("loss", []))
    return {
        "strategy": strategy,
        "reason": reason,
        "replicas": replicas,
        "workers": workers,
        "global_batch_size": global_batch_size,
        "mixed_precision": mixed_precision,
        "steps_per_execution": steps_per_execution,
        "model_family": model_family,
        "warm_start": warm_start,
        "seed": seed,
        "warm_start_reason": warm_start_reason,
        "epochs_run": epochs_run,
        "steps_per_epoch": steps_per_epoch,
        "steps": epochs_run * steps_per_epoch,
        "history": {k: [float(x) for x in v] for k, v in history.items()},
        "final": {k: float(v[-1]) for k, v in history.items()},
        "examples_per_second": round(epochs_run * steps_per_epoch * global_batch_size / max(fit_seconds, 1e-9), 1),
        "wall_seconds": round(wall_seconds, 2),
        "inputs": inputs,
        # The label as the train split showed it: class names and counts, the positive class, the naive model,
        # a regression target's scaling (trainer_module.label_stats).
        "label": dict(label) if label else None,
    }


def write(model_run_dir: str, summary: Mapping[str, Any]) -> str:
    import tensorflow as tf

    tf.io.gfile.makedirs(model_run_dir)
    path = os.path.join(model_run_dir, SUMMARY_FILE)
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(summary, f, indent=2)
    return path


def read(model_run_dir: str) -> dict[str, Any]:
    """The summary a Trainer run wrote (local paths; the readers of a finished run). OSError or ValueError when
    it is missing or not JSON."""
    with open(os.path.join(model_run_dir, SUMMARY_FILE), encoding="utf-8") as f:
        return json.load(f)
