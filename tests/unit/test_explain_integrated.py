"""pipeline/explain/integrated.py: the trapezoid rule, completeness on a known function, and why interpolating the
z-scored (transformed) numbers explains the raw numbers: for an affine transform both give the same attributions."""

from __future__ import annotations

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from pipeline.explain.integrated import integrated_gradients, tolerance, trapezoid


def test_trapezoid_weights_sum_to_one_and_halve_the_ends():
    alphas, weights = trapezoid(4)
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(weights, [0.125, 0.25, 0.25, 0.25, 0.125])
    assert tolerance(-2.0) == pytest.approx(0.021)


def test_a_linear_model_gets_weight_times_input_exactly():
    w = np.array([[2.0], [-1.0], [0.5]], np.float32)

    def f(points):
        return points["x"] @ w  # linear in x, [batch, 1]

    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 4.0]], np.float32)
    result = integrated_gradients(f, {"x": x}, steps=8)
    np.testing.assert_allclose(result.points["x"], x * w.T, rtol=1e-6)
    np.testing.assert_allclose(result.gap(), 0.0, atol=1e-6)


def test_completeness_of_a_nonlinear_multi_output_function_explains_the_most_likely_class():
    def f(points):
        a, b = points["a"], points["b"]  # [batch, 2], [batch, 1, 3]
        logits = tf.stack([tf.reduce_sum(a * a, -1), tf.reduce_sum(tf.tanh(b), [-1, -2]), a[:, 0] * b[:, 0, 1]], -1)
        return tf.nn.softmax(logits)

    rng = np.random.default_rng(0)
    points = {"a": rng.normal(size=(5, 2)).astype(np.float32), "b": rng.normal(size=(5, 1, 3)).astype(np.float32)}
    result = integrated_gradients(f, points, steps=64)
    full = f({k: tf.constant(v) for k, v in points.items()}).numpy()
    np.testing.assert_array_equal(result.target, full.argmax(-1))
    np.testing.assert_allclose(result.prediction, full.max(-1), rtol=1e-5)
    np.testing.assert_allclose(result.baseline, 1 / 3, rtol=1e-5)  # all-zero logits
    assert np.all(result.gap() <= [tolerance(d) for d in result.prediction - result.baseline])


def test_raw_and_transformed_space_attributions_agree_for_a_z_score():
    """F on raw x through z = (x - m) / s, explained from the raw baseline m, equals F on z explained from 0."""
    m, s = np.array([50.0, -3.0], np.float32), np.array([10.0, 0.5], np.float32)
    v = tf.constant([[0.7], [-1.3]])

    def model(z):  # a small non-linear model of the transformed inputs
        return tf.sigmoid(tf.tanh(z) @ v + 0.3 * z[:, :1] * z[:, 1:])

    x = np.array([[72.0, -2.1], [41.0, -4.0], [50.0, -3.0]], np.float32)
    transformed = integrated_gradients(lambda p: model(p["z"]), {"z": (x - m) / s}, steps=128)
    # raw space: shift the path to start at the mean m (integrated_gradients starts at 0), F(d) = model((m + d - m)/s)
    raw = integrated_gradients(lambda p: model(p["d"] / s), {"d": x - m}, steps=128)
    np.testing.assert_allclose(raw.points["d"], transformed.points["z"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(raw.points["d"][2], 0.0, atol=1e-7)  # a row at the mean gets nothing
