"""model.family auto (trainer_module.auto_family): the candidates, their scores on the eval batches, the choice and
its record; the per-family hyperparameters; the config rules; gbt's warm-start answer."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from pipeline.config.loader import load_config  # noqa: E402
from pipeline.config.schema import ConfigError  # noqa: E402
from trainer_module import auto_family  # noqa: E402
from trainer_module.features import InputFeature, ModelSpec  # noqa: E402
from trainer_module.run import gbt_warm_start_reason  # noqa: E402

TABLE = ModelSpec(inputs=(InputFeature("a_xf", "numeric"), InputFeature("b_xf", "categorical", 5)), task="binary")


@dataclass
class Fake:
    """A 'model' whose output is a fixed function of the input, like a trained one."""

    weight: float

    def __call__(self, x, training=False):
        return (1 / (1 + np.exp(-self.weight * np.asarray(x["a_xf"])))).reshape(-1, 1)


@dataclass
class Built:
    model: Fake


def _eval_batches():
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    y = (a + rng.normal(scale=0.5, size=400) > 0).astype("float32")
    w = np.ones(400, dtype="float32")
    w[:50] = 0.0  # rows without a label weigh nothing
    return [({"a_xf": a[i:i + 100]}, y[i:i + 100], w[i:i + 100]) for i in range(0, 400, 100)]


def test_the_better_scoring_family_is_kept_and_every_score_recorded():
    models = {"dnn": Fake(-1.0), "gbt": Fake(2.0)}  # dnn ranks the rows backwards
    trained = []

    def fit(family, custom, callbacks):
        trained.append(family)
        return (Built(models[family]), {"loss": [1.0]}, 0.1, 1)

    result, chosen, record = auto_family.choose(fit, _eval_batches(), TABLE)
    assert trained == ["dnn", "gbt"] and chosen == "gbt" and result[0].model is models["gbt"]
    assert record["metric"] == "auc" and record["chosen"] == "gbt"
    assert record["scores"]["gbt"] > 0.8 > 0.2 > record["scores"]["dnn"]
    assert record["why"].startswith("gbt scored auc") and "vs dnn" in record["why"]


def test_a_tie_keeps_the_first_candidate():
    _, chosen, _ = auto_family.choose(lambda f, *_: (Built(Fake(1.0)), {}, 0.0, 1), _eval_batches(), TABLE)
    assert chosen == "dnn"


def test_weights_count_in_the_score():
    a = np.array([1.0, 2.0, -1.0, -2.0])
    unweighted = auto_family.score(Fake(1.0), [({"a_xf": a}, np.array([1.0, 1.0, 0.0, 0.0]), np.ones(4))], "binary")
    # The two rows the model gets wrong weigh 0: still a perfect ranking; with weight 1 it is not.
    flipped = np.array([0.0, 1.0, 0.0, 1.0])
    masked = auto_family.score(Fake(1.0), [({"a_xf": a}, flipped, np.array([0.0, 1.0, 1.0, 0.0]))], "binary")
    assert unweighted == 1.0 and masked == 1.0
    assert auto_family.score(Fake(1.0), [({"a_xf": a}, flipped, np.ones(4))], "binary") == 0.5


def test_regression_and_multiclass_scores():
    a = np.linspace(-2, 2, 50)
    r2 = auto_family.score(lambda x, training=False: np.asarray(x["a_xf"]).reshape(-1, 1),
                           [({"a_xf": a}, a, np.ones(50))], "regression")
    assert r2 == pytest.approx(1.0)
    probs = lambda x, training=False: np.eye(3)[(np.asarray(x["a_xf"]) > 0).astype(int)]  # noqa: E731
    accuracy = auto_family.score(probs, [({"a_xf": a}, (a > 0).astype(int), np.ones(50))], "multiclass")
    assert accuracy == 1.0


def test_vector_inputs_leave_gbt_out_and_say_why():
    image = ModelSpec(inputs=(InputFeature("pixels_xf", "numeric", shape=(64,)),), task="multiclass", num_classes=10)
    families, why = auto_family.candidates(image)
    assert families == ("dnn",) and "tabular" in why
    assert auto_family.candidates(TABLE) == (("dnn", "gbt"), "")


def test_each_candidate_gets_its_own_hyperparameters():
    custom = {"model": {"family": "auto", "hparams": {}, "hparams_by_family": {"gbt": {"num_trees": 50}}},
              "training": {"seed": 1}}
    gbt = auto_family.for_family(custom, "gbt")
    assert gbt["model"]["family"] == "gbt" and gbt["model"]["hparams"] == {"num_trees": 50}
    assert auto_family.for_family(custom, "dnn")["model"]["hparams"] == {}
    assert gbt["training"] == {"seed": 1} and custom["model"]["family"] == "auto"  # the original is unchanged
    plain = {"model": {"family": "dnn", "hparams": {"dropout": 0.2}}}
    assert auto_family.for_family(plain, "dnn") == plain


def test_auto_is_a_family_choice_and_refuses_flat_hparams():
    assert load_config("taxi", {"model.family": "auto"}).model.family == "auto"  # the dnn hparams are dropped
    with pytest.raises(ConfigError, match="hparams_by_family"):
        load_config("taxi", {"model.family": "auto", "model.hparams": {"dropout": 0.2}})


def test_gbt_names_a_warm_start_it_cannot_do():
    assert gbt_warm_start_reason("/models/7/Format-Serving").startswith("not supported for gbt")
    assert gbt_warm_start_reason(None) == "not requested"


def test_a_regression_is_scored_in_the_label_units_for_networks_and_trees():
    from trainer_module.label_stats import TargetScaling

    scaling = TargetScaling("log1p_zscore", center=1.0, scale=0.5)
    raw = np.array([1.0, 3.0, 10.0, 30.0])
    scaled = np.asarray(scaling.forward(raw))  # what the eval batches hold and what a network predicts
    network = lambda x, training=False: scaled.reshape(-1, 1)  # noqa: E731 - perfect on the training scale
    trees = lambda x, training=False: raw.reshape(-1, 1)  # noqa: E731 - perfect in the label's units
    results = {"dnn": (Built(network), {}, 0.0, 1), "gbt": (Built(trees), {}, 0.0, 1)}
    spec = ModelSpec(inputs=TABLE.inputs, task="regression")
    _, chosen, record = auto_family.choose(lambda f, *_: results[f], [({"a_xf": raw}, scaled, np.ones(4))], spec, scaling)
    assert record["scores"]["dnn"] == pytest.approx(1.0, abs=1e-5)
    assert record["scores"]["gbt"] == pytest.approx(1.0, abs=1e-5)  # not compared with the scaled targets
    assert chosen in ("dnn", "gbt") and record["metric"] == "r_squared"


def test_the_time_budget_is_shared_between_the_candidates():
    custom = {"model": {"family": "auto", "hparams": {}, "auto_max_seconds": 100,
                        "hparams_by_family": {"gbt": {"num_trees": 50}}}}
    given = {}

    def fit(family, family_custom, callbacks):
        given[family] = (family_custom["model"]["hparams"], callbacks)
        return (Built(Fake(1.0)), {}, 0.0, 1)

    _, _, record = auto_family.choose(fit, _eval_batches(), TABLE, custom=custom)
    assert given["gbt"] == ({"num_trees": 50, "max_seconds": 50}, ())  # TF-DF's own training-duration limit
    dnn_hparams, (deadline,) = given["dnn"]
    assert dnn_hparams == {} and type(deadline).__name__ == "StopAtDeadline"
    assert record["budget_seconds"] == 100.0
    unlimited = {"model": {**custom["model"], "auto_max_seconds": 0}}
    auto_family.choose(fit, _eval_batches(), TABLE, custom=unlimited)
    assert given["gbt"] == ({"num_trees": 50}, ()) and given["dnn"] == ({}, ())


def test_a_network_fit_stops_at_the_deadline():
    import time

    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    model.compile(loss="mse", optimizer="sgd")
    x, y = np.zeros((64, 2), "float32"), np.zeros((64, 1), "float32")
    history = model.fit(x, y, batch_size=8, epochs=50, verbose=0,
                        callbacks=[auto_family.deadline_callback(time.time() - 1)])
    assert len(history.history["loss"]) == 1  # stopped after its first batch, in the first epoch


def test_a_reused_choice_names_the_run_that_scored_and_trains_one_family():
    record = auto_family.reuse_record({"family": "gbt", "run": "2026-11-30T10:00:00", "metric": "auc",
                                       "scores": {"dnn": 0.91, "gbt": 0.94}})
    assert record["chosen"] == "gbt" and record["reused_from"] == "2026-11-30T10:00:00"
    assert record["why"] == ("reused the choice of run 2026-11-30T10:00:00 (same config): gbt scored auc 0.9400 "
                             "there (vs dnn 0.9100); only gbt trained")
