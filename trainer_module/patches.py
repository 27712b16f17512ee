"""Process-wide TensorFlow settings that make training and export faster without changing any result.

AutoGraph rewrites the source of every Python function a `tf.function` calls, unless the function's module is on
its do-not-convert list. TensorFlow 2.16 lists `keras` there but not `tf_keras`, the Keras 2 package TFX needs
(TF_USE_LEGACY_KERAS=1), so tracing `model.fit`'s train and test functions re-parses and converts all of tf-keras'
internals (`Functional._run_internal_graph`, `Layer.__call__`, ...). On the taxi model that was 60-70 % of the
Trainer's time (py-spy; benchmarks/RESULTS.md). tf-keras is the same code that ran unconverted as `keras` before
the split, so listing it restores the old behaviour; user code (layers, a custom train_step) is still converted.
"""

from __future__ import annotations

_applied = False


def skip_autograph_for_tf_keras() -> None:
    """Adds `tf_keras` to AutoGraph's do-not-convert modules (idempotent)."""
    global _applied
    if _applied:
        return
    from tensorflow.python.autograph.core import config as autograph_config

    rules = autograph_config.CONVERSION_RULES
    if not any(getattr(rule, "_prefix", None) == "tf_keras" for rule in rules):
        autograph_config.CONVERSION_RULES = (*rules, autograph_config.DoNotConvert("tf_keras"))
    _applied = True
