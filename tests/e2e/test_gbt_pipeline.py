"""model.family auto and the gbt family end to end on the taxi sample, in one run: the Trainer trains dnn and gbt
and keeps the better — the dnn is crippled here (one hidden unit, a vanishing learning rate) so that gbt must win —
then the Evaluator blesses the forest (TFMA loads it: the Evaluator registers TF-DF's ops), the Pusher's smoke test
loads it, and `tfx-e2e predict` serves raw rows through its `serving_default`. A second run with the same config
reuses the first run's choice and trains the forest alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.conftest import TAXI_SMALL

QUANTIZE = ["--quantize", "dynamic"]
CRIPPLED_DNN = ["--set", "model.hparams_by_family.dnn.hidden_units=[1]",
                "--set", "model.hparams_by_family.dnn.learning_rate=0.0000001",
                "--set", "model.hparams_by_family.dnn.wide=false"]


@pytest.fixture(scope="module")
def auto_run(taxi_sample, tmp_path_factory):
    home = tmp_path_factory.mktemp("gbt_home")
    result = support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, *QUANTIZE, "--model", "auto",
                          "--set", "model.hparams_by_family.gbt.num_trees=60", *CRIPPLED_DNN])
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return home, result


@pytest.fixture(scope="module")
def auto_rerun(auto_run, taxi_sample):
    home, _ = auto_run
    result = support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, *QUANTIZE, "--model", "auto",
                          "--set", "model.hparams_by_family.gbt.num_trees=60", *CRIPPLED_DNN, "--always-run"])
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return home, result


def _trainer(home: Path, run: int = 0):
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_id = mlmd_runs.run_ids(store, "taxi")[run]
    return mlmd_runs.node_executions(store, "taxi", run_id)["Trainer"]


def test_auto_trains_both_families_keeps_the_better_and_says_why(auto_run):
    home, result = auto_run
    trainer = _trainer(home)
    summary = json.loads((Path(trainer.outputs["model_run"][0].uri) / "training_summary.json").read_text())
    auto = summary["auto"]
    assert set(auto["scores"]) == {"dnn", "gbt"} and auto["metric"] == "auc"
    assert auto["scores"]["gbt"] > 0.85 > auto["scores"]["dnn"], auto["scores"]
    assert auto["chosen"] == "gbt" == summary["model_family"]
    assert summary["history"]["val_loss"], "TF-DF's training log (validation loss per tree) is recorded"
    line = next(l for l in result.stdout.splitlines() if l.startswith("model "))
    assert line.startswith("model        gbt  (model.family auto: gbt scored auc") and "vs dnn" in line
    # The run asks for a TFLite model (QUANTIZE): a forest has none, and the summary says why.
    assert "compressed   model.family auto chose gbt, which has no TFLite form" in result.stdout
    assert not (Path(trainer.outputs["model"][0].uri) / "tflite").exists()
    # The baseline resolver of later runs filters on the family the Model carries: the one kept.
    assert trainer.outputs["model"][0].properties.get("model_family") == "gbt"


def test_the_forest_is_blessed_pushed_and_serves_raw_rows(auto_run, taxi_sample, tmp_path):
    home, result = auto_run
    assert "blessed      yes" in result.stdout
    versions = support.pushed_versions(home / "serving" / "taxi")
    assert len(versions) == 1
    rows = tmp_path / "rows.csv"
    rows.write_text("\n".join((taxi_sample / "data.csv").read_text().splitlines()[:6]) + "\n")
    predicted = support.cli(["predict", "--model", str(versions[0]), "--input", rows, "--json", "--home", home])
    assert predicted.code == 0, predicted.stderr
    records = json.loads(predicted.stdout)
    assert len(records) == 5
    for record in records:
        probability = record["probabilities"]
        probability = probability[0] if isinstance(probability, list) else probability
        assert 0.0 <= float(probability) <= 1.0


def test_a_later_run_with_the_same_config_reuses_the_choice_and_trains_gbt_alone(auto_run, auto_rerun):
    home, rerun = auto_rerun
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    first_run = mlmd_runs.run_ids(store, "taxi")[0]
    trainer = _trainer(home, 1)
    assert trainer.state == "complete"  # the reuse note is part of the Trainer's config: it trained again
    summary = json.loads((Path(trainer.outputs["model_run"][0].uri) / "training_summary.json").read_text())
    first = json.loads((Path(_trainer(home, 0).outputs["model_run"][0].uri) / "training_summary.json").read_text())
    auto = summary["auto"]
    assert auto["reused_from"] == first_run and auto["chosen"] == "gbt" == summary["model_family"]
    assert auto["scores"] == first["auto"]["scores"] and "train_seconds" not in auto  # nothing scored anew
    line = next(l for l in rerun.stdout.splitlines() if l.startswith("model "))
    assert f"reused the choice of run {first_run} (same config)" in line and "only gbt trained" in line
