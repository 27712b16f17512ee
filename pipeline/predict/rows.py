"""Raw rows to predict on: a CSV file (header row, read with the same rule as training data) or JSON lines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pipeline.data.csv_format import DataError, read_text, records

CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class Row:
    number: int  # 1-based data row
    where: str  # "row 3 (line 4)" for messages
    values: Mapping[str, Any]


def read_rows(path: Path) -> tuple[list[str], list[Row]]:
    """(columns seen, rows) from a CSV file with a header row or a JSON-lines file (one object per line)."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + JSONL_SUFFIXES:
        raise DataError(f"{path}: unsupported input type {suffix or '(no suffix)'}; use .csv (with a header row) or "
                        ".jsonl (one JSON object per line)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}: {err.object[err.start:err.start + 1]!r})") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    rows = _csv_rows(path) if suffix in CSV_SUFFIXES else _jsonl_rows(path, text)
    if not rows:
        raise DataError(f"{path}: no data rows (only a header?)")
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row.values))
    return list(columns), rows


def _csv_rows(path: Path) -> list[Row]:
    """Rows of a CSV file read with the training data's rule (pipeline.data.csv_format): a plain header line."""
    source = read_text(path)
    width = len(source.header)
    rows = []
    for number, line, cells in records(source):
        where = f"row {number} (line {line})"
        if len(cells) != width:
            raise DataError(f"{path}: {where}: {len(cells)} fields, but the header has {width}")
        rows.append(Row(number, where, dict(zip(source.header, cells))))
    return rows


def _jsonl_rows(path: Path, text: str) -> list[Row]:
    rows = []
    if text.lstrip().startswith("["):  # also accept one JSON array of objects
        try:
            items = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: not valid JSON: {err}") from None
        lines = [(i, item) for i, item in enumerate(items, start=1)]
        label = "item"
    else:
        lines = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append((line_no, json.loads(line)))
            except json.JSONDecodeError as err:
                raise DataError(f"{path}: line {line_no}: not valid JSON: {err.msg}") from None
        label = "line"
    for number, (line_no, item) in enumerate(lines, start=1):
        where = f"row {number} ({label} {line_no})"
        if not isinstance(item, dict):
            raise DataError(f"{path}: {where}: expected a JSON object of column: value, got {type(item).__name__}")
        rows.append(Row(number, where, item))
    return rows
