"""Reading a CSV input the way CsvExampleGen does: files of a directory, UTF-8 text, the header rule, rows.

One rule for every reader of a user's CSV (the pre-flight checks, `schema infer`, `predict`): CsvExampleGen reads the
header by splitting line 1 on commas, so a header must be plain comma-separated names, and every problem is a
DataError with a one-line message naming the file, line and what to do.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional


class DataError(ValueError):
    """The input data cannot be used as configured; the message names the file/column and what to do."""


# Inputs above this size are checked on a bounded prefix: the first MAX_CHECK_ROWS lines of each file, which keeps
# the pre-flight to a few seconds. The rest is still validated, later, by StatisticsGen + ExampleValidator (and so
# stopped by the AnomaliesGate), only without a row number.
MAX_CHECK_BYTES = 100 * 1024 * 1024
MAX_CHECK_ROWS = 100_000

# What common non-CSV files start with (checked before decoding, for a clearer message than "not UTF-8").
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx workbook)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls / OLE document"),
)
_BOM = "\ufeff"


def csv_files(data_dir: Path) -> list[Path]:
    if not data_dir.exists():
        raise DataError(f"data directory {data_dir} does not exist; pass --data DIR with the CSV files.")
    if not data_dir.is_dir():
        raise DataError(f"--data {data_dir} is a file; pass the directory that holds the CSV files.")
    try:
        entries = [p for p in data_dir.iterdir() if not p.name.startswith(".")]
    except OSError as err:
        raise DataError(f"data directory {data_dir}: cannot list it ({err.strerror}); make it readable or pass "
                        "another --data.") from None
    subdirs = sorted(p.name for p in entries if p.is_dir())
    if subdirs:
        raise DataError(
            f"data directory {data_dir} contains the directory {subdirs[0]!r}; CsvExampleGen reads every entry of "
            "--data as a CSV file: move it out."
        )
    files = sorted(p for p in entries if p.is_file())
    if not files:
        raise DataError(f"data directory {data_dir} is empty; put one or more .csv files (with a header row) in it.")
    return files


# ------------------------------------------------------------------------------------------------ one file


@dataclass
class CsvText:
    """A CSV file's text (all of it, or its first MAX_CHECK_ROWS lines when it is big) and its header."""

    path: Path
    text: str
    partial: bool  # True: only a prefix was read (a big file)
    header: list[str]


def _line_of(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line number and column (bytes) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _read_bytes(path: Path) -> tuple[bytes, bool]:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if size <= MAX_CHECK_BYTES:
                return f.read(), False
            # A big input: only the first MAX_CHECK_ROWS lines (plus the header) are checked, see MAX_CHECK_BYTES.
            prefix = b"".join(itertools.islice(f, MAX_CHECK_ROWS + 1))
            return prefix, bool(f.read(1))
    except OSError as err:
        raise DataError(f"{path.parent}: cannot read {path.name} ({err.strerror}); make it readable or move it "
                        "out.") from None


def read_text(path: Path) -> CsvText:
    """The file's text and header, or a DataError when it is not a UTF-8 CSV text file with a usable header."""
    data, partial = _read_bytes(path)
    where = path.parent
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DataError(f"{path}: this is {what}, not a CSV text file; put only CSV files (with a header row) "
                            f"in {where}.")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, _ = _line_of(data, nul)
        raise DataError(f"{path}: not a CSV text file (binary data: a NUL byte at byte offset {nul}, line {line}); "
                        f"put only CSV files (UTF-8 text with a header row) in {where}.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        if partial and err.reason == "unexpected end of data" and err.end == len(data):
            text = data[: err.start].decode("utf-8")  # the prefix cut a character in two: not the file's fault
        else:
            line, column = _line_of(data, err.start)
            raise DataError(
                f"{path}: line {line} is not UTF-8 text (byte 0x{data[err.start]:02x} at byte offset {err.start}, "
                f"column {column} of the line); save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
            ) from None
    if text.startswith(_BOM):
        raise DataError(f"{path}: starts with a byte-order mark (UTF-8 BOM), which CsvExampleGen would make part of "
                        "the first column's name; save it as UTF-8 without BOM.")
    stripped = text.lstrip()
    if not stripped:
        raise DataError(f"{path}: the file is empty; a CSV needs a header row naming the columns, then the rows.")
    if stripped[0] in "{[":
        raise DataError(f"{path}: this looks like JSON (it starts with {stripped[0]!r}), not CSV; convert it to CSV "
                        "with a header row naming the columns.")
    first_line = text.split("\n", 1)[0].strip()  # as CsvExampleGen reads it: readline().strip()
    try:
        header = next(csv.reader([first_line]), [])
    except csv.Error as err:
        raise DataError(f"{path}: line 1 is not a valid CSV header ({err}); the first line must name the columns.") from None
    if not header or not any(cell.strip() for cell in header):
        raise DataError(f"{path}: no header row; the first line must name the columns.")
    # CsvExampleGen reads the header by splitting line 1 on commas (tfx.utils.io_utils.load_csv_column_names):
    # quoted names or spaces around them would become part of the column names.
    naive = first_line.split(",")
    if naive != header or any(cell != cell.strip() or not cell for cell in header):
        raise DataError(
            f"{path}: line 1 must be plain comma-separated column names (no quotes, no spaces around names, no empty "
            f"names), as CsvExampleGen reads it literally; rewrite it as: {','.join(c.strip() for c in header)}"
        )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise DataError(f"{path}: the header names column {duplicates[0]!r} more than once; column names must be unique.")
    return CsvText(path, text, partial, header)


def records(source: CsvText) -> Iterator[tuple[int, int, list[str]]]:
    """(row number, line number, fields) for every non-blank row after the header; row 1 is the first data row.
    Blank lines are skipped, as CsvExampleGen does. A partial (prefix) read drops its last, possibly cut, record."""
    reader = csv.reader(io.StringIO(source.text, newline=""))
    try:
        next(reader)  # the header
        row_number = 0
        pending: Optional[tuple[int, int, list[str]]] = None
        for fields in reader:
            if not fields:
                continue
            row_number += 1
            if pending is not None:
                yield pending
            pending = (row_number, reader.line_num, fields)
        if pending is not None and not source.partial:
            yield pending
    except csv.Error as err:
        raise DataError(f"{source.path}: line {reader.line_num} is not valid CSV ({err}); fix the quoting on that "
                        "line.") from None


def check_rows(source: CsvText) -> int:
    """Every row has one field per column and there is at least one row; returns the rows checked."""
    width = len(source.header)
    count = 0
    for row, line, fields in records(source):
        if len(fields) != width:
            hint = " (is this a CSV file?)" if row == 1 else ""
            raise DataError(
                f"{source.path}: row {row} (line {line}) has {len(fields)} fields, the header has {width}{hint}; "
                "every row needs one value per column (quote values that contain commas)."
            )
        count += 1
    if count == 0:
        raise DataError(f"{source.path}: has a header but no rows; add rows below the header or remove the file.")
    return count


def read_dir(data_dir: Path) -> list[CsvText]:
    sources = [read_text(path) for path in csv_files(data_dir)]
    first = sources[0]
    for other in sources[1:]:
        if other.header != first.header:
            raise DataError(f"{other.path}: its header differs from {first.path.name}'s; every CSV in {data_dir} "
                            "must have the same columns in the same order.")
    for source in sources:
        check_rows(source)
    return sources


def check_csv_dir(data_dir: Path) -> tuple[list[Path], list[str]]:
    """The CSV files of a directory and their common header, after the checks that need no schema."""
    sources = read_dir(data_dir)
    return [s.path for s in sources], sources[0].header
