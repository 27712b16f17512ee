"""pipeline.metadata.summary: what a finished run produced (the `tfx-e2e run` summary), read back from a real MLMD
store and real StatisticsGen / ExampleValidator / Evaluator files."""

from __future__ import annotations

import dataclasses

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.anomalies_gate.schema_diff import Finding
from pipeline.config.loader import load_config
from pipeline.metadata import runs as R
from pipeline.metadata.summary import summarize
from tests.unit.gated_evaluations import CASES, DEFAULT_BINARY_GATES, gate, record_gates
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.tfx_outputs import REAL_EVALUATION, eval_config, write_anomalies, write_evaluation, write_statistics

DATA_NODES = ("CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomaliesGate", "Transform")
UNEXPECTED = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
LOW_COUNT = anomalies_pb2.AnomalyInfo.DATASET_LOW_NUM_EXAMPLES


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """first: the real evaluation (not blessed), no anomalies. second: anomalies allowed, blessed against first's
    model and pushed. again: second's data and push reused (the Pusher cached)."""
    root = tmp_path_factory.mktemp("store")
    b = Store(root / "metadata.sqlite")
    stats = write_statistics(root / "stats", {"train": (100, {}), "eval": (50, {})})
    first = taxi_run(b, root, "first", statistics=stats, evaluation=str(REAL_EVALUATION), blessed=False,
                     anomalies=write_anomalies(root / "no-anomalies", {"train": {}, "eval": {}}))
    anomalies = write_anomalies(root / "anomalies", {
        "eval": {"payment_type": (UNEXPECTED, "Unexpected string values",
                                  "Examples contain values missing from the schema: Bitcoin (~30%).")},
        "train": {"<dataset>": (LOW_COUNT, "Low num examples", "Only 3 examples.")},
    })
    evaluation = write_evaluation(
        root / "evaluation", {"overall": {"auc": 0.95, "binary_accuracy": 0.85, "precision": 0.7},
                              "trip_start_hour=1": {"auc": 0.5}},
        eval_config({"AUC": (0.9, -0.005), "BinaryAccuracy": (0.8, None)}),
        baseline={"overall": {"auc": 0.93, "binary_accuracy": 0.84, "precision": 0.6}})
    second = taxi_run(b, root, "second", statistics=stats, anomalies=anomalies, evaluation=evaluation,
                      baseline=first.outputs["Trainer"]["model"][0], pushed_version="1700000002")
    taxi_run(b, root, "again", previous=second, cached=(*DATA_NODES, "Pusher"), evaluation=evaluation,
             baseline=first.outputs["Trainer"]["model"][0], pushed_version="1700000003")
    return b.store


def _summary(store, run_id, cfg=None):
    return summarize(cfg or load_config("taxi"), R.node_executions(store, "taxi", run_id))


def test_a_run_without_a_baseline_gets_its_value_gates_only(store):
    s = _summary(store, "first")
    assert s.rows == {"train": 100, "eval": 50}
    assert s.anomalies == [] and s.anomalies_uri.endswith("no-anomalies")
    metrics = {m.name: m for m in s.metrics}
    assert [m.name for m in s.metrics] == sorted(metrics) and len(metrics) == 8
    auc, accuracy, calibration = metrics["auc"], metrics["binary_accuracy"], metrics["calibration"]
    assert auc.value == pytest.approx(0.9085234)
    assert (auc.lower, auc.upper, auc.baseline, auc.passed) == (0.9, None, None, True)
    assert (accuracy.lower, accuracy.passed) == (0.8, False)
    assert (calibration.lower, calibration.passed) == (None, None)  # no gate on it
    assert (s.has_baseline, s.blessed, s.pushed, s.pushed_now) == (False, False, None, False)
    assert s.evaluation_uri == str(REAL_EVALUATION)


def test_a_pushed_run_with_anomalies_and_a_baseline(store):
    s = _summary(store, "second")
    assert s.anomalies == [
        Finding("eval", "payment_type", "Unexpected string values", "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
                "Examples contain values missing from the schema: Bitcoin (~30%)."),
        Finding("train", "<dataset>", "Low num examples", "DATASET_LOW_NUM_EXAMPLES", "Only 3 examples."),
    ]
    assert [(m.name, m.value, m.baseline, m.passed) for m in s.metrics] == [
        ("auc", 0.95, 0.93, True), ("binary_accuracy", 0.85, 0.84, True), ("precision", 0.7, 0.6, None)]
    assert (s.has_baseline, s.blessed) == (True, True)
    assert (s.pushed, s.pushed_now) == ("/serving/taxi/1700000002", True)


def test_a_cached_push_is_reported_as_not_new(store):
    s = _summary(store, "again")
    assert (s.pushed, s.pushed_now) == ("/serving/taxi/1700000002", False)


def test_a_change_threshold_alone_checks_a_metric_only_against_a_baseline(store):
    cfg = load_config("taxi")
    cfg = dataclasses.replace(cfg, evaluation=dataclasses.replace(cfg.evaluation, thresholds={},
                                                                  change_thresholds={"auc": -0.1}))
    assert {m.name: m.passed for m in _summary(store, "second", cfg).metrics}["auc"] is True
    assert {m.name: m.passed for m in _summary(store, "first", cfg).metrics}["auc"] is None


def test_a_run_that_stopped_early_has_only_what_ran(tmp_path):
    b = Store(tmp_path / "metadata.sqlite")
    stats = write_statistics(tmp_path / "stats", {"train": (7, {})})
    taxi_run(b, tmp_path, "stopped", statistics=stats, fail_at="ExampleValidator")
    s = _summary(b.store, "stopped")
    assert s.rows == {"train": 7} and s.anomalies_uri is None and s.metrics == []
    assert (s.blessed, s.pushed) == (None, None)


def test_recorded_gates_replace_the_configs_and_default_ones_are_marked(tmp_path):
    b = Store(tmp_path / "metadata.sqlite")
    first = taxi_run(b, tmp_path, "first", evaluation=str(CASES / "binary_first_run_blessed"))
    record_gates(b, first, DEFAULT_BINARY_GATES)
    worse = taxi_run(b, tmp_path, "worse", evaluation=str(CASES / "binary_change_failed"), blessed=False,
                     baseline=first.outputs["Trainer"]["model"][0])
    record_gates(b, worse, DEFAULT_BINARY_GATES)
    # The taxi config's own gates (auc >= 0.9, binary_accuracy >= 0.8) are not the ones in force: the recorded are.
    rows = {m.name: m for m in _summary(b.store, "first").metrics}
    assert [(m.name, m.lower, m.default, m.change, m.change_default, m.passed) for m in rows.values()] == [
        ("auc", 0.5, True, 0.0, True, True), ("binary_accuracy", 0.71, True, 0.0, True, True),
        ("example_count", None, False, None, False, None)]
    rows = {m.name: m for m in _summary(b.store, "worse").metrics}  # worse than the baseline: the change gates fail
    assert [(m.name, m.baseline, m.passed) for m in rows.values()] == [
        ("auc", pytest.approx(0.9805731), False), ("binary_accuracy", 0.86, False), ("example_count", 100, None)]
    # Recorded gates that are not defaults are not marked.
    record_gates(b, worse, [gate("auc", "value", lower=0.9, source="config")])
    rows = {m.name: m for m in _summary(b.store, "worse").metrics}
    assert (rows["auc"].lower, rows["auc"].default, rows["auc"].change, rows["binary_accuracy"].passed) == (
        0.9, False, None, None)
