"""`tfx-e2e` and `python -m cli`: assemble the command groups' parsers, run one command, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from cli import cloud, errors, explain, inspect, predict, report, run, schema, ui

GROUPS = (run, cloud, inspect, report, predict, explain, schema, ui)  # each registers its commands with add_parsers(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfx-e2e", description="Run and inspect the tfx-e2e TFX pipeline.",
        epilog=f"exit codes: {errors.EXIT_OK} success, {errors.EXIT_FAILED} a component failed, {errors.EXIT_USAGE} bad "
               "flags, config, data, paths or metadata store (one line on stderr). Each command's TFX/TensorFlow "
               "output goes to <home>/logs/<command>-<timestamp>.log.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    # Progress and results go to the terminal's stdout even while TFX/TF output is redirected to a log file.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    try:
        return args.handler(args, out)
    except errors.user_errors() as err:  # evaluated only when something was raised
        return errors.report(err, sys.stderr)
    finally:
        out.flush()


def entry() -> None:
    """The console script and `python -m cli`: main(), then exit without interpreter finalization.

    Once TensorFlow, Beam and TFX are loaded, tearing the interpreter down takes 2-3 s (measured) and does nothing a
    finished command needs: every file, log and metadata write is already closed or committed. Output streams and
    logging handlers are flushed first.
    """
    import logging

    try:
        code = main()
    except BrokenPipeError:
        # The reader went away (`tfx-e2e runs | head`): no traceback; stop writing (as Python's docs advise).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = errors.EXIT_FAILED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)
