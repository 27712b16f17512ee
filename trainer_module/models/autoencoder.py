"""Autoencoder over all numeric inputs (dense, or convolutional for a square image); its target and error."""

from __future__ import annotations

from typing import Any, Mapping

import tensorflow as tf

from trainer_module.features import InputFeature, ModelSpec
from trainer_module.models.common import check_choice, keras_input, num_elements, resolve_hparams, square_side

FAMILY = "autoencoder"
DEFAULTS: dict[str, Any] = {
    "kind": "dense",  # dense | conv (conv needs the numeric inputs to add up to a square image)
    "encoder_units": [32, 16],  # dense units, or conv filters; the decoder mirrors them
    "latent_dim": 8,
    "dropout": 0.0,
    "learning_rate": 0.001,
}
KINDS = ("dense", "conv")


def numeric_inputs(spec: ModelSpec) -> list[InputFeature]:
    """The inputs in the order the model concatenates them (spec order), all of which must be numeric."""
    categorical = [f.name for f in spec.inputs if f.kind != "numeric"]
    if categorical:
        raise ValueError(
            f"{FAMILY}: autoencoders need numeric features only; categorical inputs {categorical} cannot be "
            f"reconstructed (exclude them in the config's features)"
        )
    if not spec.inputs:
        raise ValueError(f"{FAMILY}: the spec has no inputs")
    return list(spec.inputs)


def target(spec: ModelSpec, features: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """What the model must reconstruct: the numeric features flattened and concatenated, [batch, D] float32.

    For the trainer's `dataset.map(lambda x, y: (x, target(spec, x)))`; the label is not used.
    """
    parts = []
    for feature in numeric_inputs(spec):
        value = tf.cast(features[feature.name], tf.float32)
        # Scalars may arrive as [batch] or [batch, 1]; reshaping by the known size covers both and any rank.
        parts.append(tf.reshape(value, [-1, num_elements(feature)]))
    return parts[0] if len(parts) == 1 else tf.concat(parts, axis=-1)


def reconstruction_error(target: tf.Tensor, reconstruction: tf.Tensor) -> tf.Tensor:
    """Per-example mean squared error, [batch]: the anomaly score."""
    diff = tf.cast(target, tf.float32) - tf.cast(reconstruction, tf.float32)
    return tf.reduce_mean(tf.square(diff), axis=-1)


def _dense_coder(x: tf.Tensor, hp: Mapping[str, Any], size: int) -> tf.Tensor:
    dropout = float(hp["dropout"])
    units = [int(u) for u in hp["encoder_units"]]
    for i, u in enumerate(units):
        x = tf.keras.layers.Dense(u, activation="relu", name=f"encoder_{i}")(x)
        if dropout:
            x = tf.keras.layers.Dropout(dropout)(x)
    x = tf.keras.layers.Dense(int(hp["latent_dim"]), activation="relu", name="latent")(x)
    for i, u in enumerate(reversed(units)):
        x = tf.keras.layers.Dense(u, activation="relu", name=f"decoder_{i}")(x)
        if dropout:
            x = tf.keras.layers.Dropout(dropout)(x)
    return tf.keras.layers.Dense(size, name="reconstruction_logits")(x)


def _conv_coder(x: tf.Tensor, hp: Mapping[str, Any], size: int) -> tf.Tensor:
    side = square_side(size)
    if side is None:
        raise ValueError(
            f"{FAMILY}: kind='conv' needs the numeric inputs to form a square image, but they have {size} "
            f"elements in all; use kind='dense'"
        )
    dropout = float(hp["dropout"])
    filters = [int(f) for f in hp["encoder_units"]]
    x = tf.keras.layers.Reshape((side, side, 1), name="image")(x)
    sides = []  # spatial size before each encoder block, so the decoder can climb back to it exactly
    for i, f in enumerate(filters):
        sides.append(x.shape[1])
        stride = 2 if x.shape[1] >= 2 else 1
        x = tf.keras.layers.Conv2D(f, 3, strides=stride, padding="same", activation="relu", name=f"encoder_{i}")(x)
        if dropout:
            x = tf.keras.layers.Dropout(dropout)(x)
    bottleneck = tuple(x.shape[1:])
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(int(hp["latent_dim"]), activation="relu", name="latent")(x)
    x = tf.keras.layers.Dense(bottleneck[0] * bottleneck[1] * bottleneck[2], activation="relu", name="expand")(x)
    x = tf.keras.layers.Reshape(bottleneck)(x)
    for i, (f, wanted) in enumerate(zip(reversed(filters), reversed(sides))):
        stride = 2 if x.shape[1] < wanted else 1
        x = tf.keras.layers.Conv2DTranspose(
            f, 3, strides=stride, padding="same", activation="relu", name=f"decoder_{i}"
        )(x)
        # Odd sizes round up on the way down (7 → 4), so doubling can overshoot (4 → 8): crop the extra row.
        extra = x.shape[1] - wanted
        if extra:
            x = tf.keras.layers.Cropping2D(((0, extra), (0, extra)))(x)
        if dropout:
            x = tf.keras.layers.Dropout(dropout)(x)
    x = tf.keras.layers.Conv2D(1, 3, padding="same", name="reconstruction_image")(x)
    return tf.keras.layers.Reshape((size,), name="reconstruction_logits")(x)


def build(spec: ModelSpec, hparams: Mapping[str, Any]) -> tf.keras.Model:
    """Inputs: the spec's (numeric) inputs as a dict; output: their reconstruction, [batch, D]. Ignores spec.task."""
    hp = resolve_hparams(FAMILY, DEFAULTS, hparams)
    kind = check_choice(FAMILY, "kind", hp["kind"], KINDS)
    features = numeric_inputs(spec)
    inputs = {f.name: keras_input(f) for f in features}
    # Same order and flattening as target(), so output column j reconstructs target column j.
    flat = [tf.keras.layers.Reshape((num_elements(f),), name=f"{f.name}_flat")(inputs[f.name]) for f in features]
    x = flat[0] if len(flat) == 1 else tf.keras.layers.Concatenate(name="concatenated")(flat)
    size = sum(num_elements(f) for f in features)
    x = _dense_coder(x, hp, size) if kind == "dense" else _conv_coder(x, hp, size)
    # float32 output so the MSE against the float32 target is computed in full precision under mixed precision.
    outputs = tf.keras.layers.Activation("linear", dtype="float32", name="reconstruction")(x)
    model = tf.keras.Model(inputs=inputs, outputs=outputs, name=f"{kind}_{FAMILY}")
    model.compile(
        optimizer=tf.keras.optimizers.Adam(float(hp["learning_rate"])),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model
