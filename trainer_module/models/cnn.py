"""Image classifier: a flattened image input reshaped and run through Conv2D → (BatchNorm) → MaxPool blocks."""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import tensorflow as tf

from trainer_module.features import InputFeature, ModelSpec
from trainer_module.models.common import (
    check_choice,
    compile_for_task,
    keras_input,
    num_elements,
    resolve_hparams,
    square_side,
    task_head,
    vector_input,
)

FAMILY = "cnn"
DEFAULTS: dict[str, Any] = {
    "filters": [32, 64],  # one Conv2D block per entry
    "kernel_size": 3,
    "batch_norm": True,
    "dropout": 0.25,
    "dense_units": 64,
    "learning_rate": 0.001,
    "pooling": "flatten",  # flatten | global_avg: how the last feature map becomes a vector
    "image_feature": None,  # default: the numeric input with the most elements
    "image_shape": None,  # [height, width, channels]; default [s, s, 1] for s·s elements
}
POOLINGS = ("flatten", "global_avg")


def image_shape(feature: InputFeature, shape: Optional[Sequence[int]]) -> tuple[int, int, int]:
    """[h, w, c] of the image behind `feature`: the given `shape` (checked), or a one-channel square."""
    n = num_elements(feature)
    if shape is None:
        side = square_side(n)
        if side is None:
            raise ValueError(
                f"{FAMILY}: image feature {feature.name!r} has {n} elements, which is not a square; "
                f"set hparam image_shape to [height, width, channels] with height·width·channels = {n}"
            )
        return side, side, 1
    dims = tuple(int(d) for d in shape)
    if len(dims) == 2:
        dims = (*dims, 1)
    if len(dims) != 3 or min(dims) < 1 or math.prod(dims) != n:
        raise ValueError(
            f"{FAMILY}: image_shape={list(shape)} must be [height, width, channels] with {n} elements in all "
            f"(the size of {feature.name!r})"
        )
    return dims[0], dims[1], dims[2]


def build(spec: ModelSpec, hparams: Mapping[str, Any]) -> tf.keras.Model:
    hp = resolve_hparams(FAMILY, DEFAULTS, hparams)
    pooling = check_choice(FAMILY, "pooling", hp["pooling"], POOLINGS)
    feature = vector_input(spec, FAMILY, "image_feature", hp["image_feature"])
    height, width, channels = image_shape(feature, hp["image_shape"])

    image_in = keras_input(feature)
    x = tf.keras.layers.Reshape((height, width, channels), name="image")(image_in)
    for i, filters in enumerate(hp["filters"]):
        x = tf.keras.layers.Conv2D(
            int(filters), int(hp["kernel_size"]), padding="same", activation="relu", name=f"conv_{i}"
        )(x)
        if hp["batch_norm"]:
            x = tf.keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        # A 2×2 pool of a 1-pixel-wide map would leave nothing; small images simply stop shrinking.
        if min(x.shape[1], x.shape[2]) >= 2:
            x = tf.keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
    if pooling == "flatten":
        x = tf.keras.layers.Flatten(name="flatten")(x)
    else:
        x = tf.keras.layers.GlobalAveragePooling2D(name="global_avg")(x)
    x = tf.keras.layers.Dense(int(hp["dense_units"]), activation="relu", name="dense")(x)
    if hp["dropout"]:
        x = tf.keras.layers.Dropout(float(hp["dropout"]), name="dropout")(x)
    model = tf.keras.Model(inputs={feature.name: image_in}, outputs=task_head(x, spec), name=FAMILY)
    return compile_for_task(model, spec, float(hp["learning_rate"]))
