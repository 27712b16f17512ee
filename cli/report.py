"""`tfx-e2e report [RUN|latest]`: one self-contained HTML page of a run (pipeline.report), printed as its path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_OK

REPORTS_DIR = "reports"  # <home>/reports/<run id>.html


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("report", help="write a run's self-contained HTML report (DAG, data, training, evaluation, "
                                      "push, lineage) and print its path")
    p.add_argument("run", nargs="?", default="latest", help="run id, or `latest` (default)")
    p.add_argument("--out", type=Path, default=None, metavar="FILE.html",
                   help=f"where to write it (default <home>/{REPORTS_DIR}/<run id>.html)")
    flags.add_home(p, "report", f"home whose metadata.sqlite to read; the report goes to its {REPORTS_DIR}/")
    flags.add_metadata(p)
    p.set_defaults(handler=report)


def default_path(home: Any, run_id: str) -> Path:
    """<home>/reports/<run id>.html (run ids keep their ':', a valid file name character on Linux)."""
    return home.root / REPORTS_DIR / f"{run_id}.html"


def report(args: argparse.Namespace, out: TextIO) -> int:
    from cli.inspect import open_store

    home = checks.home(args.home)
    target = checks.output_file(args.out, "--out") if args.out is not None else None
    store = open_store(args, home)
    # Reading TFX outputs may import TensorFlow, which talks on stderr; keep the terminal clean.
    with logfile.capture(logfile.new(home, "report")):
        from pipeline.metadata.queries import pipeline_of, resolve_run
        from pipeline.report import write_report

        run_id = resolve_run(store, args.run)
        pipeline = pipeline_of(store, run_id)
        path = write_report(store, pipeline, run_id, target or default_path(home, run_id), home=home)
    out.write(f"{path}\n")
    return EXIT_OK
