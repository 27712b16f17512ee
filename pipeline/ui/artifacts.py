"""Artifact pages (`/artifact/<id>`: type, URI, properties, producer, consumers) and lineage graphs
(`/lineage/<id>`), both from pipeline.metadata.lineage, the data `tfx-e2e lineage` prints."""

from __future__ import annotations

import json
from typing import Any

from pipeline.metadata import lineage as L
from pipeline.metadata import runs as R
from pipeline.report import html, svg
from pipeline.report.model import NODE_SECTION
from pipeline.ui.router import NotFound, Request, href


def artifact_id(request: Request) -> int:
    text = request.params["artifact_id"]
    if not text.isdigit():
        raise NotFound(f"There is no artifact {text!r}: artifact ids are whole numbers.")
    return int(text)


def graph_of(store: Any, artifact: int) -> L.Lineage:
    if not store.get_artifacts_by_id([artifact]):
        raise NotFound(f"There is no artifact {artifact} in this store.")
    return L.lineage(store, artifact)


def runs_of(store: Any, execution_ids: list[int]) -> dict[int, str]:
    """The run id of each execution (its pipeline_run context)."""
    run_type = {t.name: t.id for t in store.get_context_types()}.get(R.RUN_CONTEXT)
    found = {}
    for execution_id in execution_ids:
        for ctx in store.get_contexts_by_execution(execution_id):
            if ctx.type_id == run_type:
                found[execution_id] = ctx.name
    return found


def run_href(run_id: str, node: str) -> str:
    """The run's page at the section that shows this node's outputs."""
    anchor = NODE_SECTION.get(node)
    return href("run", run_id) + (f"#{anchor}" if anchor else "")


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def _executions(nodes: list[L.LineageNode], runs: dict[int, str]) -> str:
    if not nodes:
        return html.missing("none")
    rows = [[n.label, n.id, n.detail,
             html.Raw(html.link(run_href(runs[n.id], n.label), runs[n.id])) if n.id in runs else "—"]
            for n in nodes]
    return html.table(["node", "execution", "state", "run"], rows)


def artifact_page(request: Request, ctx: Any) -> tuple[int, str]:
    store = ctx.store()
    graph = graph_of(store, artifact_id(request))
    by_key = {n.key: n for n in graph.nodes}
    me = by_key[f"a{graph.artifact_id}"]
    producers = [by_key[a] for a, b in graph.edges if b == me.key]
    consumers = [by_key[b] for a, b in graph.edges if a == me.key]
    runs = runs_of(store, [n.id for n in producers + consumers])
    lineage_link = html.Raw(html.link(href("lineage", me.id), "upstream and downstream graph"))
    facts = html.table(["", ""], [["type", me.label], ["URI", me.detail], ["lineage", lineage_link]])
    props = html.table(["property", "value"], [[k, _value(v)] for k, v in sorted(me.properties.items())])
    body = (html.section("artifact", "Artifact", facts)
            + html.section("properties", "Properties", props if me.properties else html.missing("none"))
            + html.section("producer", "Produced by", _executions(producers, runs))
            + html.section("consumers", "Read by", _executions(consumers, runs)
                           + '<p class="muted">Executions served from cache are left out, as in `tfx-e2e lineage`: '
                             "they reuse earlier outputs without reading anything.</p>"))
    title = f"{me.label.split('.')[-1]} #{me.id}"
    return 200, html.page(title, body, nav=html.link("/", "Runs"))


def graph_svg(graph: L.Lineage, runs: dict[int, str]) -> str:
    """The lineage as a left-to-right graph: artifacts link to their pages, executions to their run's page."""
    nodes = []
    for n in graph.nodes:
        if n.kind == "artifact":
            nodes.append({"id": n.key, "label": f"{n.label.split('.')[-1]} #{n.id}", "state": "artifact",
                          "href": href("artifact", n.id), "detail": n.detail.rstrip("/").rsplit("/", 1)[-1]})
        else:
            nodes.append({"id": n.key, "label": n.label, "state": n.detail, "detail": f"execution {n.id} · {n.detail}",
                          "href": run_href(runs[n.id], n.label) if n.id in runs else None})
    return svg.graph(nodes, graph.edges, title=f"lineage of artifact {graph.artifact_id}")


def lineage_page(request: Request, ctx: Any) -> tuple[int, str]:
    store = ctx.store()
    graph = graph_of(store, artifact_id(request))
    runs = runs_of(store, [n.id for n in graph.nodes if n.kind == "execution"])
    by_key = {n.key: n for n in graph.nodes}
    me = by_key[f"a{graph.artifact_id}"]
    raw = [[r.get("node"), r.get("execution_id"), *(_value(r.get(k, "")) for k in L.RAW_INPUT_PROPERTIES)]
           for r in graph.raw_inputs]
    body = (f"<p>{html.link(href('artifact', me.id), f'{me.label} #{me.id}')} <span class=\"muted\">"
            f"{html.esc(me.detail)}</span></p>"
            + html.section("graph", "Lineage graph", f'<div class="charts">{graph_svg(graph, runs)}</div>')
            + html.section("raw-inputs", "Raw inputs",
                           html.table(["node", "execution", *L.RAW_INPUT_PROPERTIES], raw) if raw
                           else html.missing("No ExampleGen upstream of this artifact.")))
    return 200, html.page(f"Lineage of {me.label.split('.')[-1]} #{me.id}", body, nav=html.link("/", "Runs"))
