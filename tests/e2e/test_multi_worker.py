"""Local multi-worker training: the Trainer's run_fn in 2 worker processes on 127.0.0.1 (TF_CONFIG). Both tests use
one home, so that the failing run takes everything before the Trainer from the first run's cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support

SMALL = ["--train-steps", "60", "--set", "training.epochs=2",
         "--set", "evaluation.thresholds.sparse_categorical_accuracy.lower=0.3",
         "--set", "evaluation.change_thresholds={}"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """(home, result) of the two-worker run."""
    home = tmp_path_factory.mktemp("multi_worker_home")
    return home, support.cli(["run", "--config", "digits", "--home", home,
                              "--strategy", "multi_worker", "--workers", "2", *SMALL])


def test_two_workers_train_one_model_that_serves(first_run):
    import tensorflow as tf

    home, result = first_run
    assert result.code == 0, result.stdout + result.stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    executions = mlmd_runs.node_executions(store, "digits", mlmd_runs.run_ids(store, "digits")[0])
    model_run = Path(executions["Trainer"].outputs["model_run"][0].uri)
    summary = json.loads((model_run / "training_summary.json").read_text())
    assert summary["strategy"] == "multi_worker" and summary["replicas"] == 2 and summary["workers"] == 2
    versions = support.pushed_versions(home / "serving" / "digits")
    assert len(versions) == 1
    model = tf.saved_model.load(str(versions[0]))
    example = tf.train.Example(features=tf.train.Features(feature={
        "pixels": tf.train.Feature(float_list=tf.train.FloatList(value=[8.0] * 64))})).SerializeToString()
    assert model.signatures["serving_default"](examples=tf.constant([example]))["probabilities"].shape == (1, 10)


def test_a_failing_worker_fails_the_trainer_with_its_error(first_run):
    home, _ = first_run
    logs_before = set((home / "logs").glob("run-*.log"))
    result = support.cli(["run", "--config", "digits", "--home", home,
                          "--strategy", "multi_worker", "--workers", "2", *SMALL,
                          "--set", "model.hparams_by_family.cnn.no_such_hparam=1"])
    assert result.code == 1, result.stdout + result.stderr
    assert "FAILED: component Trainer" in result.stdout
    [log] = set((home / "logs").glob("run-*.log")) - logs_before
    assert "training worker" in log.read_text() and "unknown hyperparameters ['no_such_hparam']" in log.read_text()
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    executions = mlmd_runs.node_executions(store, "digits", mlmd_runs.run_ids(store, "digits")[-1])
    assert executions["Trainer"].state == "failed" and "Pusher" not in executions
    assert executions["Transform"].state == "cached"  # from the first run: only the Trainer ran and failed
