"""Pre-flight checks of a CSV input directory against a config, before any component runs."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.config import ConfigError, PipelineConfig


class DataError(ValueError):
    """The input data cannot be used as configured; the message names the file/column and what to do."""


def csv_files(data_dir: Path) -> list[Path]:
    if not data_dir.exists():
        raise DataError(f"data directory {data_dir} does not exist; pass --data DIR with the CSV files.")
    if not data_dir.is_dir():
        raise DataError(f"--data {data_dir} is a file; pass the directory that holds the CSV files.")
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"data directory {data_dir} is empty; put one or more .csv files (with a header row) in it.")
    return files


def header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            row = next(csv.reader(f), None)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8 CSV.") from None
    if not row or not any(cell.strip() for cell in row):
        raise DataError(f"{path}: no header row; the first line must name the columns.")
    return [cell.strip() for cell in row]


def check_csv_dir(data_dir: Path) -> tuple[list[Path], list[str]]:
    """The CSV files of a directory and their common header."""
    files = csv_files(data_dir)
    columns = header(files[0])
    for other in files[1:]:
        if header(other) != columns:
            raise DataError(f"{other}: its header differs from {files[0].name}'s; every CSV in {data_dir} must match.")
    return files, columns


def check_data(cfg: PipelineConfig) -> list[str]:
    """Returns the CSV columns after checking that every column the config names is there."""
    if cfg.example_gen != "csv":
        return []  # built-in data sets (digits) have no CSV to check
    try:
        data_dir = cfg.data_dir
    except ConfigError as err:
        raise DataError(str(err)) from None
    files, columns = check_csv_dir(data_dir)
    present = set(columns)
    for column in cfg.label.raw_columns:
        if column not in present:
            raise DataError(
                f"label column {column!r} is not in {files[0]} (columns: {', '.join(columns)}); "
                "fix label in the config or pass the right --data."
            )
    named = {
        "features.include": cfg.features.include or (),
        "features.exclude": cfg.features.exclude,
        "features.categorical": cfg.features.categorical,
        "features.bucketize": tuple(cfg.features.bucketize),
        "evaluation.slices": cfg.evaluation.slices,
    }
    for key, names in named.items():
        missing = [n for n in names if n not in present]
        if missing:
            raise DataError(f"{key} names {missing}, not columns of {files[0]}; columns are: {', '.join(columns)}.")
    return columns
