"""Sequence classifier: one numeric vector read as `timesteps` steps, through stacked (bi)LSTM or GRU layers."""

from __future__ import annotations

from typing import Any, Mapping, Optional

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

FAMILY = "rnn"
DEFAULTS: dict[str, Any] = {
    "cell": "lstm",  # lstm | gru
    "units": 64,
    "layers": 1,  # stacked; all but the last return sequences
    "bidirectional": False,
    "dropout": 0.1,  # on each recurrent layer's inputs (recurrent_dropout would rule out the cuDNN kernel)
    "learning_rate": 0.001,
    "sequence_feature": None,  # default: the numeric input with the most elements
    "timesteps": None,  # default: √length when the length is a square (an 8×8 image read row by row)
}
CELLS = {"lstm": tf.keras.layers.LSTM, "gru": tf.keras.layers.GRU}


def sequence_shape(feature: InputFeature, timesteps: Optional[int]) -> tuple[int, int]:
    """(timesteps, features_per_step) for the vector `feature`."""
    n = num_elements(feature)
    if timesteps is None:
        timesteps = square_side(n)
        if timesteps is None:
            raise ValueError(
                f"{FAMILY}: sequence feature {feature.name!r} has {n} elements, which is not a square; "
                f"set hparam timesteps to a divisor of {n}"
            )
    timesteps = int(timesteps)
    if timesteps < 1 or n % timesteps:
        raise ValueError(f"{FAMILY}: timesteps={timesteps} must divide the {n} elements of {feature.name!r}")
    return timesteps, n // timesteps


def build(spec: ModelSpec, hparams: Mapping[str, Any]) -> tf.keras.Model:
    hp = resolve_hparams(FAMILY, DEFAULTS, hparams)
    cell = CELLS[check_choice(FAMILY, "cell", hp["cell"], tuple(CELLS))]
    feature = vector_input(spec, FAMILY, "sequence_feature", hp["sequence_feature"])
    timesteps, per_step = sequence_shape(feature, hp["timesteps"])
    layers = int(hp["layers"])
    if layers < 1:
        raise ValueError(f"{FAMILY}: layers={layers} must be at least 1")

    sequence_in = keras_input(feature)
    x = tf.keras.layers.Reshape((timesteps, per_step), name="sequence")(sequence_in)
    for i in range(layers):
        layer = cell(
            int(hp["units"]), return_sequences=i < layers - 1, dropout=float(hp["dropout"]), name=f"{hp['cell']}_{i}"
        )
        if hp["bidirectional"]:
            layer = tf.keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
        x = layer(x)
    model = tf.keras.Model(inputs={feature.name: sequence_in}, outputs=task_head(x, spec), name=FAMILY)
    return compile_for_task(model, spec, float(hp["learning_rate"]))
