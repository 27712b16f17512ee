"""`tfx-e2e ui` in a real browser (Debian's chromium via Playwright): started on a free port over a copy of the taxi
home, clicked through runs list → run page → compare → artifact → lineage; a run added while it serves appears on
reload; data that carries markup is shown as text; unknown pages are a clear 404; stopping it leaves the home as the
runs left it. Every page stays on 127.0.0.1 and logs no console error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from pipeline.metadata import importance
from pipeline.metadata import lineage as L
from pipeline.metadata import runs as R
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.browser import (assert_nothing_injected, assert_offline, charts, importance_chart, screenshot,
                           visible_sections)
from tests.conftest import HOSTILE_COLUMN, HOSTILE_VALUE

REPORT_SECTIONS = ["run", "dag", "data", "training", "evaluation", "importance", "push", "lineage"]


@pytest.fixture(scope="module")
def taxi(ui_server):
    """(store, the four taxi run ids oldest first) of the served home."""
    store = open_store(sqlite_config(ui_server.home / "metadata.sqlite", create=False))
    run_ids = R.run_ids(store, "taxi")
    assert len(run_ids) == 4, run_ids
    return store, run_ids


def _run_links(page) -> list[str]:
    hrefs = page.page.eval_on_selector_all("table.runs a[href^='/run/']", "els => els.map(e => e.getAttribute('href'))")
    return [unquote(h[len("/run/"):]) for h in hrefs]


def _click(page, selector: str) -> None:
    """Clicks a link or button and waits for the page it leads to."""
    with page.page.expect_navigation(wait_until="load"):
        page.page.click(selector)


def _clean(page) -> None:
    assert_offline(page.requests)
    assert page.errors == [], page.errors


def _history(store, run_id: str) -> dict[str, list[float]]:
    trainer = R.node_executions(store, "taxi", run_id)["Trainer"]
    return json.loads((Path(trainer.outputs["model_run"][0].uri) / "training_summary.json").read_text())["history"]


def test_click_from_the_runs_list_to_a_run_compare_an_artifact_and_its_lineage(ui_server, taxi, browser_page,
                                                                                 tmp_path):
    from pipeline.metadata import compare as C

    store, run_ids = taxi
    page, base = browser_page, ui_server.url
    blessed, not_blessed = run_ids[0], run_ids[3]

    # The runs list: every taxi run, newest first (a hostile run, when another test added it already, is newest).
    assert page.goto(base + "/").status == 200
    shown = _run_links(page)
    assert [r for r in shown if r in run_ids] == list(reversed(run_ids)), shown
    assert set(shown) - set(run_ids) <= set(R.run_ids(store, "hostile"))
    screenshot(page, tmp_path / "runs.png")

    # → the blessed run's page: the report's sections, the DAG with every node of the run.
    _click(page, f"table.runs a[href='/run/{quote(blessed, safe='')}']")
    assert unquote(page.page.url) == f"{base}/run/{blessed}"
    page.expand_all()
    assert visible_sections(page)[:len(REPORT_SECTIONS)] == REPORT_SECTIONS
    executions = R.node_executions(store, "taxi", blessed)
    dag = [c for c in charts(page, "#dag") if c["kind"] == "graph"]
    assert len(dag) == 1 and {n["id"]: n["state"] for n in dag[0]["nodes"]} == {n: "ran" for n in executions}
    importance_chart(page, importance.from_executions(executions))  # the run's feature importance as bars
    screenshot(page, tmp_path / "run.png")

    # → its pushed model's artifact page (from the run's artifact list) → that artifact's lineage graph.
    pushed = executions["Pusher"].outputs["pushed_model"][0]
    _click(page, f"#artifacts a[href='/artifact/{pushed.id}']")
    assert page.page.url == f"{base}/artifact/{pushed.id}"
    text = page.page.inner_text("main")
    assert pushed.uri in text and "Pusher" in text and "PushedModel" in text
    screenshot(page, tmp_path / "artifact.png")
    _click(page, f"a[href='/lineage/{pushed.id}']")
    assert page.page.url == f"{base}/lineage/{pushed.id}"
    graph = L.lineage(store, pushed.id)
    drawn = [c for c in charts(page) if c["kind"] == "graph"]
    assert len(drawn) == 1 and {n["id"] for n in drawn[0]["nodes"]} == {n.key for n in graph.nodes}
    assert drawn[0]["edges"] == len(graph.edges)
    assert {n.label for n in graph.nodes} >= {"CsvExampleGen", "Transform", "Trainer", "Evaluator", "Pusher"}
    screenshot(page, tmp_path / "lineage.png")

    # ← back to the list; compare the blessed run (A) with the not-blessed one (B) through the form.
    page.goto(base + "/")
    page.page.select_option("form.compare select[name=a]", blessed)
    page.page.select_option("form.compare select[name=b]", not_blessed)
    _click(page, "form.compare button[type=submit]")
    assert unquote(page.page.url) == f"{base}/compare?a={blessed}&b={not_blessed}"
    page.expand_all()
    comparison = C.compare(store, blessed, "taxi", not_blessed, "taxi")
    per_metric: dict[str, int] = {}
    for d in comparison.metrics:
        if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (d.a, d.b)):
            per_metric[d.name] = per_metric.get(d.name, 0) + 1
    metric_charts = {c["title"]: c for c in charts(page, "#metrics")}
    assert {t: c["points"] for t, c in metric_charts.items()} == {f"{m} per slice": n for m, n in per_metric.items()}
    assert all(c["series"] == 2 for c in metric_charts.values())
    [importance_bars] = charts(page, "#importance")  # both runs' feature importance, a bar per run and feature
    assert importance_bars["series"] == 2 and importance_bars["points"] == len(comparison.importance) > 5
    history_a, history_b = _history(store, blessed), _history(store, not_blessed)
    curves = {c["title"]: c for c in charts(page, "#training")}
    metrics = [m for m in history_a if not m.startswith("val_")]
    assert set(curves) == {f"{m} per epoch" for m in metrics}
    for m in metrics:
        assert curves[f"{m} per epoch"]["series"] == 4  # A train, A eval, B train, B eval
        assert curves[f"{m} per epoch"]["points"] == max(len(history_a[m]), len(history_b[m]))
    rows = [c for c in charts(page, "#data") if c["title"] == "rows per split"]
    assert len(rows) == 1 and rows[0]["points"] == len(comparison.rows) == 2 and rows[0]["series"] == 2
    table = page.page.inner_text("#metrics table")
    assert "auc" in table and "overall" in table
    screenshot(page, tmp_path / "compare.png")
    _clean(page)


def test_a_run_added_while_serving_appears_on_reload_and_its_markup_stays_text(hostile_run, ui_server, tmp_path):
    page, run_id = hostile_run.runs_page, hostile_run.run_id
    assert hostile_run.result.code == 1, hostile_run.result.stdout + hostile_run.result.stderr
    assert f"/run/{quote(run_id, safe='')}" not in hostile_run.links_before  # the list loaded before the run
    page.page.reload(wait_until="load")
    assert _run_links(page)[0] == run_id  # newest first
    _click(page, f"table.runs a[href='/run/{quote(run_id, safe='')}']")
    assert unquote(page.page.url) == f"{ui_server.url}/run/{run_id}"
    page.expand_all()
    sections = visible_sections(page)
    assert {"run", "dag", "data"} <= set(sections) and not {"training", "evaluation", "push"} & set(sections)
    dag = [c for c in charts(page, "#dag") if c["kind"] == "graph"][0]
    assert {n["id"]: n["state"] for n in dag["nodes"]}["Transform"] == "failed"

    assert_nothing_injected(page)
    shown = page.page.inner_text("main")  # the rendered text: what a reader sees
    assert HOSTILE_VALUE in shown and HOSTILE_COLUMN in shown
    screenshot(page, tmp_path / "hostile_run.png")
    _clean(page)


def test_an_unknown_run_is_a_clear_404_page_and_the_server_keeps_serving(ui_server, browser_page):
    page = browser_page
    response = page.goto(ui_server.url + "/run/" + quote("no-such-run", safe=""))
    assert response.status == 404
    assert page.page.inner_text(".error") == "There is no run 'no-such-run' in this store."
    assert "Traceback" not in page.page.content()
    assert page.goto(ui_server.url + "/artifact/999999").status == 404
    assert page.goto(ui_server.url + "/").status == 200 and _run_links(page)
    assert_offline(page.requests)
    # Chromium logs a failed document load as a console error; nothing else may be logged.
    assert all("status of 404" in e for e in page.console_errors) and page.page_errors == [], page.errors


def _without_report_logs(tree: dict) -> dict:
    """The home's files but the logs of `tfx-e2e report --home` (test_report_browser reports the hostile run from
    this home; that command logs to <home>/logs/report-*.log). The UI itself writes nothing."""
    return {path: digest for path, digest in tree.items() if not re.fullmatch(r"logs/report-[^/]*\.log", path)}


def test_stopping_the_server_leaves_the_home_as_the_runs_left_it(ui_server, hostile_run):
    # Nothing changed between the server's start and the hostile run, nor after the run while it kept serving.
    assert hostile_run.tree_before == ui_server.tree_at_start
    assert ui_server.stop() == 0, "\n".join(ui_server.output)
    after = support.tree_digest(ui_server.home, with_dirs=True)
    assert after["metadata.sqlite"] == hostile_run.tree_after["metadata.sqlite"]
    assert _without_report_logs(after) == _without_report_logs(hostile_run.tree_after)
    assert not any("Traceback" in line for line in ui_server.output), "\n".join(ui_server.output)
