"""pipeline.report.svg: each chart's data attributes and element counts, and every text argument escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from pipeline.report import svg

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><img src=x onerror=alert(1)><script>alert(1)</script>'


def parse(doc: str) -> ET.Element:
    root = ET.fromstring(doc)  # well-formed XML: an unescaped quote or tag would break parsing
    assert root.tag == NS + "svg" and root.get("class") == "chart" and root.get("role") == "img"
    assert root[0].tag == NS + "title"
    return root


def count(root: ET.Element, tag: str, cls: str) -> int:
    return sum(1 for e in root.iter(NS + tag) if cls in (e.get("class") or "").split())


def test_bar_chart_bars_threshold_counts():
    root = parse(svg.bar_chart(["Overall", "hour=3", "hour=4"], [0.9, 0.85, 0.95], title="auc per slice",
                               threshold=0.88, counts=[100, 7, 12]))
    assert root.get("data-chart") == "bar" and root.get("data-series") == "1" and root.get("data-points") == "3"
    assert count(root, "rect", "bar") == 3 and count(root, "line", "threshold") == 1
    text = ET.tostring(root, encoding="unicode")
    assert "n=7" in text and "threshold 0.88" in text
    bars = [e for e in root.iter(NS + "rect") if e.get("class") == "bar"]
    assert [b.get("data-label") for b in bars] == ["Overall", "hour=3", "hour=4"]
    widths = [float(b.get("width")) for b in bars]
    assert widths[2] > widths[0] > widths[1]  # lengths follow values


def test_bar_chart_negative_and_missing_values_and_no_threshold():
    root = parse(svg.bar_chart(["a", "b"], [-0.5, float("nan")], title="r2"))
    assert count(root, "rect", "bar") == 2 and count(root, "line", "threshold") == 0
    assert [e.get("data-value") for e in root.iter(NS + "rect") if e.get("class") == "bar"] == ["-0.5", "n/a"]


def test_grouped_bars_series_and_points():
    root = parse(svg.grouped_bars(["x", "y", "z", "w"], {"train": [0.1, 0.2, 0.3, 0.4], "eval": [0.4, 0.3, 0.2]},
                                  title="top values"))
    assert (root.get("data-chart"), root.get("data-series"), root.get("data-points")) == ("grouped", "2", "4")
    assert count(root, "rect", "bar") == 8 and count(root, "rect", "s1") == 4


def test_histogram_one_bar_per_bucket():
    buckets = [(0.0, 1.0, 5.0), (1.0, 2.0, 0.0), (2.0, float("inf"), 12.0)]
    root = parse(svg.histogram(buckets, title="trip_miles"))
    assert (root.get("data-chart"), root.get("data-points")) == ("histogram", "3")
    assert count(root, "rect", "bar") == 3


def test_line_chart_one_path_per_series_with_gaps():
    root = parse(svg.line_chart({"loss": [0.7, 0.5, 0.4], "val_loss": [0.8, float("nan"), 0.45]}, title="loss"))
    assert (root.get("data-chart"), root.get("data-series"), root.get("data-points")) == ("line", "2", "3")
    paths = [e for e in root.iter(NS + "path") if e.get("class") == "series"]
    assert [p.get("data-name") for p in paths] == ["loss", "val_loss"]
    assert paths[0].get("d").count("L") == 2 and paths[1].get("d").count("M") == 2  # NaN breaks the line


def test_line_chart_single_epoch_draws_a_dot():
    root = parse(svg.line_chart({"loss": [0.5]}, title="loss"))
    assert root.get("data-points") == "1" and len(list(root.iter(NS + "circle"))) == 1


def test_curve_points_and_diagonal():
    pts = [(0.0, 0.0), (0.1, 0.6), (0.5, 0.9), (1.0, 1.0)]
    root = parse(svg.curve(pts, title="ROC", x_label="false positive rate", y_label="true positive rate",
                           diagonal=True))
    assert (root.get("data-chart"), root.get("data-series"), root.get("data-points")) == ("curve", "1", "4")
    assert count(root, "path", "series") == 1 and count(root, "line", "diagonal") == 1
    assert count(parse(svg.curve(pts, title="PR", x_label="r", y_label="p")), "line", "diagonal") == 0


def test_graph_layers_left_to_right_with_states_and_links():
    nodes = [{"id": "CsvExampleGen", "label": "CsvExampleGen", "state": "ran", "href": "#data", "detail": "3.1 s"},
             {"id": "StatisticsGen", "label": "StatisticsGen", "state": "cached"},
             {"id": "SchemaGen", "label": "SchemaGen", "state": "failed", "detail": "boom"},
             {"id": "Pusher", "label": "Pusher", "state": "not run"}]
    edges = [("CsvExampleGen", "StatisticsGen"), ("StatisticsGen", "SchemaGen"), ("SchemaGen", "Pusher"),
             ("CsvExampleGen", "Pusher"), ("Pusher", "CsvExampleGen"), ("ghost", "Pusher")]
    root = parse(svg.graph(nodes, edges, title="DAG"))
    assert (root.get("data-chart"), root.get("data-points"), root.get("data-edges")) == ("graph", "4", "5")
    groups = [g for g in root.iter(NS + "g") if g.get("class") == "node"]
    assert [g.get("data-state") for g in groups] == ["ran", "cached", "failed", "not run"]
    assert len(list(root.iter(NS + "a"))) == 1
    xs = [float(next(g.iter(NS + "rect")).get("x")) for g in groups]
    assert xs[0] < xs[1] < xs[2] < xs[3]  # columns follow the longest path, even with a cycle edge present


def test_empty_inputs_render():
    for doc in (svg.bar_chart([], [], title="t"), svg.grouped_bars([], {}, title="t"), svg.histogram([], title="t"),
                svg.line_chart({}, title="t"), svg.curve([], title="t", x_label="x", y_label="y"),
                svg.graph([], [], title="t")):
        assert parse(doc).get("data-points") == "0"


@pytest.mark.parametrize("make", [
    lambda s: svg.bar_chart([s], [1.0], title=s, threshold=0.5, counts=[3]),
    lambda s: svg.grouped_bars([s], {s: [1.0]}, title=s),
    lambda s: svg.histogram([(0.0, 1.0, 2.0)], title=s),
    lambda s: svg.line_chart({s: [1.0, 2.0]}, title=s, x_label=s, y_label=s),
    lambda s: svg.curve([(0.0, 0.0), (1.0, 1.0)], title=s, x_label=s, y_label=s, diagonal=True),
    lambda s: svg.graph([{"id": s, "label": s, "state": s, "href": s, "detail": s}], [], title=s),
])
def test_every_text_argument_is_escaped(make):
    doc = make(HOSTILE)
    root = parse(doc)
    assert "<img" not in doc and "<script>" not in doc
    tags = {e.tag for e in root.iter()}
    assert NS + "img" not in tags and NS + "script" not in tags
    assert HOSTILE in "".join(root.itertext()) or any(HOSTILE in (v or "") for e in root.iter() for v in e.attrib.values())
    assert root[0].text == HOSTILE  # the title is shown literally


def test_no_external_reference():
    doc = svg.graph([{"id": "a", "label": "a", "state": "ran"}, {"id": "b", "label": "b", "state": "ran"}],
                    [("a", "b")], title="g") + svg.bar_chart(["a"], [math.pi], title="b")
    assert "url(" not in doc and ' id="' not in doc and "https://" not in doc
