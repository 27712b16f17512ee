"""The report's feature importance section: the permutation importance of each raw feature as a bar chart (inline
SVG, pipeline.report.svg) and a table with the spread over the repeats (pipeline.metadata.importance)."""

from __future__ import annotations

from pipeline.metadata.importance import ImportanceTable
from pipeline.report import svg
from pipeline.report.html import esc, fmt_number, missing, table


def render(view: ImportanceTable) -> str:
    what = (f"<p>Permutation importance on {esc(view.rows)} eval rows, each column shuffled {esc(view.repeats)} "
            f"times (seed {esc(view.seed)}): the {esc(view.drop_words)}. Baseline {esc(view.metric)} "
            f"{esc(fmt_number(view.baseline))}.</p>")
    if not view.features:
        return what + missing(f"no importances: {view.note or 'the model parses no features'}.")
    chart = svg.bar_chart([f.name for f in view.features], [f.importance for f in view.features],
                          title=f"Feature importance ({view.drop_words})", fmt="{:.4f}")
    rows = [[i + 1, f.name, f"{f.importance:.4f}", f"{f.std:.4f}"] for i, f in enumerate(view.features)]
    return what + chart + table(["rank", "feature", "importance", "std over repeats"], rows)
