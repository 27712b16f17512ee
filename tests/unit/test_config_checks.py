"""pipeline/config/checks.py: the rules a config follows beyond each key's type, each error one line naming the key."""

from __future__ import annotations

import pytest

from pipeline.config.loader import load_config
from tests.unit.test_config_loader import BASE, config_error


@pytest.mark.parametrize(
    "extra, message",
    [
        ("evaluation: {thresholds: {mse: {lower: 1}}}\n", "metric 'mse' is not computed for binary"),
        ("model: {family: transformer}\n", "model family 'transformer' is unknown"),
        ("features: {categorical: [a], bucketize: {a: 3}}\n", "both categorical and bucketized"),
        ("example_gen: digits\nsplit_buckets: {train: 2, eval: 1}\n", "split_buckets applies to example_gen: csv"),
        ("example_gen: parquet\n", "example_gen must be one of csv, digits, got 'parquet'"),
        ("eval_split_percent: 95\n", "eval_split_percent must be between 1 and 90, got 95"),
        ("model: {hparams_by_family: {gbm: {}}}\n", "model family 'gbm' is unknown"),
        ("evaluation: {by_family: {gbm: {}}}\n", "evaluation.by_family names unknown model family 'gbm'"),
        (
            "evaluation: {by_family: {autoencoder: {thresholds: {auc: 0.9}}}}\n",
            "evaluation.by_family.autoencoder metric 'auc' is not computed for reconstruction",
        ),
        ("training: {strategy: quantum}\n", "training.strategy 'quantum' is unknown"),
        ("training: {workers: 2}\n", "training.workers 2 needs training.strategy multi_worker"),
        ("training: {mixed_precision: fp8}\n", "training.mixed_precision must be bf16 or fp16"),
    ],
)
def test_config_errors_name_the_key(tmp_path, extra, message):
    assert message in config_error(tmp_path, BASE + extra)


def test_top_level_gates_are_not_checked_for_a_family_with_its_own():
    # An autoencoder is judged by evaluation.by_family.autoencoder; the classifier's auc gate does not apply to it.
    cfg = load_config("digits", {"model.family": "autoencoder"})
    assert cfg.objective == "reconstruction" and "mean_reconstruction_error" in cfg.gates.thresholds


def test_label_needs_exactly_one_source(tmp_path):
    both = "name: t\ntask: binary\nlabel: {column: y, fn: a.b, inputs: [y], name: z}\n"
    assert "exactly one of 'column' or 'fn'" in config_error(tmp_path, both)
    no_inputs = "name: t\ntask: binary\nlabel: {fn: a.b, name: z}\n"
    assert "label.fn needs label.inputs" in config_error(tmp_path, no_inputs)
    no_name = "name: t\ntask: binary\nlabel: {fn: a.b, inputs: [y]}\n"
    assert "label.fn needs label.name" in config_error(tmp_path, no_name)


def test_unknown_task_and_bad_name(tmp_path):
    assert "task must be one of binary, multiclass, regression" in config_error(
        tmp_path, "name: t\ntask: ranking\nlabel: {column: y}\n"
    )
    assert "name must be letters, digits, - or _, got 'my pipeline'" in config_error(
        tmp_path, "name: my pipeline\ntask: binary\nlabel: {column: y}\n"
    )
