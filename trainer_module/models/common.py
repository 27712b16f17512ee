"""What every model family shares: hyperparameter checks, input selection, the task's output layer and compile."""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import tensorflow as tf

from trainer_module.features import InputFeature, ModelSpec


def resolve_hparams(family: str, defaults: Mapping[str, Any], hparams: Mapping[str, Any]) -> dict[str, Any]:
    """`defaults` overridden by `hparams`; a name not in `defaults` is a typo in the config, so it is an error."""
    unknown = set(hparams) - set(defaults)
    if unknown:
        raise ValueError(f"{family}: unknown hyperparameters {sorted(unknown)}; known: {sorted(defaults)}")
    return {**defaults, **hparams}


def check_choice(family: str, name: str, value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(f"{family}: hyperparameter {name}={value!r} is not one of {list(options)}")
    return str(value)


def num_elements(feature: InputFeature) -> int:
    return math.prod(int(d) for d in feature.shape)


def square_side(n: int) -> Optional[int]:
    """s with s·s == n, or None."""
    side = math.isqrt(n)
    return side if side * side == n else None


def vector_input(spec: ModelSpec, family: str, hparam: str, name: Optional[str]) -> InputFeature:
    """The numeric input named by hparam `hparam`, by default the numeric input with the most elements."""
    numeric = [f for f in spec.inputs if f.kind == "numeric"]
    if name is not None:
        for feature in numeric:
            if feature.name == name:
                return feature
        raise ValueError(
            f"{family}: {hparam}={name!r} is not a numeric input; numeric inputs: {[f.name for f in numeric]}"
        )
    if not numeric:
        raise ValueError(f"{family}: needs a numeric input, but the inputs are {[f.name for f in spec.inputs]}")
    # max() keeps the first of equals, so ties go to spec order (sorted by name): deterministic.
    return max(numeric, key=num_elements)


def keras_input(feature: InputFeature) -> tf.Tensor:
    dtype = tf.float32 if feature.kind == "numeric" else tf.int64
    return tf.keras.Input(shape=tuple(feature.shape), name=feature.name, dtype=dtype)


def output_layer(spec: ModelSpec, name: str = "output") -> tuple[int, str]:
    """(units, activation) of the final layer for the task; kept in float32 under mixed precision."""
    if spec.task == "binary":
        return 1, "sigmoid"
    if spec.task == "multiclass":
        return spec.num_classes, "softmax"
    return 1, "linear"


def task_head(x: tf.Tensor, spec: ModelSpec) -> tf.Tensor:
    """Logits and the task's activation; the activation runs in float32 so mixed-precision outputs stay stable."""
    units, activation = output_layer(spec)
    logits = tf.keras.layers.Dense(units, name="logits")(x)
    return tf.keras.layers.Activation(activation, dtype="float32", name="output")(logits)


def compile_for_task(model: tf.keras.Model, spec: ModelSpec, learning_rate: Any) -> tf.keras.Model:
    """Compiles with Adam at `learning_rate` (a float or a tf.keras LearningRateSchedule) and the task's loss."""
    if spec.task == "binary":
        loss, metrics = "binary_crossentropy", [tf.keras.metrics.AUC(name="auc"), "binary_accuracy"]
    elif spec.task == "multiclass":
        loss, metrics = "sparse_categorical_crossentropy", ["sparse_categorical_accuracy"]
    else:
        loss, metrics = "mean_squared_error", ["mean_absolute_error"]
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model


def recompile(model: tf.keras.Model, **overrides: Any) -> None:
    """Compiles again with the optimizer, loss and metrics the family compiled with, and `overrides` (after freezing
    layers, or to change steps_per_execution). Keras' own compile config: any family's compile call is repeated."""
    config = model.get_compile_config()
    if config is None:
        raise ValueError(f"model {model.name} was never compiled: its family's build() must compile it")
    model.compile_from_config({**config, **overrides})
