"""pipeline.metadata.eval_results (`tfx-e2e blessing`): the Evaluator's metrics, failed thresholds and the verdict in
words for every way a run ends, read from real MLMD stores and real TFMA output: a real Evaluator output
(testdata/evaluation), TFMA's own model-agnostic evaluations (testdata/evaluation_cases, see its README.md) and
TFMA files written like them (tfx_outputs)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from pipeline.metadata import eval_results as E
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError
from tests.unit.gated_evaluations import (CASES, DEFAULT_BINARY_GATES, GUESS, MAJORITY, NOT_WORSE, gate,
                                          not_validated, record_gates)
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.tfx_outputs import REAL_EVALUATION, eval_config, write_anomalies, write_evaluation

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
    assert E.objective_of_config(config) == "binary"
    assert E.objective_of_config(E.load_eval_config(str(CASES / "multiclass_no_thresholds"))) == "multiclass"


def test_diff_metrics_are_left_out_and_the_baseline_is_apart(tmp_path):
    uri = write_evaluation(tmp_path / "e", {"overall": {"auc": 0.88}}, AUC_GATES, baseline={"overall": {"auc": 0.9}})
    assert E.load_metrics(uri) == {"candidate": {"overall": {"auc": 0.88}}, "baseline": {"overall": {"auc": 0.9}}}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One store for the module (tests that add runs give them their own ids). real: the real evaluation, not
    blessed. regressed: auc fell 0.02 below run real's model. ok: blessed against a baseline. first: blessed, no
    baseline. failed: its Trainer failed. The default-gate runs: defaults (blessed, no baseline), sliced (a slice
    fails the majority-class gate), worse (worse than defaults' model), multiclass (no threshold: not validated)."""
    tmp_path = tmp_path_factory.mktemp("store")
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
    defaults = taxi_run(b, tmp_path, "defaults", evaluation=str(CASES / "binary_first_run_blessed"))
    record_gates(b, defaults, DEFAULT_BINARY_GATES)
    sliced = taxi_run(b, tmp_path, "sliced", evaluation=str(CASES / "binary_value_failed_on_slice"), blessed=False)
    record_gates(b, sliced, DEFAULT_BINARY_GATES)
    worse = taxi_run(b, tmp_path, "worse", evaluation=str(CASES / "binary_change_failed"), blessed=False,
                     baseline=defaults.outputs["Trainer"]["model"][0])
    record_gates(b, worse, DEFAULT_BINARY_GATES)
    multiclass = taxi_run(b, tmp_path, "multiclass", evaluation=str(CASES / "multiclass_no_thresholds"))
    not_validated(b, multiclass)
    return b


@pytest.fixture(scope="module")
def store(built):
    return built.store


def test_blessing_report_names_the_failed_value_threshold(store):
    report = E.blessing_report(store, "taxi", "real")
    assert report.model_id == R.node_executions(store, "taxi", "real")["Trainer"].outputs["model"][0].id
    assert (report.blessed, report.has_baseline, report.outcome) == (False, False, "not_blessed")
    assert [(c.metric, c.slice, c.kind, c.bound, c.passed, c.source) for c in report.checks] == [
        ("auc", "overall", "value", ">= 0.9", True, "config"),
        ("binary_accuracy", "overall", "value", ">= 0.8", False, "config")]
    assert report.checks[1].value == pytest.approx(0.7738622633910592) and report.checks[1].baseline is None
    assert report.verdict == "not blessed: binary_accuracy on slice overall is 0.7739, needs >= 0.8"
    assert report.checks[0].words == "auc on slice overall is 0.9085, needs >= 0.9"


def test_blessing_report_names_a_regression_against_the_baseline(store):
    report = E.blessing_report(store, "taxi", "regressed")
    baseline_id = R.node_executions(store, "taxi", "real")["Trainer"].outputs["model"][0].id
    assert (report.blessed, report.has_baseline, report.baseline_model_id) == (False, True, baseline_id)
    value, change = report.checks
    assert (value.kind, value.passed) == ("value", True)
    assert (change.kind, change.bound, change.passed) == ("change", "at most 0.01 worse than the baseline", False)
    assert (change.value, change.baseline) == (0.88, 0.90) and change.change == pytest.approx(-0.02)
    assert report.verdict == (f"not blessed: auc on slice overall is 0.88, the blessed baseline (model id "
                              f"{baseline_id}) has 0.9: worse by 0.02, allowed: worse by at most 0.01")


def test_blessed_runs_pass_every_check_and_change_thresholds_need_a_baseline(store):
    ok = E.blessing_report(store, "taxi", "ok")
    assert ok.blessed and [c.kind for c in ok.checks] == ["value", "change"] and all(c.passed for c in ok.checks)
    assert (ok.verdict, ok.outcome) == ("blessed: all 2 gates pass", "blessed")
    assert ok.checks[1].words.endswith("has 0.9: better by 0.05, allowed: worse by at most 0.01")
    first = E.blessing_report(store, "taxi", "first")
    assert [c.kind for c in first.checks] == ["value"]  # TFX applies change thresholds only against a baseline
    assert first.verdict == "blessed: its 1 gate passes"  # an old evaluation: its skipped gates are unknown


def test_default_gates_that_pass_are_marked_with_why_and_the_skipped_change_gates_named(store):
    report = E.blessing_report(store, "taxi", "defaults")
    assert (report.blessed, report.has_baseline, report.outcome, report.notes) == (True, False, "blessed", [])
    assert [(c.metric, c.bound, c.source, c.passed) for c in report.checks] == [
        ("auc", "> 0.5", "default", True), ("binary_accuracy", ">= 0.71", "default", True)]
    assert [c.words for c in report.checks] == [
        f"auc on slice overall is 0.9757, needs > 0.5 (default: {GUESS})",
        f"binary_accuracy on slice overall is 0.85, needs >= 0.71 (default: {MAJORITY})"]
    assert report.verdict == (
        "blessed: all 2 gates pass; no blessed baseline yet: its change gates were skipped (auc not worse than the "
        "baseline (default), binary_accuracy not worse than the baseline (default))")


def test_a_default_gate_failing_on_one_slice_names_the_slice_value_and_why(store):
    report = E.blessing_report(store, "taxi", "sliced")
    assert (report.blessed, report.outcome) == (False, "not_blessed")
    # The threshold applies to every slice: overall, hour=0 and hour=1, for both metrics.
    assert [(c.metric, c.slice, c.passed) for c in report.checks] == [
        ("auc", "overall", True), ("auc", "hour=0", True), ("auc", "hour=1", True),
        ("binary_accuracy", "overall", True), ("binary_accuracy", "hour=0", True),
        ("binary_accuracy", "hour=1", False)]
    assert report.verdict == (f"not blessed: binary_accuracy on slice hour=1 is 0.61, needs >= 0.71 (default: "
                              f"{MAJORITY})")
    assert report.notes == ["no blessed baseline yet: its change gates were skipped (auc not worse than the baseline "
                            "(default), binary_accuracy not worse than the baseline (default))"]


def test_a_candidate_worse_than_the_baseline_says_by_how_much_and_what_is_allowed(store):
    report = E.blessing_report(store, "taxi", "worse")
    baseline_id = R.node_executions(store, "taxi", "defaults")["Trainer"].outputs["model"][0].id
    assert (report.has_baseline, report.baseline_model_id, report.notes) == (True, baseline_id, [])
    changes = [c for c in report.checks if c.kind == "change"]
    assert [(c.metric, c.bound, c.passed) for c in changes] == [
        ("auc", "not worse than the baseline", False), ("binary_accuracy", "not worse than the baseline", False)]
    assert changes[1].words == (f"binary_accuracy on slice overall is 0.84, the blessed baseline (model id "
                                f"{baseline_id}) has 0.86: worse by 0.02, allowed: not worse (default: {NOT_WORSE})")
    assert report.verdict == (f"not blessed: auc on slice overall is 0.9733, the blessed baseline (model id "
                              f"{baseline_id}) has 0.9806: worse by 0.007285, allowed: not worse (default: "
                              f"{NOT_WORSE}) (and 1 more failed gate)")


def test_no_thresholds_configured_says_so_and_how_to_set_one(store):
    report = E.blessing_report(store, "taxi", "multiclass")
    assert (report.blessed, report.outcome, report.checks) == (False, "not_validated", [])
    assert report.verdict == (
        "not blessed: no thresholds are configured for multiclass, so the Evaluator did not validate the model; "
        "set evaluation.thresholds (e.g. `evaluation: {thresholds: {sparse_categorical_accuracy: {lower: 0.8}}}` "
        "to require this model's sparse_categorical_accuracy of later ones)")


def test_only_change_thresholds_and_no_baseline_is_not_validated_either(built, tmp_path):
    run = taxi_run(built, tmp_path, "change-only", evaluation=str(CASES / "multiclass_no_thresholds"))
    not_validated(built, run)
    record_gates(built, run, [gate("sparse_categorical_accuracy", "change", change=-0.01, source="config")])
    assert E.blessing_report(built.store, "taxi", "change-only").verdict.startswith(
        "not blessed: no value thresholds are configured for multiclass, and its change thresholds apply only "
        "against a blessed baseline, which does not exist yet, so the Evaluator did not validate the model; ")


def test_a_validation_failed_without_a_failed_gate_explains_tfmas_fields(built, tmp_path):
    # missing_thresholds (TFMA's own output for a config without thresholds), with a blessing that says 0.
    taxi_run(built, tmp_path, "missing", evaluation=str(CASES / "multiclass_no_thresholds"), blessed=False)
    assert E.blessing_report(built.store, "taxi", "missing").verdict == (
        "not blessed: TFMA's validation found no threshold that applies to this model (missing_thresholds) and "
        "fails such a validation; set evaluation.thresholds (e.g. `evaluation: {thresholds: "
        "{sparse_categorical_accuracy: {lower: 0.8}}}` to require this model's sparse_categorical_accuracy of "
        "later ones)")
    # A gate on a slice the eval split lacks (TFMA: missing_slices): the gate was never checked.
    taxi_run(built, tmp_path, "no-slice", evaluation=str(CASES / "binary_missing_slice"), blessed=False)
    report = E.blessing_report(built.store, "taxi", "no-slice")
    assert [(c.metric, c.slice, c.value, c.passed) for c in report.checks] == [
        ("binary_accuracy", "hour=7", None, False)]
    assert report.verdict == (
        "not blessed: binary_accuracy on slice hour=7: the eval split has no example in this slice, so its gate "
        ">= 0.71 was never checked, and an unchecked gate fails the validation (TFMA's missing_slices)")


def test_a_validation_result_that_is_not_ok_for_no_named_reason(built, tmp_path):
    from tensorflow_model_analysis.proto import validation_result_pb2

    import tensorflow as tf

    uri = tmp_path / "odd"
    shutil.copytree(REAL_EVALUATION, uri)
    result = validation_result_pb2.ValidationResult(validation_ok=False)
    result.validation_details.slicing_details.add(num_matching_slices=1)
    with tf.io.TFRecordWriter(str(uri / "validations.tfrecord")) as writer:
        writer.write(result.SerializeToString())
    taxi_run(built, tmp_path, "odd", evaluation=str(uri), blessed=False)
    report = E.blessing_report(built.store, "taxi", "odd")
    assert all(c.passed for c in report.checks)
    assert report.verdict == ("not blessed: TFMA's validation result is not ok, yet it names no failed gate, missing "
                              "threshold or missing slice (gates checked on: overall: 1 slice)")


def test_a_node_that_stopped_the_run_before_the_evaluator_is_named(store):
    report = E.blessing_report(store, "taxi", "failed")
    assert (report.outcome, report.model_id, report.checks) == ("not_evaluated", None, [])
    assert report.verdict == ("not evaluated: the run stopped at Trainer (failed) before the Evaluator ran; ML "
                              "Metadata records no error message for it")


def test_the_anomalies_gate_stop_lists_the_findings(built, tmp_path):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    anomalies = write_anomalies(tmp_path / "anomalies", {
        "eval": {"payment_type": (anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES,
                                  "Unexpected string values", "Examples contain values missing from the schema")},
        "train": {}})
    taxi_run(built, tmp_path, "gated", anomalies=anomalies, fail_at="AnomaliesGate")
    assert E.blessing_report(built.store, "taxi", "gated").verdict == (
        "not evaluated: the AnomaliesGate stopped the run before Transform: ExampleValidator found 1 anomaly "
        "(payment_type in eval: Unexpected string values); fix the data or the schema, or re-run with "
        "--allow-anomalies")


def _log_failure(log_file, run_id: str, error: Exception) -> None:
    """What pipeline/local/runner.py writes into the run's log when a component raises: absl's ERROR record
    with the traceback (stderr, captured into <home>/logs/run-<timestamp>.log), between other records."""
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    logger = logging.getLogger("absl-test-run-log")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.info("Running Evaluator")
        try:
            raise error
        except type(error):
            logger.exception("pipeline run %s failed", run_id)
        logger.info("Cleaning up stateless execution info.")
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_a_failed_evaluator_says_why_from_the_run_log(built, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    taxi_run(built, tmp_path, "2026-01-02T03:04:05.000006", fail_at="Evaluator")
    report = E.blessing_report(built.store, "taxi", "2026-01-02T03:04:05.000006", logs)
    assert report.verdict == (f"not evaluated: the Evaluator failed; ML Metadata records no error message for it, "
                              f"and no log under {logs} names run 2026-01-02T03:04:05.000006 (a --verbose run "
                              "prints its traceback to the terminal only)")
    _log_failure(logs / "run-20260102-030404-000001.log", "2026-01-02T03:04:05.000006",
                 ValueError("Cannot support more than two models."))
    _log_failure(logs / "run-20260102-040000-000001.log", "2026-01-02T04:00:01.000000", RuntimeError("other run"))
    report = E.blessing_report(built.store, "taxi", "2026-01-02T03:04:05.000006", logs)
    assert (report.outcome, report.checks) == ("not_evaluated", [])
    assert report.verdict == ("not evaluated: the Evaluator failed: ValueError: Cannot support more than two models. "
                              f"(its traceback is in {logs / 'run-20260102-030404-000001.log'})")


def _evaluator_execution(built: Store, run):
    in_run = {e.id for e in built.store.get_executions_by_context(run.contexts[1])}
    node = built.store.get_context_by_type_and_name("node", "taxi.Evaluator")
    [execution] = [e for e in built.store.get_executions_by_context(node.id) if e.id in in_run]
    return execution


def test_change_gates_skipped_on_a_first_run_are_read_from_the_evaluators_own_config(built, tmp_path):
    from google.protobuf import json_format

    run = taxi_run(built, tmp_path, "first-with-config", evaluation=write_evaluation(
        tmp_path / "first", {"overall": {"auc": 0.95}}, eval_config({"AUC": (0.5, None)})))
    execution = _evaluator_execution(built, run)
    # TFX keeps the Evaluator's exec properties on its execution: eval_config as JSON, change thresholds included.
    execution.custom_properties["eval_config"].string_value = json_format.MessageToJson(AUC_GATES)
    built.store.put_executions([execution])
    assert E.blessing_report(built.store, "taxi", "first-with-config").verdict == (
        "blessed: its 1 gate passes; no blessed baseline yet: its change gate was skipped (auc at most 0.01 worse "
        "than the baseline)")


def test_a_failed_evaluator_says_why_from_ml_metadata_when_recorded_there(built, tmp_path):
    run = taxi_run(built, tmp_path, "recorded", fail_at="Evaluator")
    execution = _evaluator_execution(built, run)
    # As TFX's launcher records an executor's error output (execution_lib.set_execution_result).
    execution.custom_properties["__execution_result__"].string_value = json.dumps(
        {"code": 1, "resultMessage": "Traceback (most recent call last):\n  ...\nOSError: no space left on device\n"})
    built.store.put_executions([execution])
    assert E.blessing_report(built.store, "taxi", "recorded").verdict == (
        "not evaluated: the Evaluator failed: OSError: no space left on device")


def test_a_run_that_has_not_finished_says_so(built, tmp_path):
    built.run("taxi", "running").node("CsvExampleGen")
    assert E.blessing_report(built.store, "taxi", "running").verdict == (
        "not evaluated: run running has no Evaluator execution and no node of it failed (it is still running, or "
        "its process was killed)")
    with pytest.raises(MetadataError, match="run nothing recorded no execution of pipeline taxi"):
        E.blessing_report(built.store, "taxi", "nothing")


def test_a_model_leads_to_the_run_that_evaluated_it_as_candidate(store):
    real = R.node_executions(store, "taxi", "real")
    # The model was the candidate in run real and the baseline of two later runs.
    assert E.run_of_model(store, real["Trainer"].outputs["model"][0].id) == ("taxi", "real")
    ok_model = R.node_executions(store, "taxi", "ok")["Trainer"].outputs["model"][0].id
    assert E.run_of_model(store, ok_model) == ("taxi", "ok")
    with pytest.raises(MetadataError, match="was never evaluated"):
        E.run_of_model(store, real["CsvExampleGen"].outputs["examples"][0].id)


def test_the_gates_the_gated_evaluator_records_are_read_back():
    from components.gated_evaluator import gates as written
    from pipeline.metadata.gates import Gate, read_gates

    naive = {"task": "binary", "majority_rate": 0.713, "majority_class": "0", "rows": 1000}
    recorded = written.to_json(written.default_value_gates(naive) + written.default_change_gate("binary"))
    gates = read_gates({"gates": recorded})
    assert [(g.metric, g.kind, g.source, g.change) for g in gates] == [
        ("auc", "value", "default", None), ("binary_accuracy", "value", "default", None),
        ("auc", "change", "default", 0.0)]
    why = json.loads(recorded)[1]["why"]
    assert gates[1] == Gate("binary_accuracy", "value", lower=0.713, source="default", why=why)
    assert read_gates({}) is None and read_gates({"gates": "not json"}) is None  # evaluated before gates were recorded


def test_an_autoencoder_without_thresholds_is_told_it_has_no_default_gates():
    from pipeline.metadata import blessing_words as W

    assert W.not_validated("reconstruction", [], {"mean_reconstruction_error": 0.4213}) == (
        "not blessed: no thresholds are configured for reconstruction (an autoencoder has no default gates), so the "
        "Evaluator did not validate the model; set evaluation.thresholds (e.g. `evaluation: {thresholds: "
        "{mean_reconstruction_error: {upper: 0.4213}}}` to require this model's mean_reconstruction_error of later "
        "ones)")


def test_bounds_made_strict_by_an_epsilon_read_as_strict():
    from pipeline.metadata.gates import bound_text, change_text

    # The gated Evaluator writes "AUC > 0.5" as TFMA's inclusive lower bound 0.5 + 1e-9, "R² > 0" as 1e-9.
    assert [bound_text(0.5 + 1e-9, None), bound_text(1e-9, None), bound_text(None, 0.3 - 1e-9)] == [
        "> 0.5", "> 0", "< 0.3"]
    assert [bound_text(0.713, None), bound_text(0.1, 0.5), bound_text(0.0, None)] == [
        ">= 0.713", ">= 0.1 and <= 0.5", ">= 0"]
    assert [change_text(-1e-10), change_text(-0.005), change_text(0.01)] == [
        "not worse than the baseline", "at most 0.005 worse than the baseline",
        "at least 0.01 better than the baseline"]
