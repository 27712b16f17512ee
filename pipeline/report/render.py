"""A RunReport as HTML: `sections()` (the UI's run page and the report share them) and `document()` (the whole
self-contained report file). Section anchors are fixed: run, dag, data, training, evaluation, importance, push,
lineage."""

from __future__ import annotations

import json
from typing import Callable, Optional

from pipeline.report import render_data, render_eval, render_importance, svg
from pipeline.report.html import Raw, esc, item, link, missing, page, section, table
from pipeline.report.model import NODE_SECTION, RunReport, flags_text
from pipeline.report.model_outputs import LineageView, PushView, TrainingView
from trainer_module.serving_contract import SERVING_SIGNATURE

TITLES = {"run": "Run", "dag": "DAG", "data": "Data", "training": "Training", "evaluation": "Evaluation",
          "importance": "Feature importance", "push": "Push", "lineage": "Lineage"}
ArtifactHref = Optional[Callable[[int], str]]


def _facts(rows: list[list]) -> str:
    return table(["", ""], [r for r in rows if r[1] not in (None, "")], cls="facts")


def _seconds(value) -> str:
    return "" if value is None else f"{float(value):.1f} s"


def run_html(report: RunReport) -> str:
    run, record = report.run, report.run.record
    versions = record.get("versions") or {}
    blessed = {True: "yes", False: "no", None: "–"}[run.blessed]
    rows = [["pipeline", run.pipeline], ["run id", run.run_id], ["state", run.state], ["started", run.started],
            ["wall time", _seconds(run.wall_seconds)], ["blessed", blessed],
            ["pushed version", run.pushed_version or "–"], ["config", record.get("config_source")],
            ["code fingerprint", record.get("code_fingerprint")],
            ["versions", ", ".join(f"{k} {v}" for k, v in sorted(versions.items()) if v)],
            ["log file", record.get("log_file")], ["report generated", report.generated]]
    parts = [_facts(rows)]
    failed = [n for n in run.nodes if n.state == "failed"]
    for node in failed:
        where = f" (from {node.error_source})" if node.error_source else ""
        parts.append(f'<p class="fail" data-node="{esc(node.node_id)}">{esc(node.node_id)} failed: '
                     f"{esc(node.error or 'no error message recorded')}{esc(where)}</p>")
    if record.get("error") and not failed:
        parts.append(f'<p class="fail">{esc(record["error"])}</p>')
    flags = flags_text(record.get("flags"))
    if flags:
        parts.append("<h3>Flags</h3>" + table(["flag", "value"], flags, cls="flags"))
    if record.get("config_yaml"):
        parts.append("<details class=\"item\"><summary>effective config (YAML, after --set and flags)</summary>"
                     f"<pre>{esc(record['config_yaml'])}</pre></details>")
    if not record:
        parts.append(missing("this run has no run record (it was made before run records existed, or outside "
                             "`tfx-e2e run`): config, flags and versions are unknown."))
    return "".join(parts)


def dag_html(report: RunReport, present: set[str]) -> str:
    nodes = []
    for n in report.run.nodes:
        anchor = NODE_SECTION.get(n.node_id)
        detail = n.state + (f" · {n.seconds:.1f} s" if n.seconds is not None else "")
        if n.error:
            detail += f" · {n.error}"  # the box shows its start, the tooltip all of it
        nodes.append({"id": n.node_id, "label": n.node_id, "state": n.state, "detail": detail,
                      "href": f"#{anchor}" if anchor in present else None})
    chart = svg.graph(nodes, report.run.edges, title=f"{report.run.pipeline} run {report.run.run_id}")
    rows = [[n.node_id, Raw(f'<span class="{esc(n.state.replace(" ", "-"))}">{esc(n.state)}</span>'),
             _seconds(n.seconds), n.started, ", ".join(f"{k}: {t} #{i}" for k, t, _, i in n.outputs)]
            for n in report.run.nodes]
    return (f'<div class="dag">{chart}</div>'
            + table(["node", "state", "seconds", "started", "outputs"], rows, cls="nodes"))


TRAINING_FACTS = (("strategy", "strategy"), ("why", "reason"), ("replicas", "replicas"), ("workers", "workers"),
                  ("global batch", "global_batch_size"), ("mixed precision", "mixed_precision"),
                  ("steps per execution", "steps_per_execution"), ("model family", "model_family"),
                  ("epochs run", "epochs_run"), ("steps per epoch", "steps_per_epoch"), ("steps", "steps"),
                  ("examples/s", "examples_per_second"), ("training wall time (s)", "wall_seconds"),
                  ("warm start", "warm_start"), ("warm start: why", "warm_start_reason"), ("seed", "seed"))


def training_html(view: TrainingView) -> str:
    parts = [missing(p) for p in view.problems]
    s = view.summary
    if s:
        rows = [[label, s.get(key) if not isinstance(s.get(key), bool) else ("yes" if s[key] else "no")]
                for label, key in TRAINING_FACTS]
        epochs, configured = s.get("epochs_run"), view.epochs_configured
        if epochs is not None and configured and epochs < configured:
            rows.append(["early stopping", f"stopped after epoch {epochs} of {configured}"])
        if s.get("label"):
            rows.append(["label", json.dumps(s["label"], sort_keys=True)])
        parts.append(_facts(rows))
    history = view.history
    charts = []
    for name in sorted(k for k in history if not k.startswith("val_")):
        series = {"train": history[name]}
        if f"val_{name}" in history:
            series["eval"] = history[f"val_{name}"]
        charts.append(svg.line_chart(series, title=name, y_label=name))
    if charts:
        parts.append(f'<h3>Per epoch, train vs eval</h3><div class="charts">{"".join(charts)}</div>')
    parts.append(f'<p class="muted">model run: {esc(view.uri)}</p>')
    return "".join(parts)


def push_html(view: PushView) -> str:
    if not view.pushed:
        why = "the model was not blessed" if view.state in ("complete", "cached") else f"the Pusher {view.state}"
        return f'<p class="warn">nothing pushed: {esc(why)}.</p>'
    rows = [["version directory", view.version_dir], ["version", view.version],
            ["base directory (TF Serving model)", view.base_directory],
            ["previous version", view.previous_version or "none (first version)"],
            ["reused", "yes: the same model was already the latest version" if view.reused else None],
            ["warmup requests", view.warmup_requests],
            ["warmup examples", view.warmup_examples]]
    parts = [_facts(rows)] + [missing(p) for p in view.problems]
    for sig in view.signatures:
        body = table(["", "name", "dtype", "shape"], [["input", *t] for t in sig.inputs]
                     + [["output", *t] for t in sig.outputs], cls="signature")
        summary = f"signature {sig.name}: {len(sig.inputs)} inputs, {len(sig.outputs)} outputs"
        parts.append(item(summary, body, search=f"signature {sig.name}", open=sig.name == SERVING_SIGNATURE))
    if view.raw_inputs:
        rows = [[f.name, f.dtype, f.kind, "yes" if f.required else "no"] for f in view.raw_inputs]
        parts.append(item(f"raw columns {SERVING_SIGNATURE} parses from each tf.Example ({len(rows)})",
                          table(["column", "dtype", "kind", "required"], rows, cls="raw-inputs"),
                          search="raw columns", open=len(rows) <= 20))
    return "".join(parts)


def lineage_html(view: LineageView, artifact_href: ArtifactHref = None) -> str:
    parts = [missing(p) for p in view.problems]
    if view.nodes:
        nodes = []
        for n in view.nodes:
            short = n.label.split(".")[-1]
            if n.kind == "artifact":
                nodes.append({"id": n.key, "label": f"{short} #{n.id}", "state": "artifact",
                              "detail": n.detail.rstrip("/").rsplit("/", 2)[-2] if "/" in n.detail else n.detail,
                              "href": artifact_href(n.id) if artifact_href else None})
            else:
                nodes.append({"id": n.key, "label": short, "state": "ran" if n.detail == "complete" else n.detail,
                              "detail": f"execution {n.id}"})
        parts.append(svg.graph(nodes, view.edges, title=f"upstream of pushed model #{view.artifact_id}"))
    if view.raw_inputs:
        parts.append("<h3>raw input</h3>" + table(
            ["node", "input base", "fingerprint", "span"],
            [[r.get("node"), r.get("input_base"), r.get("input_fingerprint"), r.get("span")] for r in view.raw_inputs],
            cls="raw"))
    return "".join(parts)


def present(report: RunReport) -> list[str]:
    """The anchors of the sections this report has, in page order."""
    have = {"run": True, "dag": True, "data": report.data is not None, "training": report.training is not None,
            "evaluation": report.evaluation is not None, "importance": report.importance is not None,
            "push": report.push is not None,
            "lineage": report.lineage is not None}
    return [a for a in TITLES if have[a]]


def sections(report: RunReport, *, artifact_href: ArtifactHref = None) -> list[tuple[str, str, str]]:
    """(anchor, title, html) of each section present. `artifact_href(id)`: a link for artifacts (the UI's
    /artifact/<id>); the report file has none."""
    anchors = present(report)
    builders = {
        "run": lambda: run_html(report), "dag": lambda: dag_html(report, set(anchors)),
        "data": lambda: render_data.render(report.data), "training": lambda: training_html(report.training),
        "evaluation": lambda: render_eval.render(report.evaluation), "push": lambda: push_html(report.push),
        "importance": lambda: render_importance.render(report.importance),
        "lineage": lambda: lineage_html(report.lineage, artifact_href),
    }
    return [(a, TITLES[a], builders[a]()) for a in anchors]


def nav(report: RunReport) -> str:
    return " ".join(link(f"#{a}", TITLES[a]) for a in present(report))


def document(report: RunReport) -> str:
    """The whole report: every section in one self-contained HTML page."""
    body = "".join(section(anchor, title, html) for anchor, title, html in sections(report))
    title = f"{report.run.pipeline} · run {report.run.run_id}"
    return page(title, body, nav=nav(report))

