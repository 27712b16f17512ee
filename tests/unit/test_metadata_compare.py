"""pipeline.metadata.compare (`tfx-e2e compare`) on a real MLMD store and real StatisticsGen/Evaluator files."""

from __future__ import annotations

import pytest

from pipeline.metadata.compare import compare
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.tfx_outputs import eval_config, write_evaluation, write_statistics

DATA_NODES = ("CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomaliesGate", "Transform")
CONFIG = eval_config({"AUC": (0.5, -0.01)}, slices=("trip_start_hour",))


def _stats(root, name, train_rows, fare_mean):
    return write_statistics(root / name, {
        "train": (train_rows, {"fare": {"mean": fare_mean, "std_dev": 2.0, "missing": 0},
                               "payment_type": {"unique": 4, "missing": 1}}),
        "eval": (50, {"fare": {"mean": 10.0, "std_dev": 2.0, "missing": 0},
                      "payment_type": {"unique": 3, "missing": 0}}),
    })


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """a: the first run. b: new data (more train rows, a higher fare mean) and dropout 0.2, evaluated against a's
    model. c: b's data again (data nodes cached), dropout 0.3. failed: b's data, the Trainer failed."""
    root = tmp_path_factory.mktemp("store")
    b = Store(root / "metadata.sqlite")
    run_a = taxi_run(b, root, "a", statistics=_stats(root, "stats-a", 100, 10.0), evaluation=write_evaluation(
        root / "eval-a", {"overall": {"auc": 0.90, "example_count": 50.0}, "trip_start_hour=1": {"auc": 0.85}},
        CONFIG), pushed_version="1")
    run_b = taxi_run(b, root, "b", dropout=0.2, statistics=_stats(root, "stats-b", 120, 11.5),
                     baseline=run_a.outputs["Trainer"]["model"][0], evaluation=write_evaluation(
                         root / "eval-b", {"overall": {"auc": 0.92, "example_count": 50.0},
                                           "trip_start_hour=1": {"auc": 0.80}, "trip_start_hour=2": {"auc": 0.7}},
                         CONFIG, baseline={"overall": {"auc": 0.90}}), pushed_version="2")
    taxi_run(b, root, "c", dropout=0.3, previous=run_b, cached=DATA_NODES, evaluation=write_evaluation(
        root / "eval-c", {"overall": {"auc": 0.93}}, CONFIG))
    taxi_run(b, root, "failed", previous=run_b, cached=DATA_NODES, fail_at="Trainer")
    return b.store


def _by(deltas):
    return {(d.name, d.where): d for d in deltas}


def test_candidate_metrics_per_slice_overall_first(store):
    result = compare(store, "a", "taxi", "b", "taxi")
    assert [d.where for d in result.metrics][:2] == ["overall", "overall"]
    metrics = _by(result.metrics)
    auc = metrics[("auc", "overall")]
    assert (auc.a, auc.b) == (0.90, 0.92) and auc.delta == pytest.approx(0.02)
    assert metrics[("auc", "trip_start_hour=1")].delta == pytest.approx(-0.05)
    only_b = metrics[("auc", "trip_start_hour=2")]
    assert (only_b.a, only_b.b, only_b.delta) == (None, 0.7, None)
    # b's baseline (a's model) and TFMA's diff metrics are not the candidate's.
    assert len(result.metrics) == 4


def test_changed_exec_properties_show_alone_with_their_delta(store):
    result = compare(store, "a", "taxi", "b", "taxi")
    changed = _by(result.properties)
    dropout = changed[("custom_config.model.hparams.dropout", "Trainer")]
    assert (dropout.a, dropout.b) == (0.1, 0.2) and dropout.delta == pytest.approx(0.1)
    assert ("custom_config.model.hparams.units", "Trainer") not in changed  # unchanged
    assert ("train_args.num_steps", "Trainer") not in changed


def test_data_deltas_per_split_and_feature(store):
    result = compare(store, "a", "taxi", "b", "taxi")
    rows = _by(result.rows)
    assert (rows[("rows", "train")].a, rows[("rows", "train")].b, rows[("rows", "train")].delta) == (100, 120, 20)
    assert rows[("rows", "eval")].delta == 0
    features = _by(result.features)
    assert features[("mean", "train/fare")].delta == pytest.approx(1.5)
    assert features[("missing", "train/payment_type")].delta == 0
    assert (features[("unique", "eval/payment_type")].a, features[("unique", "eval/payment_type")].b) == (3, 3)
    assert ("unique", "train/fare") not in features and ("mean", "train/payment_type") not in features


def test_node_states_say_what_re_ran(store):
    result = compare(store, "b", "taxi", "c", "taxi")
    states = {d.where: (d.a, d.b) for d in result.nodes}
    assert states["Transform"] == ("complete", "cached") and states["StatisticsGen"] == ("complete", "cached")
    assert states["Trainer"] == ("complete", "complete")
    assert {d.where: d.delta for d in result.rows} == {"train": 0, "eval": 0}  # the same statistics artifact
    assert not [d for d in result.features if d.delta]


def test_a_run_without_evaluation_compares_its_data_only(store):
    result = compare(store, "b", "taxi", "failed", "taxi")
    assert result.metrics == []
    assert {d.where: (d.a, d.b) for d in result.nodes}["Evaluator"] == ("complete", None)
    assert {d.where: d.delta for d in result.rows} == {"train": 0, "eval": 0}
