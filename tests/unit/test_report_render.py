"""pipeline.report.render: the report page of real runs — fixed section anchors, chart counts, every string from
data and metadata escaped, no external URL, and a 100-feature dataset that stays small and collapsed."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from pipeline.report import model, render
from pipeline.report.model_data import Feature, SplitStats
from tests.unit.report_store import HOSTILE_COLUMN, IMG, SCRIPT, build


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, doc: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(doc)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def classed(self, tag: str, cls: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("render"))


@pytest.fixture(scope="module")
def reports(built):
    return {run: model.build(built.store.store, "taxi", run, home=built.home)
            for run in ("slice_failed", "pushed", "broken")}


def test_sections_in_order_with_fixed_anchors(reports):
    assert [a for a, _, _ in render.sections(reports["pushed"])] == [
        "run", "dag", "data", "training", "evaluation", "push", "lineage"]
    assert [a for a, _, _ in render.sections(reports["broken"])] == ["run", "dag", "data"]
    page = Page(render.document(reports["pushed"]))
    assert [a["id"] for a in page.all("section")] == ["run", "dag", "data", "training", "evaluation", "push",
                                                       "lineage"]


def test_charts_have_the_expected_series_and_points(reports):
    page = Page(render.document(reports["slice_failed"]))
    charts = page.all("svg")
    kinds = [c["data-chart"] for c in charts]
    # DAG; per feature: trip_miles and the hostile column have a histogram per split, payment_type top values;
    # training: auc and loss; the main metric per slice; calibration, ROC, PR.
    assert kinds.count("graph") == 1 and kinds.count("histogram") == 4 and kinds.count("grouped") == 1
    assert kinds.count("line") == 2 and kinds.count("bar") == 1 and kinds.count("curve") == 3
    [dag] = [c for c in charts if c["data-chart"] == "graph"]
    assert dag["data-points"] == str(len(reports["slice_failed"].run.nodes))
    [slices] = [c for c in charts if c["data-chart"] == "bar"]
    assert (slices["data-series"], slices["data-points"]) == ("1", "3")
    assert [c["data-series"] for c in charts if c["data-chart"] == "line"] == ["2", "2"]
    [grouped] = [c for c in charts if c["data-chart"] == "grouped"]
    assert (grouped["data-series"], grouped["data-points"]) == ("2", "3")  # train vs eval, three top values
    # 3 slices + 3 top values x 2 splits + histogram buckets (trip_miles 3, the hostile column 1) x 2 splits
    assert len(page.classed("rect", "bar")) == 3 + 3 * 2 + (3 + 1) * 2


def test_every_feature_is_collapsed_and_searchable(reports):
    page = Page(render.document(reports["slice_failed"]))
    blocks = page.classed("details", "item")
    searchable = {b["data-search"] for b in blocks if "data-search" in b}
    assert {"trip_miles", "payment_type", HOSTILE_COLUMN} <= searchable
    # Only a feature with anomalies opens by itself.
    opened = {b["data-search"] for b in blocks if "open" in b and "data-search" in b}
    assert opened == {"payment_type"}


def test_the_dag_links_nodes_to_their_sections(reports):
    page = Page(render.document(reports["pushed"]))
    hrefs = {a["href"] for a in page.all("a")}
    assert {"#data", "#training", "#evaluation", "#push"} <= hrefs
    states = {g["data-id"]: g["data-state"] for g in page.classed("g", "node") if "data-id" in g}
    assert states["Trainer"] == "ran"
    failed = Page(render.document(reports["broken"]))
    states = {g["data-id"]: g["data-state"] for g in failed.classed("g", "node")}
    assert states["Trainer"] == "failed" and states["Pusher"] == "not run"
    # Sections the failed run lacks are not linked.
    assert "#evaluation" not in {a["href"] for a in failed.all("a")}


@pytest.mark.parametrize("run", ["slice_failed", "pushed", "broken"])
def test_hostile_strings_are_shown_literally_never_as_markup(reports, run):
    doc = render.document(reports[run])
    page = Page(doc)
    assert not page.all("img") and [t for t, _ in page.tags].count("script") == 1  # the page's own script only
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]  # no event handler attribute
    text = "".join(page.text)
    if run == "broken":
        assert f"ValueError: the trainer broke {SCRIPT}" in text
    else:
        assert SCRIPT in text and IMG in text  # the category values, as text
        assert HOSTILE_COLUMN in text
    if run == "slice_failed":
        assert f"label: {SCRIPT}" in text  # the config YAML
        assert "Examples contain values missing from the schema: " + SCRIPT in text  # the anomaly


def test_the_page_requests_nothing(reports):
    doc = render.document(reports["pushed"])
    refs = re.findall(r"""(?:src|href|action)\s*=\s*["']([^"']*)""", doc) + re.findall(r"url\(([^)]*)\)", doc)
    assert all(r.startswith("#") or r == "data:," for r in refs), refs
    assert "@import" not in doc and "https://" not in doc


def test_artifact_links_for_the_ui(reports):
    html = dict((a, h) for a, _, h in render.sections(reports["pushed"], artifact_href=lambda i: f"/artifact/{i}"))
    assert re.search(r'href="/artifact/\d+"', html["lineage"])
    assert "/artifact/" not in render.document(reports["pushed"])


def test_missing_files_are_said_in_the_section(reports):
    report = dataclasses.replace(reports["slice_failed"])
    report.data = dataclasses.replace(report.data, features=[], problems=["/x/stats is missing (deleted since the "
                                                                          "run?)"])
    page = Page(render.document(report))
    assert "/x/stats is missing (deleted since the run?)" in "".join(page.text)


def test_a_hundred_features_stay_small(reports):
    report = dataclasses.replace(reports["slice_failed"])
    base = {f.name: f for f in report.data.features}
    features = []
    for i in range(50):
        features.append(dataclasses.replace(base["trip_miles"], name=f"number_{i:03d}"))
        strings = base["payment_type"]
        top = [(f"value_{k}", 10.0 * k) for k in range(10)]
        features.append(Feature(f"category_{i:03d}", "STRING", {s: SplitStats("string", 100, unique=40, top=top)
                                                               for s in strings.splits}))
    report.data = dataclasses.replace(report.data, features=features)
    doc = render.document(report)
    assert len(doc.encode()) < 1_000_000, len(doc)
    page = Page(doc)
    assert len([b for b in page.classed("details", "item") if b.get("data-search", "").startswith(
        ("number_", "category_")) and "open" not in b]) == 100
