"""Bad input stops `tfx-e2e run` cleanly: a one-line error (exit 2) before anything runs, or the AnomaliesGate's
report (exit 1) before Transform/Trainer; never a traceback; the pushed model and the metadata store untouched.

One home gets a real blessed, pushed run first; every bad input then runs against that home."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable

import pytest

from pipeline.metadata import runs as R
from pipeline.metadata.store import open_store, sqlite_config
from tests import support

QUICK = ["--train-steps", "50", "--eval-steps", "5",
         "--set", "evaluation.thresholds.auc.lower=0.5", "--set", "evaluation.thresholds.binary_accuracy.lower=0.5",
         *support.NO_IMPORTANCE]
TRACEBACK = "Traceback (most recent call last)"
BEFORE_GATE = {"CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator"}


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


@pytest.fixture(scope="module")
def sample(taxi_sample):
    """The shared taxi sample's header and its first 1,000 rows."""
    header, rows = _read(taxi_sample / "data.csv")
    return header, rows[:1000]


@pytest.fixture(scope="module")
def pushed_home(sample, tmp_path_factory):
    """A home with one successful run: blessed, and a model pushed to <home>/serving/taxi/<version>."""
    home = tmp_path_factory.mktemp("pushed_home")
    data = support.write_csv(tmp_path_factory.mktemp("good"), *sample).parent
    result = support.cli(["run", "--data", data, "--home", home, *QUICK])
    assert result.code == 0, result.stdout + result.stderr
    assert len(support.pushed_versions(home / "serving" / "taxi")) == 1, result.stdout
    return home


def _small(sample) -> tuple[list[str], list[list[str]]]:
    header, rows = sample
    return header, [list(r) for r in rows[:300]]


def _set(sample, row: int, column: str, value: str):
    """The small corpus with data row `row` (1-based) of `column` set to `value`."""
    header, rows = _small(sample)
    rows[row - 1][header.index(column)] = value
    return header, rows


def _drop(sample, column: str):
    header, rows = _small(sample)
    i = header.index(column)
    return [c for c in header if c != column], [[v for j, v in enumerate(r) if j != i] for r in rows]


def empty_dir(d: Path, sample) -> None:
    d.mkdir()


def header_only(d: Path, sample) -> None:
    support.write_csv(d, sample[0], [])


def missing_required_column(d: Path, sample) -> None:
    support.write_csv(d, *_drop(sample, "trip_miles"))


def label_column_missing(d: Path, sample) -> None:
    support.write_csv(d, *_drop(sample, "tips"))


def non_numeric_fare(d: Path, sample) -> None:
    support.write_csv(d, *_set(sample, 42, "fare", "12,50 USD"))


def infinite_fare(d: Path, sample) -> None:
    support.write_csv(d, *_set(sample, 7, "fare", "inf"))


def nan_trip_miles(d: Path, sample) -> None:
    support.write_csv(d, *_set(sample, 8, "trip_miles", "NaN"))


def non_integer_hour(d: Path, sample) -> None:
    support.write_csv(d, *_set(sample, 9, "trip_start_hour", "nine"))


def latin1_bytes(d: Path, sample) -> None:
    path = support.write_csv(d, *_set(sample, 5, "company", "Caf\u00e9 Cab"))
    path.write_bytes(path.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9"))


def png_named_csv(d: Path, sample) -> None:
    d.mkdir()
    (d / "data.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4)


def json_named_csv(d: Path, sample) -> None:
    header, rows = _small(sample)
    d.mkdir()
    (d / "data.csv").write_text("\n".join(json.dumps(dict(zip(header, r))) for r in rows[:20]))


def ragged_row(d: Path, sample) -> None:
    header, rows = _small(sample)
    rows[99].append("surplus")
    support.write_csv(d, header, rows)


# name -> (writes the corpus into a directory, the parts the one-line message must contain)
PRE_FLIGHT: dict[str, tuple[Callable[[Path, tuple], None], list[str]]] = {
    "empty_dir": (empty_dir, ["data directory {d} is empty"]),
    "header_only": (header_only, ["{d}/data.csv: has a header but no rows"]),
    "missing_required_column": (missing_required_column, [
        "{d}/data.csv: column 'trip_miles' is missing, but the schema schemas/taxi/schema.pbtxt requires it"]),
    "label_column_missing": (label_column_missing, ["label column 'tips' is not in {d}/data.csv"]),
    "non_numeric_fare": (non_numeric_fare, [
        "{d}/data.csv: row 42 (line 43), column 'fare': '12,50 USD' is not a number (the schema says FLOAT)"]),
    "infinite_fare": (infinite_fare, [
        "{d}/data.csv: row 7 (line 8), column 'fare': 'inf' is infinite, which the schema forbids"]),
    "nan_trip_miles": (nan_trip_miles, ["row 8 (line 9), column 'trip_miles': 'NaN' is NaN, which the schema forbids"]),
    "non_integer_hour": (non_integer_hour, ["row 9 (line 10), column 'trip_start_hour': 'nine' is not an integer"]),
    "latin1_bytes": (latin1_bytes, ["{d}/data.csv: line 6 is not UTF-8 text (byte 0xe9 at byte offset"]),
    "png_named_csv": (png_named_csv, ["{d}/data.csv: this is a PNG image, not a CSV text file"]),
    "json_named_csv": (json_named_csv, ["{d}/data.csv: this looks like JSON"]),
    "ragged_row": (ragged_row, ["{d}/data.csv: row 100 (line 101) has 19 fields, the header has 18"]),
}


@pytest.mark.parametrize("case", list(PRE_FLIGHT))
def test_bad_input_is_one_line_exit_2_and_touches_nothing(case, sample, pushed_home, tmp_path):
    write, parts = PRE_FLIGHT[case]
    data = tmp_path / "data"
    write(data, sample)
    before = support.tree_digest(pushed_home)  # serving dir, metadata.sqlite, logs: every byte
    result = support.cli(["run", "--data", data, "--home", pushed_home, *QUICK])
    line = support.one_line_error(result)  # exit 2, one `tfx-e2e: error: ` line, no traceback
    assert result.stdout == ""  # stopped before the run header: nothing ran
    for part in parts:
        assert part.format(d=data) in line, line
    assert support.tree_digest(pushed_home) == before  # the pre-flight neither opened the store nor wrote a log


def _executions(home: Path) -> tuple[list[str], dict[str, dict]]:
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_ids = R.run_ids(store, "taxi")
    return run_ids, {run_id: R.node_executions(store, "taxi", run_id) for run_id in run_ids}


@pytest.fixture(scope="module")
def unseen_payment_types(sample, tmp_path_factory) -> Path:
    """A third of the rows pay with methods the schema's payment_type domain has never seen."""
    header, rows = _small(sample)
    i = header.index("payment_type")
    for n, row in enumerate(rows):
        if n % 3 == 0:
            row[i] = ("Bitcoin", "Voucher", "Apple Pay")[n // 3 % 3]
    return support.write_csv(tmp_path_factory.mktemp("unseen"), header, rows).parent


def test_unseen_categories_stop_at_the_gate_before_transform(unseen_payment_types, pushed_home):
    data = unseen_payment_types
    serving_before = support.tree_digest(pushed_home / "serving")
    runs_before, executions_before = _executions(pushed_home)
    result = support.cli(["run", "--data", data, "--home", pushed_home, *QUICK])
    output = result.stdout + result.stderr
    assert result.code == 2, output  # bad data: the same exit code as the pre-flight checks
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == 1, result.stdout
    assert "payment_type" in result.stdout.split("FAILED: ")[0]  # the full report is shown above the summary
    line = failed[0]
    assert line.startswith("FAILED: component AnomaliesGate: AnomaliesFoundError: ExampleValidator found ")
    assert "payment_type (Unexpected string values; splits eval, train)" in line
    assert "re-run with --allow-anomalies to continue anyway" in line
    assert TRACEBACK not in output and result.stderr == ""
    for node in ("Transform", "Trainer", "Evaluator", "Pusher"):
        assert f"  {node} " not in result.stdout  # never started

    # Nothing pushed, nothing lost: the serving dir is byte-identical and MLMD gained only this run's records.
    assert support.tree_digest(pushed_home / "serving") == serving_before
    runs_after, executions_after = _executions(pushed_home)
    assert runs_after[:-1] == runs_before and len(runs_after) == len(runs_before) + 1
    assert {r: executions_after[r] for r in runs_before} == executions_before
    failed_run = executions_after[runs_after[-1]]
    assert set(failed_run) == BEFORE_GATE | {"AnomaliesGate"}
    assert failed_run["AnomaliesGate"].state == "failed"
    assert all(failed_run[n].state == "complete" for n in BEFORE_GATE - {"ImportSchemaGen"})

    # The full report (every split and feature, with descriptions and the artifact URI) is in the run's log.
    anomalies_uri = failed_run["ExampleValidator"].outputs["anomalies"][0].uri
    assert f"see {anomalies_uri};" in line
    log = Path(result.stdout.split("full traceback in ")[1].split()[0]).read_text()
    assert f"ExampleValidator found anomalies against the schema (anomalies artifact: {anomalies_uri}):" in log
    assert "split train, feature payment_type: Unexpected string values [ENUM_TYPE_UNEXPECTED_STRING_VALUES]" in log
    assert "Examples contain values missing from the schema: Apple Pay" in log

    # The same command again: everything up to ExampleValidator is cached, but a failed gate is never a cache hit.
    again = support.cli(["run", "--data", data, "--home", pushed_home, *QUICK])
    assert again.code == 2 and "FAILED: component AnomaliesGate: AnomaliesFoundError: " in again.stdout, again.stdout
    runs_again, executions_again = _executions(pushed_home)
    rerun = executions_again[runs_again[-1]]
    assert {n: e.state for n, e in rerun.items()} == {**{n: "cached" for n in BEFORE_GATE}, "AnomaliesGate": "failed"}
    assert support.tree_digest(pushed_home / "serving") == serving_before


def test_allow_anomalies_reports_them_and_runs_on(unseen_payment_types, pushed_home):
    result = support.cli(["run", "--data", unseen_payment_types, "--home", pushed_home, *QUICK, "--allow-anomalies"])
    assert result.code == 0, result.stdout + result.stderr
    assert "payment_type" in result.stdout.split("anomalies ", 1)[1].split("metrics", 1)[0]
    runs, executions = _executions(pushed_home)
    last = executions[runs[-1]]
    assert last["AnomaliesGate"].state == "complete"
    assert last["Transform"].state == "complete" and last["Trainer"].state == "complete"
