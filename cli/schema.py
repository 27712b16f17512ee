"""`tfx-e2e schema infer`: a starting schema.pbtxt for a new CSV dataset (pipeline.data.schema_infer)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_OK


def add_parsers(sub: Any) -> None:
    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True, metavar="SUBCOMMAND")
    infer = schema_sub.add_parser("infer", help="infer a schema.pbtxt from a CSV directory (review it, then commit)")
    infer.add_argument("--data", required=True, metavar="DIR", help="directory of CSV files")
    infer.add_argument("--out", required=True, type=Path, help="where to write, e.g. schemas/NAME/schema.pbtxt")
    flags.add_home(infer, "schema infer", "home directory")
    infer.set_defaults(handler=cmd_infer)


def cmd_infer(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.data.csv_format import check_csv_dir
    from pipeline.data.schema_infer import infer_schema

    home = checks.home(args.home)
    data_dir = Path(args.data).expanduser().resolve()
    check_csv_dir(data_dir)
    checks.output_file(args.out, "--out")
    with logfile.capture(logfile.new(home, "schema infer")):  # TensorFlow Data Validation runs a Beam pipeline
        path = infer_schema(data_dir, args.out)
    print(f"wrote {path}: review types, presence and domains, then name it in a config's `schema:`", file=out)
    return EXIT_OK
