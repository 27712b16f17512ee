"""The AtomicPusher's output in a real taxi run (warmup requests replayable through the pushed model) and
`tfx-e2e predict` on raw CSV / JSON-lines rows against that pushed model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from components.atomic_pusher import parameters, warmup
from pipeline.paths import PROJECT_ROOT
from tests import support

TAXI_SCHEMA = PROJECT_ROOT / "schemas" / "taxi" / "schema.pbtxt"
N_ROWS = 5


@pytest.fixture(scope="module")
def pushed(taxi_runs):
    """(home, the first run's pushed version dir, the latest version dir)."""
    home, results, versions = taxi_runs
    assert results[0].code == 0, results[0].stdout + results[0].stderr
    assert versions[0], "the first taxi run pushed nothing"
    return home, versions[0][0], support.pushed_versions(home / "serving" / "taxi")[-1]


@pytest.fixture(scope="module")
def rows(taxi_sample):
    return support.read_csv_rows(taxi_sample / "data.csv", N_ROWS)


@pytest.fixture(scope="module")
def rows_csv(taxi_sample, tmp_path_factory):
    """The first 5 rows of the taxi sample, with every column (the label's source `tips` included)."""
    path = tmp_path_factory.mktemp("predict") / "rows.csv"
    with (taxi_sample / "data.csv").open(newline="") as f:
        lines = [line for _, line in zip(range(N_ROWS + 1), csv.reader(f))]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(lines)
    assert "tips" in lines[0]
    return path


def _serve(model_dir: Path, examples: list[bytes]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    fn = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return {k: v.numpy() for k, v in fn(examples=tf.constant(examples)).items()}


def _probabilities(stdout: str) -> list[float]:
    lines = [line for line in stdout.splitlines() if line.startswith("row ")]
    return [float(line.split("probabilities", 1)[1].split()[0]) for line in lines]


def test_pushed_version_holds_warmup_requests_replayable_through_the_model(pushed):
    import tensorflow as tf

    home, version, _ = pushed
    base = version.parent
    assert [p.name for p in base.iterdir() if p.name.startswith(".tmp-")] == []  # no temp copy left behind
    warmup_file = version / "assets.extra" / "tf_serving_warmup_requests"
    logs = warmup.read_warmup(str(warmup_file))
    assert len(logs) == 1
    request = logs[0].predict_log.request
    assert request.model_spec.name == "taxi" and request.model_spec.signature_name == "serving_default"
    batch = [bytes(b) for b in tf.make_ndarray(request.inputs["examples"]).tolist()]
    assert len(batch) == parameters.DEFAULT_WARMUP_EXAMPLES
    # Real eval rows, reduced to the columns serving_default parses: no label source, no excluded column.
    columns = set(tf.train.Example.FromString(batch[0]).features.feature)
    assert "tips" not in columns and "trip_start_timestamp" not in columns and {"fare", "company"} <= columns
    probabilities = _serve(version, batch)["probabilities"]
    assert probabilities.shape == (len(batch), 1)
    assert np.all(np.isfinite(probabilities)) and np.all((probabilities >= 0) & (probabilities <= 1))
    marker = json.loads((version / "assets.extra" / "tfx_e2e_push.json").read_text())
    assert marker["fingerprint"].startswith("sha256:") and "/Trainer/model/" in marker["model_uri"]


def test_predict_latest_prints_one_probability_per_csv_row(pushed, rows_csv):
    home, _, latest = pushed
    result = support.cli(["predict", "--model", "latest", "--home", home, "--input", rows_csv])
    assert result.code == 0, result.stdout + result.stderr
    probabilities = _probabilities(result.stdout)
    assert len(probabilities) == N_ROWS
    assert all(0 <= p <= 1 for p in probabilities)
    assert f"model    {latest}" in result.stdout
    assert "tips" in next(line for line in result.stdout.splitlines() if line.startswith("ignored"))


def test_predict_json_matches_calling_the_model_directly(pushed, rows_csv, rows):
    home, _, latest = pushed
    # A model base directory resolves to its highest version, like `latest`.
    result = support.cli(["predict", "--model", latest.parent, "--input", rows_csv, "--json"])
    assert result.code == 0, result.stdout + result.stderr
    records = json.loads(result.stdout)
    assert [r["row"] for r in records] == list(range(1, N_ROWS + 1))
    expected = _serve(latest, support.serialized_examples(rows, TAXI_SCHEMA, drop=("tips",)))["probabilities"]
    np.testing.assert_allclose(np.array([r["probabilities"] for r in records]), expected, rtol=1e-5, atol=1e-6)


def test_predict_reads_json_lines(pushed, rows, rows_csv, tmp_path):
    home, _, latest = pushed
    path = tmp_path / "rows.jsonl"
    with path.open("w") as f:
        for row in rows:  # typed JSON: numbers as numbers, empty cells as null
            f.write(json.dumps({k: (None if v == "" else _number_or_text(v)) for k, v in row.items()}) + "\n")
    from_jsonl = support.cli(["predict", "--model", latest, "--input", path, "--json"])
    from_csv = support.cli(["predict", "--model", latest, "--input", rows_csv, "--json"])
    assert from_jsonl.code == 0, from_jsonl.stdout + from_jsonl.stderr
    assert json.loads(from_jsonl.stdout) == json.loads(from_csv.stdout)


def _number_or_text(value: str):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _one_line_error(result: support.CliResult) -> str:
    """support.one_line_error, and no prediction was printed."""
    assert not [line for line in result.stdout.splitlines() if line.startswith("row ")], result.stdout
    return support.one_line_error(result)


def test_bad_inputs_exit_2_with_one_clear_line(pushed, rows_csv, tmp_path):
    home, _, latest = pushed
    missing = _one_line_error(support.cli(["predict", "--model", latest, "--input", tmp_path / "nope.csv"]))
    assert f"{tmp_path / 'nope.csv'}: no such file" in missing

    lines = rows_csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = next(csv.reader([lines[3]]))
    cells[header.index("fare")] = "twelve"
    bad = support.write_csv(tmp_path, header, [*csv.reader(lines[1:3]), cells], name="bad.csv")
    message = _one_line_error(support.cli(["predict", "--model", latest, "--input", bad]))
    assert "row 3 (line 4), column 'fare': 'twelve' is not a number" in message

    nothing = _one_line_error(support.cli(["predict", "--model", "latest", "--home", tmp_path, "--input", rows_csv]))
    assert "no pushed model yet" in nothing


def test_every_feature_may_be_missing_at_serving_time(pushed, rows, taxi_sample, tmp_path):
    """Transform imputes every feature it reads, so a request without any one of them is served: serving_default
    on a tf.Example without the feature, and `tfx-e2e predict` on a CSV row with that cell empty."""
    from components.atomic_pusher.signature import serving_input_features

    home, first, _ = pushed
    features = sorted(serving_input_features(str(first)))
    assert len(features) >= 10, features  # the taxi model reads every non-excluded column
    examples = [support.serialized_examples(rows[:1], TAXI_SCHEMA, drop=[name])[0] for name in features]
    probabilities = _serve(first, examples)["probabilities"]
    assert probabilities.shape[0] == len(features) and np.isfinite(probabilities).all()

    path = tmp_path / "one_missing_each.csv"
    with (taxi_sample / "data.csv").open(newline="") as f:
        header = next(csv.reader(f))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        for name in features:
            writer.writerow({**rows[0], name: ""})
    result = support.cli(["predict", "--model", str(first), "--input", path, "--json"])
    assert result.code == 0, result.stdout + result.stderr
    served = json.loads(result.stdout)
    assert len(served) == len(features)
    assert all(np.isfinite(r["probabilities"]).all() for r in served)
