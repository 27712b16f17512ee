"""trainer_module/training_summary.py: the derived figures of training_summary.json and where it is written."""

from __future__ import annotations

import json

from trainer_module import training_summary

FACTS = dict(
    strategy="default", reason="no GPU, TPU or multi-worker cluster found", replicas=1, workers=1,
    global_batch_size=128, mixed_precision=None, steps_per_execution=1, model_family="dnn", warm_start=False,
    warm_start_reason="not requested", seed=42, steps_per_epoch=50, inputs=["fare_xf", "company_xf"],
)


def test_figures_derive_from_the_history_and_timings():
    history = {"loss": [0.7, 0.5, 0.4], "val_loss": [0.6, 0.5, 0.45], "auc": [0.8, 0.9, 0.92]}
    summary = training_summary.build(**FACTS, history=history, fit_seconds=2.0, wall_seconds=3.14159)
    assert summary["epochs_run"] == 3  # early stopping may end before the configured epochs
    assert summary["steps"] == 150
    assert summary["final"] == {"loss": 0.4, "val_loss": 0.45, "auc": 0.92}
    assert summary["history"]["auc"] == [0.8, 0.9, 0.92]
    assert summary["examples_per_second"] == 150 * 128 / 2.0
    assert summary["wall_seconds"] == 3.14
    assert {k: summary[k] for k in FACTS} == FACTS


def test_history_values_become_plain_floats_for_json():
    import numpy as np

    summary = training_summary.build(**FACTS, history={"loss": [np.float32(0.5)]}, fit_seconds=1, wall_seconds=1)
    assert type(summary["history"]["loss"][0]) is float and type(summary["final"]["loss"]) is float


def test_written_beside_the_model_run(tmp_path):
    summary = training_summary.build(**FACTS, history={"loss": [0.5]}, fit_seconds=1.0, wall_seconds=1.0)
    path = training_summary.write(str(tmp_path / "model_run"), summary)
    assert path == str(tmp_path / "model_run" / training_summary.SUMMARY_FILE)
    assert json.loads((tmp_path / "model_run" / "training_summary.json").read_text()) == summary
