"""`tfx-e2e predict`: resolve the pushed model, serve the rows through it (pipeline.predict), print the outputs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_OK

INPUT_HINT = "give a .csv file (with a header row) or a .jsonl file (one JSON object per line)"


def add_parsers(sub: Any) -> None:
    pred = sub.add_parser("predict", help="serve raw CSV / JSON-lines rows through a pushed model")
    pred.add_argument("--model", required=True, metavar="DIR|latest",
                      help="a pushed version dir, a model base dir (its highest version), or `latest`: the highest "
                           "version under <home>/serving/<the config's model name>")
    pred.add_argument("--input", required=True, type=Path, metavar="FILE",
                      help="FILE.csv (header row) or FILE.jsonl (one JSON object per line); columns the model does "
                           "not read, such as the label, are ignored")
    pred.add_argument("--json", action="store_true", help="print one JSON array (every output) instead of lines")
    flags.add_home(pred, "predict", "with --model latest: the home whose serving/ to read")
    flags.add_config(pred, when="with --model latest: ")
    pred.set_defaults(handler=cmd_predict)


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    from cli.render.predictions import write
    from pipeline.predict.serve import predict, resolve_model

    home = checks.home(args.home)
    input_path = checks.input_file(args.input, "--input", INPUT_HINT)
    config = checks.config_file(args.config) if args.config else None
    model_dir = resolve_model(args.model, home.root, config)  # before the log: "no model yet" leaves nothing behind
    with logfile.capture(logfile.new(home, "predict")):  # importing TFX and loading a SavedModel is noisy
        result = predict(str(model_dir), input_path, home.root, config)
    write(result, args.json, out, Path(args.input))
    return EXIT_OK
