"""The taxi label function, strategy selection and the generated TFMA config."""

from __future__ import annotations

import json

import pytest

from pipeline.config.loader import load_config
from pipeline.config.schema import ConfigError
from pipeline.dag.tfma_config import eval_config
from trainer_module import strategy


def test_taxi_big_tipper():
    import tensorflow as tf

    from trainer_module.labels import taxi_big_tipper

    got = taxi_big_tipper({"tips": tf.constant([0.0, 2.0, 2.01, 5.0]), "fare": tf.constant([10.0, 10.0, 10.0, 0.0])})
    assert got.numpy().tolist() == [0, 0, 1, 1]  # strictly more than 20 % of the fare


@pytest.mark.parametrize(
    "requested, gpus, tf_config, tpu, expected",
    [
        ("auto", 0, None, False, "default"),
        ("auto", 1, None, False, "one_device"),
        ("auto", 4, None, False, "mirrored"),
        ("auto", 0, json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}),
         False, "multi_worker"),
        ("auto", 8, None, True, "tpu"),
        ("mirrored", 0, None, False, "mirrored"),
    ],
)
def test_strategy_decision(requested, gpus, tf_config, tpu, expected):
    choice = strategy.decide(requested, gpus, tf_config, tpu)
    assert choice.name == expected and choice.reason


def test_strategy_rejects_unknown_and_bad_tf_config():
    with pytest.raises(ValueError, match="unknown strategy"):
        strategy.decide("quantum", 0, None, False)
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        strategy.decide("auto", 0, "{nope", False)


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


def test_tpu_requested_without_a_tpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no TPU was found"):
        strategy.create("tpu", tpu_probe=lambda: None)


def test_tpu_found_by_the_resolver_goes_down_the_tpu_path(monkeypatch):
    """A fake resolver: the TPU branch connects to the cluster and initializes the TPU system with it."""
    import tensorflow as tf

    calls = []
    fake = object()
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster", lambda r: calls.append(("connect", r)))
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", lambda r: calls.append(("init", r)))
    monkeypatch.setattr(tf.distribute, "TPUStrategy", lambda r: ("TPUStrategy", r))
    built, choice = strategy.create("auto", tpu_probe=lambda: fake)
    assert choice.name == "tpu" and built == ("TPUStrategy", fake)
    assert calls == [("connect", fake), ("init", fake)]


def test_multi_worker_is_created_before_tensorflow_lists_devices(monkeypatch):
    """MultiWorkerMirroredStrategy must come before anything initializes TensorFlow's context."""
    import tensorflow as tf

    order = []
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 0}}))
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", lambda: order.append("mwms") or "MWMS")
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind: order.append("list") or [])
    built, choice = strategy.create("auto", tpu_probe=lambda: order.append("tpu-probe"))
    assert built == "MWMS" and choice.name == "multi_worker" and order == ["mwms"]
