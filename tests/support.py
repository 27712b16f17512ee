"""Helpers behind every end-to-end test: sample data, running the real CLI, reading MLMD and pushed models."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.config.schema import TAXI_PACKAGE_DATA, resolve_data_dir

ROOT = Path(__file__).resolve().parent.parent


def taxi_sample(out_dir: Path, rows: int, seed: int = 0) -> Path:
    """Writes `rows` rows drawn at random (fixed seed) from the shipped taxi CSV; empty cells stay empty."""
    import random

    source = resolve_data_dir(TAXI_PACKAGE_DATA) / "data.csv"
    with source.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    picked = random.Random(seed).sample(body, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "data.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(picked)
    return out_dir


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def cli(args: Sequence[str], timeout: int = 900, cwd: Path = ROOT) -> CliResult:
    """Runs `python -m cli ARGS` in a fresh process, as a user would."""
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def read_csv_rows(path: Path, limit: int) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [row for _, row in zip(range(limit), csv.DictReader(f))]


def serialized_examples(rows: list[dict[str, str]], schema_path: Path | None, drop: Sequence[str] = ()) -> list[bytes]:
    """tf.Examples as CsvExampleGen would write them (types from the schema when given); `drop` columns omitted."""
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2
    from google.protobuf import text_format

    kinds: dict[str, int] = {}
    if schema_path:
        schema = text_format.Parse(Path(schema_path).read_text(), schema_pb2.Schema())
        kinds = {f.name: f.type for f in schema.feature}
    out = []
    for row in rows:
        feature = {}
        for name, value in row.items():
            if name in drop:
                continue
            kind = kinds.get(name)
            if value == "":
                values: list = []
            elif kind == schema_pb2.INT:
                values = [int(float(value))]
            elif kind == schema_pb2.FLOAT:
                values = [float(value)]
            else:
                values = [value.encode()]
            if kind == schema_pb2.INT:
                feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
            elif kind == schema_pb2.FLOAT:
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
            else:
                feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        out.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return out


def pushed_versions(serving_dir: Path) -> list[Path]:
    return sorted(p for p in serving_dir.iterdir() if p.is_dir() and p.name.isdigit()) if serving_dir.is_dir() else []
