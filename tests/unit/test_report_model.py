"""pipeline.report.model: what a run report holds, read from a real MLMD store and the files TFX writes (a not
blessed run with anomalies and a run record, a pushed run with a real SavedModel, a run whose Trainer failed)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.metadata.eval_results import blessing_report
from pipeline.metadata.store import MetadataError
from pipeline.report import model
from tests.unit.report_store import HISTORY, HOSTILE_COLUMN, IMG, SCRIPT, build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def failed_slice(built):
    return model.build(built.store.store, "taxi", "slice_failed", home=built.home)


def test_the_run_section_has_the_record_and_every_node(failed_slice):
    run = failed_slice.run
    assert (run.pipeline, run.run_id, run.state, run.blessed) == ("taxi", "slice_failed", "complete", False)
    assert run.wall_seconds == 12.5 and run.record["config_yaml"].startswith("name: taxi")
    assert run.record["flags"] == {"train_steps": 50, "set": [IMG]}
    states = {n.node_id: n.state for n in run.nodes}
    assert states["Trainer"] == "ran" and states["Pusher"] == "ran" and "not run" not in states.values()
    assert next(n for n in run.nodes if n.node_id == "Trainer").seconds == 4.25  # the recorded time wins
    # Edges follow the artifacts: Examples feed StatisticsGen, the model feeds the Evaluator.
    assert {("CsvExampleGen", "StatisticsGen"), ("Trainer", "Evaluator"), ("Evaluator", "Pusher")} <= set(run.edges)


def test_the_data_section_reads_the_statistics_protos(failed_slice):
    data = failed_slice.data
    assert data.rows == {"train": 100, "eval": 40} and not data.problems
    by_name = {f.name: f for f in data.features}
    assert set(by_name) == {"trip_miles", "payment_type", HOSTILE_COLUMN}
    miles = by_name["trip_miles"].splits["train"]
    assert (miles.kind, miles.missing, miles.mean, miles.median, miles.zeros) == ("number", 5, 3.5, 3.0, 4)
    assert miles.histogram == [(0.0, 3.0, 50.0), (3.0, 6.0, 25.0), (6.0, 9.0, 5.0)]
    payment = by_name["payment_type"]
    assert payment.splits["train"].missing == 10 and payment.splits["eval"].missing == 0  # empty cells count
    assert [v for v, _ in payment.splits["eval"].top] == ["Cash", SCRIPT, IMG]
    assert by_name["trip_miles"].expectation == "FLOAT, required in every example, values in [0, 100]"
    assert payment.expectation == "BYTES, optional, one of payment_type: Cash, Credit Card"
    assert [(f.split, f.feature) for f in data.anomalies] == [("eval", "payment_type")]
    assert payment.anomalies == data.anomalies and data.anomalies_checked


def test_the_evaluation_section_reuses_the_blessing_report(built, failed_slice):
    evaluation = failed_slice.evaluation
    expected = blessing_report(built.store.store, "taxi", "slice_failed", built.home / "logs")
    assert evaluation.blessing == expected and evaluation.blessing.outcome == "not_blessed"
    assert "hour=1" in evaluation.blessing.verdict
    assert evaluation.main_metric == "auc" and evaluation.threshold == 0.5000000001
    [chart] = evaluation.slice_charts
    assert chart.column == "hour" and chart.labels == ["overall", "hour=0", "hour=1"]
    assert all(isinstance(c, int) and c > 0 for c in chart.counts)
    lines = {m.name: m for m in evaluation.overall}
    assert lines["binary_accuracy"].gates == ">= 0.71" and lines["binary_accuracy"].passed is True
    assert lines["example_count"].passed is None


def test_binary_curves_come_from_the_tfma_plots(failed_slice):
    curves = {c.kind: c for c in failed_slice.evaluation.curves}
    assert set(curves) == {"calibration", "roc", "pr"}
    assert curves["calibration"].points == [(0.15, 0.1), (0.65, 0.6)]  # the empty bucket is skipped
    assert curves["roc"].points == [(1.0, 1.0), (0.2, 0.8), (0.0, 0.0)]
    assert curves["pr"].points == [(1.0, 0.3), (0.8, 0.7)]  # no prediction above threshold 1: no precision


def test_training_section(failed_slice):
    training = failed_slice.training
    assert training.history == HISTORY and training.summary["global_batch_size"] == 64 and not training.problems


def test_a_run_that_pushed_nothing_has_no_lineage(failed_slice):
    assert failed_slice.push is not None and not failed_slice.push.pushed
    assert failed_slice.lineage is None


def test_the_push_section_reads_the_version_directory(built):
    report = model.build(built.store.store, "taxi", "pushed", home=built.home)
    push = report.push
    assert push.pushed and push.version == "7" and push.previous_version == "3" and not push.problems
    [serving] = push.signatures
    assert serving.name == "serving_default" and serving.inputs == [("examples", "string", "(?)")]
    assert serving.outputs == [("score", "float", "(?)")]
    assert (push.warmup_requests, push.warmup_examples) == (1, 3)
    assert {(f.name, f.dtype, f.kind) for f in push.raw_inputs} == {("x", "float", "dense"), ("s", "bytes", "sparse")}
    lineage = report.lineage
    assert lineage.artifact_id and not lineage.problems
    kinds = {n.label.split(".")[-1] for n in lineage.nodes}
    assert {"PushedModel", "Model", "Examples", "CsvExampleGen", "Trainer"} <= kinds


def test_a_failed_run_shows_the_error_and_what_did_not_run(built):
    report = model.build(built.store.store, "taxi", "broken", home=built.home)
    states = {n.node_id: n.state for n in report.run.nodes}
    assert states["Trainer"] == "failed" and states["Evaluator"] == "not run" and states["Pusher"] == "not run"
    trainer = next(n for n in report.run.nodes if n.node_id == "Trainer")
    assert trainer.error == f"ValueError: the trainer broke {SCRIPT}"
    assert trainer.error_source.endswith("run-20260101-000000-000000.log")
    assert ("Evaluator", "Pusher") in report.run.edges  # the DAG's shape from a run that went further
    assert report.data is not None and report.training is None and report.evaluation is None
    assert report.push is None and report.lineage is None
    assert report.run.record == {}


def test_deleted_files_are_reported_in_their_section(tmp_path):
    again = build(tmp_path)  # a store of its own: its files are deleted below
    shutil.rmtree(again.root / "stats")
    shutil.rmtree(again.root / "evaluation")
    shutil.rmtree(again.root / "serving" / "taxi" / "7")
    (again.root / "taxi" / "Trainer" / "model_run" / "slice_failed" / "training_summary.json").unlink()
    failed = model.build(again.store.store, "taxi", "slice_failed", home=again.home)
    assert failed.data.features == [] and "stats" in failed.data.problems[0] and "missing" in failed.data.problems[0]
    assert failed.evaluation.blessing is None and failed.evaluation.problems
    assert failed.training.problems and "training_summary.json" in failed.training.problems[0]
    pushed = model.build(again.store.store, "taxi", "pushed", home=again.home)
    assert pushed.push.signatures == [] and "missing" in pushed.push.problems[0]


def test_an_unknown_run_is_a_metadata_error(built):
    with pytest.raises(MetadataError, match="no run 'nope'"):
        model.build(built.store.store, "taxi", "nope")
