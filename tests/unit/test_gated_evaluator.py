"""components/gated_evaluator: the default gates, how they join the config's in the EvalConfig, the recorded gates,
and the RSquared TFMA metric."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_model_analysis as tfma

from components.gated_evaluator import gates as G
from components.gated_evaluator.executor import gates_in_force
from components.gated_evaluator.r_squared import RSquared
from pipeline.config.evaluation import TASK_METRICS, metric_default_name
from pipeline.config.loader import load_config
from pipeline.dag.tfma_config import eval_config

NAIVE_BINARY = {"task": "binary", "rows": 1000, "majority_class": "No", "majority_rate": 0.7134567}


def _config(overrides: dict, task: str = "binary"):
    """An EvalConfig as the pipeline builds it for the taxi config without its gates, plus `overrides`."""
    base = {"evaluation.thresholds": {}, "evaluation.change_thresholds": {}, "evaluation.slices": []}
    return eval_config(load_config("taxi", {**base, "task": task, **overrides}))


def _overall_thresholds(config: tfma.EvalConfig) -> dict[str, tfma.MetricThreshold]:
    out = {}
    for metric in config.metrics_specs[0].metrics:
        for per_slice in metric.per_slice_thresholds:
            assert list(per_slice.slicing_specs) == [tfma.SlicingSpec()]  # the overall slice
            out[G.metric_name(metric.class_name, metric.config)] = per_slice.threshold
    return out


def test_default_gate_metrics_are_metrics_the_evaluator_computes():
    for task, metrics in G.VALUE_METRICS.items():
        assert set(metrics) <= set(TASK_METRICS[task])
        assert G.MAIN_METRIC[task] in TASK_METRICS[task]
    for metrics in TASK_METRICS.values():
        for name, (class_name, _) in metrics.items():
            assert G.metric_name(class_name) == metric_default_name(class_name)


def test_no_thresholds_in_the_config_means_the_naive_model_gates():
    config = _config({})
    recorded = gates_in_force(config, NAIVE_BINARY)
    thresholds = _overall_thresholds(config)
    # AUC > 0.5 (strict), accuracy >= the majority rate rounded up to 6 decimals, not worse than the baseline.
    assert thresholds["auc"].value_threshold.lower_bound.value == pytest.approx(0.5 + G.STRICT, abs=1e-12)
    assert thresholds["auc"].change_threshold.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert thresholds["auc"].change_threshold.absolute.value == pytest.approx(0.0, abs=1e-9)
    assert thresholds["binary_accuracy"].value_threshold.lower_bound.value == 0.713457
    assert {(g.metric, g.kind, g.source) for g in recorded} == {
        ("auc", "value", "default"), ("binary_accuracy", "value", "default"), ("auc", "change", "default")}
    why = next(g.why for g in recorded if g.metric == "binary_accuracy")
    assert "'No'" in why and "71.3%" in why and "1,000" in why
    assert G.from_json(G.to_json(recorded)) == recorded


def test_the_configs_own_thresholds_replace_the_defaults():
    config = _config({"evaluation.thresholds": {"auc": {"lower": 0.8}}})
    recorded = gates_in_force(config, NAIVE_BINARY)
    assert {(g.metric, g.kind, g.source) for g in recorded} == {("auc", "value", "config"), ("auc", "change", "default")}
    assert "binary_accuracy" not in _overall_thresholds(config)
    assert _overall_thresholds(config)["auc"].value_threshold.lower_bound.value == 0.8

    config = _config({"evaluation.change_thresholds": {"binary_accuracy": -0.01}})
    recorded = gates_in_force(config, NAIVE_BINARY)
    assert {(g.metric, g.kind, g.source) for g in recorded} == {
        ("binary_accuracy", "change", "config"), ("auc", "value", "default"), ("binary_accuracy", "value", "default")}
    change = next(g for g in recorded if g.kind == "change")
    assert change.change == pytest.approx(-0.01)
    # The default value gate joins the configured change gate in one threshold on the overall slice.
    accuracy = _overall_thresholds(config)["binary_accuracy"]
    assert accuracy.HasField("value_threshold") and accuracy.HasField("change_threshold")


def test_multiclass_and_regression_defaults():
    multiclass = gates_in_force(_config({}, "multiclass"), {"task": "multiclass", "rows": 50, "majority_class": "a",
                                                           "majority_rate": 0.5})
    assert [(g.metric, g.kind, g.lower) for g in multiclass] == [
        ("sparse_categorical_accuracy", "value", 0.5 + G.STRICT), ("sparse_categorical_accuracy", "change", None)]
    config = _config({"label": {"column": "fare"}}, "regression")
    regression = gates_in_force(config, {"task": "regression", "rows": 9})
    assert [(g.metric, g.kind) for g in regression] == [("r_squared", "value"), ("r_squared", "change")]
    assert _overall_thresholds(config)["r_squared"].value_threshold.lower_bound.value == G.STRICT


def test_without_a_naive_model_only_the_configs_gates_apply():
    # An autoencoder, or a model trained before naive_model.json existed.
    config = _config({})
    assert gates_in_force(config, None) == []
    assert _overall_thresholds(config) == {}
    # Class counts are only written when the default gates need them.
    assert gates_in_force(_config({"evaluation.thresholds": {"auc": 0.7}}), {"task": "binary"})[0].source == "config"


def _r_squared(labels, predictions, weights=None) -> float:
    combiner = RSquared().computations(example_weighted=weights is not None)[0].combiner
    accumulator = combiner.create_accumulator()
    for i, (label, prediction) in enumerate(zip(labels, predictions)):
        element = tfma.metrics.StandardMetricInputs(
            labels=np.array([label]), predictions=np.array([prediction]),
            example_weights=np.array([1.0 if weights is None else weights[i]]))
        accumulator = combiner.add_input(accumulator, element)
    half = combiner.merge_accumulators([accumulator, combiner.create_accumulator()])
    return list(combiner.extract_output(half).values())[0]


def test_r_squared_matches_the_coefficient_of_determination():
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    labels = rng.normal(100, 20, 200)
    predictions = labels + rng.normal(0, 10, 200)
    assert _r_squared(labels, predictions) == pytest.approx(r2_score(labels, predictions), rel=1e-9)
    assert _r_squared(labels, np.full(200, labels.mean())) == pytest.approx(0.0, abs=1e-9)  # the mean scores 0
    weights = rng.integers(0, 2, 200).astype(float)  # rows without a label weigh 0
    assert _r_squared(labels, predictions, weights) == pytest.approx(
        r2_score(labels, predictions, sample_weight=weights), rel=1e-9)
