"""The private TensorFlow and TFX-Trainer internals the training code relies on, fenced and checked.

1. AutoGraph's do-not-convert list gains tf_keras.

AutoGraph rewrites the source of every Python function a `tf.function` calls, unless the function's module is on
its do-not-convert list (tensorflow.python.autograph.core.config.CONVERSION_RULES). TensorFlow 2.16 lists `keras`
there but not `tf_keras`, the Keras 2 package TFX needs (TF_USE_LEGACY_KERAS=1), so tracing `model.fit`'s train and
test functions re-parses and converts all of tf-keras' internals (`Functional._run_internal_graph`,
`Layer.__call__`, ...). On the taxi model that was 60-70 % of the Trainer's time (py-spy; benchmarks/RESULTS.md).
tf-keras is the same code that ran unconverted as `keras` before the split, so listing it restores the old
behaviour; user code (layers, a custom train_step) is still converted. No public API sets a module-wide rule
(`tf.autograph.experimental.do_not_convert` marks one function at a time, and tf-keras is not ours to decorate).

2. The Trainer's FnArgs for a multi-worker worker process (components/multiworker_trainer/worker.py). Each worker
rebuilds exactly the FnArgs TFX's GenericExecutor.Do hands run_fn; TFX builds them in the protected
`GenericExecutor._GetFnArgs` and exposes no public function for it (fn_args_utils.get_common_fn_args covers only
part: not the model directories, base model, hyperparameters or custom_config). `trainer_fn_args` calls it after
checking its signature.

Checked against tensorflow 2.16.2, tf-keras 2.16.0 and tfx 1.16.0 (requirements.lock);
tests/unit/test_patches_trainer.py fails when those versions or the internals below change, and the functions here
raise UpstreamChanged instead of running with a patch that does nothing or the wrong thing.
"""

from __future__ import annotations

from typing import Any

CHECKED_AGAINST = {"tensorflow": "2.16.2", "tf-keras": "2.16.0", "tfx": "1.16.0"}
FN_ARGS_PARAMETERS = ["self", "input_dict", "output_dict", "exec_properties"]
MODULE = "tf_keras"

_applied = False


class UpstreamChanged(RuntimeError):
    """A fenced TensorFlow/TFX internal is not what the patch was written against."""

    def __init__(self, what: str, patch: str = "autograph"):
        versions = ", ".join(f"{name} {version}" for name, version in CHECKED_AGAINST.items())
        super().__init__(
            f"trainer_module.patches [{patch}]: {what}. The patch was checked against {versions}; "
            f"re-check it against the installed versions (tests/unit/test_patches_trainer.py)."
        )


def _has_rule(rules: tuple) -> bool:
    return any(getattr(rule, "_prefix", None) == MODULE for rule in rules)


def apply() -> None:
    """Adds `tf_keras` to AutoGraph's do-not-convert rules, then checks AutoGraph now leaves tf-keras alone
    (idempotent)."""
    global _applied
    if _applied:
        return
    import tensorflow as tf
    from tensorflow.python.autograph.core import config as autograph_config
    from tensorflow.python.autograph.impl import conversion

    rules = getattr(autograph_config, "CONVERSION_RULES", None)
    do_not_convert = getattr(autograph_config, "DoNotConvert", None)
    if not isinstance(rules, tuple) or do_not_convert is None:
        raise UpstreamChanged("tensorflow.python.autograph.core.config has no CONVERSION_RULES tuple or DoNotConvert")
    if "CONVERSION_RULES" not in conversion.is_allowlisted.__code__.co_names:
        raise UpstreamChanged("AutoGraph's is_allowlisted no longer reads config.CONVERSION_RULES")
    layer_call = tf.keras.layers.Dense.__call__
    if not layer_call.__module__.startswith(MODULE + "."):
        raise UpstreamChanged(f"tf.keras is {layer_call.__module__}, not {MODULE} (is TF_USE_LEGACY_KERAS set?)")
    if not _has_rule(rules):
        autograph_config.CONVERSION_RULES = (*rules, do_not_convert(MODULE))
    if not conversion.is_allowlisted(layer_call):
        raise UpstreamChanged("with the rule added, AutoGraph still converts tf_keras.layers.Dense.__call__")
    _applied = True


def check_fn_args(executor_class: type) -> None:
    """GenericExecutor still builds FnArgs in `_GetFnArgs(input_dict, output_dict, exec_properties)`."""
    import inspect

    method = getattr(executor_class, "_GetFnArgs", None)
    if method is None:
        raise UpstreamChanged(f"{executor_class.__name__} has no _GetFnArgs", patch="fn_args")
    parameters = list(inspect.signature(method).parameters)
    if parameters != FN_ARGS_PARAMETERS:
        raise UpstreamChanged(f"_GetFnArgs takes {parameters}, not {FN_ARGS_PARAMETERS}", patch="fn_args")


def trainer_fn_args(executor: Any, input_dict: dict, output_dict: dict, exec_properties: dict) -> Any:
    """The FnArgs `executor` (a tfx GenericExecutor) would hand run_fn for these inputs (see the docstring, 2.)."""
    check_fn_args(type(executor))
    return executor._GetFnArgs(input_dict, output_dict, exec_properties)  # pylint: disable=protected-access
