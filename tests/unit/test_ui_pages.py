"""The UI's pages on a real SQLite MLMD store whose runs have real StatisticsGen, Evaluator and Trainer files: a run
page is the report's sections (the same HTML `tfx-e2e report` writes) with links to artifact and lineage pages; a
running run shows its finished nodes and reloads; compare overlays both runs; deleted files still give a page."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from pipeline.metadata import runs as R
from pipeline.report import model, render
from pipeline.ui import source
from tests.support import tree_digest
from tests.unit.mlmd_runs import New, Run, Store, taxi_run
from tests.unit.tfx_outputs import eval_config, write_evaluation, write_statistics
from tests.unit.ui_site import serving
from trainer_module import training_summary

EVIL_FEATURE = '"><img src=x onerror=alert(1)>'
EVIL_RUN = "<script>alert(1)</script>"
SLICES = ("overall", "trip_start_hour=1", "trip_start_hour=2")


def _statistics(root: Path, name: str, fare_mean: float) -> str:
    return write_statistics(root / name, {
        split: (rows, {"fare": {"mean": fare_mean, "std_dev": 2.0, "missing": 0},
                       EVIL_FEATURE: {"unique": 3, "missing": 1}})
        for split, rows in (("train", 100), ("eval", 50))})


def _training(builder: Store, run: Run, epochs: int) -> None:
    uri = Path(builder.store.get_artifacts_by_id(run.outputs["Trainer"]["model_run"])[0].uri)
    uri.mkdir(parents=True)
    history = {"loss": [0.7 - 0.1 * e for e in range(epochs)], "val_loss": [0.75 - 0.1 * e for e in range(epochs)]}
    summary = training_summary.build(
        strategy="default", reason="one CPU", replicas=1, workers=1, global_batch_size=32, mixed_precision=None,
        steps_per_execution=1, model_family="wide_deep", warm_start=False, warm_start_reason="first run", seed=42,
        history=history, steps_per_epoch=10, fit_seconds=1.0, wall_seconds=2.0, inputs=["fare"])
    (uri / training_summary.SUMMARY_FILE).write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """a (blessed, pushed 1) and b (pushed 2, evaluated against a's model), each with statistics, an evaluation and
    a training summary; `EVIL_RUN`: a not-blessed run under a markup run id; `live`: still running (StatisticsGen)."""
    root = tmp_path_factory.mktemp("home")
    builder, pr = Store(root / "metadata.sqlite"), root / "pipeline_root"
    config = eval_config({"AUC": (0.5, -0.01)}, slices=("trip_start_hour",))
    a = taxi_run(builder, pr, "a", statistics=_statistics(pr, "stats-a", 10.0), pushed_version="1",
                 evaluation=write_evaluation(pr / "eval-a", {s: {"auc": 0.8 + i / 100} for i, s in
                                                             enumerate(SLICES)}, config))
    _training(builder, a, 3)
    b = taxi_run(builder, pr, "b", statistics=_statistics(pr, "stats-b", 12.0), pushed_version="2", dropout=0.2,
                 baseline=a.outputs["Trainer"]["model"][0],
                 evaluation=write_evaluation(pr / "eval-b", {s: {"auc": 0.85 + i / 100} for i, s in
                                                             enumerate(SLICES[:2])}, config))
    _training(builder, b, 4)
    taxi_run(builder, pr, EVIL_RUN, statistics=_statistics(pr, "stats-evil", 11.0), blessed=False)
    live = builder.run("taxi", "live")
    live.node("CsvExampleGen", outputs={"examples": [New("Examples", str(pr / "live-examples"))]})
    live.node("StatisticsGen", "running")
    builder.store = None
    return root


@pytest.fixture(scope="module")
def site(home):
    with serving(home) as s:
        yield s


def _sections(body: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', body)


def test_run_page_is_the_reports_sections(site, home):
    page = site.get("/run/b")
    assert page.status == 200
    assert _sections(page.body) == ["run", "dag", "data", "training", "evaluation", "push", "lineage", "artifacts"]
    store = source.source(home, None).open()
    report = model.build(store, "taxi", "b", home=home)
    for anchor, title, html in render.sections(report, artifact_href=lambda i: f"/artifact/{i}"):
        if anchor == "run":  # it holds the time the report was generated
            html = re.sub(r"<tr><td>report generated</td>.*?</tr>", "", html)
        assert html in re.sub(r"<tr><td>report generated</td>.*?</tr>", "", page.body), anchor
    assert '<a href="/">Runs</a>' in page.body and '<a href="#evaluation">' in page.body
    assert 'http-equiv="refresh"' not in page.body


def test_run_page_links_to_artifacts_and_lineage(site):
    page = site.get("/run/b")
    artifacts = page.body[page.body.index('<section id="artifacts">'):]
    ids = re.findall(r'<a href="/artifact/(\d+)">#\1</a>', artifacts)
    assert len(ids) >= 10 and all(f'href="/lineage/{i}"' in artifacts for i in ids)
    for artifact_id in ids:
        assert site.get(f"/artifact/{artifact_id}").status == 200
    lineage = page.body[page.body.index('<section id="lineage">'):page.body.index('<section id="artifacts">')]
    assert re.search(r'<a href="/artifact/\d+">', lineage)  # the report's lineage graph links into the UI


def test_a_running_run_shows_its_finished_nodes_and_reloads(site):
    page = site.get("/run/live")
    assert page.status == 200 and 'http-equiv="refresh" content="5"' in page.body
    assert "still running" in page.text()
    assert re.search(r'<g class="node" data-id="CsvExampleGen" data-state="ran">', page.body)
    assert re.search(r'<g class="node" data-id="StatisticsGen" data-state="running">', page.body)


def test_markup_in_a_run_id_and_a_feature_name_is_text(site):
    listed = site.get("/").body
    assert f'<a href="/run/{quote(EVIL_RUN, safe="")}">' in listed
    page = site.get(f"/run/{quote(EVIL_RUN, safe='')}")
    assert page.status == 200
    assert "<script>alert" not in page.body and "<img src=x" not in page.body
    assert EVIL_RUN in page.text() and EVIL_FEATURE in page.text()


def test_compare_overlays_both_runs(site):
    page = site.get("/compare?a=a&b=b")
    assert page.status == 200
    assert _sections(page.body) == ["runs", "metrics", "training", "data", "properties", "nodes"]
    assert '<a href="/run/a">a</a>' in page.body and '<a href="/run/b">b</a>' in page.body
    charts = re.findall(r'data-chart="(\w+)" data-series="(\d+)" data-points="(\d+)"[^>]*><title>([^<]*)</title>',
                        page.body)
    assert ("grouped", "2", "3", "auc per slice") in charts  # both runs' bars on every slice
    assert ("line", "4", "4", "loss per epoch") in charts  # A train, A eval, B train, B eval
    assert ("grouped", "2", "2", "rows per split") in charts
    series = re.findall(r'<path class="series" data-name="([^"]+)"', page.body)
    assert series == ["A a train", "A a eval", "B b train", "B b eval"]
    text = page.text()
    assert "custom_config.model.hparams.dropout" in text
    fare = re.search(r'<details class="item" data-search="fare" open><summary>fare \(changed\)</summary>(.*?)</details>',
                     page.body).group(1)
    assert re.search(r"<tr><td>mean</td><td>train</td><td class=\"num\">10</td><td class=\"num\">12</td>"
                     r"<td class=\"num\">2</td></tr>", fare)


def test_artifact_page_shows_producer_and_consumers(site, home):
    store = source.source(home, None).open()
    model_id = R.node_executions(store, "taxi", "a")["Trainer"].outputs["model"][0].id
    page = site.get(f"/artifact/{model_id}")
    assert page.status == 200
    text = page.text()
    assert "Model" in text and "/Trainer/model/a" in text
    producer = page.body[page.body.index('<section id="producer">'):page.body.index('<section id="consumers">')]
    assert '<a href="/run/a#training">a</a>' in producer and "Trainer" in producer
    consumers = page.body[page.body.index('<section id="consumers">'):]
    assert "Evaluator" in consumers and "Pusher" in consumers and '<a href="/run/b#evaluation">b</a>' in consumers
    assert f'href="/lineage/{model_id}"' in page.body


def test_lineage_page_draws_the_graph(site, home):
    store = source.source(home, None).open()
    pushed = R.node_executions(store, "taxi", "b")["Pusher"].outputs["pushed_model"][0].id
    page = site.get(f"/lineage/{pushed}")
    assert page.status == 200
    graph = re.search(r'<svg class="chart"[^>]*data-chart="graph"[^>]*>', page.body).group(0)
    assert int(re.search(r'data-points="(\d+)"', graph).group(1)) >= 10
    assert f'<g class="node" data-id="a{pushed}" data-state="artifact"><a href="/artifact/{pushed}">' in page.body
    assert re.search(r'<g class="node" data-id="e\d+" data-state="complete"><a href="/run/b#training">', page.body)
    assert "/data/taxi" in page.text()  # the raw input


def test_deleted_files_still_give_a_page(tmp_path):
    builder, pr = Store(tmp_path / "metadata.sqlite"), tmp_path / "pipeline_root"
    run = taxi_run(builder, pr, "gone", statistics=_statistics(pr, "stats", 10.0))
    _training(builder, run, 2)
    builder.store = None
    shutil.rmtree(pr)
    with serving(tmp_path) as s:
        page = s.get("/run/gone")
        assert page.status == 200 and "Traceback" not in page.body
        assert f"{pr / 'stats'} is missing" in page.text()  # the Data section says so
        assert _sections(page.body) == ["run", "dag", "data", "training", "evaluation", "push", "artifacts"]
        assert s.get("/compare?a=gone&b=gone").status == 200
        assert s.get("/").status == 200


def test_serving_run_pages_reads_only(home):
    before = tree_digest(home, with_dirs=True)
    with serving(home) as s:
        for path in ["/run/a", "/run/b", "/run/live", "/compare?a=a&b=b", "/lineage/1", "/artifact/1"]:
            assert s.get(path).status == 200, path
    assert tree_digest(home, with_dirs=True) == before
