"""`tfx-e2e explain`: resolve the pushed model, attribute each row's prediction to its raw features (pipeline.explain),
print the table or JSON, and for image models optionally write saliency PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_OK, UsageError
from cli.predict import INPUT_HINT

DEFAULT_TOP = 5


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def add_parsers(sub: Any) -> None:
    exp = sub.add_parser("explain", help="attribute each row's prediction to its raw features (integrated gradients)")
    exp.add_argument("--model", required=True, metavar="DIR|latest",
                     help="a pushed version dir, a model base dir (its highest version), or `latest`: the highest "
                          "version under <home>/serving/<the config's model name>")
    exp.add_argument("--input", required=True, type=Path, metavar="FILE",
                     help="FILE.csv (header row) or FILE.jsonl (one JSON object per line); columns the model does "
                          "not read, such as the label, are ignored")
    exp.add_argument("--json", action="store_true",
                     help="print one JSON object (model, method, baseline, tolerance, rows) instead of tables")
    exp.add_argument("--top", type=_positive, default=DEFAULT_TOP, metavar="K",
                     help=f"show the K features with the largest |attribution| per row (default {DEFAULT_TOP})")
    exp.add_argument("--saliency-out", type=Path, metavar="DIR",
                     help="image models (digits): write row-<n>.png per row, the image beside its heatmap")
    flags.add_home(exp, "explain", "with --model latest: the home whose serving/ to read")
    flags.add_config(exp, when="with --model latest: ")
    exp.set_defaults(handler=cmd_explain)


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from cli.render.explanations import write
    from pipeline.explain import saliency
    from pipeline.explain.explain import explain
    from pipeline.predict.serve import resolve_model

    home = checks.home(args.home)
    input_path = checks.input_file(args.input, "--input", INPUT_HINT)
    config = checks.config_file(args.config) if args.config else None
    if args.saliency_out is not None and args.saliency_out.expanduser().is_file():
        raise UsageError(f"--saliency-out {args.saliency_out} is a file; give a directory to write PNGs into.")
    model_dir = resolve_model(args.model, home.root, config)  # before the log: "no model yet" leaves nothing behind
    with logfile.capture(logfile.new(home, "explain")):  # importing TensorFlow and loading a SavedModel is noisy
        result = explain(str(model_dir), input_path, home.root, config)
        if args.saliency_out is not None:
            saliency.require_image(result)
            pictures = saliency.write(result, args.saliency_out.expanduser().resolve())
    write(result, args.json, args.top, out, Path(args.input))
    if args.saliency_out is not None and not args.json:
        print(f"saliency {len(pictures)} PNG{'s' if len(pictures) != 1 else ''} in {args.saliency_out}", file=out)
    return EXIT_OK
