"""The gbt family: a TF-DF forest trained on named transformed inputs, exported as a SavedModel whose forest needs
TF-DF's ops: a process without them cannot load it (what the README says about TF Serving), one that registers them
(trainer_module.custom_ops) can."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402

from pipeline.paths import PROJECT_ROOT  # noqa: E402
from trainer_module import custom_ops  # noqa: E402
from trainer_module.features import InputFeature, ModelSpec  # noqa: E402
from trainer_module.gbt_training import Forest  # noqa: E402
from trainer_module.models import gbt  # noqa: E402

SPEC = ModelSpec(inputs=(InputFeature("x_xf", "numeric"), InputFeature("c_xf", "categorical", cardinality=4)),
                 task="binary")


def _data(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).astype("float32")
    c = rng.integers(0, 4, size=n).astype("int64")
    y = ((x > 0.3) ^ (c == 2)).astype("int64")  # a threshold and a category: what trees split on
    return {"x_xf": x, "c_xf": c}, y


@pytest.fixture(scope="module")
def saved_forest(tmp_path_factory):
    features, labels = _data()
    trees = gbt.build(SPEC, {"num_trees": 30, "validation_ratio": 0.0, "early_stopping": "NONE"})
    trees.fit(tf.data.Dataset.from_tensor_slices((features, labels)).batch(128), verbose=0)
    forest = Forest(trees, SPEC)
    root = tf.Module()
    root.model_resources = forest.export_resources()
    root.call_model = tf.function(lambda f: forest(f, training=False), input_signature=[forest.export_input_specs()])
    path = tmp_path_factory.mktemp("forest") / "saved"
    tf.saved_model.save(root, str(path))
    test_features, test_labels = _data(200, seed=1)
    expected = root.call_model({k: tf.constant(v) for k, v in test_features.items()}).numpy()
    return path, test_features, test_labels, expected


def test_the_forest_learns_its_structure(saved_forest):
    _, _, labels, probabilities = saved_forest
    assert probabilities.shape == (200, 1)
    accuracy = float(np.mean((probabilities[:, 0] >= 0.5) == labels))
    assert accuracy > 0.95, accuracy


def test_the_saved_forest_needs_tf_df_ops_and_a_plain_model_does_not(saved_forest, tmp_path):
    assert custom_ops.needs_decision_forests(str(saved_forest[0]))
    plain = tf.Module()
    plain.f = tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(plain, str(tmp_path / "plain"))
    assert not custom_ops.needs_decision_forests(str(tmp_path / "plain"))
    assert not custom_ops.needs_decision_forests(str(tmp_path / "nothing-here"))


LOADER = """
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf
path, register = sys.argv[1], sys.argv[2] == "register"
if register:
    from trainer_module.custom_ops import register_for
    assert register_for(path)
try:
    loaded = tf.saved_model.load(path)
except Exception as err:
    print(json.dumps({"loaded": False, "error": str(err).splitlines()[0]}))
    raise SystemExit(0)
features = json.loads(sys.argv[3])
out = loaded.call_model({"x_xf": tf.constant(features["x_xf"], tf.float32), "c_xf": tf.constant(features["c_xf"], tf.int64)})
print(json.dumps({"loaded": True, "tf_df_imported": "tensorflow_decision_forests" in sys.modules,
                  "out": out.numpy()[:, 0].tolist()}))
"""


def _load_in_new_process(path, register: bool, features) -> dict:
    payload = json.dumps({k: v[:20].tolist() for k, v in features.items()})
    done = subprocess.run([sys.executable, "-c", LOADER, str(path), "register" if register else "plain", payload],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_plain_tensorflow_cannot_load_it_and_registering_tf_df_ops_can(saved_forest):
    path, features, _, expected = saved_forest
    plain = _load_in_new_process(path, register=False, features=features)
    assert plain["loaded"] is False
    assert "Op type not registered" in plain["error"] and "SimpleML" in plain["error"], plain["error"]
    registered = _load_in_new_process(path, register=True, features=features)
    assert registered["loaded"] and registered["tf_df_imported"]
    np.testing.assert_allclose(registered["out"], expected[:20, 0], rtol=1e-6)


def test_gbt_refuses_inputs_with_more_than_one_value_per_row():
    image = ModelSpec(inputs=(InputFeature("pixels_xf", "numeric", shape=(8, 8)),), task="multiclass", num_classes=10)
    with pytest.raises(ValueError, match="one value each"):
        gbt.build(image, {})


def test_unknown_gbt_hyperparameters_are_named():
    with pytest.raises(ValueError, match="unknown hyperparameters \\['hidden_units'\\]"):
        gbt.build(SPEC, {"hidden_units": [8]})


def test_gbt_validation_and_growing_strategy_hyperparameters():
    assert not gbt.uses_eval_split({})  # default: TF-DF's own slice of the train split
    assert gbt.uses_eval_split({"validation": "eval_split"})
    assert not gbt.uses_eval_split({"validation": "eval_split", "early_stopping": "NONE"})
    with pytest.raises(ValueError, match="validation='test' is not one of"):
        gbt.build(SPEC, {"validation": "test"})
    with pytest.raises(ValueError, match="growing_strategy='RANDOM' is not one of"):
        gbt.build(SPEC, {"growing_strategy": "RANDOM"})
    # Early stopping on a validation set passed to fit (the eval split): every train row grows trees.
    features, labels = _data()
    valid_features, valid_labels = _data(200, seed=1)
    trees = gbt.build(SPEC, {"num_trees": 20, "validation": "eval_split", "growing_strategy": "BEST_FIRST_GLOBAL",
                             "max_depth": -1, "max_num_nodes": 15})
    trees.fit(tf.data.Dataset.from_tensor_slices((features, labels)).batch(128), verbose=0,
              validation_data=tf.data.Dataset.from_tensor_slices((valid_features, valid_labels)).batch(128))
    logs = trees.make_inspector().training_logs()
    assert logs and logs[-1].evaluation.num_examples in (None, 200) and logs[-1].evaluation.loss is not None
