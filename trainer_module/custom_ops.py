"""TensorFlow ops a pushed model may need beyond stock TensorFlow: a gbt model's forest runs TF-DF's inference ops,
which exist in a process only once `tensorflow_decision_forests` is imported (TF Serving ≥ 2.11 has them built in).
Every reader of a SavedModel in this project calls `register_for(model_dir)` before `tf.saved_model.load`."""

from __future__ import annotations

import os

# Op names of TF-DF's inference (tensorflow_decision_forests/tensorflow/ops/inference), as saved_model.pb holds them.
TF_DF_OP_MARKERS = (b"SimpleMLInferenceOp", b"SimpleMLCreateModelResource", b"SimpleMLLoadModelFromPath")


def needs_decision_forests(model_dir: str) -> bool:
    """Whether the SavedModel in `model_dir` calls TF-DF ops (a byte search of saved_model.pb: no TF import)."""
    import tensorflow as tf

    path = os.path.join(str(model_dir), "saved_model.pb")
    if not tf.io.gfile.exists(path):
        return False
    with tf.io.gfile.GFile(path, "rb") as f:
        data = f.read()
    return any(marker in data for marker in TF_DF_OP_MARKERS)


def register_for(model_dir: str) -> bool:
    """Registers TF-DF's ops in this process when the model needs them; returns whether it did."""
    if not needs_decision_forests(model_dir):
        return False
    import tensorflow_decision_forests  # noqa: F401 - importing it registers the inference ops

    return True
