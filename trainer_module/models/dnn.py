"""Tabular wide & deep network: one-hot categoricals (and, optionally, the numbers) feed a linear (wide) part;
numbers and embeddings a DNN."""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from trainer_module.features import ModelSpec
from trainer_module.models.common import check_choice, compile_for_task, keras_input, output_layer, resolve_hparams

DEFAULTS: dict[str, Any] = {
    "hidden_units": [128, 64, 32],
    "dropout": 0.1,
    "learning_rate": 0.001,
    "max_embedding_dim": 16,
    "wide": True,  # add the linear one-hot part
    "max_one_hot": 2000,  # categoricals with more ids than this skip the wide part
    # The numbers feed the linear part too, so it holds a logistic / linear regression (benchmarks/RESULTS.md §7)
    "wide_numeric": True,
    "batch_norm": False,  # BatchNormalization after each hidden layer's Dense, before its ReLU
    "l2": 0.0,  # L2 penalty on the hidden layers' kernels
    # "constant", or "cosine": cosine decay from learning_rate to lr_floor × learning_rate over lr_decay_steps
    # optimizer steps (0: the run's train steps, spec.extra["train_steps"], else 1000), then constant
    "lr_schedule": "cosine",
    "lr_decay_steps": 0,
    "lr_floor": 0.05,
}
LR_SCHEDULES = ("constant", "cosine")
DEFAULT_DECAY_STEPS = 1000  # training.train_steps' default


def embedding_dim(cardinality: int, cap: int) -> int:
    """A common rule of thumb: about 1.6 · n^0.56, capped."""
    return max(2, min(cap, int(round(1.6 * cardinality**0.56))))


def learning_rate(hp: Mapping[str, Any], spec: ModelSpec) -> Any:
    """A float, or a schedule over lr_decay_steps optimizer steps."""
    schedule = check_choice("dnn", "lr_schedule", hp["lr_schedule"], LR_SCHEDULES)
    rate = float(hp["learning_rate"])
    if schedule == "constant":
        return rate
    steps = int(hp["lr_decay_steps"]) or int(spec.extra.get("train_steps") or DEFAULT_DECAY_STEPS)
    return tf.keras.optimizers.schedules.CosineDecay(rate, decay_steps=max(1, steps), alpha=float(hp["lr_floor"]))


def build(spec: ModelSpec, hparams: Mapping[str, Any]) -> tf.keras.Model:
    hp = resolve_hparams("dnn", DEFAULTS, hparams)
    inputs, numeric, deep_categorical, wide = {}, [], [], []
    for feature in spec.inputs:
        inputs[feature.name] = keras_input(feature)
        if feature.kind == "numeric":
            # Vectors concatenate as they are; higher-rank inputs (e.g. 8×8) are flattened first.
            numeric.append(
                inputs[feature.name]
                if len(feature.shape) == 1
                else tf.keras.layers.Flatten(name=f"{feature.name}_flat")(inputs[feature.name])
            )
            continue
        dim = embedding_dim(feature.cardinality, int(hp["max_embedding_dim"]))
        embedded = tf.keras.layers.Embedding(feature.cardinality, dim, name=f"{feature.name}_embedding")(
            inputs[feature.name]
        )
        deep_categorical.append(tf.keras.layers.Flatten()(embedded))
        if hp["wide"] and feature.cardinality <= int(hp["max_one_hot"]):
            wide.append(
                tf.keras.layers.CategoryEncoding(
                    num_tokens=feature.cardinality,
                    # one_hot only accepts a single id per example; a vector of ids becomes a multi-hot bag.
                    output_mode="one_hot" if tuple(feature.shape) == (1,) else "multi_hot",
                    name=f"{feature.name}_one_hot",
                )(inputs[feature.name])
            )
    if hp["wide"] and hp["wide_numeric"]:
        wide += numeric
    deep_parts = numeric + deep_categorical
    deep = deep_parts[0] if len(deep_parts) == 1 else tf.keras.layers.Concatenate()(deep_parts)
    regularizer = tf.keras.regularizers.L2(float(hp["l2"])) if hp["l2"] else None
    for i, units in enumerate(hp["hidden_units"]):
        if hp["batch_norm"]:
            deep = tf.keras.layers.Dense(int(units), use_bias=False, kernel_regularizer=regularizer,
                                         name=f"dense_{i}")(deep)
            deep = tf.keras.layers.BatchNormalization(name=f"batch_norm_{i}")(deep)
            deep = tf.keras.layers.Activation("relu")(deep)
        else:
            deep = tf.keras.layers.Dense(int(units), activation="relu", kernel_regularizer=regularizer,
                                         name=f"dense_{i}")(deep)
        if hp["dropout"]:
            deep = tf.keras.layers.Dropout(float(hp["dropout"]))(deep)
    units, activation = output_layer(spec)
    logits = tf.keras.layers.Dense(units, name="deep_logits")(deep)
    if wide:
        wide_in = wide[0] if len(wide) == 1 else tf.keras.layers.Concatenate()(wide)
        logits = tf.keras.layers.Add()([logits, tf.keras.layers.Dense(units, name="wide_logits")(wide_in)])
    outputs = tf.keras.layers.Activation(activation, dtype="float32", name="output")(logits)
    model = tf.keras.Model(inputs=inputs, outputs=outputs, name="wide_and_deep")
    return compile_for_task(model, spec, learning_rate(hp, spec))
