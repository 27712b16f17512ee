"""One raw row → one serialized tf.Example, typed as the model's serving parse spec says (missing stays missing)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Mapping

from components.atomic_pusher import signature as sig
from pipeline.data.csv_format import DataError
from pipeline.predict.rows import Row


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
