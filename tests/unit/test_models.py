"""Model build for each task: shapes, output ranges and one real training step."""

from __future__ import annotations

import numpy as np
import pytest

from trainer_module import models
from trainer_module.features import InputFeature, ModelSpec

INPUTS = (InputFeature("fare_xf", "numeric"), InputFeature("miles_xf", "numeric"),
          InputFeature("company_xf", "categorical", 12))


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "fare_xf": rng.normal(size=(n, 1)).astype("float32"),
        "miles_xf": rng.normal(size=(n, 1)).astype("float32"),
        "company_xf": rng.integers(0, 12, size=(n, 1)).astype("int64"),
    }


@pytest.mark.parametrize(
    "task, classes, width, labels",
    [
        ("binary", 2, 1, lambda n: np.random.default_rng(1).integers(0, 2, size=(n, 1))),
        ("multiclass", 4, 4, lambda n: np.random.default_rng(1).integers(0, 4, size=(n, 1))),
        ("regression", 2, 1, lambda n: np.random.default_rng(1).normal(size=(n, 1)).astype("float32")),
    ],
)
def test_dnn_builds_predicts_and_trains_one_step(task, classes, width, labels):
    spec = ModelSpec(inputs=INPUTS, task=task, num_classes=classes)
    model = models.build("dnn", spec, {"hidden_units": [8, 4]})
    x = _batch()
    y = model.predict(x, verbose=0)
    assert y.shape == (16, width)
    if task == "binary":
        assert np.all((y >= 0) & (y <= 1))
    if task == "multiclass":
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-5)
    weights_before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, labels(16), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(weights_before, model.get_weights()))


def test_unknown_family_and_hparam_are_rejected():
    spec = ModelSpec(inputs=INPUTS, task="binary")
    with pytest.raises(ValueError, match="unknown model family 'gbdt'"):
        models.build("gbdt", spec, {})
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['layers'\]"):
        models.build("dnn", spec, {"layers": 3})



@pytest.mark.parametrize("family, inputs", [("dnn", INPUTS), ("autoencoder", INPUTS[:2])])
def test_recompile_repeats_the_familys_compile_with_overrides(family, inputs):
    from trainer_module.models.common import recompile

    model = models.build(family, ModelSpec(inputs=inputs, task="binary"), {"learning_rate": 0.01})
    before = model.get_compile_config()
    recompile(model, steps_per_execution=3)
    assert model.get_compile_config() == {**before, "steps_per_execution": 3}
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    x = {f.name: _batch()[f.name] for f in inputs}
    if family == "dnn":
        y, expected = np.random.default_rng(1).integers(0, 2, size=(16, 1)), ["auc", "binary_accuracy", "loss"]
    else:
        y, expected = np.concatenate([x["fare_xf"], x["miles_xf"]], axis=1), ["loss", "mean_absolute_error"]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert sorted(history.history) == expected


def test_recompile_needs_a_compiled_model():
    import tensorflow as tf

    from trainer_module.models.common import recompile

    inputs = tf.keras.Input((1,))
    with pytest.raises(ValueError, match="was never compiled"):
        recompile(tf.keras.Model(inputs, tf.keras.layers.Dense(1)(inputs)))
