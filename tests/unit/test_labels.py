"""The taxi label function (trainer_module/labels.py)."""

from __future__ import annotations


def test_taxi_big_tipper():
    import tensorflow as tf

    from trainer_module.labels import taxi_big_tipper

    got = taxi_big_tipper({"tips": tf.constant([0.0, 2.0, 2.01, 5.0]), "fare": tf.constant([10.0, 10.0, 10.0, 0.0])})
    assert got.numpy().tolist() == [0, 0, 1, 1]  # strictly more than 20 % of the fare
