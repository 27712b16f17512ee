"""What the Trainer knows about the label of the train split: class counts and names (from Transform's label
vocabularies), the naive model the Evaluator's default gates compare with, and a regression target's scaling.

Regression targets are trained on a normal scale and served in the user's units: z-score, or z-score of log1p for
a strictly positive, heavily right-skewed target (a price). The choice is made from the train split's labels and
recorded in training_summary.json; `TargetScaling.inverse` runs inside the serving signature, so predictions and
every Evaluator metric are in the label's own units.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Optional

import numpy as np

from trainer_module import features as F
from trainer_module import label_values

NAIVE_MODEL_FILE = "naive_model.json"  # beside Format-Serving in the Model artifact; read by the gated Evaluator
# Skewness above this, on a strictly positive target, trains on log1p(target).
SKEWED = 1.0
MAX_ROWS = 1_000_000  # labels read to choose a regression target's scaling


# ------------------------------------------------------------------------------------------------ classes


def class_counts(tf_transform_output: Any) -> dict[int, int]:
    """{class id: rows of the train split with that label}, from Transform's LABEL_COUNTS vocabulary."""
    counts = {}
    for line in tf_transform_output.vocabulary_by_name(F.LABEL_COUNTS):
        text = line.decode() if isinstance(line, bytes) else str(line)
        count, _, value = text.strip().partition(" ")
        counts[int(value)] = int(float(count))
    return counts


def class_names(tf_transform_output: Any, label: F.LabelSpec, num_classes: int, string_label: bool) -> list[str]:
    """The name of each class id as the user wrote it: multiclass strings in vocabulary order; binary strings
    [negative, positive]; integer labels their number."""
    if not string_label:
        return [str(i) for i in range(num_classes)]
    values = [v.decode() if isinstance(v, bytes) else str(v)
              for v in tf_transform_output.vocabulary_by_name(F.LABEL_VOCABULARY)]
    if label.task == "multiclass":
        return values[:num_classes]
    positives = [v for v in values if label_values.is_positive(v, label.positive)]
    negatives = [v for v in values if label_values.is_positive(v, label.positive) is False]
    # Several spellings of one class (Yes, yes): the vocabulary is most frequent first.
    return [negatives[0] if negatives else "0", positives[0] if positives else "1"]


def naive_classifier(counts: dict[int, int], names: list[str]) -> dict[str, Any]:
    """The model that always predicts the train split's majority class."""
    total = sum(counts.values())
    majority = max(sorted(counts), key=lambda c: counts[c]) if counts else 0
    return {
        "rows": total,
        "majority_class": names[majority] if majority < len(names) else str(majority),
        "majority_rate": counts.get(majority, 0) / total if total else 0.0,
        "class_counts": {names[c] if c < len(names) else str(c): n for c, n in sorted(counts.items())},
    }


# ------------------------------------------------------------------------------------------------ regression


@dataclass(frozen=True)
class TargetScaling:
    """y_train = (f(y) - center) / scale with f = identity or log1p; `inverse` maps predictions back."""

    kind: str  # "zscore" | "log1p_zscore"
    center: float
    scale: float
    # log1p_zscore: expm1 of a prediction is the conditional median; × this factor (Duan's smearing: the mean of
    # exp(residual) in log space on the eval split) it estimates the mean, which squared error and R² reward.
    smearing: float = 1.0

    def forward(self, y: Any) -> Any:
        import tensorflow as tf

        y = tf.cast(y, tf.float32)
        if self.kind == "log1p_zscore":
            y = tf.math.log1p(tf.maximum(y, 0.0))
        return (y - self.center) / self.scale

    def inverse(self, z: Any) -> Any:
        import tensorflow as tf

        y = tf.cast(z, tf.float32) * self.scale + self.center
        if self.kind != "log1p_zscore":
            return y
        return tf.math.expm1(y) if self.smearing == 1.0 else tf.math.exp(y) * self.smearing - 1.0


def smearing_factor(model: Any, eval_ds: Any, scaling: TargetScaling) -> float:
    """Duan's smearing estimate for a model trained on a log1p_zscore target: the mean of exp(residual) over the eval
    batches' labelled rows, residuals in log1p units (1.0 when there are none)."""
    total, weight = 0.0, 0.0
    for batch in eval_ds:
        x, y, w = batch if len(batch) == 3 else (*batch, None)
        z = np.asarray(model(x, training=False)).reshape(-1)
        w = np.ones_like(z) if w is None else np.asarray(w).reshape(-1)
        residual = (np.asarray(y).reshape(-1) - z) * scaling.scale
        total += float(np.sum(w * np.exp(np.clip(residual, -50.0, 50.0))))
        weight += float(np.sum(w))
    return total / weight if weight > 0 else 1.0


def describe(values: np.ndarray) -> dict[str, float]:
    mean = float(values.mean())
    std = float(values.std())
    skew = float(((values - mean) ** 3).mean() / std**3) if std > 0 else 0.0
    return {"rows": int(values.size), "mean": mean, "std": std, "min": float(values.min()),
            "max": float(values.max()), "skewness": skew}


def choose_scaling(values: np.ndarray) -> tuple[TargetScaling, str]:
    """The scaling of a regression target and why, from the train split's labels."""
    stats = describe(values)
    if stats["min"] > 0 and stats["skewness"] > SKEWED:
        logged = np.log1p(values)
        scale = float(logged.std()) or 1.0
        why = (f"strictly positive (min {stats['min']:.4g}) and right-skewed (skewness {stats['skewness']:.2f} > "
               f"{SKEWED:g}): trained on the z-score of log1p(label)")
        return TargetScaling("log1p_zscore", float(logged.mean()), scale), why
    return TargetScaling("zscore", stats["mean"], stats["std"] or 1.0), (
        f"skewness {stats['skewness']:.2f}, min {stats['min']:.4g}: trained on the z-score of the label")


def labels_of(batches: Iterable[tuple[Any, Any]], limit: int = MAX_ROWS) -> np.ndarray:
    """The labels of rows that have one, from (label, weight) batches, up to `limit` rows."""
    kept, seen = [], 0
    for label, weight in batches:
        label, weight = np.asarray(label).reshape(-1), np.asarray(weight).reshape(-1)
        kept.append(label[weight > 0].astype(np.float64))
        seen += int((weight > 0).sum())
        if seen >= limit:
            break
    values = np.concatenate(kept) if kept else np.zeros(0)
    if values.size == 0:
        raise ValueError("the train split has no rows with a label")
    if not np.all(np.isfinite(values)):
        raise ValueError("the label has NaN or infinite values; a regression label must be finite numbers")
    return values[:limit]


def scaling_record(scaling: Optional[TargetScaling], why: str) -> Optional[dict[str, Any]]:
    return None if scaling is None else {**asdict(scaling), "why": why}


# ------------------------------------------------------------------------------------------------ the record


def write_naive_model(serving_model_dir: str, record: dict[str, Any]) -> str:
    """Writes the naive model beside Format-Serving (the Pusher does not copy it), for the gated Evaluator."""
    import tensorflow as tf

    path = os.path.join(os.path.dirname(serving_model_dir.rstrip("/")), NAIVE_MODEL_FILE)
    with tf.io.gfile.GFile(path, "w") as f:
        json.dump(record, f, indent=2)
    return path
