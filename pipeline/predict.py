"""`tfx-e2e predict`: load a pushed model and serve raw CSV / JSON-lines rows through its `serving_default`.

The model describes its own input: the `tf.io.parse_example` spec inside `serving_default` (column names, types,
fixed or variable length) is read from saved_model.pb (components/atomic_pusher/signature.py), so no schema,
config or Transform output is needed to turn raw rows into the serialized tf.Examples the model takes. Columns the
model does not parse — the label, the label function's inputs, excluded features — are not sent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import numpy as np

from components.atomic_pusher import signature as sig
from pipeline.config import ConfigError
from pipeline.data import DataError

CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
BATCH_SIZE = 1024
TEXT_MAX_VALUES = 16  # outputs with more values per row (e.g. an autoencoder's reconstruction) only go to --json


@dataclass(frozen=True)
class Row:
    number: int  # 1-based data row
    where: str  # "row 3 (line 4)" for messages
    values: Mapping[str, Any]


@dataclass
class Predictions:
    model_dir: Path
    inputs: dict[str, sig.InputFeature]
    ignored_columns: list[str]
    outputs: dict[str, np.ndarray]  # output name -> array with one entry per row
    rows: int


# ------------------------------------------------------------------------------------------------ the model


def _versions(base: Path) -> list[Path]:
    """Numeric version directories holding a SavedModel, lowest first (`.tmp-*` pushes in progress are skipped)."""
    found = [p for p in base.iterdir() if p.is_dir() and p.name.isascii() and p.name.isdigit()]
    return sorted((p for p in found if (p / "saved_model.pb").is_file()), key=lambda p: int(p.name))


def resolve_model(model: str, home: Path, config: Optional[str] = None) -> Path:
    """`latest` → the highest version under <home>/serving/<model name>; a version dir → itself; a model base
    dir → its highest version. ConfigError when there is nothing to load."""
    if model == "latest":
        from pipeline.config import load_config

        cfg = load_config(config)
        base = home / "serving" / cfg.model_name
        versions = _versions(base) if base.is_dir() else []
        if not versions:
            raise ConfigError(
                f"no pushed model yet in {base}: run `tfx-e2e run --home {home}` (a blessed run pushes one), or "
                "pass --model DIR"
            )
        return versions[-1]
    path = Path(model).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"--model {model}: no such directory (give a pushed version directory, a model base "
                          "directory or `latest`)")
    if (path / "saved_model.pb").is_file():
        return path
    versions = _versions(path)
    if not versions:
        raise ConfigError(f"--model {model}: neither a SavedModel (no saved_model.pb) nor a model base directory "
                          "with numeric version directories")
    return versions[-1]


def input_features(model_dir: Path) -> dict[str, sig.InputFeature]:
    try:
        return sig.serving_input_features(str(model_dir))
    except sig.SignatureError as err:
        raise ConfigError(f"cannot tell which columns the model reads: {err}") from None


# ------------------------------------------------------------------------------------------------ rows


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
    rows = _csv_rows(path, text) if suffix in CSV_SUFFIXES else _jsonl_rows(path, text)
    if not rows:
        raise DataError(f"{path}: no data rows (only a header?)")
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row.values))
    return list(columns), rows


def _csv_rows(path: Path, text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as err:
        raise DataError(f"{path}: not a readable CSV file: {err}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError(f"{path}: the first line must be a header row naming the columns")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise DataError(f"{path}: duplicate column(s) in the header: {', '.join(duplicates)}")
    rows = []
    try:
        for number, cells in enumerate(reader, start=1):
            if not cells:
                continue
            where = f"row {number} (line {reader.line_num})"
            if len(cells) != len(header):
                raise DataError(f"{path}: {where}: {len(cells)} fields, but the header has {len(header)}")
            rows.append(Row(number, where, dict(zip(header, cells))))
    except csv.Error as err:
        raise DataError(f"{path}: line {reader.line_num}: not valid CSV: {err}") from None
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


# ------------------------------------------------------------------------------------------------ tf.Examples


_SPLIT = re.compile(r"[\s,;]+")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_list(value: Any, feature: sig.InputFeature) -> list[Any]:
    """A cell's values: a JSON list (`[1, 2]`) for any column; for a numeric dense column of several values also
    whitespace/comma separated numbers; otherwise the one value (a sparse column's "1,5" is one bad number, not two)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and feature.dtype != "bytes":
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
                return parsed if isinstance(parsed, list) else [parsed]
            except json.JSONDecodeError:
                pass
        if feature.kind == "dense" and feature.size > 1:
            return [v for v in _SPLIT.split(text.strip("[]")) if v]
    return [value]


def _number(value: Any, feature: sig.InputFeature, where: str) -> float | int:
    kind = "an integer" if feature.dtype == "int" else "a number"
    problem = f"{where}, column {feature.name!r}: {value!r} is not {kind} (the model reads {feature.name} as " \
              f"{feature.dtype})"
    if isinstance(value, bool):
        raise DataError(problem)
    if isinstance(value, (int, float)):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise DataError(problem) from None
        if feature.dtype == "int" and re.fullmatch(r"[+-]?\d+", str(value).strip()):
            return int(str(value).strip())  # exact, even beyond float precision
    if feature.dtype == "int":
        if not (isinstance(number, int) or (math.isfinite(number) and float(number).is_integer())):
            raise DataError(problem)
        return int(number)
    return float(number)


def to_example(row: Row, features: Mapping[str, sig.InputFeature], path: Path) -> bytes:
    """One tf.Example with the model's columns, typed as its parse spec says; missing values stay missing."""
    import tensorflow as tf

    feature_map = {}
    for name, feature in features.items():
        value = row.values.get(name)
        where = f"{path}: {row.where}"
        if _is_missing(value) or (isinstance(value, (list, tuple)) and not value):
            if feature.required:
                raise DataError(f"{where}, column {name!r}: no value, but the model requires one")
            if feature.kind == "dense":
                continue  # the parse spec's default applies
            values: list[Any] = []
        else:
            values = _as_list(value, feature)
            if feature.dtype == "bytes":
                values = [v if isinstance(v, str) else json.dumps(v) for v in values]
            else:
                values = [_number(v, feature, where) for v in values]
            if feature.kind == "dense" and len(values) != feature.size:
                raise DataError(f"{where}, column {name!r}: {len(values)} values, the model expects {feature.size}")
        if feature.dtype == "float":
            feature_map[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        elif feature.dtype == "int":
            feature_map[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            feature_map[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))
    return tf.train.Example(features=tf.train.Features(feature=feature_map)).SerializeToString()


# ------------------------------------------------------------------------------------------------ predict


def predict(model: str, input_path: Path, home: Path, config: Optional[str] = None) -> Predictions:
    """Resolves the model, converts the rows and calls serving_default in batches."""
    model_dir = resolve_model(model, home, config)
    features = input_features(model_dir)
    input_path = Path(input_path).expanduser()
    columns, rows = read_rows(input_path)
    absent = [n for n, f in features.items() if n not in columns and (f.kind != "dense" or f.required)]
    if absent:
        raise DataError(
            f"{input_path}: missing column(s) the model reads: {', '.join(absent)} (found: {', '.join(columns)})"
        )
    examples = [to_example(row, features, input_path) for row in rows]

    import tensorflow as tf

    try:
        serve = tf.saved_model.load(str(model_dir)).signatures[sig.SERVING_SIGNATURE]
    except Exception as err:  # pylint: disable=broad-except
        raise ConfigError(f"{model_dir}: cannot load the model's {sig.SERVING_SIGNATURE}: {type(err).__name__}: "
                          f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}") from None
    chunks: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(examples), BATCH_SIZE):
        batch = tf.constant(examples[start : start + BATCH_SIZE], dtype=tf.string)
        try:
            outputs = serve(examples=batch)
        except tf.errors.InvalidArgumentError as err:
            raise DataError(f"{input_path}: the model rejected rows {start + 1}-{start + len(batch)}: "
                            f"{err.message.strip().splitlines()[0]}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{model_dir}: its {sig.SERVING_SIGNATURE} does not take serialized tf.Examples as "
                              f"`examples`: {err}") from None
        for name, value in outputs.items():
            chunks.setdefault(name, []).append(value.numpy())
    return Predictions(
        model_dir=model_dir,
        inputs=features,
        ignored_columns=[c for c in columns if c not in features],
        outputs={name: np.concatenate(parts) for name, parts in sorted(chunks.items())},
        rows=len(rows),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def as_records(result: Predictions) -> list[dict[str, Any]]:
    """One object per input row: {"row": n, <output>: the row's value(s), ...}, as serving_default returns them."""
    return [
        {"row": i + 1, **{name: _jsonable(values[i].tolist()) for name, values in result.outputs.items()}}
        for i in range(result.rows)
    ]


def _fmt(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind in "SUO":
        items = [v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel().tolist()]
        return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
    flat = array.ravel()
    if flat.size == 1:
        return f"{flat[0]:.6g}"
    return "[" + ", ".join(f"{v:.4g}" for v in flat) + "]"


def text_lines(result: Predictions) -> Iterator[str]:
    """`row N  <output> <value> ...`; class probabilities also name the most likely class."""
    shown = {n: v for n, v in result.outputs.items() if np.size(v[0]) <= TEXT_MAX_VALUES} if result.rows else {}
    shown = shown or result.outputs
    for i in range(result.rows):
        parts = []
        for name, values in shown.items():
            parts.append(f"{name} {_fmt(values[i])}")
            if name == "probabilities" and np.size(values[i]) > 1:
                parts.append(f"class {int(np.argmax(values[i]))}")
        yield f"row {i + 1:<5} " + "  ".join(parts)


def write(result: Predictions, as_json: bool, out: Any, input_path: Path) -> None:
    if as_json:
        print(json.dumps(as_records(result)), file=out)
        return
    print(f"model    {result.model_dir}", file=out)
    print(f"input    {input_path} ({result.rows} row{'s' if result.rows != 1 else ''})", file=out)
    if result.ignored_columns:
        print(f"ignored  {', '.join(result.ignored_columns)} (not read by the model)", file=out)
    hidden = [n for n in result.outputs if result.rows and np.size(result.outputs[n][0]) > TEXT_MAX_VALUES]
    if hidden and len(hidden) < len(result.outputs):
        print(f"outputs  {', '.join(hidden)} not shown (--json has them)", file=out)
    for line in text_lines(result):
        print(line, file=out)


def run(model: str, input_path: Path, home: Path, config: Optional[str], as_json: bool, out: Any) -> None:
    result = predict(model, input_path, home, config)
    write(result, as_json, out, Path(input_path))

