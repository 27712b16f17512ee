"""Local multi-worker training: the Trainer's run_fn in 2 worker processes on 127.0.0.1 (TF_CONFIG)."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support

SMALL = ["--train-steps", "60", "--set", "training.epochs=2",
         "--set", "evaluation.thresholds.sparse_categorical_accuracy.lower=0.3",
         "--set", "evaluation.change_thresholds={}"]


def test_two_workers_train_one_model_that_serves(tmp_path):
    import tensorflow as tf

    result = support.cli(["run", "--config", "digits", "--home", tmp_path,
                          "--strategy", "multi_worker", "--workers", "2", *SMALL])
    assert result.code == 0, result.stdout + result.stderr
    store = open_store(sqlite_config(tmp_path / "metadata.sqlite", create=False))
    executions = mlmd_runs.node_executions(store, "digits", mlmd_runs.run_ids(store, "digits")[0])
    model_run = Path(executions["Trainer"].outputs["model_run"][0].uri)
    summary = json.loads((model_run / "training_summary.json").read_text())
    assert summary["strategy"] == "multi_worker" and summary["replicas"] == 2 and summary["workers"] == 2
    versions = support.pushed_versions(tmp_path / "serving" / "digits")
    assert len(versions) == 1
    model = tf.saved_model.load(str(versions[0]))
    example = tf.train.Example(features=tf.train.Features(feature={
        "pixels": tf.train.Feature(float_list=tf.train.FloatList(value=[8.0] * 64))})).SerializeToString()
    assert model.signatures["serving_default"](examples=tf.constant([example]))["probabilities"].shape == (1, 10)


def test_a_failing_worker_fails_the_trainer_with_its_error(tmp_path):
    result = support.cli(["run", "--config", "digits", "--home", tmp_path,
                          "--strategy", "multi_worker", "--workers", "2", *SMALL,
                          "--set", "model.hparams_by_family.cnn.no_such_hparam=1"])
    assert result.code == 1, result.stdout + result.stderr
    assert "FAILED: component Trainer" in result.stdout
    log = next((tmp_path / "logs").glob("run-*.log")).read_text()
    assert "training worker" in log and "unknown hyperparameters ['no_such_hparam']" in log
    store = open_store(sqlite_config(tmp_path / "metadata.sqlite", create=False))
    executions = mlmd_runs.node_executions(store, "digits", mlmd_runs.run_ids(store, "digits")[0])
    assert executions["Trainer"].state == "failed" and "Pusher" not in executions
