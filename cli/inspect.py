"""`tfx-e2e runs | show | artifacts | lineage | compare | blessing`: query ML Metadata, render tables or JSON."""

from __future__ import annotations

import argparse
from typing import Any, Callable, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_OK
from cli.render import inspect as view


def _store_flags(parser: argparse.ArgumentParser, command: str, with_json: bool = True) -> None:
    flags.add_home(parser, command, "home whose metadata.sqlite to read")
    flags.add_metadata(parser)
    if with_json:
        parser.add_argument("--json", action="store_true", help="machine-readable output (stable field names)")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("runs", help="list pipeline runs recorded in ML Metadata")
    p.add_argument("--pipeline", metavar="NAME", help="only this pipeline's runs (default: every pipeline in the store)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs, newest first (default 20)")
    _store_flags(p, "runs")
    p.set_defaults(handler=_command(runs))
    p = sub.add_parser("show", help="one run: every node's state, timing, inputs and outputs")
    p.add_argument("run", help="run id, or `latest`")
    _store_flags(p, "show")
    p.set_defaults(handler=_command(show))
    p = sub.add_parser("artifacts", help="list artifacts")
    p.add_argument("--type", dest="type_name", metavar="TYPE", help="only artifacts of this type, e.g. Model, Examples")
    p.add_argument("--run", metavar="RUN_ID", help="only artifacts this run produced")
    _store_flags(p, "artifacts")
    p.set_defaults(handler=_command(artifacts))
    p = sub.add_parser("lineage", help="an artifact's upstream graph to the raw input and its downstream consumers")
    p.add_argument("artifact", nargs="?", type=int, help="artifact id")
    p.add_argument("--pushed", choices=("latest",), help="start from the latest pushed model")
    p.add_argument("--format", choices=("text", "json", "dot", "mermaid"), default="text",
                   help="text (default), json, Graphviz dot or Mermaid flowchart")
    _store_flags(p, "lineage", with_json=False)
    p.set_defaults(handler=_command(lineage))
    p = sub.add_parser("compare", help="two runs: metrics, properties, data and cache differences")
    p.add_argument("run_a", help="run id (or `latest`): the A side")
    p.add_argument("run_b", help="run id (or `latest`): the B side, shown as B-A")
    _store_flags(p, "compare")
    p.set_defaults(handler=_command(compare))
    p = sub.add_parser("blessing", help="why a model was (not) blessed: each threshold and the verdict")
    p.add_argument("target", nargs="?", default="latest", help="run id, model artifact id, or `latest`")
    _store_flags(p, "blessing")
    p.set_defaults(handler=_command(blessing))


def open_store(args: argparse.Namespace, home: Any) -> Any:
    """The store to read: --metadata, else <home>/metadata.sqlite (read-only, never created)."""
    from pipeline.metadata import store

    if args.metadata:
        return store.open_store(store.connection_config(args.metadata, create=False))
    return store.open_store(store.sqlite_config(home.metadata, create=False))


def _command(query: Callable[[argparse.Namespace, Any, TextIO], None]) -> Callable[[argparse.Namespace, TextIO], int]:
    def handler(args: argparse.Namespace, out: TextIO) -> int:
        home = checks.home(args.home)
        store = open_store(args, home)
        # Reading statistics and evaluations imports TensorFlow, which talks on stderr; keep the terminal clean.
        with logfile.capture(logfile.new(home, args.command)):
            query(args, store, out)
        return EXIT_OK

    return handler


def runs(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata.queries import list_runs

    view.runs(list_runs(store, args.pipeline, args.limit), args.json, out)


def show(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata.queries import show_run

    run, nodes = show_run(store, args.run)
    view.show(run, nodes, args.json, out)


def artifacts(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata.queries import list_artifacts

    view.artifacts(list_artifacts(store, args.type_name, args.run), args.json, out)


def lineage(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata import lineage as L
    from pipeline.metadata.store import MetadataError

    if args.pushed:
        artifact_id = L.latest_pushed_model(store)
    elif args.artifact is not None:
        artifact_id = args.artifact
    else:
        raise MetadataError("give an artifact id or --pushed latest.")
    view.lineage(L.lineage(store, artifact_id), args.format, out)


def compare(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata.compare import compare as compare_runs
    from pipeline.metadata.queries import pipeline_of, resolve_run

    a, b = resolve_run(store, args.run_a), resolve_run(store, args.run_b)
    view.compare(compare_runs(store, a, pipeline_of(store, a), b, pipeline_of(store, b)), args.json, out)


def blessing(args: argparse.Namespace, store: Any, out: TextIO) -> None:
    from pipeline.metadata.eval_results import blessing_report, run_of_model
    from pipeline.metadata.queries import pipeline_of, resolve_run

    if args.target.isdigit():
        pipeline, run_id = run_of_model(store, int(args.target))
    else:
        run_id = resolve_run(store, args.target)
        pipeline = pipeline_of(store, run_id)
    view.blessing(blessing_report(store, pipeline, run_id, checks.home(args.home).logs), args.json, out)
