"""`tfx-e2e report` files opened in a real browser (Debian's chromium via Playwright): a blessed taxi run, a
not-blessed one and a failed run whose data carries markup. Every section the run produced is present and visible,
each chart draws what the run's own artifacts hold (DAG nodes, features, epochs, slices, lineage), nothing is
fetched from anywhere but the file itself, no console error, markup from data stays text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.metadata import importance
from pipeline.metadata import lineage as L
from pipeline.metadata import runs as R
from pipeline.metadata.eval_results import OVERALL, load_metrics
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.browser import (assert_nothing_injected, assert_offline, charts, importance_chart, screenshot,
                           visible_sections)
from tests.conftest import HOSTILE_COLUMN, HOSTILE_VALUE

STATE = {"complete": "ran", "cached": "cached", "failed": "failed"}  # ML Metadata's words → the report's
SECTION_OF = {"CsvExampleGen": "data", "StatisticsGen": "data", "Transform": "training", "Trainer": "training",
              "Evaluator": "evaluation", "FeatureImportance": "importance", "Pusher": "push"}


@pytest.fixture(scope="module")
def taxi(taxi_runs):
    """(home, store, the four run ids oldest first, serving versions after each run)."""
    home, results, versions = taxi_runs
    for result in results:
        assert result.code == 0, result.stdout + result.stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    return home, store, R.run_ids(store, "taxi"), versions


def _open_report(page, home: Path, run_id: str, tmp_path: Path) -> Path:
    """`tfx-e2e report RUN --home HOME --out FILE`, opened from file:// with every section expanded."""
    out = tmp_path / "report" / f"{run_id}.html"
    result = support.cli(["report", run_id, "--home", home, "--out", out])
    assert result.code == 0, result.stdout + result.stderr
    assert str(out) in result.stdout and out.is_file()
    assert page.goto(out.as_uri()).status == 200
    screenshot(page, tmp_path / "top.png", full_page=False)
    page.expand_all()
    screenshot(page, tmp_path / "report.png")
    return out


def _clean(page) -> None:
    assert page.requests and all(u.startswith("file://") for u in page.requests), page.requests
    assert_offline(page.requests)
    assert page.errors == [], page.errors


def _dag(page) -> dict[str, dict]:
    graphs = [c for c in charts(page, "#dag") if c["kind"] == "graph"]
    assert len(graphs) == 1, graphs
    return {n["id"]: n for n in graphs[0]["nodes"]}


def _check_data(page, executions) -> None:
    """Rows per split, and per feature: a histogram per split for numbers, top values train vs eval for strings."""
    from pipeline.metadata import statistics
    from pipeline.report.model_data import TOP_VALUES

    datasets = statistics.load(executions["StatisticsGen"].outputs["statistics"][0].uri)
    rows = page.page.inner_text("#data table.rows")
    for split, dataset in datasets.items():
        assert f"{split}\t{dataset.num_examples}" in rows, rows
    expected: dict[str, tuple[str, int, int]] = {}  # chart title -> (kind, series, points)
    for split, dataset in datasets.items():
        for f in dataset.features:
            name = ".".join(f.path.step)
            if f.HasField("num_stats"):
                standard = [h for h in f.num_stats.histograms if h.type == h.STANDARD]
                if standard and standard[0].buckets:
                    expected[f"{name} · {split}"] = ("histogram", 1, len(standard[0].buckets))
            elif f.HasField("string_stats") and split == "train" and f.string_stats.top_values:
                top = len(f.string_stats.top_values[:TOP_VALUES])
                splits = sum(any(".".join(g.path.step) == name for g in d.features) for d in datasets.values())
                expected[f"{name}: top values, % of examples per split"] = ("grouped", splits, top)
    drawn = {c["title"]: (c["kind"], c["series"], c["points"]) for c in charts(page, "#data")}
    assert drawn == expected
    assert {"histogram", "grouped"} <= {kind for kind, _, _ in expected.values()}


def _check_training(page, executions) -> None:
    summary = json.loads((Path(executions["Trainer"].outputs["model_run"][0].uri) / "training_summary.json")
                         .read_text())
    history, epochs = summary["history"], summary["epochs_run"]
    assert epochs == len(history["loss"]) >= 2
    drawn = {c["title"]: c for c in charts(page, "#training") if c["kind"] == "line"}
    metrics = sorted(m for m in history if not m.startswith("val_"))
    assert sorted(drawn) == metrics and "loss" in metrics
    for m in metrics:
        assert drawn[m]["series"] == (2 if f"val_{m}" in history else 1) and drawn[m]["points"] == epochs
        assert drawn[m]["names"][:2] == ["train", "eval"][:drawn[m]["series"]]
    text = page.page.inner_text("#training")
    assert summary["strategy"] in text and str(summary["global_batch_size"]) in text


def _check_evaluation(page, executions, outcome: str, threshold: float) -> str:
    """The verdict, the main metric (auc) per slice with its gate as a line, the binary curves; returns the verdict."""
    verdict = page.page.locator("#evaluation p.verdict")
    assert verdict.get_attribute("data-outcome") == outcome and verdict.is_visible()
    candidate = load_metrics(executions["Evaluator"].outputs["evaluation"][0].uri)["candidate"]
    columns: dict[str, int] = {}
    for name in candidate:
        if name != OVERALL:
            column = ", ".join(part.split("=", 1)[0] for part in name.split(", "))
            columns[column] = columns.get(column, 0) + 1
    assert columns == {"trip_start_hour": columns["trip_start_hour"]} and columns["trip_start_hour"] > 3
    bars = {c["title"]: c for c in charts(page, "#evaluation") if c["kind"] == "bar"}
    assert sorted(bars) == [f"auc per slice: {c}" for c in sorted(columns)]
    for column, n in columns.items():
        chart = bars[f"auc per slice: {column}"]
        assert chart["points"] == n + 1 and chart["labels"][0] == OVERALL  # overall, then every slice
        assert chart["thresholds"] == 1
    assert f"threshold {threshold:.4g}" in page.page.inner_text("#evaluation")
    curves = {c["title"] for c in charts(page, "#evaluation") if c["kind"] == "curve"}
    assert curves == {"calibration (overall)", "ROC (overall)", "precision-recall (overall)"}
    return verdict.inner_text()


def test_a_blessed_run_shows_every_section_drawn_from_its_artifacts(taxi, browser_page, tmp_path):
    home, store, run_ids, versions = taxi
    page, run_id = browser_page, run_ids[0]
    _open_report(page, home, run_id, tmp_path)
    assert visible_sections(page) == ["run", "dag", "data", "training", "evaluation", "importance", "push",
                                      "lineage"]
    executions = R.node_executions(store, "taxi", run_id)
    assert run_id in page.page.inner_text("#run") and "taxi" in page.page.inner_text("#run")

    dag = _dag(page)
    assert {n: d["state"] for n, d in dag.items()} == {n: "ran" for n in executions}
    assert {n: dag[n]["href"] for n in SECTION_OF} == {n: f"#{s}" for n, s in SECTION_OF.items()}
    page.page.click("#dag g.node[data-id=Trainer] a")
    assert page.page.evaluate("location.hash") == "#training"

    _check_data(page, executions)
    _check_training(page, executions)
    verdict = _check_evaluation(page, executions, "blessed", threshold=0.75)
    assert verdict.startswith("blessed"), verdict
    screenshot(page.page.locator("#evaluation"), tmp_path / "evaluation.png")
    importance_chart(page, importance.from_executions(executions))

    version_dir = versions[0][0]
    assert str(version_dir) in page.page.inner_text("#push")
    pushed = executions["Pusher"].outputs["pushed_model"][0]
    graph = L.lineage(store, pushed.id)
    lineage = [c for c in charts(page, "#lineage") if c["kind"] == "graph"]
    assert len(lineage) == 1
    assert {n["id"] for n in lineage[0]["nodes"]} == set(graph.upstream) | {f"a{pushed.id}"}
    assert {n.label for n in graph.nodes if n.key in graph.upstream} >= {"CsvExampleGen", "Trainer", "Pusher"}
    _clean(page)


def test_a_not_blessed_run_says_why_and_pushes_nothing(taxi, browser_page, tmp_path):
    home, store, run_ids, _ = taxi
    page, run_id = browser_page, run_ids[3]
    _open_report(page, home, run_id, tmp_path)
    assert visible_sections(page) == ["run", "dag", "data", "training", "evaluation", "importance",
                                      "push"]  # no pushed model
    executions = R.node_executions(store, "taxi", run_id)
    assert {n: d["state"] for n, d in _dag(page).items()} == {n: STATE[e.state] for n, e in executions.items()}
    _check_data(page, executions)
    _check_training(page, executions)
    verdict = _check_evaluation(page, executions, "not_blessed", threshold=0.999)
    assert verdict.startswith("not blessed") and "auc" in verdict and "0.999" in verdict, verdict
    assert "nothing pushed" in page.page.inner_text("#push")
    _clean(page)


def test_a_failed_run_names_its_failed_node_and_shows_markup_from_data_as_text(hostile_run, browser_page, tmp_path):
    result = hostile_run.result
    assert result.code == 1 and "FAILED: component Transform" in result.stdout, result.stdout + result.stderr
    log_file = result.stdout.split("full traceback in ", 1)[1].split()[0]
    page = browser_page
    _open_report(page, hostile_run.home, hostile_run.run_id, tmp_path)
    assert visible_sections(page) == ["run", "dag", "data"]  # it stopped in Transform: no training, no evaluation

    states = {n: d["state"] for n, d in _dag(page).items()}
    assert states["Transform"] == "failed"
    assert {n: states.get(n) for n in ("Trainer", "Evaluator", "Pusher")} == dict.fromkeys(
        ("Trainer", "Evaluator", "Pusher"), "not run")
    assert all(states[n] == "ran" for n in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator"))
    failure = page.page.locator("#run p.fail[data-node=Transform]")
    assert failure.is_visible() and "no_such_label" in failure.inner_text()
    assert log_file in page.page.inner_text("#run")

    assert_nothing_injected(page)
    text = page.page.inner_text("#data")  # the rendered text: what a reader sees
    assert HOSTILE_VALUE in text and HOSTILE_COLUMN in text
    top = [c for c in charts(page, "#data") if c["title"] == "color: top values, % of examples per split"]
    assert len(top) == 1 and top[0]["labels"][0] == HOSTILE_VALUE  # the most frequent value, drawn as a label
    _clean(page)
