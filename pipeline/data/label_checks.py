"""Pre-flight checks of the label column of a user's CSV for the configured task, and what it says (LabelFacts).

Only `label.column` is read (a `label.fn` computes its label inside Transform: nothing to check here), from the same
sources and with the same bounded reading as the rest of the pre-flight (csv_format: the first MAX_CHECK_ROWS rows of
a big file; the messages then say "the first N rows"). The rules, each broken one a DataError with a one-line message:

- Empty label cells (and, in a text column, cells of spaces only): those rows are left out of training and
  evaluation (Transform gives them weight 0); a note says how many. Every row empty is an error.
- Numbers first, as CsvExampleGen reads them: a column whose every non-empty cell parses as an integer is INT, as a
  number FLOAT, else text (a curated schema's type wins). Text values are compared after strip().
- binary: numbers must be exactly 0 and 1. Text must be two values: `label.positive` names one of them, or they are
  a known pair (trainer_module.label_values, case-insensitive) and the positive class is inferred.
- multiclass: 2..MAX_CLASSES classes (numbers are class ids, as Transform uses them: whole, 0..MAX_CLASSES-1), each
  with at least MIN_ROWS_PER_CLASS rows. A rarer class is our stand-in for "a class that appears only in eval":
  ExampleGen assigns each row to a split by a hash inside TFX, which cannot be reproduced honestly before it runs,
  and a class with so few rows may well land in the eval split only, where the model never saw it.
- regression: every non-empty value a finite number, at least two different values.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from pipeline.config.schema import PipelineConfig
from pipeline.data.csv_format import CsvText, DataError, records
from trainer_module import label_values as LV

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SHOWN = 8  # values listed in a message


@dataclass(frozen=True)
class LabelFacts:
    """What the label column holds, as checked; `notes` are one-line sentences the CLI prints before the run."""

    rows: int
    missing_rows: int
    values: dict[str, int]  # distinct non-empty values (stripped) -> rows, most frequent first
    positive: Optional[str] = None  # binary text labels: the positive value as written in the data
    negative: Optional[str] = None
    inferred: bool = False  # positive came from a known pair, not from label.positive
    notes: list[str] = field(default_factory=list)


@dataclass
class _Column:
    """One pass over the label cells of every source."""

    name: str
    rows: int = 0
    empty: int = 0  # cells CsvExampleGen reads as missing ("")
    cells: Counter = field(default_factory=Counter)  # every other cell, as written -> rows
    first: dict = field(default_factory=dict)  # cell -> (file, row, line) of its first occurrence
    partial: list = field(default_factory=list)  # the sources read only in part


def _read(sources: list[CsvText], column: str) -> _Column:
    col = _Column(column)
    for source in sources:
        index = source.header.index(column)
        if source.partial:
            col.partial.append(source)
        for row, line, fields in records(source):
            col.rows += 1
            cell = fields[index]
            if cell == "":
                col.empty += 1
                continue
            col.cells[cell] += 1
            col.first.setdefault(cell, (source.path, row, line))
    return col


def _kind(cell: str) -> int:
    """0 INT, 1 FLOAT, 2 text: CsvExampleGen's type inference of one non-empty cell (tfx_bsl _InferValueType)."""
    try:
        return 0 if _INT64_MIN <= int(cell) <= _INT64_MAX else 2
    except ValueError:
        try:
            float(cell)
        except ValueError:
            return 2
        return 1


def _numeric(col: _Column, declared: Optional[str]) -> bool:
    if declared in ("INT", "FLOAT"):
        return True  # the schema's type (its values were checked against it already)
    if declared == "BYTES":
        return False
    return all(_kind(cell) < 2 for cell in col.cells)


def _values(col: _Column, numeric: bool) -> tuple[dict[str, int], int]:
    """Distinct values -> rows, most frequent first, and the rows without a value. Numbers are grouped by value
    ("1" and "1.0" are one class), text after strip() (a text cell of spaces only has no value)."""
    counts: Counter = Counter()
    spelling: dict = {}
    missing = col.empty
    for cell, n in col.cells.items():
        if numeric:
            key = spelling.setdefault(float(cell), cell.strip())
        else:
            key = cell.strip()
            if not key:
                missing += n
                continue
        counts[key] += n
    return dict(counts.most_common()), missing


def _where(sources: list[CsvText]) -> str:
    if len(sources) == 1:
        return str(sources[0].path)
    return f"{sources[0].path.parent} ({len(sources)} files)"


def _rows(col: _Column, sources: list[CsvText]) -> str:
    """'2,000 rows', or for a big input read in part, 'the first 100,000 rows'."""
    if not col.partial:
        return f"{col.rows:,} rows"
    if len(sources) == 1:
        return f"the first {col.rows:,} rows"
    return f"{col.rows:,} rows read (the first rows only of {', '.join(s.path.name for s in col.partial)})"


def _listing(values: dict[str, int], quoted: bool = True) -> str:
    shown = [f"{repr(v) if quoted else v} ({n:,} row{'s' if n != 1 else ''})" for v, n in list(values.items())[:_SHOWN]]
    more = len(values) - _SHOWN
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def check_label(cfg: PipelineConfig, sources: list[CsvText], declared: Optional[str] = None) -> Optional[LabelFacts]:
    """The label column's facts for cfg.task, or a DataError (see the module docstring); None when there is no
    label column to read (a label.fn, or a built-in data set). `declared`: the curated schema's type of the column."""
    if cfg.example_gen != "csv" or not cfg.label.column:
        return None
    column = cfg.label.column
    col = _read(sources, column)
    where, rows = _where(sources), _rows(col, sources)
    if cfg.task == "regression":
        if declared == "BYTES":
            raise DataError(f"{cfg.schema}: types label {column!r} as BYTES (text), but task: regression needs a "
                            "number; make it FLOAT in the schema, or use task: multiclass.")
        _check_finite(col)
    numeric = _numeric(col, declared)
    values, missing = _values(col, numeric)
    if not values:
        raise DataError(f"{where}: label column {column!r} has no value in any of its {rows}; fill in the labels, "
                        "or set label.column to the column that holds them.")
    notes = []
    if missing:
        notes.append(f"label {column!r}: {missing:,} of {rows} have no value; they are left out of training and "
                     "evaluation")
    facts = LabelFacts(rows=col.rows, missing_rows=missing, values=values, notes=notes)
    if cfg.task == "binary":
        return _binary(cfg, facts, numeric, where, rows)
    if cfg.task == "multiclass":
        _multiclass(column, values, numeric, where, rows)
    elif len(values) < 2:
        raise DataError(f"{where}: label {column!r} has the one value {next(iter(values))} in {rows}; a regression "
                        "label needs at least two different values (check label.column).")
    return facts


def _check_finite(col: _Column) -> None:
    """task: regression: the first non-empty cell that is not a finite number, by file and row."""
    bad = [cell for cell in col.cells if not _finite(cell)]
    if not bad:
        return
    cell = min(bad, key=lambda c: col.first[c])
    path, row, line = col.first[cell]
    if not cell.strip():
        why = f"{cell!r} (spaces only) is not a number; leave the cell empty for a row without a label"
    elif _kind(cell) < 2:
        why = f"{cell!r} is not a finite number; fix the value or leave the cell empty"
    else:
        why = (f"{cell!r} is not a number, but task: regression needs a numeric label; for a label of categories use "
               "task: multiclass (or task: binary for two of them)")
    raise DataError(f"{path}: row {row} (line {line}), label {col.name!r}: {why}.")


def _finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except (ValueError, OverflowError):
        return False


def _class_id(value: str) -> bool:
    number = float(value)
    return number.is_integer() and 0 <= number < LV.MAX_CLASSES


def _binary(cfg: PipelineConfig, facts: LabelFacts, numeric: bool, where: str, rows: str) -> LabelFacts:
    column, values = cfg.label.column, facts.values
    if numeric:
        numbers = {float(v) for v in values}
        if numbers != {0.0, 1.0}:
            raise DataError(
                f"{where}: label {column!r} is numeric with the values {_listing(values, quoted=False)} in {rows}, "
                "but task: binary needs exactly the two values 0 and 1; use task: multiclass (classes) or "
                "task: regression (a quantity), or a label.fn that returns 0/1."
            )
        return facts
    if len(values) == 1:
        raise DataError(f"{where}: label {column!r} has the one value {_listing(values)} in {rows}; task: binary "
                        "needs rows of two classes: add rows of the other class, or check label.column.")
    positive = cfg.label.positive
    if positive is None:
        pair = LV.known_pair(values)
        if pair is not None:
            spelled = {LV.normalized(v): v for v in reversed(values)}  # the most frequent spelling wins
            chosen, other = spelled[pair[0]], spelled[pair[1]]
            note = (f"label {column!r}: {chosen!r} is the positive class (inferred from the pair {pair[0]}/{pair[1]}; "
                    "set label.positive to choose another)")
            return _with(facts, chosen, other, True, note)
    if len(values) > 2:
        raise DataError(
            f"{where}: label {column!r} has {len(values):,} values in {rows}: {_listing(values)}; task: binary needs "
            "exactly two: use task: multiclass, or a label.fn that maps them to 0/1"
            + (" (values differ only in case: make them the same)" if len({LV.normalized(v) for v in values}) == 2
               else "") + "."
        )
    first, second = values
    if positive is None:
        raise DataError(
            f"{where}: label {column!r} has the two values {_listing(values)}, which are not a known pair "
            f"(yes/no, true/false, y/n, 1/0, positive/negative); say which is the positive class in the config: "
            f"label.positive: \"{first}\" (or \"{second}\"), in quotes."
        )
    chosen = positive.strip()
    if chosen not in values:
        same = [v for v in values if v.lower() == chosen.lower()]
        hint = f" (values are case-sensitive: did you mean \"{same[0]}\"?)" if same else ""
        raise DataError(
            f"{where}: label.positive is {positive!r}, which is not a value of label {column!r} (its values: "
            f"{_listing(values)}){hint}; set label.positive: \"{first}\" or \"{second}\"."
        )
    other = second if chosen == first else first
    return _with(facts, chosen, other, False,
                 f"label {column!r}: {chosen!r} is the positive class (label.positive), {other!r} the negative")


def _with(facts: LabelFacts, positive: str, negative: str, inferred: bool, note: str) -> LabelFacts:
    return LabelFacts(facts.rows, facts.missing_rows, facts.values, positive, negative, inferred, [*facts.notes, note])


def _multiclass(column: str, values: dict[str, int], numeric: bool, where: str, rows: str) -> None:
    quoted = not numeric
    if len(values) > LV.MAX_CLASSES:
        raise DataError(
            f"{where}: label {column!r} has {len(values):,} distinct values in {rows}, more than the "
            f"{LV.MAX_CLASSES} classes task: multiclass allows; did you mean task: regression? Otherwise group the "
            f"values into fewer classes (a label.fn)."
        )
    if len(values) < 2:
        raise DataError(f"{where}: label {column!r} has the one value {_listing(values, quoted)} in {rows}; "
                        "task: multiclass needs at least two classes: check label.column.")
    not_ids = {v: n for v, n in values.items() if numeric and not _class_id(v)}
    if not_ids:  # Transform uses a numeric label as the class id (0..max), a text label through a vocabulary
        raise DataError(
            f"{where}: label {column!r} is numeric, so its values are class ids, which must be whole numbers from 0 "
            f"to {LV.MAX_CLASSES - 1}; it has {_listing(not_ids, quoted=False)} in {rows}: use task: regression for "
            "a quantity, or a label.fn that maps the values to 0..K-1."
        )
    rare = {v: n for v, n in values.items() if n < LV.MIN_ROWS_PER_CLASS}
    if rare:
        raise DataError(
            f"{where}: label {column!r} has too few rows of class{'es' if len(rare) > 1 else ''} "
            f"{_listing(rare, quoted)} in {rows}, fewer than {LV.MIN_ROWS_PER_CLASS} each; ExampleGen splits rows by "
            "a hash, so such a class may land in the eval split only, where the model never saw it: merge it into "
            "another class or drop its rows."
        )
