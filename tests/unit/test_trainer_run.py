"""trainer_module/run.py's steps apart from a pipeline: the model built under a strategy with warm start and
recompile, the epoch split, each worker's destinations and the callbacks."""

from __future__ import annotations

import os

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from trainer_module import run, warm_start
from trainer_module.features import InputFeature, ModelSpec
from trainer_module.strategy import Choice

SPEC = ModelSpec((InputFeature("fare_xf", "numeric"), InputFeature("company_xf", "categorical", 12)), "binary")
DEFAULT = run.Setup(tf.distribute.get_strategy(), Choice("default", "test"), chief=True, precision=None, seed=None)


def _batch(n=32):
    rng = np.random.default_rng(0)
    x = {"fare_xf": rng.normal(size=(n, 1)).astype("float32"),
         "company_xf": rng.integers(0, 12, size=(n, 1)).astype("int64")}
    return x, rng.integers(0, 2, size=(n, 1))


def test_a_cold_model_is_compiled_by_its_family_and_not_recompiled():
    built = run.build_model(DEFAULT, "dnn", SPEC, {"training": {}}, base_model=None)
    assert (built.warm, built.warm_reason, built.steps_per_execution) == (False, "not requested", 1)
    assert built.model.get_compile_config()["loss"] == "binary_crossentropy"


def test_steps_per_execution_recompiles_with_the_familys_loss_and_metrics():
    built = run.build_model(DEFAULT, "dnn", SPEC, {"training": {"steps_per_execution": 4}}, base_model=None)
    assert built.steps_per_execution == 4
    config = built.model.get_compile_config()
    assert config["steps_per_execution"] == 4 and config["loss"] == "binary_crossentropy"
    history = built.model.fit(*_batch(), batch_size=8, epochs=1, verbose=0)
    assert sorted(history.history) == ["auc", "binary_accuracy", "loss"]


def test_warm_start_loads_the_base_weights_freezes_and_recompiles(tmp_path):
    base = run.build_model(DEFAULT, "dnn", SPEC, {"training": {}}, base_model=None).model
    base.fit(*_batch(), batch_size=8, epochs=1, verbose=0)
    serving_dir = str(tmp_path / "Format-Serving")
    warm_start.save(base, "dnn", serving_dir)
    custom = {"training": {"warm_start_freeze_layers": 1}}
    built = run.build_model(DEFAULT, "dnn", SPEC, custom, base_model=serving_dir)
    assert built.warm and "1 lowest layers frozen" in built.warm_reason
    for ours, theirs in zip(built.model.get_weights(), base.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    frozen = [layer for layer in built.model.layers if layer.weights and not layer.trainable]
    assert len(frozen) == 1
    before = [w.numpy().copy() for w in frozen[0].weights]
    history = built.model.fit(*_batch(), batch_size=8, epochs=1, verbose=0)
    assert "auc" in history.history  # recompiled with the family's metrics
    for b, w in zip(before, frozen[0].weights):
        np.testing.assert_array_equal(b, w.numpy())  # the frozen layer did not train


def test_a_mismatched_base_model_trains_from_scratch(tmp_path):
    base = run.build_model(DEFAULT, "dnn", SPEC, {"training": {}}, base_model=None).model
    serving_dir = str(tmp_path / "Format-Serving")
    warm_start.save(base, "cnn", serving_dir)
    built = run.build_model(DEFAULT, "dnn", SPEC, {"training": {}}, base_model=serving_dir)
    assert not built.warm and "training from scratch" in built.warm_reason


@pytest.mark.parametrize(
    "epochs, train_steps, expected",
    [(5, 1000, (5, 200)), (5, 3, (3, 1)), (1, 7, (1, 7)), (0, 10, (1, 10)), (4, 10, (4, 2))],
)
def test_epochs_split_the_train_steps(epochs, train_steps, expected):
    assert run.epochs_and_steps({"epochs": epochs}, train_steps) == expected


def test_chief_writes_to_the_artifacts_and_other_workers_to_scratch():
    class FnArgs:
        model_run_dir, serving_model_dir = "/artifacts/model_run", "/artifacts/model/Format-Serving"

    assert run.destinations(FnArgs, chief=True) == run.Destinations(FnArgs.model_run_dir, FnArgs.serving_model_dir)
    worker = run.destinations(FnArgs, chief=False)
    try:
        assert os.path.isdir(worker.scratch)
        assert worker.model_run_dir.startswith(worker.scratch) and worker.serving_dir.startswith(worker.scratch)
    finally:
        os.rmdir(worker.scratch)


def test_only_multi_worker_training_backs_up_for_restarts(tmp_path):
    training = {"early_stopping_patience": 3}
    single = run.callbacks(training, Choice("default", "test"), str(tmp_path / "logs"), str(tmp_path))
    assert [type(c).__name__ for c in single] == ["TensorBoard", "EarlyStopping"]
    assert single[1].patience == 3 and single[1].restore_best_weights
    multi = run.callbacks(training, Choice("multi_worker", "test"), str(tmp_path / "logs"), str(tmp_path))
    assert type(multi[-1]).__name__ == "BackupAndRestore"
    assert multi[-1].backup_dir == str(tmp_path / "backup")
