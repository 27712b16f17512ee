"""`tfx-e2e runs|show|artifacts|lineage|compare|blessing`: format pipeline.metadata records as tables or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Callable, TextIO

COMMANDS = ("runs", "show", "artifacts", "lineage", "compare", "blessing")


def _store_flags(parser: argparse.ArgumentParser, with_json: bool = True) -> None:
    parser.add_argument("--home", type=Path, default=None, help="home whose metadata.sqlite to read (default ./.tfx-e2e)")
    parser.add_argument("--metadata", default=os.environ.get("TFX_E2E_METADATA"),
                        help="sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB (also $TFX_E2E_METADATA)")
    if with_json:
        parser.add_argument("--json", action="store_true", help="machine-readable output (stable field names)")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("runs", help="list pipeline runs recorded in ML Metadata")
    p.add_argument("--pipeline")
    p.add_argument("--limit", type=int, default=20)
    _store_flags(p)
    p = sub.add_parser("show", help="one run: every node's state, timing, inputs and outputs")
    p.add_argument("run", help="run id, or `latest`")
    _store_flags(p)
    p = sub.add_parser("artifacts", help="list artifacts")
    p.add_argument("--type", dest="type_name")
    p.add_argument("--run")
    _store_flags(p)
    p = sub.add_parser("lineage", help="an artifact's upstream graph to the raw input and its downstream consumers")
    p.add_argument("artifact", nargs="?", type=int, help="artifact id")
    p.add_argument("--pushed", choices=("latest",), help="start from the latest pushed model")
    p.add_argument("--format", choices=("text", "json", "dot", "mermaid"), default="text")
    _store_flags(p, with_json=False)
    p = sub.add_parser("compare", help="two runs: metrics, properties, data and cache differences")
    p.add_argument("run_a")
    p.add_argument("run_b")
    _store_flags(p)
    p = sub.add_parser("blessing", help="why a model was (not) blessed: each threshold and the verdict")
    p.add_argument("target", nargs="?", default="latest", help="run id, model artifact id, or `latest`")
    _store_flags(p)


def open_for(args: argparse.Namespace):
    from pipeline.paths import DEFAULT_HOME, Home
    from pipeline.metadata.store import connection_config, open_store, sqlite_config

    if args.metadata:
        return open_store(connection_config(args.metadata, create=False))
    home = Home((args.home or DEFAULT_HOME).expanduser().resolve())
    return open_store(sqlite_config(home.metadata, create=False))


def _json(obj: Any, out: TextIO) -> None:
    def plain(o: Any) -> Any:
        if dataclasses.is_dataclass(o):
            return {k: plain(v) for k, v in dataclasses.asdict(o).items()}
        if isinstance(o, dict):
            return {str(k): plain(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [plain(v) for v in o]
        if isinstance(o, bytes):
            return o.decode(errors="replace")
        return o

    print(json.dumps(plain(obj), indent=2, sort_keys=True), file=out)


def _table(rows: list[list[Any]], header: list[str], out: TextIO) -> None:
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), file=out)
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip(), file=out)


def _num(v: Any) -> str:
    return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def cmd_runs(args, store, out) -> None:
    from pipeline.metadata.queries import list_runs

    records = list_runs(store, args.pipeline, args.limit)
    if args.json:
        return _json(records, out)
    _table([[r.run_id, r.pipeline, r.started, f"{r.duration_seconds:.1f}s", r.state, r.nodes_ran, r.nodes_cached,
             r.nodes_failed, {True: "yes", False: "no", None: "-"}[r.blessed], r.pushed_version] for r in records],
           ["RUN", "PIPELINE", "STARTED", "DURATION", "STATE", "RAN", "CACHED", "FAILED", "BLESSED", "PUSHED"], out)


def cmd_show(args, store, out) -> None:
    from pipeline.metadata.queries import show_run

    run, nodes = show_run(store, args.run)
    if args.json:
        return _json({"run": run, "nodes": nodes}, out)
    print(f"run {run.run_id}  pipeline {run.pipeline}  {run.state}  started {run.started}  "
          f"{run.duration_seconds:.1f}s", file=out)
    for node in nodes:
        print(f"\n{node.node}  {node.state}  started {node.started}  {node.duration_seconds:.1f}s", file=out)
        for direction, artifacts in (("in ", node.inputs), ("out", node.outputs)):
            for key, items in sorted(artifacts.items()):
                for a in items:
                    keep = {k: v for k, v in a["properties"].items() if k in ("split_names", "span", "version", "blessed",
                                                                             "pushed", "pushed_version")}
                    extra = " " + " ".join(f"{k}={v}" for k, v in keep.items()) if keep else ""
                    print(f"  {direction} {key:<22} #{a['id']:<5} {a['type'].split('.')[-1]:<20} {a['uri']}{extra}",
                          file=out)


def cmd_artifacts(args, store, out) -> None:
    from pipeline.metadata.queries import list_artifacts

    records = list_artifacts(store, args.type_name, args.run)
    if args.json:
        return _json(records, out)
    _table([[r.id, r.type.split(".")[-1], r.producer, r.uri] for r in records], ["ID", "TYPE", "PRODUCER", "URI"], out)


def cmd_lineage(args, store, out) -> None:
    from pipeline.metadata import lineage as L
    from pipeline.metadata.store import MetadataError

    if args.pushed:
        artifact_id = L.latest_pushed_model(store)
    elif args.artifact is not None:
        artifact_id = args.artifact
    else:
        raise MetadataError("give an artifact id or --pushed latest.")
    graph = L.lineage(store, artifact_id)
    if args.format == "json":
        return _json(graph, out)
    print({"dot": L.to_dot, "mermaid": L.to_mermaid, "text": L.to_text}[args.format](graph), file=out)


def cmd_compare(args, store, out) -> None:
    from pipeline.metadata.compare import compare
    from pipeline.metadata.queries import pipeline_of, resolve_run

    a, b = resolve_run(store, args.run_a), resolve_run(store, args.run_b)
    result = compare(store, a, pipeline_of(store, a), b, pipeline_of(store, b))
    if args.json:
        return _json(result, out)
    print(f"A {result.run_a} ({result.pipeline_a})\nB {result.run_b} ({result.pipeline_b})", file=out)
    sections = [
        ("metrics (candidate, per slice)", result.metrics, ["METRIC", "SLICE", "A", "B", "B-A"]),
        ("changed properties", result.properties, ["PROPERTY", "NODE", "A", "B", "B-A"]),
        ("rows", result.rows, ["", "SPLIT", "A", "B", "B-A"]),
        ("features (changed statistics)", [d for d in result.features if d.delta], ["STAT", "SPLIT/FEATURE", "A", "B", "B-A"]),
        ("nodes", result.nodes, ["", "NODE", "A", "B", ""]),
    ]
    for title, deltas, header in sections:
        print(f"\n{title}:" + ("" if deltas else " none"), file=out)
        if deltas:
            _table([[d.name, d.where, _num(d.a), _num(d.b), _num(d.delta) if d.delta is not None else ""]
                    for d in deltas], header, out)


def cmd_blessing(args, store, out) -> None:
    from pipeline.metadata.eval_results import blessing_report, run_of_model
    from pipeline.metadata.queries import pipeline_of, resolve_run

    if args.target.isdigit():
        pipeline, run_id = run_of_model(store, int(args.target))
    else:
        run_id = resolve_run(store, args.target)
        pipeline = pipeline_of(store, run_id)
    report = blessing_report(store, pipeline, run_id)
    if args.json:
        return _json(report, out)
    print(f"run {report.run_id}  model #{report.model_id}", file=out)
    _table([[c.metric, c.slice, c.bound, _num(c.value), _num(c.baseline), _num(c.change), "pass" if c.passed else "FAIL"]
            for c in report.checks], ["METRIC", "SLICE", "THRESHOLD", "VALUE", "BASELINE", "CHANGE", "RESULT"], out)
    print(report.verdict, file=out)


HANDLERS: dict[str, Callable] = {
    "runs": cmd_runs, "show": cmd_show, "artifacts": cmd_artifacts, "lineage": cmd_lineage,
    "compare": cmd_compare, "blessing": cmd_blessing,
}


def run_command(args: argparse.Namespace, out: TextIO) -> int:
    import tempfile

    from pipeline.logs import captured

    store = open_for(args)
    # Reading statistics and evaluations imports TensorFlow, which talks on stderr; keep the terminal clean.
    with captured(Path(tempfile.gettempdir()) / "tfx-e2e-inspect.log"):
        HANDLERS[args.command](args, store, out)
    return 0
