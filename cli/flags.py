"""Flags shared by several commands, each defined once: --home, --metadata, --config, --set KEY=VALUE, --tune,
--quantize."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml

from pipeline.paths import DEFAULT_HOME

METADATA_ENV = "TFX_E2E_METADATA"
SHOWN_HOME = f"./{DEFAULT_HOME}"


def log_note(command: str) -> str:
    """Where a command's TFX/TensorFlow/Beam output goes (pipeline.logs captures it; cli.logfile names it)."""
    return f"<home>/logs/{command.replace(' ', '-')}-<timestamp>.log"


def add_home(parser: argparse.ArgumentParser, command: str, purpose: str) -> None:
    """--home: `purpose` says what this command does with it; every command writes its log under it."""
    parser.add_argument(
        "--home", type=Path, default=None, metavar="DIR",
        help=f"{purpose} (default {SHOWN_HOME}); TFX/TensorFlow output of this command goes to {log_note(command)}",
    )


def add_metadata(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metadata", default=os.environ.get(METADATA_ENV), metavar="URI",
        help=f"ML Metadata store: sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB (also ${METADATA_ENV}); "
        "default: <home>/metadata.sqlite",
    )


def add_config(parser: argparse.ArgumentParser, when: str = "") -> None:
    from pipeline.config.loader import DEFAULT_CONFIG, bundled

    parser.add_argument("--config", default=None, metavar="NAME|PATH",
                        help=f"{when}bundled config name ({bundled()}) or a YAML path; default {DEFAULT_CONFIG}")


def parse_set(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` → (key, the value read as YAML: 3 is an int, true a bool, [a, b] a list)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE (e.g. training.epochs=3), got {text!r}")
    return key.strip(), yaml.safe_load(value)


def add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", type=parse_set, action="append", default=[], metavar="KEY=VALUE",
                        help="override any config key, e.g. --set model.hparams.dropout=0.2 (repeatable)")


def add_tune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tune", action="store_true",
                        help="add the Tuner: a random search over the model family's hyperparameters whose best "
                             "values the Trainer uses (the config's tuning section, or 8 trials / 600 s and the "
                             "family's default search space)")


def tune_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"tuning.enabled": True} if getattr(args, "tune", False) else {}


def add_quantize(parser: argparse.ArgumentParser) -> None:
    from trainer_module.tflite_files import QUANTIZE_MODES  # TF-free

    parser.add_argument("--quantize", choices=QUANTIZE_MODES, metavar="MODE",
                        help="also write a TFLite model of the trained network, evaluated and gated beside it and "
                             f"pushed as <version>/tflite/model.tflite: {', '.join(QUANTIZE_MODES)} "
                             "(overrides model.export.quantize; none = float32)")


def quantize_overrides(args: argparse.Namespace) -> dict[str, Any]:
    mode = getattr(args, "quantize", None)
    return {"model.export.quantize": mode} if mode else {}
