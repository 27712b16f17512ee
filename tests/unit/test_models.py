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


def _layer_names(model):
    return {layer.name for layer in model.layers}


def test_dnn_wide_numeric_puts_the_numbers_in_the_linear_part():
    spec = ModelSpec(inputs=INPUTS, task="binary")
    without = models.build("dnn", spec, {"wide_numeric": False})
    with_numbers = models.build("dnn", spec, {"wide_numeric": True})
    # The wide logits read the company one-hot (12 ids), plus the two numbers when asked.
    assert without.get_layer("wide_logits").kernel.shape == (12, 1)
    assert with_numbers.get_layer("wide_logits").kernel.shape == (14, 1)
    numbers_only = models.build("dnn", ModelSpec(inputs=INPUTS[:2], task="regression"), {"wide_numeric": True})
    assert numbers_only.get_layer("wide_logits").kernel.shape == (2, 1)
    assert "wide_logits" not in _layer_names(
        models.build("dnn", ModelSpec(inputs=INPUTS[:2], task="regression"), {"wide_numeric": False}))
    assert models.build("dnn", spec, {}).get_layer("wide_logits").kernel.shape == (14, 1)  # the default


def test_dnn_cosine_schedule_decays_over_the_runs_train_steps():
    from trainer_module.models import dnn

    spec = ModelSpec(inputs=INPUTS, task="binary", extra={"train_steps": 400})
    constant = models.build("dnn", spec, {"lr_schedule": "constant", "learning_rate": 0.01})
    assert float(constant.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    cosine = models.build("dnn", spec, {"lr_schedule": "cosine", "learning_rate": 0.01, "lr_floor": 0.1})
    compiled = cosine.optimizer.get_config()["learning_rate"]  # the schedule the optimizer steps through
    assert compiled["class_name"] == "CosineDecay" and compiled["config"]["decay_steps"] == 400
    schedule = dnn.learning_rate({**dnn.DEFAULTS, "lr_schedule": "cosine", "learning_rate": 0.01, "lr_floor": 0.1},
                                 spec)
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(200)) == pytest.approx(0.01 * (0.1 + 0.9 * 0.5), rel=1e-4)  # half way: cos = 0
    assert float(schedule(400)) == pytest.approx(0.001, rel=1e-4)
    assert float(schedule(10_000)) == pytest.approx(0.001, rel=1e-4)  # then it stays at the floor
    fixed = dnn.learning_rate({**dnn.DEFAULTS, "lr_schedule": "cosine", "lr_decay_steps": 100}, spec)
    assert float(fixed(100)) == pytest.approx(0.001 * 0.05, rel=1e-4)
    unknown_steps = dnn.learning_rate(dnn.DEFAULTS, ModelSpec(INPUTS, "binary"))  # cosine is the default
    assert unknown_steps.decay_steps == 1000
    with pytest.raises(ValueError, match="lr_schedule='step' is not one of"):
        models.build("dnn", spec, {"lr_schedule": "step"})


def test_dnn_batch_norm_and_l2_options_train():
    spec = ModelSpec(inputs=INPUTS, task="regression")
    model = models.build("dnn", spec, {"hidden_units": [8, 4], "batch_norm": True, "l2": 0.01})
    assert {"batch_norm_0", "batch_norm_1"} <= _layer_names(model)
    assert len(model.losses) == 2  # one L2 penalty per hidden kernel
    history = model.fit(_batch(), np.zeros((16, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not {"batch_norm_0"} & _layer_names(models.build("dnn", spec, {"hidden_units": [8, 4]}))
