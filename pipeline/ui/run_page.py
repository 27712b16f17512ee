"""A run's page (`/run/<run id>`): the report's sections (pipeline.report.render over pipeline.report.model), so the
UI and `tfx-e2e report` never disagree; plus links to the run's artifact and lineage pages. A running run reloads
itself every few seconds and shows each node as it finishes."""

from __future__ import annotations

from typing import Any

from pipeline.metadata import queries as Q
from pipeline.metadata import runs as R
from pipeline.report import html
from pipeline.ui.router import NotFound, Request, href

RUNNING_REFRESH_SECONDS = 5


def artifacts_section(store: Any, run_id: str) -> str:
    """Every artifact the run's nodes wrote, each linking to its page and its lineage graph."""
    records = Q.list_artifacts(store, run_id=run_id)
    if not records:
        return html.section("artifacts", "Artifacts", html.missing("This run has written no artifacts yet."))
    rows = [[html.Raw(html.link(href("artifact", a.id), f"#{a.id}")), a.type.split(".")[-1], a.producer, a.uri,
             html.Raw(html.link(href("lineage", a.id), "lineage"))] for a in records]
    return html.section("artifacts", "Artifacts", html.table(["artifact", "type", "written by", "URI", ""], rows))


def page(request: Request, ctx: Any) -> tuple[int, str]:
    from pipeline.report import model, render  # reads statistics and evaluations: TensorFlow's protos

    store = ctx.store()
    run_id = request.params["run_id"]
    pipeline = R.find_run(store, run_id)
    if pipeline is None:
        raise NotFound(f"There is no run {run_id!r} in this store.")
    report = model.build(store, pipeline, run_id, home=ctx.home)
    sections = render.sections(report, artifact_href=lambda artifact: href("artifact", artifact))
    body = "".join(html.section(anchor, title, content) for anchor, title, content in sections)
    body += artifacts_section(store, run_id)
    running = report.run.state == "running"
    if running:
        body = (f'<p class="warn">This run is still running: the page reloads every {RUNNING_REFRESH_SECONDS} s '
                "and shows each node as it finishes.</p>" + body)
    nav = " ".join([html.link("/", "Runs"), html.link(href(pipeline=pipeline), f"{pipeline} runs"),
                    render.nav(report), html.link("#artifacts", "Artifacts")])
    return 200, html.page(f"{pipeline} · {run_id}", body, nav=nav,
                          refresh=RUNNING_REFRESH_SECONDS if running else None)
