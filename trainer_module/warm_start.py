"""Warm start (transfer learning): save a model's weights beside its SavedModel; load them into a matching model."""

from __future__ import annotations

import json
import os
from typing import Optional

import tensorflow as tf

WEIGHTS_DIR = "keras_weights"  # beside Format-Serving in the Model artifact; the Pusher does not copy it
MANIFEST = "manifest.json"


def weights_dir(serving_model_dir: str) -> str:
    return os.path.join(os.path.dirname(serving_model_dir.rstrip("/")), WEIGHTS_DIR)


def _shapes(model: tf.keras.Model) -> list[list]:
    return [[layer.name, [list(w.shape) for w in layer.weights]] for layer in model.layers if layer.weights]


def save(model: tf.keras.Model, family: str, serving_model_dir: str) -> str:
    """Writes the weights and what they fit (family, per-layer shapes) for a later warm start."""
    target = weights_dir(serving_model_dir)
    tf.io.gfile.makedirs(target)
    model.save_weights(os.path.join(target, "weights"))
    with tf.io.gfile.GFile(os.path.join(target, MANIFEST), "w") as f:
        json.dump({"family": family, "layers": _shapes(model)}, f)
    return target


def mismatch(model: tf.keras.Model, family: str, base_serving_dir: str) -> Optional[str]:
    """Why the base model's weights cannot be loaded into `model`, or None when they can."""
    manifest_path = os.path.join(weights_dir(base_serving_dir), MANIFEST)
    if not tf.io.gfile.exists(manifest_path):
        return f"the base model has no saved Keras weights ({manifest_path} is missing)"
    with tf.io.gfile.GFile(manifest_path) as f:
        manifest = json.load(f)
    if manifest.get("family") != family:
        return f"the base model is a {manifest.get('family')!r} model, this one is {family!r}"
    theirs = [shapes for _, shapes in manifest.get("layers", [])]
    ours = [shapes for _, shapes in _shapes(model)]
    if theirs != ours:
        return "the layer shapes differ (different features, vocabulary sizes or hyperparameters)"
    return None


def apply(
    model: tf.keras.Model, family: str, base_serving_dir: Optional[str], freeze_layers: int = 0
) -> tuple[bool, str]:
    """Loads the base weights when the architecture matches; returns (warm_started, reason)."""
    if not base_serving_dir:
        return False, "no blessed base model yet: training from scratch"
    reason = mismatch(model, family, base_serving_dir)
    if reason:
        return False, f"{reason}: training from scratch"
    model.load_weights(os.path.join(weights_dir(base_serving_dir), "weights")).expect_partial()
    frozen = 0
    for layer in model.layers:
        if frozen >= freeze_layers:
            break
        if layer.weights:
            layer.trainable = False
            frozen += 1
    note = f", {frozen} lowest layers frozen" if frozen else ""
    return True, f"weights loaded from {base_serving_dir}{note}"
