"""What a schema says about each CSV column (type, presence, NaN/Inf), and the first cell that breaks it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipeline.data.csv_format import CsvText, DataError, records

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class ColumnRule:
    """What the schema says about one CSV column."""

    name: str
    kind: str  # INT | FLOAT | BYTES | other
    required: bool  # presence min_fraction 1 or min_count >= 1: the column must exist
    every_row: bool  # presence min_fraction 1: no empty cells
    disallow_nan: bool = False
    disallow_inf: bool = False

    @property
    def why_required(self) -> str:
        return "presence min_fraction 1.0" if self.every_row else "presence min_count >= 1"


def schema_rules(schema_path: Path) -> list[ColumnRule]:
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    try:
        schema = text_format.Parse(Path(schema_path).read_text(), schema_pb2.Schema())
    except (OSError, text_format.ParseError) as err:
        raise DataError(f"schema {schema_path} cannot be read: {err}".replace("\n", " ")) from None
    inactive = {schema_pb2.PLANNED, schema_pb2.ALPHA, schema_pb2.DEBUG_ONLY, schema_pb2.DEPRECATED,
                schema_pb2.DISABLED}
    rules = []
    for feature in schema.feature:
        if feature.deprecated or feature.lifecycle_stage in inactive:
            continue  # TFDV does not validate these either
        every_row = feature.presence.min_fraction >= 1.0
        rules.append(
            ColumnRule(
                name=feature.name,
                kind=schema_pb2.FeatureType.Name(feature.type),
                required=every_row or feature.presence.min_count >= 1,
                every_row=every_row,
                disallow_nan=feature.HasField("float_domain") and feature.float_domain.disallow_nan,
                disallow_inf=feature.HasField("float_domain") and feature.float_domain.disallow_inf,
            )
        )
    return rules


def _bad_value(rule: ColumnRule, value: str) -> Optional[str]:
    """Why a non-empty cell does not fit the rule (CsvExampleGen parses with Python's int() and float()), or None."""
    if rule.kind == "INT":
        try:
            number = int(value)
        except ValueError:
            return f"{value!r} is not an integer (the schema says INT)"
        if not _INT64_MIN <= number <= _INT64_MAX:
            return f"{value!r} does not fit in a 64-bit integer (the schema says INT)"
        return None
    if rule.kind == "FLOAT":
        try:
            number = float(value)
        except ValueError:
            return f"{value!r} is not a number (the schema says FLOAT)"
        if rule.disallow_nan and math.isnan(number):
            return f"{value!r} is NaN, which the schema forbids (float_domain disallow_nan)"
        if rule.disallow_inf and math.isinf(number):
            return f"{value!r} is infinite, which the schema forbids (float_domain disallow_inf)"
    return None


def check_values(source: CsvText, rules: list[ColumnRule]) -> None:
    """The first cell that does not fit its column's schema type, NaN/Inf rule or presence, as a DataError."""
    index = {name: i for i, name in enumerate(source.header)}
    checks = [(index[r.name], r) for r in rules if r.name in index and (r.kind in ("INT", "FLOAT") or r.every_row)]
    if not checks:
        return
    bad_value = _bad_value
    for row, line, fields in records(source):
        for i, rule in checks:
            value = fields[i]
            if value == "":  # CsvExampleGen's missing value (a cell of spaces is a string, so a bad number)
                if rule.every_row:
                    raise DataError(
                        f"{source.path}: row {row} (line {line}), column {rule.name!r} is empty, but the schema "
                        f"requires a value in every row ({rule.why_required}); fill it in or drop the row."
                    )
                continue
            why = bad_value(rule, value)
            if why:
                raise DataError(f"{source.path}: row {row} (line {line}), column {rule.name!r}: {why}; fix the "
                                "value or drop the row.")
