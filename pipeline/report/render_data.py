"""HTML of the Data section: rows per split, the anomalies with the schema's expectation, and one collapsed block
per feature (statistics per split side by side, histograms or top values train vs eval) the search box filters."""

from __future__ import annotations

from typing import Optional

from pipeline.report import svg
from pipeline.report.html import Raw, esc, fmt_number, item, missing, table
from pipeline.report.model_data import DataView, Feature, SplitStats

NUMBER_ROWS = (("mean", "mean"), ("std dev", "std"), ("min", "min"), ("median", "median"), ("max", "max"),
               ("zeros", "zeros"))
STRING_ROWS = (("unique", "unique"), ("avg length", "avg_length"))


def _split_order(splits) -> list[str]:
    """train first, then eval, then any other split by name."""
    rank = {"train": 0, "eval": 1}
    return sorted(splits, key=lambda s: (rank.get(s, 2), s))


def _pct(value: float) -> str:
    return f"{value:.1f}%" if value else "0%"


def _stats_table(feature: Feature, splits: list[str]) -> str:
    stats = [feature.splits.get(s) for s in splits]
    rows = [["examples"] + [s.examples if s else "" for s in stats],
            ["present"] + [_pct(100.0 - s.missing_pct) if s else "" for s in stats],
            ["missing"] + [f"{fmt_number(s.missing)} ({_pct(s.missing_pct)})" if s else "" for s in stats]]
    kind = next((s.kind for s in stats if s), "other")
    for label, attr in NUMBER_ROWS if kind == "number" else STRING_ROWS if kind == "string" else ():
        rows.append([label] + [getattr(s, attr) if s and getattr(s, attr) is not None else "" for s in stats])
    return table(["statistic"] + splits, rows, cls="stats")


def _top_values_chart(feature: Feature, splits: list[str]) -> str:
    """The most frequent values (of the first split that has them) as the share of each split's examples."""
    first = next((feature.splits[s] for s in splits if s in feature.splits and feature.splits[s].top), None)
    if first is None:
        return ""
    labels = [v for v, _ in first.top]
    series = {}
    for split in splits:
        s = feature.splits.get(split)
        if s is None:
            continue
        counts = dict(s.top)
        series[split] = [100.0 * counts[v] / s.examples if v in counts and s.examples else 0.0 for v in labels]
    return svg.grouped_bars(labels, series, title=f"{feature.name}: top values, % of examples per split")


def _charts(feature: Feature, splits: list[str]) -> str:
    kind = next((feature.splits[s].kind for s in splits if s in feature.splits), "other")
    if kind == "number":
        charts = [svg.histogram(feature.splits[s].histogram, title=f"{feature.name} · {s}")
                  for s in splits if s in feature.splits and feature.splits[s].histogram]
        return "".join(charts)
    if kind == "string":
        return _top_values_chart(feature, splits)
    return ""


def _summary(feature: Feature, splits: list[str]) -> str:
    first: Optional[SplitStats] = next((feature.splits[s] for s in splits if s in feature.splits), None)
    parts = [feature.name, feature.type.lower()]
    if first is not None:
        parts.append("missing " + " / ".join(_pct(feature.splits[s].missing_pct) for s in splits
                                             if s in feature.splits))
    if feature.anomalies:
        parts.append(f"{len(feature.anomalies)} anomal{'y' if len(feature.anomalies) == 1 else 'ies'}")
    return " · ".join(parts)


def feature_block(feature: Feature, splits: list[str]) -> str:
    body = f'<div class="side">{_stats_table(feature, splits)}{_charts(feature, splits)}</div>'
    if feature.expectation:
        body += f'<p class="muted">schema: {esc(feature.expectation)}</p>'
    if feature.anomalies:
        body += table(["split", "anomaly", "description"],
                      [[f.split, f.kind, f.description] for f in feature.anomalies], cls="anomalies")
    return item(_summary(feature, splits), body, search=feature.name, open=bool(feature.anomalies))


def _anomalies(view: DataView, by_name: dict[str, Feature]) -> str:
    if not view.anomalies_checked:
        return missing("ExampleValidator did not run: no anomalies check.")
    if not view.anomalies:
        return '<p class="ok">no anomalies: every split matches the schema.</p>'
    rows = [[f.split, f.feature, f.kind, f.description,
             by_name[f.feature].expectation if f.feature in by_name else ""] for f in view.anomalies]
    return table(["split", "feature", "anomaly", "description", "schema expects"], rows, cls="anomalies")


def render(view: DataView) -> str:
    splits = _split_order(view.rows)
    by_name = {f.name: f for f in view.features}
    parts = [f'<p class="muted">statistics: {esc(view.statistics_uri)}'
             + (f"<br>schema: {esc(view.schema_uri)}" if view.schema_uri else "") + "</p>"]
    parts += [missing(p) for p in view.problems]
    if view.rows:
        parts.append(table(["split", "rows"], [[s, view.rows[s]] for s in splits], cls="rows"))
    parts.append("<h3>Anomalies</h3>" + _anomalies(view, by_name))
    if view.features:
        parts.append(f"<h3>Features ({len(view.features)})</h3>"
                     '<p class="muted">each feature: statistics per split side by side; the search box filters '
                     "by name.</p>")
        parts.append(Raw('<div class="features">' + "".join(feature_block(f, splits) for f in view.features)
                         + "</div>"))
    return "".join(parts)
