"""The renderers (cli/render/): hand-built library records in, the exact text or JSON a user sees out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from cli.render import inspect as inspect_view
from cli.render import predictions as predictions_view
from cli.render import run as run_view
from cli.render.validation import print_validation


def _text(render, *args) -> str:
    out = io.StringIO()
    render(*args, out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ run


@pytest.fixture(scope="module")
def run_result():
    from ml_metadata.proto import metadata_store_pb2

    from pipeline.local.runner import RunResult
    from pipeline.paths import Home

    return RunResult(run_id="2026-01-02T03:04:05.000006", pipeline_name="taxi", home=Home(Path("/h")),
                     connection=metadata_store_pb2.ConnectionConfig(), wall_seconds=41.26)


def test_summary_of_a_blessed_pushed_run(run_result):
    from pipeline.metadata.summary import MetricRow, RunSummary

    summary = RunSummary(
        rows={"train": 2400, "eval": 600}, anomalies_uri="/h/anomalies/7",
        metrics=[MetricRow("auc", 0.91234, baseline=0.9, lower=0.75, passed=True),
                 MetricRow("loss", 0.4, upper=0.5, lower=0.1, passed=True),
                 MetricRow("example_count", 600.0)],
        has_baseline=True, blessed=True, pushed="/h/serving/taxi/17", pushed_now=True)
    assert _text(run_view.print_summary, run_result, summary).splitlines() == [
        "",
        "run id       2026-01-02T03:04:05.000006",
        "pipeline     taxi  (41.3 s)",
        "rows         eval 600, train 2400",
        "anomalies    none",
        "metrics      (eval split, overall slice)",
        "  metric                            value  threshold            baseline  check",
        "  auc                              0.9123  >= 0.75                0.9000  pass",
        "  loss                             0.4000  >= 0.1 <= 0.5               -  pass",
        "  example_count                  600.0000  -                           -  ",
        "blessed      yes",
        "pushed       /h/serving/taxi/17",
    ]


def test_a_regression_error_in_the_users_units_keeps_its_column():
    from pipeline.metadata.summary import MetricRow, RunSummary

    summary = RunSummary(metrics=[MetricRow("mean_squared_error", 7012050420.2868, baseline=6.9e9)])
    lines = [line for line in _text(run_view.print_summary, _result(), summary).splitlines() if "mean_sq" in line]
    assert lines == ["  mean_squared_error           7.01205e+09  -                     6.9e+09  "]


def _result():
    from ml_metadata.proto import metadata_store_pb2

    from pipeline.local.runner import RunResult
    from pipeline.paths import Home

    return RunResult(run_id="r", pipeline_name="p", home=Home(Path("/h")),
                     connection=metadata_store_pb2.ConnectionConfig(), wall_seconds=1.0)


def test_the_summary_says_which_label_value_is_positive_and_how_a_target_was_scaled():
    binary = {"key": "churned", "task": "binary", "classes": ["No", "Yes"], "positive": "Yes",
              "naive_model": {"rows": 2350, "class_counts": {"No": 1470, "Yes": 880}}}
    assert run_view.label_line(binary, 2400) == (
        "churned: positive 'Yes', negative 'No' (train split: No 1,470, Yes 880; 50 train rows without a label "
        "left out)")
    assert run_view.label_line({**binary, "classes": ["0", "1"], "positive": "1"}, 2400) is None  # a 0/1 label
    multiclass = {"key": "species", "task": "multiclass", "classes": ["a", "b", "c"], "naive_model": None}
    assert run_view.label_line(multiclass, 100) == "species: 3 classes"
    regression = {"key": "price", "task": "regression", "target_scaling": {"kind": "log1p_zscore", "why": "skewed"}}
    assert run_view.label_line(regression, 100) == "price: skewed"


def test_summary_of_an_unblessed_run_with_anomalies(run_result):
    from components.anomalies_gate.schema_diff import Finding
    from pipeline.metadata.summary import MetricRow, RunSummary

    summary = RunSummary(
        anomalies=[Finding("train", "payment_type", "Unexpected string values", "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
                           "Examples contain values missing from the schema: Bitcoin")],
        anomalies_uri="/h/anomalies/9", metrics=[MetricRow("auc", 0.5, lower=0.999, passed=False)],
        has_baseline=False, blessed=False)
    lines = _text(run_view.print_summary, run_result, summary).splitlines()
    assert "rows" not in " ".join(line[:4] for line in lines)  # no statistics: no rows line
    assert lines[3:] == [
        "anomalies    1 (see /h/anomalies/9)",
        "  train  payment_type                 Unexpected string values: Examples contain values missing from the "
        "schema: Bitcoin",
        "metrics      (eval split, overall slice)",
        "  metric                            value  threshold            baseline  check",
        "  auc                              0.5000  >= 0.999                    -  FAIL",
        "  (no blessed baseline yet: change thresholds were not applied)",
        "blessed      no",
        "pushed       nothing (the model was not blessed)",
    ]


def test_summary_marks_default_gates(run_result):
    from pipeline.metadata.summary import MetricRow, RunSummary

    summary = RunSummary(metrics=[
        MetricRow("auc", 0.91, baseline=0.9, lower=0.5, passed=True, default=True, change=0.0, change_default=True),
        MetricRow("binary_accuracy", 0.85, baseline=0.84, lower=0.713, passed=True, default=True),
        MetricRow("precision", 0.7, baseline=0.6, change=-0.01, passed=True),
        MetricRow("recall", 0.6)], has_baseline=True, blessed=True)
    assert _text(run_view.print_summary, run_result, summary).splitlines()[3:9] == [
        "metrics      (eval split, overall slice)",
        "  metric                            value  threshold                               baseline  check",
        "  auc                              0.9100  >= 0.5 (default), not worse (default)     0.9000  pass",
        "  binary_accuracy                  0.8500  >= 0.713 (default)                        0.8400  pass",
        "  precision                        0.7000  change >= -0.01                           0.6000  pass",
        "  recall                           0.6000  -                                              -  ",
    ]


def test_summary_of_a_cached_push(run_result):
    from pipeline.metadata.summary import RunSummary

    text = _text(run_view.print_summary, run_result, RunSummary(blessed=True, pushed="/h/serving/taxi/17"))
    assert text.endswith("pushed       /h/serving/taxi/17  (cached: nothing new pushed)\n")
    assert run_view.summary_text(run_result, RunSummary()) == _text(run_view.print_summary, run_result, RunSummary())


def test_failure_names_the_component_and_the_log(run_result):
    import dataclasses

    failed = dataclasses.replace(run_result, failed_node="Trainer",
                                 error=RuntimeError("deep inside\nValueError: shapes (3,) and (4,) differ"))
    assert _text(run_view.print_failure, failed, Path("/h/logs/run-1.log"), False).splitlines() == [
        "",
        "FAILED: component Trainer: RuntimeError: ValueError: shapes (3,) and (4,) differ",
        "  full traceback in /h/logs/run-1.log",
    ]
    nowhere = dataclasses.replace(run_result, error=KeyError())
    assert _text(run_view.print_failure, nowhere, None, False) == "\nFAILED: the pipeline: KeyError: KeyError\n"


def test_bad_data_failure_shows_the_whole_report_first(run_result):
    import dataclasses

    class AnomaliesFoundError(RuntimeError):
        pass

    report = "split train, feature payment_type: Unexpected\nsplit eval, feature company: Missing\nre-run with --allow"
    failed = dataclasses.replace(run_result, failed_node="AnomaliesGate", error=AnomaliesFoundError(report))
    assert _text(run_view.print_failure, failed, None, True).splitlines() == [
        "",
        "  split train, feature payment_type: Unexpected",
        "  split eval, feature company: Missing",
        "",
        "FAILED: component AnomaliesGate: AnomaliesFoundError: re-run with --allow",
    ]


def test_progress_lines():
    from pipeline.local.runner import NodeEvent

    out = io.StringIO()
    progress = run_view.Progress(out)
    progress(NodeEvent("Transform", "start"))
    progress(NodeEvent("Transform", "finish", state="cached", seconds=0.25))
    assert out.getvalue().splitlines() == [
        "  Transform                        started",
        "  Transform                        cached      0.2 s",
    ]


def test_header_redacts_the_store_password():
    from types import SimpleNamespace

    cfg = SimpleNamespace(name="digits", source="pipeline/configs/digits.yaml", example_gen="digits")
    text = _text(run_view.print_header, cfg, SimpleNamespace(root=Path("/h")), "mysql://u:hunter2@db:3306/m")
    assert text.splitlines() == [
        "tfx-e2e run: pipeline digits (pipeline/configs/digits.yaml)",
        "  data  digits (built in)",
        "  home  /h",
        "  metadata  mysql://u:***@db:3306/m",
    ]


# ------------------------------------------------------------------------------------------------ validate


def test_validation_report():
    from kubeflow.validate import Report

    ok = Report(path="k.json", target="kubeflow", schema_version="2.1.0", sdk_version="tfx-1.16.0",
                nodes=["Pusher", "Trainer"])
    assert _text(print_validation, ok) == "valid: k.json (kubeflow; schema 2.1.0, sdk tfx-1.16.0; 2 nodes)\n"
    bad = Report(path="k.json", target="vertex", errors=["node Trainer: no image", "pipeline: no sdkVersion recorded"])
    assert _text(print_validation, bad).splitlines() == [
        "INVALID: k.json (vertex): 2 problem(s)",
        "  - node Trainer: no image",
        "  - pipeline: no sdkVersion recorded",
    ]


# ------------------------------------------------------------------------------------------------ inspect


def test_table_pads_columns_and_shows_none_as_dash():
    out = io.StringIO()
    inspect_view.print_table([[1, "long value", None], [22, "x", 3.5]], ["ID", "NAME", "N"], out)
    assert out.getvalue().splitlines() == ["ID  NAME        N", "1   long value  -", "22  x           3.5"]
    out = io.StringIO()
    inspect_view.print_table([], ["ID", "NAME"], out)
    assert out.getvalue() == "ID  NAME\n"


def test_json_is_plain_and_sorted():
    from pipeline.metadata.compare import Delta

    out = io.StringIO()
    inspect_view.print_json({"b": [Delta("auc", "overall", 0.5, 0.75, 0.25)], 3: b"raw\xff", "a": (1, 2)}, out)
    assert json.loads(out.getvalue()) == {
        "3": "raw\ufffd", "a": [1, 2],
        "b": [{"name": "auc", "where": "overall", "a": 0.5, "b": 0.75, "delta": 0.25}],
    }
    assert out.getvalue().index('"3"') < out.getvalue().index('"a"') < out.getvalue().index('"b"')


def test_runs_table_and_json():
    from pipeline.metadata.queries import RunRecord

    records = [RunRecord("r2", "taxi", "2026-01-02 10:00:00", 61.04, "complete", 3, 6, 0, False, None),
               RunRecord("r1", "taxi", "2026-01-01 09:00:00", 9.0, "complete", 9, 0, 0, True, "17")]
    assert _text(inspect_view.runs, records, False).splitlines() == [
        "RUN  PIPELINE  STARTED              DURATION  STATE     RAN  CACHED  FAILED  BLESSED  PUSHED",
        "r2   taxi      2026-01-02 10:00:00  61.0s     complete  3    6       0       no       -",
        "r1   taxi      2026-01-01 09:00:00  9.0s      complete  9    0       0       yes      17",
    ]
    as_json = json.loads(_text(inspect_view.runs, records, True))
    assert as_json[1] == {"run_id": "r1", "pipeline": "taxi", "started": "2026-01-01 09:00:00",
                          "duration_seconds": 9.0, "state": "complete", "nodes_ran": 9, "nodes_cached": 0,
                          "nodes_failed": 0, "blessed": True, "pushed_version": "17"}


def test_show_lists_each_nodes_artifacts_with_the_useful_properties():
    from pipeline.metadata.queries import NodeRecord, RunRecord

    run = RunRecord("r1", "taxi", "2026-01-01 09:00:00", 9.0, "complete", 2, 0, 0, True, "17")
    model = {"id": 5, "type": "tfx.types.standard_artifacts.Model", "uri": "/h/Trainer/model/5",
             "properties": {"span": 0, "note": "hidden"}}
    nodes = [NodeRecord("Trainer", "complete", "2026-01-01 09:00:01", 4.5, False, {}, {"model": [model]}),
             NodeRecord("Pusher", "cached", "2026-01-01 09:00:06", 0.0, True, {"model": [model]}, {})]
    assert _text(inspect_view.show, run, nodes, False).splitlines() == [
        "run r1  pipeline taxi  complete  started 2026-01-01 09:00:00  9.0s",
        "",
        "Trainer  complete  started 2026-01-01 09:00:01  4.5s",
        "  out model                  #5     Model                /h/Trainer/model/5 span=0",
        "",
        "Pusher  cached  started 2026-01-01 09:00:06  0.0s",
        "  in  model                  #5     Model                /h/Trainer/model/5 span=0",
    ]
    shown = json.loads(_text(inspect_view.show, run, nodes, True))
    assert shown["run"]["run_id"] == "r1" and [n["node"] for n in shown["nodes"]] == ["Trainer", "Pusher"]
    assert shown["nodes"][1]["inputs"]["model"][0]["properties"] == {"span": 0, "note": "hidden"}


def test_artifacts_table():
    from pipeline.metadata.queries import ArtifactRecord

    records = [ArtifactRecord(5, "tfx.types.standard_artifacts.Model", "/h/m/5", {}, "r1", "Trainer")]
    assert _text(inspect_view.artifacts, records, False).splitlines() == [
        "ID  TYPE   PRODUCER  URI", "5   Model  Trainer   /h/m/5"]
    assert json.loads(_text(inspect_view.artifacts, records, True))[0]["producer"] == "Trainer"


def test_lineage_json_and_drawings():
    from pipeline.metadata.lineage import Lineage, LineageNode, to_dot

    graph = Lineage(artifact_id=5, nodes=[LineageNode("a5", "artifact", 5, "Model", "/h/m/5"),
                                          LineageNode("e2", "execution", 2, "Trainer", "complete")],
                    edges=[("e2", "a5")], upstream=["e2"], downstream=[], raw_inputs=[])
    as_json = json.loads(_text(inspect_view.lineage, graph, "json"))
    assert as_json["edges"] == [["e2", "a5"]] and as_json["nodes"][1]["label"] == "Trainer"
    assert _text(inspect_view.lineage, graph, "dot") == to_dot(graph) + "\n"


def test_compare_sections_and_empty_ones():
    from pipeline.metadata.compare import Comparison, Delta

    result = Comparison("r1", "r2", "taxi", "taxi",
                        metrics=[Delta("auc", "overall", 0.91234567, 0.9, -0.01234567)],
                        features=[Delta("mean", "train/fare", 1.0, 1.0, 0.0), Delta("mean", "eval/fare", 1.0, 2.0, 1.0)],
                        nodes=[Delta("", "Trainer", "complete", "cached")],
                        hyperparameters=[Delta("dropout (tuned)", "Trainer", 0.1, 0.3, 0.2),
                                         Delta("hidden_units", "Trainer", [128, 64], [128, 64])],
                        importance=[Delta("fare", "2/1", 0.05, 0.125, 0.075)], importance_metric="auc drop when shuffled")
    assert _text(inspect_view.compare, result, False).splitlines() == [
        "A r1 (taxi)", "B r2 (taxi)",
        "", "metrics (candidate, per slice):",
        "METRIC  SLICE    A       B    B-A", "auc     overall  0.9123  0.9  -0.01235",
        "", "changed properties: none",
        "", "hyperparameters (trained model):",
        "NAME             NODE     A          B          B-A", "dropout (tuned)  Trainer  0.1        0.3        0.2",
        "hidden_units     Trainer  [128, 64]  [128, 64]",
        "", "importance (auc drop when shuffled):",
        "FEATURE  RANK A/B  A     B      B-A", "fare     2/1       0.05  0.125  0.075",
        "", "rows: none",
        "", "features (changed statistics):",
        "STAT  SPLIT/FEATURE  A  B  B-A", "mean  eval/fare      1  2  1",
        "", "nodes:",
        "  NODE     A         B", "  Trainer  complete  cached",
    ]
    assert json.loads(_text(inspect_view.compare, result, True))["metrics"][0]["delta"] == pytest.approx(-0.01234567)


def test_blessing_table_verdict_and_words():
    from pipeline.metadata.eval_results import BlessingReport, ThresholdCheck

    why = "the majority class '0' makes up 71.3% of the train split"
    report = BlessingReport("r4", 12, False, True, [
        ThresholdCheck("binary_accuracy", "overall", "value", ">= 0.713", 0.75, 0.8, -0.05, True, "default", why,
                       f"binary_accuracy on slice overall is 0.75, needs >= 0.713 (default: {why})"),
        ThresholdCheck("binary_accuracy", "hour=1", "value", ">= 0.713", 0.61, None, None, False, "default", why,
                       f"binary_accuracy on slice hour=1 is 0.61, needs >= 0.713 (default: {why})"),
        ThresholdCheck("binary_accuracy", "hour=2", "value", ">= 0.713", 0.72, None, None, True, "default", why,
                       f"binary_accuracy on slice hour=2 is 0.72, needs >= 0.713 (default: {why})"),
        ThresholdCheck("auc", "overall", "change", "at most 0.05 worse than the baseline", 0.93, 0.94, -0.01, True,
                       "config", "", "auc on slice overall is 0.93, the blessed baseline (model id 7) has 0.94: "
                       "worse by 0.01, allowed: worse by at most 0.05"),
    ], f"not blessed: binary_accuracy on slice hour=1 is 0.61, needs >= 0.713 (default: {why})",
        outcome="not_blessed", baseline_model_id=7, notes=["a note"])
    assert _text(inspect_view.blessing, report, False).splitlines() == [
        "run r4  model #12  baseline model #7",
        "METRIC           SLICE    THRESHOLD                             VALUE  BASELINE  CHANGE  RESULT",
        "binary_accuracy  overall  >= 0.713 (default)                    0.75   0.8       -0.05   pass",
        "binary_accuracy  hour=1   >= 0.713 (default)                    0.61   -         -       FAIL",
        "binary_accuracy  hour=2   >= 0.713 (default)                    0.72   -         -       pass",
        "auc              overall  at most 0.05 worse than the baseline  0.93   0.94      -0.01   pass",
        f"not blessed: binary_accuracy on slice hour=1 is 0.61, needs >= 0.713 (default: {why})",
        # Every failure, and one passed check per gate (hour=2 is in the table only).
        f"  pass  binary_accuracy on slice overall is 0.75, needs >= 0.713 (default: {why})",
        f"  FAIL  binary_accuracy on slice hour=1 is 0.61, needs >= 0.713 (default: {why})",
        "  pass  auc on slice overall is 0.93, the blessed baseline (model id 7) has 0.94: worse by 0.01, allowed: "
        "worse by at most 0.05",
        "  a note",
    ]
    as_json = json.loads(_text(inspect_view.blessing, report, True))
    assert as_json["checks"][1]["passed"] is False and as_json["checks"][1]["source"] == "default"
    assert (as_json["outcome"], as_json["baseline_model_id"], as_json["notes"]) == ("not_blessed", 7, ["a note"])


def test_blessing_of_a_run_without_evaluation_is_the_verdict_alone():
    from pipeline.metadata.eval_results import BlessingReport

    report = BlessingReport("r5", None, False, False, [], "not evaluated: the run stopped at Trainer (failed) "
                            "before the Evaluator ran: ValueError: bad", outcome="not_evaluated")
    assert _text(inspect_view.blessing, report, False).splitlines() == [
        "run r5  no model",
        "not evaluated: the run stopped at Trainer (failed) before the Evaluator ran: ValueError: bad",
    ]


# ------------------------------------------------------------------------------------------------ predict


def _predictions(outputs: dict, rows: int, ignored=()):
    from pipeline.predict.serve import Predictions

    return Predictions(model_dir=Path("/h/serving/taxi/17"), inputs={}, ignored_columns=list(ignored),
                       outputs=outputs, rows=rows)


def test_prediction_lines_name_the_most_likely_class():
    result = _predictions({"probabilities": np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])}, rows=2, ignored=["tips"])
    out = io.StringIO()
    predictions_view.write(result, False, out, Path("rows.csv"))
    assert out.getvalue().splitlines() == [
        "model    /h/serving/taxi/17",
        "input    rows.csv (2 rows)",
        "ignored  tips (not read by the model)",
        "row 1     probabilities [0.1, 0.7, 0.2]  class 1",
        "row 2     probabilities [0.5, 0.25, 0.25]  class 0",
    ]


def test_wide_outputs_only_go_to_json():
    wide = np.arange(20, dtype=np.float32).reshape(1, 20)
    result = _predictions({"reconstruction": wide, "reconstruction_error": np.array([0.125]),
                           "label": np.array([b"cab"])}, rows=1)
    out = io.StringIO()
    predictions_view.write(result, False, out, Path("rows.jsonl"))
    assert out.getvalue().splitlines()[1:] == [
        "input    rows.jsonl (1 row)",
        "outputs  reconstruction not shown (--json has them)",
        "row 1     reconstruction_error 0.125  label cab",
    ]
    out = io.StringIO()
    predictions_view.write(result, True, out, Path("rows.jsonl"))
    [record] = json.loads(out.getvalue())
    assert record["row"] == 1 and len(record["reconstruction"]) == 20 and record["reconstruction_error"] == 0.125
