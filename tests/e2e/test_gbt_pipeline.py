"""The gbt family end to end on the taxi sample: TF-DF trees trained in the Trainer on Transform's features, blessed
by the Evaluator (TFMA loads the forest: the Evaluator registers TF-DF's ops), pushed and served through
`serving_default` by `tfx-e2e predict`; then model.family auto on the same data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.conftest import TAXI_SMALL


@pytest.fixture(scope="module")
def gbt_home(tmp_path_factory):
    return tmp_path_factory.mktemp("gbt_home")


@pytest.fixture(scope="module")
def gbt_run(taxi_sample, gbt_home):
    home = gbt_home
    args = ["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, "--model", "gbt",
            "--set", "model.hparams.num_trees=60"]
    return home, support.cli(args)


@pytest.fixture(scope="module")
def auto_run(gbt_run, taxi_sample):
    """A second run with model.family auto (Transform from the cache): the Trainer trains dnn and gbt, keeps one."""
    home, first = gbt_run
    assert first.code == 0, first.stdout[-3000:] + first.stderr[-2000:]
    return support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, "--model", "auto",
                        "--set", "model.hparams_by_family.gbt.num_trees=60"])


def _summary(home: Path) -> dict:
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_id = mlmd_runs.run_ids(store, "taxi")[-1]
    executions = mlmd_runs.node_executions(store, "taxi", run_id)
    return json.loads((Path(executions["Trainer"].outputs["model_run"][0].uri) / "training_summary.json").read_text())


def test_a_gbt_model_is_trained_blessed_and_pushed(gbt_run):
    home, result = gbt_run
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "blessed      yes" in result.stdout
    versions = support.pushed_versions(home / "serving" / "taxi")
    assert len(versions) == 1
    summary = _summary(home)
    assert summary["model_family"] == "gbt"
    assert summary["history"]["val_loss"], "TF-DF's training log (validation loss per tree) is recorded"


def test_auto_trains_both_families_keeps_the_better_and_says_why(gbt_run, auto_run):
    home, _ = gbt_run
    assert auto_run.code == 0, auto_run.stdout[-3000:] + auto_run.stderr[-2000:]
    summary = _summary(home)
    auto = summary["auto"]
    assert set(auto["scores"]) == {"dnn", "gbt"} and auto["metric"] == "auc"
    assert auto["chosen"] == max(auto["scores"], key=lambda f: (auto["scores"][f], f == "dnn"))
    assert summary["model_family"] == auto["chosen"]
    line = next(l for l in auto_run.stdout.splitlines() if l.startswith("model "))
    assert f"{auto['chosen']}  (model.family auto: {auto['chosen']} scored auc" in line
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_id = mlmd_runs.run_ids(store, "taxi")[-1]
    model = mlmd_runs.node_executions(store, "taxi", run_id)["Trainer"].outputs["model"][0]
    assert model.properties.get("model_family") == auto["chosen"]  # the baseline resolver filters on it


def test_the_pushed_forest_serves_raw_rows_through_predict(gbt_run, taxi_sample, tmp_path):
    home, result = gbt_run
    assert result.code == 0
    rows = tmp_path / "rows.csv"
    lines = (taxi_sample / "data.csv").read_text().splitlines()[:6]
    rows.write_text("\n".join(lines) + "\n")
    predicted = support.cli(["predict", "--model", str(support.pushed_versions(home / "serving" / "taxi")[-1]),
                             "--input", rows, "--json", "--home", home])
    assert predicted.code == 0, predicted.stderr
    records = json.loads(predicted.stdout)
    assert len(records) == 5
    for record in records:
        probability = record["probabilities"][0] if isinstance(record["probabilities"], list) else record["probabilities"]
        assert 0.0 <= float(probability) <= 1.0
