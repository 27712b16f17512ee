"""pipeline.metadata.eval_results (`tfx-e2e blessing`): the Evaluator's metrics, failed thresholds and verdict, read
from a real Evaluator output (testdata/evaluation) and from TFMA files written like it."""

from __future__ import annotations

import pytest

from pipeline.metadata import eval_results as E
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.tfx_outputs import REAL_EVALUATION, eval_config, write_evaluation

AUC_GATES = eval_config({"AUC": (0.5, -0.01)})  # auc >= 0.5, and at most 0.01 below the baseline


def test_metrics_of_a_real_evaluation_per_slice():
    metrics = E.load_metrics(str(REAL_EVALUATION))
    assert metrics["baseline"] == {}
    overall = metrics["candidate"]["overall"]
    assert overall["auc"] == pytest.approx(0.9085234481300336)
    assert overall["binary_accuracy"] == pytest.approx(0.7738622633910592) and overall["example_count"] == 4966
    assert len(overall) == 8
    assert metrics["candidate"]["trip_start_hour=19"]["example_count"] == 323
    assert len(metrics["candidate"]) == 1 + 24  # overall and one slice per hour


def test_failed_checks_of_a_real_evaluation():
    assert E.failed_checks(str(REAL_EVALUATION)) == {("binary_accuracy", "overall", "value")}
    config = E.load_eval_config(str(REAL_EVALUATION))
    assert [m.class_name for m in config.metrics_specs[0].metrics][:2] == ["AUC", "BinaryAccuracy"]


def test_diff_metrics_are_left_out_and_the_baseline_is_apart(tmp_path):
    uri = write_evaluation(tmp_path / "e", {"overall": {"auc": 0.88}}, AUC_GATES, baseline={"overall": {"auc": 0.9}})
    assert E.load_metrics(uri) == {"candidate": {"overall": {"auc": 0.88}}, "baseline": {"overall": {"auc": 0.9}}}


@pytest.fixture
def store(tmp_path):
    """real: the real evaluation, not blessed. regressed: auc fell 0.02 below run real's model. ok: blessed against
    a baseline. first: blessed, no baseline. failed: its Trainer failed."""
    b = Store(tmp_path / "metadata.sqlite")
    real = taxi_run(b, tmp_path, "real", evaluation=str(REAL_EVALUATION), blessed=False)
    baseline = real.outputs["Trainer"]["model"][0]
    taxi_run(b, tmp_path, "regressed", baseline=baseline, blessed=False, evaluation=write_evaluation(
        tmp_path / "regressed", {"overall": {"auc": 0.88}}, AUC_GATES, baseline={"overall": {"auc": 0.90}},
        failures=(("auc", "overall", "change"),)))
    taxi_run(b, tmp_path, "ok", baseline=baseline, evaluation=write_evaluation(
        tmp_path / "ok", {"overall": {"auc": 0.95}}, AUC_GATES, baseline={"overall": {"auc": 0.90}}))
    taxi_run(b, tmp_path, "first", evaluation=write_evaluation(tmp_path / "first", {"overall": {"auc": 0.95}},
                                                               AUC_GATES))
    taxi_run(b, tmp_path, "failed", fail_at="Trainer")
    return b.store


def test_blessing_report_names_the_failed_value_threshold(store):
    report = E.blessing_report(store, "taxi", "real")
    assert report.model_id == R.node_executions(store, "taxi", "real")["Trainer"].outputs["model"][0].id
    assert (report.blessed, report.has_baseline) == (False, False)
    assert [(c.metric, c.slice, c.kind, c.bound, c.passed) for c in report.checks] == [
        ("auc", "overall", "value", ">= 0.9", True), ("binary_accuracy", "overall", "value", ">= 0.8", False)]
    assert report.checks[1].value == pytest.approx(0.7738622633910592) and report.checks[1].baseline is None
    assert report.verdict == "not blessed: binary_accuracy 0.7739 fails >= 0.8 on slice overall"


def test_blessing_report_names_a_regression_against_the_baseline(store):
    report = E.blessing_report(store, "taxi", "regressed")
    assert (report.blessed, report.has_baseline) == (False, True)
    value, change = report.checks
    assert (value.kind, value.passed) == ("value", True)
    assert (change.kind, change.bound, change.passed) == ("change", "change > -0.01 vs baseline", False)
    assert (change.value, change.baseline) == (0.88, 0.90) and change.change == pytest.approx(-0.02)
    assert report.verdict == ("not blessed: auc changed -0.02 vs baseline 0.9, needs change > -0.01 vs baseline "
                              "on slice overall")


def test_blessed_runs_pass_every_check_and_change_thresholds_need_a_baseline(store):
    ok = E.blessing_report(store, "taxi", "ok")
    assert ok.blessed and [c.kind for c in ok.checks] == ["value", "change"] and all(c.passed for c in ok.checks)
    assert ok.verdict == "blessed: all 2 threshold checks pass"
    first = E.blessing_report(store, "taxi", "first")
    assert [c.kind for c in first.checks] == ["value"]  # TFX applies change thresholds only against a baseline
    assert first.verdict == "blessed: all 1 threshold checks pass (no baseline yet)"


def test_a_run_without_evaluation_is_a_metadata_error(store):
    with pytest.raises(MetadataError, match="run failed has no evaluation"):
        E.blessing_report(store, "taxi", "failed")


def test_a_model_leads_to_the_run_that_evaluated_it_as_candidate(store):
    real = R.node_executions(store, "taxi", "real")
    # The model was the candidate in run real and the baseline of two later runs.
    assert E.run_of_model(store, real["Trainer"].outputs["model"][0].id) == ("taxi", "real")
    ok_model = R.node_executions(store, "taxi", "ok")["Trainer"].outputs["model"][0].id
    assert E.run_of_model(store, ok_model) == ("taxi", "ok")
    with pytest.raises(MetadataError, match="was never evaluated"):
        E.run_of_model(store, real["CsvExampleGen"].outputs["examples"][0].id)
