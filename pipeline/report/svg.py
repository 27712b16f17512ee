"""Inline SVG charts of the report and the UI (bars, lines, histograms, curves, DAGs), every text escaped.

Every chart is one `<svg class="chart" role="img" data-chart=KIND data-series=N data-points=M>` whose first child is
its `<title>`. data-series counts series (bar sets, lines, curves; 1 for a graph) and data-points counts bars per
series, histogram buckets, points of the longest line, curve points or graph nodes (a graph also has data-edges).
Bars are `<rect class="bar">`, lines `<path class="series">`, graph nodes `<g class="node" data-state=...>`.
No ids, no external references: many charts share one page and the page opens offline.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from pipeline.report import dag_layout
from pipeline.report.html import esc, fmt_number

PALETTE = ("#2456a6", "#d9822b", "#2e9e5b", "#8e44ad", "#c0392b", "#16a0a8", "#7f8c8d", "#b8860b")
CHAR_W = 6.2  # width of one 11px character, to size label columns
WIDTH = 560


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _svg(kind: str, series: int, points: int, width: float, height: float, title: str, inner: str, **extra) -> str:
    attrs = "".join(f' data-{k}="{esc(v)}"' for k, v in extra.items())
    return (f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" data-chart="{kind}" '
            f'data-series="{series}" data-points="{points}"{attrs} viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}"><title>{esc(title)}</title>'
            f'<text x="8" y="16" font-weight="600">{esc(_clip(title, int(width / CHAR_W) - 2))}</text>{inner}</svg>')


def _clip(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: max(1, n - 1)] + "…"


def _domain(values: Sequence[float], include_zero: bool = False) -> tuple[float, float]:
    vals = [v for v in values if _finite(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = (lo - pad, hi + pad) if not include_zero else (min(lo, 0.0), max(hi, 0.0) or 1.0)
        if hi == lo:
            hi = lo + 1.0
    return float(lo), float(hi)


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    step = (hi - lo) / n
    return [lo + i * step for i in range(n + 1)]


def _scale(lo: float, hi: float, a: float, b: float):
    return lambda v: a + (v - lo) / (hi - lo) * (b - a)


def _legend(names: Sequence[str], x: float, y: float) -> str:
    out, cx = [], x
    for i, name in enumerate(names):
        label = _clip(name, 24)
        out.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{cx + 14:.1f}" y="{y:.1f}">{esc(label)}</text>')
        cx += 24 + CHAR_W * len(label)
    return f'<g class="legend">{"".join(out)}</g>'


def bar_chart(labels: list[str], values: list[float], *, title: str, threshold: Optional[float] = None,
              counts: Optional[list[int]] = None, fmt: str = "{:.4g}", bad: Optional[list[bool]] = None) -> str:
    """Horizontal bars, one per label, with the value (and example count) at the end and the threshold as a line;
    `bad[i]` marks bar i as failing (class "bar bad")."""
    n = len(labels)
    label_w = min(220.0, CHAR_W * max([len(str(lbl)) for lbl in labels] + [4]) + 12)
    x0, x1, top, row = label_w, WIDTH - 110, 30.0, 20.0
    height = top + row * n + 26
    lo, hi = _domain(list(values) + ([threshold] if _finite(threshold) else []), include_zero=True)
    sx = _scale(lo, hi, x0, x1)
    parts = [f'<line class="axis" x1="{sx(0):.1f}" y1="{top - 4:.1f}" x2="{sx(0):.1f}" y2="{top + row * n:.1f}"/>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * row
        count = counts[i] if counts and i < len(counts) else None
        shown = fmt.format(value) if _finite(value) else "n/a"
        tip = f"{label}: {shown}" + (f" (n={count})" if count is not None else "")
        v = value if _finite(value) else 0.0
        left, right = sorted((sx(0), sx(v)))
        parts.append(
            f'<text x="{x0 - 6:.1f}" y="{y + 13:.1f}" text-anchor="end">{esc(_clip(label, int(label_w / CHAR_W) - 1))}'
            f'</text><rect class="bar{" bad" if bad and i < len(bad) and bad[i] else ""}" data-label="{esc(label)}" data-value="{esc(shown)}" x="{left:.1f}" '
            f'y="{y + 3:.1f}" width="{max(right - left, 0.5):.1f}" height="{row - 6:.1f}"><title>{esc(tip)}</title>'
            f'</rect><text x="{max(sx(v), sx(0)) + 4:.1f}" y="{y + 13:.1f}">{esc(shown)}'
            + (f' <tspan class="muted">n={esc(fmt_number(count))}</tspan>' if count is not None else "") + "</text>")
    if _finite(threshold):
        tx = sx(threshold)
        parts.append(f'<line class="threshold" x1="{tx:.1f}" y1="{top - 4:.1f}" x2="{tx:.1f}" '
                     f'y2="{top + row * n + 4:.1f}"><title>threshold {esc(fmt.format(threshold))}</title></line>'
                     f'<text x="{tx:.1f}" y="{height - 6:.1f}" text-anchor="middle" fill="#c62828">'
                     f'threshold {esc(fmt.format(threshold))}</text>')
    return _svg("bar", 1, n, WIDTH, height, title, "".join(parts))


def grouped_bars(labels: list[str], series: dict[str, list[float]], *, title: str) -> str:
    """Horizontal bars grouped per label, one bar per series (train vs eval side by side), with a legend."""
    names = list(series)
    n, k = len(labels), max(len(names), 1)
    label_w = min(220.0, CHAR_W * max([len(str(lbl)) for lbl in labels] + [4]) + 12)
    x0, x1, top, bar_h = label_w, WIDTH - 70, 46.0, 9.0
    row = bar_h * k + 6
    height = top + row * n + 8
    lo, hi = _domain([v for vs in series.values() for v in vs], include_zero=True)
    sx = _scale(lo, hi, x0, x1)
    parts = [_legend(names, 8, 36)]
    for i, label in enumerate(labels):
        y = top + i * row
        parts.append(f'<text x="{x0 - 6:.1f}" y="{y + row / 2 + 3:.1f}" text-anchor="end">'
                     f'{esc(_clip(label, int(label_w / CHAR_W) - 1))}</text>')
        for j, name in enumerate(names):
            vals = series[name]
            value = vals[i] if i < len(vals) else None
            v = value if _finite(value) else 0.0
            shown = fmt_number(value) if _finite(value) else "n/a"
            left, right = sorted((sx(0), sx(v)))
            by = y + j * bar_h
            parts.append(f'<rect class="bar s{j}" fill="{PALETTE[j % len(PALETTE)]}" data-label="{esc(label)}" '
                         f'data-series-name="{esc(name)}" data-value="{esc(shown)}" x="{left:.1f}" y="{by:.1f}" '
                         f'width="{max(right - left, 0.5):.1f}" height="{bar_h - 1:.1f}">'
                         f'<title>{esc(f"{label} · {name}: {shown}")}</title></rect>'
                         f'<text x="{max(sx(v), sx(0)) + 3:.1f}" y="{by + bar_h - 1.5:.1f}" font-size="9">'
                         f'{esc(shown)}</text>')
    return _svg("grouped", len(names), n, WIDTH, height, title, "".join(parts))


def histogram(buckets: list[tuple[float, float, float]], *, title: str) -> str:
    """Vertical bars of equal width, one per bucket (TFDV's buckets may be open-ended), bounds on the x axis."""
    n = len(buckets)
    w, h, x0, x1, top, bottom = 300.0, 170.0, 40.0, 290.0, 26.0, 140.0
    counts = [c for _, _, c in buckets]
    _, hi = _domain(counts, include_zero=True)
    sy = _scale(0.0, hi, bottom, top)
    bw = (x1 - x0) / max(n, 1)
    parts = [f'<line class="axis" x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}"/>',
             f'<text x="{x0 - 4}" y="{top + 8}" text-anchor="end">{esc(fmt_number(round(hi, 3)))}</text>',
             f'<text x="{x0 - 4}" y="{bottom}" text-anchor="end">0</text>']
    for i, (low, high, count) in enumerate(buckets):
        y = sy(count if _finite(count) else 0.0)
        tip = f"[{fmt_number(low)}, {fmt_number(high)}): {fmt_number(count)}"
        parts.append(f'<rect class="bar" x="{x0 + i * bw + 0.5:.1f}" y="{y:.1f}" width="{max(bw - 1, 0.5):.1f}" '
                     f'height="{max(bottom - y, 0):.1f}" data-value="{esc(fmt_number(count))}"><title>{esc(tip)}'
                     f'</title></rect>')
    if buckets:
        parts.append(f'<text x="{x0}" y="{bottom + 14}">{esc(fmt_number(buckets[0][0]))}</text>'
                     f'<text x="{x1}" y="{bottom + 14}" text-anchor="end">{esc(fmt_number(buckets[-1][1]))}</text>')
    return _svg("histogram", 1, n, w, h, title, "".join(parts))


def _axes(x_dom, y_dom, box, x_label: str, y_label: str, x_ticks: Optional[list[float]] = None) -> str:
    x0, x1, top, bottom = box
    sx, sy = _scale(*x_dom, x0, x1), _scale(*y_dom, bottom, top)
    parts = [f'<line class="axis" x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}"/>',
             f'<line class="axis" x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}"/>']
    for t in _ticks(*y_dom):
        parts.append(f'<line class="grid" x1="{x0}" y1="{sy(t):.1f}" x2="{x1}" y2="{sy(t):.1f}"/>'
                     f'<text x="{x0 - 4}" y="{sy(t) + 4:.1f}" text-anchor="end">{esc(f"{t:.3g}")}</text>')
    for t in x_ticks if x_ticks is not None else _ticks(*x_dom):
        parts.append(f'<text x="{sx(t):.1f}" y="{bottom + 14}" text-anchor="middle">{esc(f"{t:.3g}")}</text>')
    parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{bottom + 30}" text-anchor="middle">{esc(x_label)}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{(top + bottom) / 2:.1f}" text-anchor="middle" '
                     f'transform="rotate(-90 12 {(top + bottom) / 2:.1f})">{esc(y_label)}</text>')
    return "".join(parts)


def _path(points: list[tuple[float, float]], sx, sy) -> str:
    cmds, pen = [], "M"
    for x, y in points:
        if not (_finite(x) and _finite(y)):
            pen = "M"  # a gap in the line, not a jump to zero
            continue
        cmds.append(f"{pen}{sx(x):.1f},{sy(y):.1f}")
        pen = "L"
    return " ".join(cmds)


def line_chart(series: dict[str, list[float]], *, title: str, x_label: str = "epoch", y_label: str = "") -> str:
    """One line per series over x = 1..n (epochs); missing values (None, NaN) leave gaps."""
    names = list(series)
    longest = max([len(v) for v in series.values()] + [0])
    box = (56.0, 400.0, 44.0, 200.0)
    x_dom = (1.0, float(max(longest, 2)))
    y_dom = _domain([v for vs in series.values() for v in vs])
    sx, sy = _scale(*x_dom, box[0], box[1]), _scale(*y_dom, box[3], box[2])
    step = max(1, math.ceil(longest / 8))
    parts = [_legend(names, 8, 34),
             _axes(x_dom, y_dom, box, x_label, y_label, [float(t) for t in range(1, max(longest, 1) + 1, step)])]
    for i, name in enumerate(names):
        pts = [(float(j + 1), v) for j, v in enumerate(series[name])]
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<path class="series" data-name="{esc(name)}" stroke="{color}" fill="none" stroke-width="2" '
                     f'd="{_path(pts, sx, sy)}"><title>{esc(name)}</title></path>')
        if len(pts) == 1 and _finite(pts[0][1]):  # one epoch: a dot, since a one-point path draws nothing
            parts.append(f'<circle cx="{sx(1.0):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{color}"/>')
    return _svg("line", len(names), longest, 420, 240, title, "".join(parts))


def curve(points: list[tuple[float, float]], *, title: str, x_label: str, y_label: str,
          diagonal: bool = False) -> str:
    """One curve (calibration, ROC, precision-recall); `diagonal` draws y = x on shared axes."""
    box = (56.0, 330.0, 30.0, 250.0)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x_dom, y_dom = _domain(xs), _domain(ys)
    if all(0.0 <= v <= 1.0 for v in xs + ys if _finite(v)):  # rates and probabilities: the whole unit square
        x_dom = y_dom = (0.0, 1.0)
    elif diagonal:
        x_dom = y_dom = (min(x_dom[0], y_dom[0]), max(x_dom[1], y_dom[1]))
    sx, sy = _scale(*x_dom, box[0], box[1]), _scale(*y_dom, box[3], box[2])
    parts = [_axes(x_dom, y_dom, box, x_label, y_label)]
    if diagonal:
        lo, hi = x_dom
        parts.append(f'<line class="diagonal" x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" '
                     f'y2="{sy(hi):.1f}"/>')
    parts.append(f'<path class="series" stroke="{PALETTE[0]}" fill="none" stroke-width="2" '
                 f'd="{_path(sorted(points), sx, sy)}"><title>{esc(title)}</title></path>')
    if len(points) <= 20:  # few points (calibration buckets): show each
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{PALETTE[0]}"/>'
                  for x, y in points if _finite(x) and _finite(y)]
    return _svg("curve", 1, len(points), 350, 290, title, "".join(parts))


def graph(nodes: list[dict], edges: list[tuple[str, str]], *, title: str) -> str:
    """A left-to-right DAG: columns by longest path from the sources, a box per node linking to `href` if given."""
    ids = [str(n["id"]) for n in nodes]
    edges = [(str(a), str(b)) for a, b in edges if str(a) in ids and str(b) in ids]
    cells = dag_layout.cells(ids, edges)
    box_w, box_h, gap_x, gap_y, top = 150.0, 38.0, 50.0, 14.0, 30.0
    pos = {i: (10 + col * (box_w + gap_x), top + row * (box_h + gap_y)) for i, (col, row) in cells.items()}
    width = 20 + (max([c for c, _ in cells.values()] + [0]) + 1) * (box_w + gap_x) - gap_x
    height = top + (max([r for _, r in cells.values()] + [0]) + 1) * (box_h + gap_y) + 4
    parts = []
    for a, b in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        x1, y1, x2, y2 = ax + box_w, ay + box_h / 2, bx, by + box_h / 2
        mid = (x1 + x2) / 2
        parts.append(f'<path class="edge" data-from="{esc(a)}" data-to="{esc(b)}" '
                     f'd="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2 - 4:.1f},{y2:.1f}"/>'
                     f'<path d="M{x2 - 6:.1f},{y2 - 4:.1f} L{x2:.1f},{y2:.1f} L{x2 - 6:.1f},{y2 + 4:.1f} Z" '
                     f'fill="#9aa3b2"/>')
    for node in nodes:
        i = str(node["id"])
        x, y = pos[i]
        label, detail, state = str(node.get("label", i)), str(node.get("detail", "") or ""), node.get("state", "")
        tip = " · ".join(str(t) for t in (label, state, detail) if t)
        body = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{box_w}" height="{box_h}" rx="5"/>'
                f'<text x="{x + 7:.1f}" y="{y + 15:.1f}" font-weight="600">{esc(_clip(label, 22))}</text>'
                f'<text x="{x + 7:.1f}" y="{y + 30:.1f}" font-size="10">{esc(_clip(detail, 26))}</text>'
                f'<title>{esc(tip)}</title>')
        if node.get("href"):
            body = f'<a href="{esc(node["href"])}">{body}</a>'
        parts.append(f'<g class="node" data-id="{esc(i)}" data-state="{esc(state)}">{body}</g>')
    return _svg("graph", 1, len(nodes), width, height, title, "".join(parts), edges=len(edges))
