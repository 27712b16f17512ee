"""cnn, rnn and autoencoder builds: output shapes, one real training step, the autoencoder's target and errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainer_module import models
from trainer_module.features import InputFeature, ModelSpec
from trainer_module.models import autoencoder

PIXELS = InputFeature("pixels_xf", "numeric", shape=(64,))  # a flattened 8×8 digit
N = 16


def _pixels(n: int = N, seed: int = 0) -> dict[str, np.ndarray]:
    return {"pixels_xf": np.random.default_rng(seed).random((n, 64), dtype=np.float32)}


def _labels(task: str, classes: int, n: int = N) -> np.ndarray:
    return np.random.default_rng(1).integers(0, classes if task == "multiclass" else 2, size=(n, 1))


def _trains_one_step(model: tf.keras.Model, x: dict[str, np.ndarray], y: np.ndarray) -> None:
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=N, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


TINY_CNN = {"filters": [4, 8], "dense_units": 8}
TINY_RNN = {"units": 4}
CLASSIFIERS = [
    ("cnn", "multiclass", 10, TINY_CNN),
    ("cnn", "binary", 2, {**TINY_CNN, "pooling": "global_avg", "batch_norm": False, "dropout": 0.0}),
    ("rnn", "multiclass", 10, {**TINY_RNN, "cell": "lstm"}),
    # Each recurrent layer adds seconds of graph building to fit(); bidirectional is checked by build only.
    ("rnn", "binary", 2, {**TINY_RNN, "cell": "gru", "layers": 2}),
]


@pytest.mark.parametrize("family, task, classes, hparams", CLASSIFIERS)
def test_classifier_builds_predicts_and_trains_one_step(family, task, classes, hparams):
    spec = ModelSpec(inputs=(PIXELS,), task=task, num_classes=classes)
    model = models.build(family, spec, hparams)
    x = _pixels()
    y = model(x, training=False).numpy()
    assert y.shape == (N, classes if task == "multiclass" else 1)
    if task == "multiclass":
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    else:
        assert np.all((y >= 0) & (y <= 1))
    _trains_one_step(model, x, _labels(task, classes))


def test_cnn_and_rnn_pick_the_largest_numeric_input_and_ignore_the_rest():
    spec = ModelSpec(inputs=(InputFeature("age_xf", "numeric"), PIXELS), task="binary")
    for family, hparams in (("cnn", TINY_CNN), ("rnn", TINY_RNN)):
        model = models.build(family, spec, hparams)
        assert model.input_names == ["pixels_xf"]


def test_rnn_stacks_bidirectional_layers():
    spec = ModelSpec(inputs=(PIXELS,), task="multiclass", num_classes=10)
    model = models.build("rnn", spec, {**TINY_RNN, "cell": "gru", "layers": 3, "bidirectional": True})
    shapes = [model.get_layer(f"bidirectional_{i}").output_shape for i in range(3)]
    assert shapes == [(None, 8, 8), (None, 8, 8), (None, 8)]  # 8 timesteps; forward + backward units
    assert model(_pixels(), training=False).shape == (N, 10)


def test_cnn_image_shape_and_rnn_timesteps_hparams():
    strip = InputFeature("strip_xf", "numeric", shape=(48,))
    spec = ModelSpec(inputs=(strip,), task="multiclass", num_classes=3)
    cnn = models.build("cnn", spec, {**TINY_CNN, "image_shape": [4, 12, 1]})
    assert cnn.get_layer("image").output_shape == (None, 4, 12, 1)
    rnn = models.build("rnn", spec, {**TINY_RNN, "timesteps": 6})
    assert rnn.get_layer("sequence").output_shape == (None, 6, 8)


@pytest.mark.parametrize("hparams", [{"encoder_units": [16, 8], "latent_dim": 4},
                                     {"kind": "conv", "encoder_units": [4, 8], "latent_dim": 4, "dropout": 0.1}])
def test_autoencoder_reconstructs_all_numeric_inputs_and_trains_one_step(hparams):
    # A second input of odd size checks the order and, for conv, that 64 + 17 = 81 = 9² is reshaped and cropped back.
    extra = InputFeature("extra_xf", "numeric", shape=(17,))
    spec = ModelSpec(inputs=(extra, PIXELS), task="multiclass", num_classes=10)  # task is ignored
    model = models.build("autoencoder", spec, hparams)
    x = {**_pixels(), "extra_xf": np.random.default_rng(2).random((N, 17), dtype=np.float32)}
    y = autoencoder.target(spec, {k: tf.constant(v) for k, v in x.items()})
    assert y.shape == (N, 81) and y.dtype == tf.float32
    np.testing.assert_array_equal(y.numpy(), np.concatenate([x["extra_xf"], x["pixels_xf"]], axis=1))
    reconstruction = model(x, training=False)
    assert reconstruction.shape == (N, 81) and reconstruction.dtype == tf.float32
    _trains_one_step(model, x, y.numpy())


def test_autoencoder_target_flattens_scalars_and_reconstruction_error_is_per_example():
    spec = ModelSpec(inputs=(InputFeature("a_xf", "numeric"), InputFeature("b_xf", "numeric", shape=(2, 2))),
                     task="regression")
    y = autoencoder.target(spec, {"a_xf": tf.constant([1.0, 2.0]),  # a scalar may arrive as [batch]
                                  "b_xf": tf.reshape(tf.range(8, dtype=tf.int64), (2, 2, 2))})
    np.testing.assert_array_equal(y.numpy(), [[1, 0, 1, 2, 3], [2, 4, 5, 6, 7]])
    error = autoencoder.reconstruction_error(y, y)
    assert error.shape == (2,)
    np.testing.assert_array_equal(error.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(autoencoder.reconstruction_error(y, y + [[0, 0, 0, 0, 2.0], [1, 1, 1, 1, 1]]).numpy(),
                               [0.8, 1.0])


def test_outputs_stay_float32_under_mixed_precision():
    spec = ModelSpec(inputs=(PIXELS,), task="multiclass", num_classes=10)
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        for family, hparams in (("cnn", TINY_CNN), ("rnn", TINY_RNN), ("autoencoder", {}), ("dnn", {})):
            assert models.build(family, spec, hparams).output.dtype == tf.float32, family
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "family, inputs, hparams, message",
    [
        ("cnn", (PIXELS,), {"units": 3}, r"cnn: unknown hyperparameters \['units'\]; known: \['batch_norm'"),
        ("rnn", (PIXELS,), {"filters": [4]}, r"rnn: unknown hyperparameters \['filters'\]; known: \['bidirectional'"),
        ("autoencoder", (PIXELS,), {"hidden": 3}, r"autoencoder: unknown hyperparameters \['hidden'\]"),
        ("cnn", (InputFeature("x_xf", "numeric", shape=(60,)),), {},
         r"cnn: image feature 'x_xf' has 60 elements, which is not a square; set hparam image_shape"),
        ("cnn", (PIXELS,), {"image_shape": [4, 4, 2]}, r"image_shape=\[4, 4, 2\] must be \[height, width, channels\]"),
        ("cnn", (PIXELS,), {"image_feature": "nope_xf"}, r"image_feature='nope_xf' is not a numeric input"),
        ("cnn", (PIXELS,), {"pooling": "max"}, r"pooling='max' is not one of \['flatten', 'global_avg'\]"),
        ("rnn", (InputFeature("x_xf", "numeric", shape=(60,)),), {},
         r"rnn: sequence feature 'x_xf' has 60 elements, which is not a square; set hparam timesteps"),
        ("rnn", (PIXELS,), {"timesteps": 7}, r"timesteps=7 must divide the 64 elements"),
        ("rnn", (PIXELS,), {"cell": "rnn"}, r"cell='rnn' is not one of \['lstm', 'gru'\]"),
        ("autoencoder", (PIXELS, InputFeature("c_xf", "categorical", 5)), {},
         r"autoencoder: autoencoders need numeric features only; categorical inputs \['c_xf'\]"),
        ("autoencoder", (InputFeature("x_xf", "numeric", shape=(60,)),), {"kind": "conv"},
         r"kind='conv' needs the numeric inputs to form a square image"),
    ],
)
def test_bad_hparams_and_inputs_are_rejected_clearly(family, inputs, hparams, message):
    with pytest.raises(ValueError, match=message):
        models.build(family, ModelSpec(inputs=inputs, task="binary"), hparams)


def test_dnn_accepts_vector_numeric_inputs():
    spec = ModelSpec(inputs=(PIXELS, InputFeature("c_xf", "categorical", 5)), task="binary")
    model = models.build("dnn", spec, {"hidden_units": [4]})
    x = {**_pixels(), "c_xf": np.zeros((N, 1), dtype=np.int64)}
    assert model(x, training=False).shape == (N, 1)


def test_registry_lists_every_family_and_marks_reconstruction():
    for family in models.FAMILIES:
        assert callable(models.module(family).build)
    assert [f for f in models.FAMILIES if models.is_reconstruction(f)] == ["autoencoder"]
    assert callable(models.module("autoencoder").target) and callable(autoencoder.reconstruction_error)
    with pytest.raises(ValueError, match="unknown model family 'gbdt'"):
        models.module("gbdt")
