"""Label functions a config can name as `label.fn`: raw dense columns in, one label tensor per row out."""

from __future__ import annotations

from typing import Mapping

import tensorflow as tf

BIG_TIP_FRACTION = 0.2


def taxi_big_tipper(inputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """1 when the tip is more than 20 % of the fare (the TFX Chicago taxi label), else 0; needs `tips`, `fare`."""
    tips = tf.cast(inputs["tips"], tf.float32)
    fare = tf.cast(inputs["fare"], tf.float32)
    return tf.cast(tf.greater(tips, fare * BIG_TIP_FRACTION), tf.int64)
