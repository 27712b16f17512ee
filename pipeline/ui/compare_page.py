"""Two runs side by side (`/compare?a=RUN&b=RUN`): pipeline.metadata.compare's data (`tfx-e2e compare`) as tables,
with overlaid charts: metrics per slice, feature importance, both runs' training curves, rows per split."""

from __future__ import annotations

from typing import Any, Optional

from pipeline.metadata import compare as C
from pipeline.metadata import queries as Q
from pipeline.metadata import runs as R
from pipeline.report import html, svg
from pipeline.ui.router import BadRequest, NotFound, Request, href


def _run(store: Any, request: Request, name: str) -> tuple[str, str]:
    run_id = request.arg(name)
    if not run_id:
        raise BadRequest("Choose two runs to compare (the runs list has the form): /compare?a=RUN&b=RUN.")
    pipeline = R.find_run(store, run_id)
    if pipeline is None:
        raise NotFound(f"There is no run {run_id!r} in this store.")
    return run_id, pipeline


def _num(value: Any) -> Any:
    return "—" if value is None else value


def _deltas(deltas: list[C.Delta], header: list[str]) -> str:
    return html.table(header, [[d.name, d.where, _num(d.a), _num(d.b), _num(d.delta)] for d in deltas])


def feature_blocks(features: list[C.Delta]) -> str:
    """One collapsible block per feature (the page's search box finds it by name): each statistic per split."""
    by_feature: dict[str, list[list]] = {}
    for d in features:
        split, _, feature = d.where.partition("/")
        by_feature.setdefault(feature, []).append([d.name, split, _num(d.a), _num(d.b), _num(d.delta)])
    changed = {f for f, rows in by_feature.items() if any(r[4] not in ("—", 0) for r in rows)}
    return "".join(
        html.item(f"{feature}" + (" (changed)" if feature in changed else ""),
                  html.table(["statistic", "split", "A", "B", "B−A"], rows), search=feature,
                  open=len(by_feature) <= 10)
        for feature, rows in by_feature.items()) or html.missing("No feature statistics to compare.")


def _finite_pair(d: C.Delta) -> bool:
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (d.a, d.b))


def metric_charts(result: C.Comparison, label_a: str, label_b: str) -> str:
    """One grouped bar chart per metric: a bar per run for every slice (the overall slice first)."""
    charts = []
    for metric in dict.fromkeys(d.name for d in result.metrics):
        deltas = [d for d in result.metrics if d.name == metric and _finite_pair(d)]
        if not deltas:
            continue
        charts.append(svg.grouped_bars([d.where for d in deltas],
                                       {label_a: [d.a for d in deltas], label_b: [d.b for d in deltas]},
                                       title=f"{metric} per slice"))
    return f'<div class="charts">{"".join(charts)}</div>'


def training_charts(curves_a: dict[str, list[float]], curves_b: dict[str, list[float]], label_a: str,
                    label_b: str) -> str:
    """Per metric one line chart holding both runs' curves (train and, when Keras logged it, `val_` eval)."""
    charts = []
    for metric in [m for m in dict.fromkeys([*curves_a, *curves_b]) if not m.startswith("val_")]:
        series = {}
        for label, curves in ((label_a, curves_a), (label_b, curves_b)):
            if metric in curves:
                series[f"{label} train"] = curves[metric]
            if f"val_{metric}" in curves:
                series[f"{label} eval"] = curves[f"val_{metric}"]
        charts.append(svg.line_chart(series, title=f"{metric} per epoch", y_label=metric))
    return f'<div class="charts">{"".join(charts)}</div>'


def _training_curves(store: Any, pipeline: str, run_id: str) -> Optional[dict[str, list[float]]]:
    """The Trainer's history (training_summary.json) as the report reads it; None when the run has no Trainer output."""
    from pipeline.report import model_outputs

    view = model_outputs.training(R.node_executions(store, pipeline, run_id))
    return view.history if view else None


def _summary(store: Any, a: tuple[str, str], b: tuple[str, str]) -> str:
    rows = []
    for side, (run_id, pipeline) in (("A", a), ("B", b)):
        r = Q.run_record(store, pipeline, run_id)
        blessed = "—" if r.blessed is None else ("blessed" if r.blessed else "not blessed")
        rows.append([side, html.Raw(html.link(href("run", run_id), run_id)), pipeline, r.started, r.state, blessed,
                     r.pushed_version or "—", r.duration_seconds])
    return html.table(["", "run", "pipeline", "started (UTC)", "state", "blessing", "pushed version", "seconds"], rows)


def page(request: Request, ctx: Any) -> tuple[int, str]:
    store = ctx.store()
    a, b = _run(store, request, "a"), _run(store, request, "b")
    result = C.compare(store, a[0], a[1], b[0], b[1])
    label_a, label_b = f"A {a[0]}", f"B {b[0]}"
    parts = [html.section("runs", "Runs", _summary(store, a, b) + '<p class="muted">B−A: the change from A to B.</p>')]
    if result.metrics:
        parts.append(html.section("metrics", "Metrics per slice (candidate)", metric_charts(result, label_a, label_b)
                                  + _deltas(result.metrics, ["metric", "slice", "A", "B", "B−A"])))
    else:
        parts.append(html.section("metrics", "Metrics per slice (candidate)",
                                  html.missing("One of the runs has no evaluation to compare.")))
    if result.importance:
        chart = svg.grouped_bars([d.name for d in result.importance],
                                 {label_a: [d.a for d in result.importance], label_b: [d.b for d in result.importance]},
                                 title=f"Feature importance ({result.importance_metric})")
        parts.append(html.section("importance", "Feature importance", f'<div class="charts">{chart}</div>'
                                  + _deltas(result.importance, ["feature", "rank A/B", "A", "B", "B−A"])))
    curves_a, curves_b = _training_curves(store, a[1], a[0]), _training_curves(store, b[1], b[0])
    if curves_a or curves_b:
        parts.append(html.section("training", "Training curves",
                                  training_charts(curves_a or {}, curves_b or {}, label_a, label_b)))
    if result.rows:
        rows_chart = svg.grouped_bars([d.where for d in result.rows], {label_a: [d.a for d in result.rows],
                                                                       label_b: [d.b for d in result.rows]},
                                      title="rows per split")
        parts.append(html.section("data", "Data", f'<div class="charts">{rows_chart}</div>'
                                  + _deltas(result.rows, ["", "split", "A", "B", "B−A"])
                                  + "<h3>Feature statistics</h3>" + feature_blocks(result.features)))
    parts.append(html.section("properties", "Changed properties",
                              _deltas(result.properties, ["property", "node", "A", "B", "B−A"]) if result.properties
                              else html.missing("No execution property differs.")))
    parts.append(html.section("nodes", "Nodes: re-ran, cached or failed",
                              html.table(["node", "A", "B"], [[d.where, _num(d.a), _num(d.b)] for d in result.nodes])))
    title = f"Compare {a[0]} and {b[0]}"
    return 200, html.page(title, "".join(parts), nav=html.link("/", "Runs"))
