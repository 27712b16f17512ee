"""The runs list (`/`): every run newest first, filtered by pipeline, 25 a page, and the form to compare two runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from pipeline.metadata import queries as Q
from pipeline.metadata import runs as R
from pipeline.report import html
from pipeline.ui.router import BadRequest, NotFound, Request, href

PER_PAGE = 25


@dataclass(frozen=True)
class RunsPage:
    rows: list[Q.RunRecord]  # this page's runs, newest first
    page: int  # 1-based
    pages: int
    total: int
    pipeline: Optional[str]  # the filter, None for every pipeline
    pipelines: list[str]
    choices: list[str]  # every run id under the filter, newest first (the compare form's options)


def newest_first(store: Any, pipeline: Optional[str] = None) -> list[str]:
    """Run ids, newest first (by when MLMD recorded the run, as `runs.run_ids` orders them)."""
    if pipeline:
        return list(reversed(R.run_ids(store, pipeline)))
    contexts = store.get_contexts_by_type(R.RUN_CONTEXT)
    return [c.name for c in sorted(contexts, key=lambda c: (c.create_time_since_epoch, c.id), reverse=True)]


def runs_page(store: Any, pipeline: Optional[str] = None, page: int = 1) -> RunsPage:
    """One page of the list; only that page's runs are read in full (a run record reads every node's execution)."""
    pipelines = R.pipeline_names(store)
    if pipeline and pipeline not in pipelines:
        raise NotFound(f"There is no pipeline named {pipeline!r} in this store; pipelines: "
                       f"{', '.join(pipelines) or 'none'}.")
    ids = newest_first(store, pipeline)
    pages = max(1, -(-len(ids) // PER_PAGE))
    if page > pages:
        raise NotFound(f"There is no page {page} of runs; the last page is {pages}.")
    rows = []
    for run_id in ids[(page - 1) * PER_PAGE: page * PER_PAGE]:
        owner = pipeline or R.find_run(store, run_id)
        if owner is not None:  # a run context TFX registered a moment before its first execution
            rows.append(Q.run_record(store, owner, run_id))
    return RunsPage(rows, page, pages, len(ids), pipeline, pipelines, ids)


def _page_number(request: Request) -> int:
    text = request.arg("page", "1") or "1"
    if not text.isdigit() or int(text) < 1:
        raise BadRequest(f"The page number must be a whole number from 1, not {text!r}.")
    return int(text)


def _blessed(value: Optional[bool]) -> str:
    return "—" if value is None else ("blessed" if value else "not blessed")


def _state(state: str) -> html.Raw:
    return html.Raw(f'<span class="{html.esc(state)}">{html.esc(state)}</span>')


def _filters(data: RunsPage) -> str:
    links = [html.link(href(), "all pipelines") if data.pipeline else "<strong>all pipelines</strong>"]
    for name in data.pipelines:
        shown = html.link(href(pipeline=name), name) if name != data.pipeline else f"<strong>{html.esc(name)}</strong>"
        links.append(shown)
    return f'<p class="filters">Pipeline: {" · ".join(links)}</p>'


def _pager(data: RunsPage) -> str:
    if data.pages == 1:
        return ""
    parts = [f"page {data.page} of {data.pages}"]
    if data.page > 1:
        parts.insert(0, html.link(href(pipeline=data.pipeline, page=data.page - 1), "‹ newer"))
    if data.page < data.pages:
        parts.append(html.link(href(pipeline=data.pipeline, page=data.page + 1), "older ›"))
    return f'<p class="pager">{" · ".join(parts)}</p>'


def _compare_form(choices: list[str]) -> str:
    if len(choices) < 2:
        return ""

    def select(name: str, chosen: str) -> str:
        options = "".join(f'<option value="{html.esc(c)}"{" selected" if c == chosen else ""}>{html.esc(c)}</option>'
                          for c in choices)
        return f'<select name="{name}" aria-label="run {name.upper()}">{options}</select>'

    return (f'<form class="compare" method="get" action="/compare">Compare run A {select("a", choices[1])} '
            f'with run B {select("b", choices[0])} <button type="submit">Compare</button></form>')


def render(data: RunsPage) -> str:
    if not data.total:
        return html.page("Runs", html.missing(
            "This metadata store has no pipeline runs yet; `tfx-e2e run` records one, and it appears here on reload."),
            nav=html.link("/", "Runs"))
    rows = [[html.Raw(html.link(href("run", r.run_id), r.run_id)), r.pipeline, r.started, _state(r.state),
             _blessed(r.blessed), r.pushed_version or "—", r.duration_seconds, r.nodes_ran, r.nodes_cached,
             r.nodes_failed] for r in data.rows]
    table = html.table(["run", "pipeline", "started (UTC)", "state", "blessing", "pushed version", "seconds", "ran",
                        "cached", "failed"], rows, cls="runs")
    count = f"{data.total} run{'s' if data.total != 1 else ''}" + (f" of {data.pipeline}" if data.pipeline else "")
    body = (_filters(data) + f'<p class="muted">{html.esc(count)}, newest first; reload to see new runs.</p>'
            + _compare_form(data.choices) + table + _pager(data))
    return html.page("Runs", body, nav=html.link("/", "Runs"))


def page(request: Request, ctx: Any) -> tuple[int, str]:
    data = runs_page(ctx.store(), request.arg("pipeline") or None, _page_number(request))
    return 200, render(data)
