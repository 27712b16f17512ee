"""HTML of the Evaluation section: the verdict in one sentence, the metrics table with gates, baseline, change and
pass/fail, every check, the main metric per slice (threshold drawn as a line) and the binary task's curves."""

from __future__ import annotations

from typing import Optional

from pipeline.report import svg
from pipeline.report.html import Raw, esc, fmt_number, item, missing, table
from pipeline.report.model_eval import OVERALL, EvaluationView, slice_order

VERDICT_CLASS = {"blessed": "pass", "not_blessed": "fail", "not_validated": "warn", "not_evaluated": "fail"}


def _passed(value: Optional[bool]) -> Raw:
    if value is None:
        return Raw('<span class="muted">–</span>')
    return Raw('<span class="pass">pass</span>' if value else '<span class="fail">fail</span>')


def _num(value: Optional[float]) -> object:
    return "" if value is None else value


def _signed(value: Optional[float]) -> str:
    return "" if value is None else f"{value:+.4g}"


def _verdict(view: EvaluationView) -> str:
    b = view.blessing
    cls = VERDICT_CLASS.get(b.outcome, "")
    parts = [f'<p class="verdict {cls}" data-outcome="{esc(b.outcome)}"><strong>{esc(b.verdict)}</strong></p>']
    parts += [f'<p class="muted">{esc(n)}</p>' for n in b.notes]
    facts = [["candidate model", f"artifact {b.model_id}" if b.model_id is not None else "–"],
             ["baseline model", f"artifact {b.baseline_model_id}" if b.baseline_model_id else "none (first blessed "
              "model: change gates skipped)"],
             ["evaluation", view.uri]]
    return "".join(parts) + table(["", ""], facts, cls="facts")


def _metrics_table(view: EvaluationView) -> str:
    rows = [[m.name, _num(m.value), _num(m.baseline), _signed(m.change), m.gates, _passed(m.passed)]
            for m in view.overall]
    return table(["metric (overall)", "value", "baseline", "change", "gate", "check"], rows, cls="metrics")


def _checks_table(view: EvaluationView) -> str:
    checks = view.blessing.checks
    if not checks:
        return missing("no gate applies to this evaluation.")
    rows = [[c.metric, c.slice, c.kind, c.bound, _num(c.value), _num(c.baseline), _signed(c.change),
             _passed(c.passed), c.source, c.words] for c in checks]
    return table(["metric", "slice", "kind", "gate", "value", "baseline", "change", "check", "source", "in words"],
                 rows, cls="checks")


def _slice_charts(view: EvaluationView) -> str:
    if not view.slice_charts:
        return ""
    failed = {c.slice for c in view.blessing.checks if c.metric == view.main_metric and not c.passed}
    charts = []
    for chart in view.slice_charts:
        title = f"{view.main_metric} per slice: {chart.column}"
        block = svg.bar_chart(chart.labels, [v if v is not None else float("nan") for v in chart.values],
                              title=title, threshold=view.threshold, counts=chart.counts,
                              bad=[label in failed for label in chart.labels])
        charts.append(f'<div data-search="{esc(chart.column)}">{block}</div>')
    gate = f" (gate: {fmt_number(view.threshold)}, drawn as a dashed line)" if view.threshold is not None else ""
    return (f"<h3>{esc(view.main_metric)} per slice</h3><p class=\"muted\">n = examples in the slice{esc(gate)}; "
            "a slice that fails its gate is red"
            f"</p><div class=\"charts\">{''.join(charts)}</div>")


def _per_slice_table(view: EvaluationView) -> str:
    """Every metric of every slice (candidate), collapsed."""
    candidate = view.metrics.get("candidate", {})
    if len(candidate) <= 1:
        return ""
    names = sorted({m for values in candidate.values() for m in values})
    slices = sorted(candidate, key=lambda s: (s != OVERALL, slice_order(s)))
    rows = [[s] + [_num(candidate[s].get(m)) for m in names] for s in slices]
    return item(f"all metrics per slice ({len(slices)} slices)", table(["slice"] + names, rows, cls="per-slice"),
                search="metrics per slice")


def _curves(view: EvaluationView) -> str:
    if not view.curves:
        return ""
    charts = "".join(svg.curve(c.points, title=c.title, x_label=c.x_label, y_label=c.y_label, diagonal=c.diagonal)
                     for c in view.curves)
    return f'<h3>Calibration and curves</h3><div class="charts">{charts}</div>'


def render(view: EvaluationView) -> str:
    parts = [missing(p) for p in view.problems]
    if view.blessing is None:
        return "".join(parts) or missing("the evaluation could not be read.")
    parts += [_verdict(view), "<h3>Metrics</h3>", _metrics_table(view), "<h3>Gates</h3>", _checks_table(view),
              _slice_charts(view), _curves(view), _per_slice_table(view)]
    return "".join(parts)
