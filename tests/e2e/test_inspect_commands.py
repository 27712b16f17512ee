"""runs / show / artifacts / lineage / compare / blessing on a store made by real runs, JSON checked against MLMD."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from pipeline.metadata import runs as R
from pipeline.metadata.store import open_store, sqlite_config
from tests import support

COMPONENTS = {"CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "AnomaliesGate", "Transform",
              "Trainer", "Evaluator", "FeatureImportance", "Pusher"}


@pytest.fixture(scope="module")
def store_home(taxi_runs):
    home, results, _ = taxi_runs
    for result in results:
        assert result.code == 0, result.stdout + result.stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    return home, store, R.run_ids(store, "taxi")


def _json(home, *args):
    result = support.cli([*args, "--home", home, "--json"])
    assert result.code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_runs_lists_every_run_as_mlmd_records_it(store_home):
    home, store, run_ids = store_home
    records = _json(home, "runs")
    assert [r["run_id"] for r in records] == list(reversed(run_ids))  # newest first
    by_id = {r["run_id"]: r for r in records}
    for run_id in run_ids:
        executions = R.node_executions(store, "taxi", run_id)
        states = [e.state for n, e in executions.items() if n in COMPONENTS]
        record = by_id[run_id]
        assert record["pipeline"] == "taxi" and record["state"] == "complete"
        assert record["nodes_ran"] == states.count("complete") and record["nodes_cached"] == states.count("cached")
        assert record["nodes_failed"] == 0
        blessing = executions["Evaluator"].outputs["blessing"][0]
        assert record["blessed"] == bool(blessing.properties["blessed"])
    assert [by_id[r]["nodes_cached"] for r in run_ids[:2]] == [0, len(COMPONENTS)]
    assert [by_id[r]["blessed"] for r in run_ids] == [True, True, True, False]
    pushed = R.node_executions(store, "taxi", run_ids[0])["Pusher"].outputs["pushed_model"][0]
    assert by_id[run_ids[0]]["pushed_version"] == str(pushed.properties["pushed_version"])
    assert (home / "serving" / "taxi" / by_id[run_ids[0]]["pushed_version"]).is_dir()
    assert by_id[run_ids[3]]["pushed_version"] is None
    text = support.cli(["runs", "--home", home])
    assert text.code == 0 and run_ids[0] in text.stdout and "BLESSED" in text.stdout


def test_show_gives_each_node_with_its_artifacts(store_home):
    home, store, run_ids = store_home
    shown = _json(home, "show", run_ids[2])
    executions = R.node_executions(store, "taxi", run_ids[2])
    nodes = {n["node"]: n for n in shown["nodes"]}
    assert set(nodes) == set(executions)
    for name, e in executions.items():
        assert nodes[name]["state"] == e.state and nodes[name]["cached"] == (e.state == "cached")
        assert {k: [a["id"] for a in v] for k, v in nodes[name]["outputs"].items()} == \
               {k: [a.id for a in v] for k, v in e.outputs.items()}
        assert {k: [a["id"] for a in v] for k, v in nodes[name]["inputs"].items()} == \
               {k: [a.id for a in v] for k, v in e.inputs.items()}
    assert nodes["Transform"]["state"] == "cached" and nodes["Trainer"]["state"] == "complete"
    examples = nodes["CsvExampleGen"]["outputs"]["examples"][0]
    assert json.loads(examples["properties"]["split_names"]) == ["train", "eval"] and "span" in examples["properties"]
    latest = _json(home, "show", "latest")
    assert latest["run"]["run_id"] == run_ids[-1]


def test_artifacts_by_type_and_run(store_home):
    home, store, run_ids = store_home
    models = _json(home, "artifacts", "--type", "Model")
    assert [a["id"] for a in models] == sorted(a.id for a in store.get_artifacts_by_type("Model"))
    of_run = _json(home, "artifacts", "--run", run_ids[0])
    expected = {a.id for e in R.node_executions(store, "taxi", run_ids[0]).values() for v in e.outputs.values() for a in v}
    assert {a["id"] for a in of_run} == expected
    assert all(a["run_id"] == run_ids[0] and a["producer"] for a in of_run)


def test_lineage_of_the_pushed_model_reaches_the_raw_csv(store_home, taxi_sample):
    home, store, run_ids = store_home
    graph = json.loads(support.cli(["lineage", "--pushed", "latest", "--home", home, "--format", "json"]).stdout)
    pushed = max((a for a in store.get_artifacts_by_type("PushedModel")
                  if a.custom_properties["pushed"].int_value == 1), key=lambda a: a.id)
    assert graph["artifact_id"] == pushed.id
    labels = {n["label"] for n in graph["nodes"] if n["key"] in graph["upstream"] and n["kind"] == "execution"}
    assert {"Pusher", "Trainer", "Transform", "CsvExampleGen", "Evaluator"} <= labels
    assert graph["raw_inputs"][0]["input_base"] == str(taxi_sample)
    assert "input_fingerprint" in graph["raw_inputs"][0]
    # Every edge joins nodes of the graph; each execution's edges match MLMD's events.
    keys = {n["key"] for n in graph["nodes"]}
    assert all(a in keys and b in keys for a, b in graph["edges"])
    trainer = next(n for n in graph["nodes"] if n["label"] == "Trainer" and n["key"] in graph["upstream"])
    inputs = {f"a{ev.artifact_id}" for ev in store.get_events_by_execution_ids([trainer["id"]]) if ev.type == 3}
    assert inputs <= {a for a, b in graph["edges"] if b == trainer["key"]}
    dot = support.cli(["lineage", str(pushed.id), "--home", home, "--format", "dot"]).stdout
    assert dot.startswith("digraph lineage {") and f"a{pushed.id}" in dot
    mermaid = support.cli(["lineage", str(pushed.id), "--home", home, "--format", "mermaid"]).stdout
    assert mermaid.startswith("flowchart LR")
    examples = store.get_artifacts_by_type("Examples")[0].id
    downstream = json.loads(support.cli(["lineage", str(examples), "--home", home, "--format", "json"]).stdout)
    consumers = {n["label"] for n in downstream["nodes"] if n["key"] in downstream["downstream"]}
    assert {"StatisticsGen", "Transform", "Evaluator"} <= consumers


def test_compare_shows_the_changed_hyperparameter_and_what_reran(store_home):
    home, store, run_ids = store_home
    diff = _json(home, "compare", run_ids[0], run_ids[2])
    changed = {(d["where"], d["name"]): d for d in diff["properties"]}
    dropout = changed[("Trainer", "custom_config.model.hparams.dropout")]
    assert (dropout["a"], dropout["b"]) == (0.1, 0.2)
    states = {d["where"]: (d["a"], d["b"]) for d in diff["nodes"]}
    assert states["Transform"] == ("complete", "cached") and states["Trainer"] == ("complete", "complete")
    from pipeline.metadata.eval_results import load_metrics

    ex = [R.node_executions(store, "taxi", r)["Evaluator"].outputs["evaluation"][0].uri for r in (run_ids[0], run_ids[2])]
    auc = next(d for d in diff["metrics"] if d["name"] == "auc" and d["where"] == "overall")
    assert auc["a"] == pytest.approx(load_metrics(ex[0])["candidate"]["overall"]["auc"])
    assert auc["b"] == pytest.approx(load_metrics(ex[1])["candidate"]["overall"]["auc"])
    assert any(d["where"].startswith("trip_start_hour=") for d in diff["metrics"])  # per slice too
    assert {d["where"]: d["delta"] for d in diff["rows"]} == {"eval": 0, "train": 0}  # same data


def test_blessing_explains_a_failed_threshold(store_home):
    home, store, run_ids = store_home
    report = _json(home, "blessing", run_ids[3])
    assert report["blessed"] is False and report["has_baseline"] is True
    failing = [c for c in report["checks"] if not c["passed"]]
    assert [(c["metric"], c["slice"], c["kind"], c["bound"]) for c in failing] == [("auc", "overall", "value", ">= 0.999")]
    evaluation = R.node_executions(store, "taxi", run_ids[3])["Evaluator"].outputs["evaluation"][0].uri
    from pipeline.metadata.eval_results import load_metrics

    assert failing[0]["value"] == pytest.approx(load_metrics(evaluation)["candidate"]["overall"]["auc"])
    verdict = report["verdict"]
    assert verdict.startswith("not blessed: auc on slice overall is ") and ", needs >= 0.999" in verdict
    ok = _json(home, "blessing", run_ids[0])
    assert ok["blessed"] is True and all(c["passed"] for c in ok["checks"]) and ok["verdict"].startswith("blessed")
    model_id = R.node_executions(store, "taxi", run_ids[0])["Trainer"].outputs["model"][0].id
    assert _json(home, "blessing", str(model_id))["run_id"] in run_ids


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "no-such-run"], "no run 'no-such-run' in this store"),
        (["lineage", "999999"], "no artifact 999999 in this store"),
        (["runs", "--pipeline", "nope"], "no pipeline named 'nope'"),
        (["artifacts", "--type", "Nope"], "no artifacts of type 'Nope'"),
    ],
)
def test_unknown_ids_are_clear_errors(store_home, args, message):
    home, _, _ = store_home
    assert message in support.one_line_error(support.cli([*args, "--home", home]))


def test_inspect_output_of_tensorflow_goes_to_the_homes_logs(store_home):
    """One rule for every command: what TFX/TensorFlow print while compare and blessing read statistics and
    evaluations goes to <home>/logs/<command>-<timestamp>.log (never the terminal, never a shared /tmp file)."""
    home, _, run_ids = store_home
    old_shared = Path(tempfile.gettempdir()) / "tfx-e2e-inspect.log"  # where inspect logs went before
    before = old_shared.stat().st_mtime_ns if old_shared.exists() else None
    logs_before = set((home / "logs").iterdir())
    for args in (["compare", run_ids[0], run_ids[2]], ["blessing", run_ids[3]]):
        result = support.cli([*args, "--home", home])
        assert result.code == 0 and result.stderr == "", result.stderr
    new = {p.name for p in set((home / "logs").iterdir()) - logs_before}
    assert all(n.startswith(("compare-", "blessing-")) and n.endswith(".log") for n in new), new
    assert (old_shared.stat().st_mtime_ns if old_shared.exists() else None) == before


def test_empty_and_unreachable_stores_are_clear_errors(tmp_path):
    empty = support.one_line_error(support.cli(["runs", "--home", tmp_path]))
    assert "no metadata store at" in empty
    down = support.one_line_error(support.cli(["runs", "--metadata", "mysql://u:secret@127.0.0.1:9/db"]))
    assert "cannot open the metadata store" in down
    assert "secret" not in down
