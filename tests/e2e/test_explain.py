"""`tfx-e2e explain` on pushed models of real runs: the two-feature dataset (its two informative features rank first)
and the taxi model (text and --json; completeness; categorical and bucketized columns under their raw names);
bad inputs exit 2 with one line. The digits saliency test sits beside the digits run (test_digits_pipeline.py)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests import support
from tests.conftest import TWO_FEATURE_INFORMATIVE

N_TAXI_ROWS = 4


def _head(csv_path: Path, rows: int, out: Path) -> Path:
    with csv_path.open(newline="") as f:
        lines = [line for _, line in zip(range(rows + 1), csv.reader(f))]
    with out.open("w", newline="") as f:
        csv.writer(f).writerows(lines)
    return out


def _explain(*args) -> support.CliResult:
    return support.cli(["explain", *map(str, args)])


def test_the_two_informative_features_rank_first(two_feature_run, tmp_path):
    rows = _head(two_feature_run.csv, 50, tmp_path / "rows.csv")
    result = _explain("--model", "latest", "--home", two_feature_run.home, "--config", two_feature_run.config,
                      "--input", rows, "--json", "--top", "8")
    assert result.code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["rows"]) == 50 and "training mean" in doc["baseline"]
    assert all(r["completeness"]["holds"] for r in doc["rows"]), [r["completeness"] for r in doc["rows"]]
    totals: dict[str, list[float]] = {}
    for row in doc["rows"]:
        assert row["features"] == 8 and len(row["attributions"]) == 8  # x_a, x_b, n1..n4, c1, c2
        for item in row["attributions"]:
            totals.setdefault(item["feature"], []).append(abs(item["attribution"]))
    mean_abs = {feature: float(np.mean(values)) for feature, values in totals.items()}
    ranked = sorted(mean_abs, key=mean_abs.get, reverse=True)
    assert set(ranked[:2]) == set(TWO_FEATURE_INFORMATIVE), mean_abs


@pytest.fixture(scope="module")
def taxi_pushed(taxi_runs, taxi_sample, tmp_path_factory):
    home, results, versions = taxi_runs
    assert results[0].code == 0 and versions[0], results[0].stdout + results[0].stderr
    rows = _head(taxi_sample / "data.csv", N_TAXI_ROWS, tmp_path_factory.mktemp("explain_taxi") / "rows.csv")
    return home, versions[0][0], rows


def test_taxi_text_table_per_row(taxi_pushed):
    _, version, rows = taxi_pushed
    result = _explain("--model", version, "--input", rows, "--top", "3")
    assert result.code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "baseline   numbers at their training mean" in out and "tolerance  |sum of attributions" in out
    assert out.count("completeness holds") == N_TAXI_ROWS, out
    verdicts = [line for line in out.splitlines() if line.strip().startswith("completeness")]
    assert all(re.fullmatch(r"  completeness holds: attributions sum to [-+][0-9.e+-]+, gap [0-9.e+-]+ "
                            r"\(tolerance [0-9.e+-]+(, \d+ steps)?\)", line) for line in verdicts), verdicts
    for n in range(1, N_TAXI_ROWS + 1):
        assert f"row {n}: probabilities " in out
    tables = out.split("\ntolerance  ", 1)[1].split("\n", 1)[1]  # everything after the header's tolerance line
    assert "_xf" not in out and "|" not in tables  # raw column names only, no `<input>|<layer>` point keys


def test_taxi_json_is_complete_and_uses_raw_column_names(taxi_pushed):
    import tensorflow as tf

    _, version, rows = taxi_pushed
    result = _explain("--model", version, "--input", rows, "--json", "--top", "100")
    assert result.code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"] == str(version) and "tips" in doc["ignored_columns"]
    expected = set(tf.saved_model.load(str(version)).signatures["serving_default"].structured_input_signature[1])
    for row in doc["rows"]:
        features = {a["feature"] for a in row["attributions"]}
        # categorical (payment_type, company, trip_start_hour) and bucketized (pickup_latitude) columns by raw name
        assert {"payment_type", "company", "trip_start_hour", "pickup_latitude", "fare"} <= features
        c = row["completeness"]
        assert c["holds"] and c["gap"] <= c["tolerance"], c
        assert c["sum"] == pytest.approx(sum(a["attribution"] for a in row["attributions"]), abs=1e-6)
        assert c["delta"] == pytest.approx(row["prediction"] - row["baseline_prediction"], abs=1e-9)
    assert expected  # the signature has inputs (an exported model we can read)


def test_bad_inputs_exit_2_with_one_clear_line(taxi_pushed, tmp_path):
    _, version, rows = taxi_pushed
    missing = _explain("--model", version, "--input", tmp_path / "nope.csv")
    assert missing.code == 2 and "nope.csv: no such file" in support.one_line_error(missing)
    no_fare = tmp_path / "no_fare.csv"
    with rows.open(newline="") as f:
        table = list(csv.reader(f))
    drop = table[0].index("fare")
    with no_fare.open("w", newline="") as f:
        csv.writer(f).writerows([[c for i, c in enumerate(r) if i != drop] for r in table])
    absent = _explain("--model", version, "--input", no_fare)
    assert absent.code == 2 and "missing column(s) the model reads: fare" in support.one_line_error(absent)
    bad_json = tmp_path / "rows.jsonl"
    bad_json.write_text('{"fare": 3.5}\n{"fare": \n')
    broken = _explain("--model", version, "--input", bad_json)
    assert broken.code == 2 and "line 2: not valid JSON" in support.one_line_error(broken)
    tabular = _explain("--model", version, "--input", rows, "--saliency-out", tmp_path / "png")
    assert tabular.code == 2 and "saliency pictures are for image models" in support.one_line_error(tabular)
