"""The pre-flight data checks (pipeline/data/: csv_format, schema_rules, preflight): one DataError, on one line, naming file, column and row."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from pipeline.data import csv_format
from pipeline.data import preflight as D
from pipeline.config.schema import TAXI_PACKAGE_DATA, resolve_data_dir
from pipeline.config.loader import load_config
from tests import support

SHIPPED = resolve_data_dir(TAXI_PACKAGE_DATA) / "data.csv"


def _shipped(rows: int) -> tuple[list[str], list[list[str]]]:
    with SHIPPED.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [row for _, row in zip(range(rows), reader)]


HEADER, ROWS = _shipped(30)


def col(name: str) -> int:
    return HEADER.index(name)


def write_csv(directory: Path, header=HEADER, rows=ROWS, name="data.csv") -> Path:
    return support.write_csv(directory, header, rows, name)


def with_value(row: int, column: str, value: str) -> list[list[str]]:
    """ROWS with data row `row` (1-based) of `column` set to `value`."""
    rows = [list(r) for r in ROWS]
    rows[row - 1][col(column)] = value
    return rows


def without(column: str) -> tuple[list[str], list[list[str]]]:
    i = col(column)
    return [c for c in HEADER if c != column], [[v for j, v in enumerate(r) if j != i] for r in ROWS]


def check(directory: Path) -> list[str]:
    return D.check_data(load_config("taxi", {"data": str(directory)})).columns


def error(directory: Path) -> str:
    with pytest.raises(D.DataError) as caught:
        check(directory)
    message = str(caught.value)
    assert "\n" not in message, message  # one line on the terminal
    return message


# ------------------------------------------------------------------------------------------------ good inputs


def test_the_shipped_taxi_csv_passes_in_well_under_a_second():
    started = time.perf_counter()
    columns = D.check_data(load_config("taxi")).columns
    seconds = time.perf_counter() - started
    assert columns == HEADER
    assert seconds < 1.0, f"pre-flight of 15k rows took {seconds:.2f} s"


def test_the_taxi_sample_passes(taxi_sample):
    assert check(taxi_sample) == HEADER


def test_blank_lines_and_quoted_multiline_values_are_fine_and_rows_are_counted_as_csv_rows(tmp_path):
    rows = with_value(2, "company", "Taxi\nAffiliation")  # a quoted value over two lines
    path = write_csv(tmp_path, rows=rows)
    path.write_text(path.read_text() + "\n\n")
    assert check(tmp_path) == HEADER
    # Row 4 is on line 6: the header is line 1 and row 2 takes two lines.
    rows[3][col("fare")] = "n/a"
    write_csv(tmp_path, rows=rows)
    assert f"{path}: row 4 (line 6), column 'fare': 'n/a' is not a number" in error(tmp_path)


def test_built_in_data_sets_have_no_csv_to_check():
    assert D.check_data(load_config("digits")) == D.DataFacts([], None)


# ------------------------------------------------------------------------------------------------ directory and files


def test_missing_directory(tmp_path):
    assert error(tmp_path / "nope") == (
        f"data directory {tmp_path / 'nope'} does not exist; pass --data DIR with the CSV files."
    )


def test_empty_directory(tmp_path):
    assert "is empty; put one or more .csv files" in error(tmp_path)


def test_a_subdirectory_is_named(tmp_path):
    write_csv(tmp_path)
    (tmp_path / "old").mkdir()
    assert "contains the directory 'old'" in error(tmp_path)


def test_header_only(tmp_path):
    path = write_csv(tmp_path, rows=[])
    assert error(tmp_path) == f"{path}: has a header but no rows; add rows below the header or remove the file."


def test_zero_byte_file(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"")
    assert "data.csv: the file is empty" in error(tmp_path)


def test_png_named_data_csv(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    message = error(tmp_path)
    assert message.startswith(f"{tmp_path / 'data.csv'}: this is a PNG image, not a CSV text file")


def test_other_binary_data_names_the_nul_byte(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"a,b\n1,2\n3,\x00\x01\x02\n")
    assert "not a CSV text file (binary data: a NUL byte at byte offset 10, line 3)" in error(tmp_path)


@pytest.mark.parametrize("text", [json.dumps([{"fare": 1.0}]), '{"fare": 1.0, "tips": 0}\n{"fare": 2.0, "tips": 1}\n'])
def test_json_instead_of_csv(tmp_path, text):
    (tmp_path / "data.csv").write_text(text)
    assert "data.csv: this looks like JSON" in error(tmp_path)


def test_prose_is_not_csv(tmp_path):
    (tmp_path / "notes.csv").write_text("Taxi trips exported in May\nsee the wiki, for the columns\n")
    assert "notes.csv: row 1 (line 2) has 2 fields, the header has 1 (is this a CSV file?)" in error(tmp_path)


def test_non_utf8_bytes_name_line_and_byte_offset(tmp_path):
    path = write_csv(tmp_path, rows=with_value(5, "company", "Caf\u00e9 Cab"))
    data = path.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9")  # Latin-1
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    column = offset - data.rindex(b"\n", 0, offset)
    assert error(tmp_path) == (
        f"{path}: line 6 is not UTF-8 text (byte 0xe9 at byte offset {offset}, column {column} of the line); "
        "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
    )


def test_byte_order_mark(tmp_path):
    path = write_csv(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert "byte-order mark" in error(tmp_path)


def test_quoted_or_spaced_header_that_csv_example_gen_would_misread(tmp_path):
    path = write_csv(tmp_path)
    lines = path.read_text().split("\n", 1)
    path.write_text(", ".join(lines[0].split(",")) + "\n" + lines[1])
    assert "line 1 must be plain comma-separated column names" in error(tmp_path)
    path.write_text(",".join(f'"{c}"' for c in HEADER) + "\n" + lines[1])
    assert "line 1 must be plain comma-separated column names" in error(tmp_path)


def test_a_row_with_the_wrong_number_of_fields(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[6] = rows[6][:-1]
    path = write_csv(tmp_path, rows=rows)
    assert error(tmp_path) == (
        f"{path}: row 7 (line 8) has 17 fields, the header has 18; every row needs one value per column "
        "(quote values that contain commas)."
    )


def test_files_with_different_headers(tmp_path):
    write_csv(tmp_path, name="a.csv")
    header, rows = without("company")
    write_csv(tmp_path, header=header, rows=rows, name="b.csv")
    assert "b.csv: its header differs from a.csv's" in error(tmp_path)


# ------------------------------------------------------------------------------------------------ columns


def test_label_column_missing(tmp_path):
    header, rows = without("tips")
    path = write_csv(tmp_path, header=header, rows=rows)
    assert error(tmp_path).startswith(f"label column 'tips' is not in {path} (columns: pickup_community_area, fare,")


@pytest.mark.parametrize(
    "column, why",
    [("trip_miles", "presence min_fraction 1.0"), ("company", "presence min_count >= 1")],
)
def test_a_column_the_schema_requires_is_missing(tmp_path, column, why):
    header, rows = without(column)
    path = write_csv(tmp_path, header=header, rows=rows)
    assert error(tmp_path).startswith(
        f"{path}: column {column!r} is missing, but the schema schemas/taxi/schema.pbtxt requires it ({why}); "
        "add the column or pass the right --data"
    )


def test_a_column_the_schema_allows_to_be_absent_may_be_missing(tmp_path):
    header, rows = without("pickup_census_tract")  # presence {} in the curated schema
    write_csv(tmp_path, header=header, rows=rows)
    cfg = load_config("taxi", {"data": str(tmp_path), "features.categorical": ["trip_start_hour"]})
    assert D.check_data(cfg).columns == header


# ------------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    "column, value, why",
    [
        ("fare", "twelve", "'twelve' is not a number (the schema says FLOAT)"),
        ("fare", " ", "' ' is not a number (the schema says FLOAT)"),
        ("trip_start_hour", "7.5", "'7.5' is not an integer (the schema says INT)"),
        ("trip_seconds", "nan", "'nan' is not an integer (the schema says INT)"),
        ("trip_seconds", "inf", "'inf' is not an integer (the schema says INT)"),
        ("trip_start_timestamp", str(2**63), f"'{2**63}' does not fit in a 64-bit integer (the schema says INT)"),
        ("fare", "inf", "'inf' is infinite, which the schema forbids (float_domain disallow_inf)"),
        ("trip_miles", "-Infinity", "'-Infinity' is infinite, which the schema forbids (float_domain disallow_inf)"),
        ("trip_miles", "NaN", "'NaN' is NaN, which the schema forbids (float_domain disallow_nan)"),
    ],
)
def test_a_value_that_does_not_fit_the_schema_names_file_row_column_and_value(tmp_path, column, value, why):
    path = write_csv(tmp_path, rows=with_value(12, column, value))
    assert error(tmp_path) == f"{path}: row 12 (line 13), column {column!r}: {why}; fix the value or drop the row."


def test_only_the_first_bad_value_is_reported(tmp_path):
    rows = with_value(3, "fare", "x")
    rows[1][col("tips")] = "y"
    write_csv(tmp_path, rows=rows)
    assert "row 2 (line 3), column 'tips': 'y' is not a number" in error(tmp_path)


def test_an_empty_cell_where_the_schema_wants_a_value_in_every_row(tmp_path):
    path = write_csv(tmp_path, rows=with_value(4, "payment_type", ""))
    assert error(tmp_path) == (
        f"{path}: row 4 (line 5), column 'payment_type' is empty, but the schema requires a value in every row "
        "(presence min_fraction 1.0); fill it in or drop the row."
    )


def test_empty_cells_in_optional_numeric_columns_are_missing_values(tmp_path):
    write_csv(tmp_path, rows=with_value(4, "trip_seconds", ""))
    assert check(tmp_path) == HEADER


def test_nan_is_fine_where_the_schema_does_not_forbid_it(tmp_path):
    schema = Path(load_config("taxi").schema).read_text().replace("disallow_nan: true", "disallow_nan: false")
    (tmp_path / "schema.pbtxt").write_text(schema)
    write_csv(tmp_path / "data", rows=with_value(4, "fare", "nan"))
    cfg = load_config("taxi", {"data": str(tmp_path / "data"), "schema": str(tmp_path / "schema.pbtxt")})
    assert D.check_data(cfg).columns == HEADER


def test_big_inputs_are_checked_on_a_bounded_prefix(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_format, "MAX_CHECK_BYTES", 1000)  # every test file is "big"
    monkeypatch.setattr(csv_format, "MAX_CHECK_ROWS", 10)
    write_csv(tmp_path, rows=with_value(20, "fare", "x"))  # beyond the prefix: not seen
    assert check(tmp_path) == HEADER
    path = write_csv(tmp_path, rows=with_value(9, "fare", "x"))  # the last row of the prefix: seen
    assert error(tmp_path).startswith(f"{path}: row 9 (line 10), column 'fare'")
    # The prefix may cut the last row (here row 10) in two: that is not an error.
    assert check(write_csv(tmp_path / "cut", rows=with_value(10, "fare", "x")).parent) == HEADER


# ------------------------------------------------------------------------------------------------ the label column


def _label(directory: Path, column: str, task: str):
    overrides = {"data": str(directory), "task": task, "label": {"column": column},
                 "evaluation": {"thresholds": {}, "change_thresholds": {}}}
    return load_config("taxi", overrides)


def test_a_label_column_is_checked_after_the_schema_values_with_the_schema_type(tmp_path):
    write_csv(tmp_path)
    facts = D.check_data(_label(tmp_path, "tips", "regression"))
    assert facts.columns == HEADER
    tips = [row[col("tips")] for row in ROWS]
    assert (facts.label.rows, facts.label.missing_rows, facts.label.notes) == (30, 0, [])
    assert sum(facts.label.values.values()) == 30 and len(facts.label.values) == len({float(t) for t in tips})
    path = write_csv(tmp_path, rows=with_value(12, "tips", "x"))
    with pytest.raises(D.DataError) as caught:  # the schema's own, more precise, message comes first
        D.check_data(_label(tmp_path, "tips", "regression"))
    assert str(caught.value).startswith(f"{path}: row 12 (line 13), column 'tips': 'x' is not a number")
    write_csv(tmp_path)
    with pytest.raises(D.DataError, match="'company' as BYTES .text., but task: regression needs a number"):
        D.check_data(_label(tmp_path, "company", "regression"))
    with pytest.raises(D.DataError, match="label 'tips' is numeric with the values .* task: binary needs exactly"):
        D.check_data(_label(tmp_path, "tips", "binary"))
