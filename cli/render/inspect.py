"""Tables and JSON for runs / show / artifacts / lineage / compare / blessing (records from pipeline.metadata)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TextIO

from components.atomic_pusher.properties import PUSHED_KEY, PUSHED_VERSION_KEY

SHOWN_PROPERTIES = ("split_names", "span", "version", "blessed", PUSHED_KEY, PUSHED_VERSION_KEY)


def plain(obj: Any) -> Any:
    """Dataclasses, dicts, lists and bytes as JSON-ready values (field names are the stable JSON keys)."""
    if dataclasses.is_dataclass(obj):
        return {k: plain(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode(errors="replace")
    return obj


def print_json(obj: Any, out: TextIO) -> None:
    print(json.dumps(plain(obj), indent=2, sort_keys=True), file=out)


def print_table(rows: list[list[Any]], header: list[str], out: TextIO) -> None:
    """Left-aligned columns as wide as their widest cell; None shows as `-`; no trailing spaces."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), file=out)
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip(), file=out)


def num(v: Any) -> str:
    return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def runs(records: list[Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        return print_json(records, out)
    print_table([[r.run_id, r.pipeline, r.started, f"{r.duration_seconds:.1f}s", r.state, r.nodes_ran, r.nodes_cached,
                  r.nodes_failed, {True: "yes", False: "no", None: "-"}[r.blessed], r.pushed_version] for r in records],
                ["RUN", "PIPELINE", "STARTED", "DURATION", "STATE", "RAN", "CACHED", "FAILED", "BLESSED", "PUSHED"], out)


def show(run: Any, nodes: list[Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        return print_json({"run": run, "nodes": nodes}, out)
    print(f"run {run.run_id}  pipeline {run.pipeline}  {run.state}  started {run.started}  "
          f"{run.duration_seconds:.1f}s", file=out)
    for node in nodes:
        print(f"\n{node.node}  {node.state}  started {node.started}  {node.duration_seconds:.1f}s", file=out)
        for direction, artifacts in (("in ", node.inputs), ("out", node.outputs)):
            for key, items in sorted(artifacts.items()):
                for a in items:
                    keep = {k: v for k, v in a["properties"].items() if k in SHOWN_PROPERTIES}
                    extra = " " + " ".join(f"{k}={v}" for k, v in keep.items()) if keep else ""
                    print(f"  {direction} {key:<22} #{a['id']:<5} {a['type'].split('.')[-1]:<20} {a['uri']}{extra}",
                          file=out)


def artifacts(records: list[Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        return print_json(records, out)
    print_table([[r.id, r.type.split(".")[-1], r.producer, r.uri] for r in records],
                ["ID", "TYPE", "PRODUCER", "URI"], out)


def lineage(graph: Any, fmt: str, out: TextIO) -> None:
    """`json`, or the library's own text / Graphviz dot / Mermaid drawing of the graph."""
    if fmt == "json":
        return print_json(graph, out)
    from pipeline.metadata import lineage as L

    print({"dot": L.to_dot, "mermaid": L.to_mermaid, "text": L.to_text}[fmt](graph), file=out)


def compare(result: Any, as_json: bool, out: TextIO) -> None:
    if as_json:
        return print_json(result, out)
    print(f"A {result.run_a} ({result.pipeline_a})\nB {result.run_b} ({result.pipeline_b})", file=out)
    sections = [
        ("metrics (candidate, per slice)", result.metrics, ["METRIC", "SLICE", "A", "B", "B-A"]),
        ("changed properties", result.properties, ["PROPERTY", "NODE", "A", "B", "B-A"]),
        ("hyperparameters (trained model)", getattr(result, "hyperparameters", []), ["NAME", "NODE", "A", "B", "B-A"]),
        ("importance" + (f" ({result.importance_metric})" if getattr(result, "importance_metric", "") else ""),
         getattr(result, "importance", []), ["FEATURE", "RANK A/B", "A", "B", "B-A"]),
        ("rows", result.rows, ["", "SPLIT", "A", "B", "B-A"]),
        ("features (changed statistics)", [d for d in result.features if d.delta],
         ["STAT", "SPLIT/FEATURE", "A", "B", "B-A"]),
        ("nodes", result.nodes, ["", "NODE", "A", "B", ""]),
    ]
    for title, deltas, header in sections:
        print(f"\n{title}:" + ("" if deltas else " none"), file=out)
        if deltas:
            print_table([[d.name, d.where, num(d.a), num(d.b), num(d.delta) if d.delta is not None else ""]
                         for d in deltas], header, out)


def blessing(report: Any, as_json: bool, out: TextIO) -> None:
    """The gates table (a default gate's bound marked `(default)`), the verdict, then in words every failed check
    and one passed check per gate (the table has the others), and the notes."""
    if as_json:
        return print_json(report, out)
    model = f"model #{report.model_id}" if report.model_id is not None else "no model"
    baseline = f"  baseline model #{report.baseline_model_id}" if report.baseline_model_id is not None else ""
    print(f"run {report.run_id}  {model}{baseline}", file=out)
    if report.checks:
        print_table([[c.metric, c.slice, c.bound + (" (default)" if c.source == "default" else ""), num(c.value),
                      num(c.baseline), num(c.change), "pass" if c.passed else "FAIL"] for c in report.checks],
                    ["METRIC", "SLICE", "THRESHOLD", "VALUE", "BASELINE", "CHANGE", "RESULT"], out)
    print(report.verdict, file=out)
    described = set()
    for c in report.checks:
        if c.words and (not c.passed or (c.metric, c.kind) not in described):
            described.add((c.metric, c.kind))
            print(f"  {'pass' if c.passed else 'FAIL'}  {c.words}", file=out)
    for note in report.notes:
        print(f"  {note}", file=out)
