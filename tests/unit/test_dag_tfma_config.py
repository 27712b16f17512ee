"""pipeline/dag/tfma_config.py: the Evaluator's TFMA EvalConfig (metrics, value and change gates, slices, the
serving contract it reads the model through)."""

from __future__ import annotations

import json

import pytest

from pipeline.config.loader import load_config
from pipeline.dag.tfma_config import AUC_THRESHOLDS, eval_config
from trainer_module import serving_contract


def test_eval_config_thresholds_and_slices():
    cfg = load_config("taxi")
    ec = eval_config(cfg)
    spec = ec.model_specs[0]
    assert spec.label_key == "big_tipper_xf" and list(spec.preprocessing_function_names) == ["transform_features"]
    assert [list(s.feature_keys) for s in ec.slicing_specs] == [[], ["trip_start_hour"]]
    by_name = {m.class_name: m for m in ec.metrics_specs[0].metrics}
    assert set(by_name) >= {"AUC", "BinaryAccuracy", "Precision", "Recall", "Calibration"}
    auc = by_name["AUC"].per_slice_thresholds[0]
    assert [list(s.feature_keys) for s in auc.slicing_specs] == [[]]  # the gate applies to the overall slice
    assert auc.threshold.value_threshold.lower_bound.value == pytest.approx(0.9)
    assert auc.threshold.change_threshold.absolute.value == pytest.approx(-0.005, abs=1e-9)


def test_regression_change_threshold_direction(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "name: r\ntask: regression\nlabel: {column: y}\n"
        "evaluation: {thresholds: {mean_squared_error: {upper: 2.0}}, change_thresholds: {mean_squared_error: 0}}\n"
    )
    ec = eval_config(load_config(path))
    mse = {m.class_name: m for m in ec.metrics_specs[0].metrics}["MeanSquaredError"].per_slice_thresholds[0].threshold
    assert mse.value_threshold.upper_bound.value == 2.0
    import tensorflow_model_analysis as tfma

    assert mse.change_threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER
    assert mse.change_threshold.absolute.value > 0  # an increase above ~0 fails



def test_the_model_is_read_through_the_serving_contract():
    spec = eval_config(load_config("taxi")).model_specs[0]
    assert spec.signature_name == serving_contract.SERVING_SIGNATURE
    assert list(spec.preprocessing_function_names) == [serving_contract.TRANSFORM_SIGNATURE]
    # serving_default may return class names too: TFMA reads the probabilities only.
    assert spec.prediction_key == serving_contract.PROBABILITIES
    # Rows without a label weigh 0 in every metric.
    assert spec.example_weight_key == "big_tipper__has_label_xf" and spec.label_key == "big_tipper_xf"


def test_an_autoencoder_is_judged_on_its_reconstruction_error_alone():
    ec = eval_config(load_config("digits", {"model.family": "autoencoder"}))
    assert ec.model_specs[0].prediction_key == serving_contract.RECONSTRUCTION_ERROR
    assert ec.options.include_default_metrics.value is False
    metrics = ec.metrics_specs[0].metrics
    # TFMA's MeanPrediction under the name the config gates on.
    assert [(m.class_name, json.loads(m.config or "{}").get("name")) for m in metrics] == [
        ("MeanPrediction", "mean_reconstruction_error"), ("ExampleCount", None)
    ]
    gate = metrics[0].per_slice_thresholds[0].threshold
    assert gate.value_threshold.upper_bound.value == pytest.approx(0.6)


def test_auc_uses_fewer_thresholds_and_metrics_keep_tfma_names():
    metrics = {m.class_name: m for m in eval_config(load_config("taxi")).metrics_specs[0].metrics}
    assert json.loads(metrics["AUC"].config) == {"num_thresholds": AUC_THRESHOLDS}
    assert not metrics["BinaryAccuracy"].config  # TFMA's own name (binary_accuracy) is the config's name


def test_thresholds_on_slices_gate_every_slice():
    ec = eval_config(load_config("taxi", {"evaluation.thresholds_on_slices": True}))
    auc = {m.class_name: m for m in ec.metrics_specs[0].metrics}["AUC"]
    assert not auc.per_slice_thresholds and auc.threshold.value_threshold.lower_bound.value == pytest.approx(0.9)


def test_binary_tasks_also_compute_calibration_and_confusion_plots():
    classes = [m.class_name for m in eval_config(load_config("taxi")).metrics_specs[0].metrics]
    assert "CalibrationPlot" in classes and "ConfusionMatrixPlot" in classes  # the report's curves
    digits = [m.class_name for m in eval_config(load_config("digits")).metrics_specs[0].metrics]
    assert not {"CalibrationPlot", "ConfusionMatrixPlot"} & set(digits)
