"""TFX's Tuner in the DAG (`--tune`) end to end on the taxi sample: a 2-trial KerasTuner search whose first trial is
the configured model, its best values in the Tuner's artifact, used by the Trainer (lineage and
training_summary.json), printed in the run summary and `compare`; a rerun reuses the search from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.conftest import TAXI_SMALL

TUNE = ["--tune", "--set", "tuning.trials=2", "--set", "tuning.max_seconds=300", "--set", "tuning.train_steps=100",
        "--set", "tuning.search_space={dropout: [0.0, 0.3], learning_rate: [0.003, 0.01]}", *support.NO_IMPORTANCE]


@pytest.fixture(scope="module")
def tuned_runs(taxi_sample, tmp_path_factory):
    home = tmp_path_factory.mktemp("tune_home")
    results = []
    for extra in ([], ["--always-run"]):
        results.append(support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, *TUNE, *extra]))
        assert results[-1].code == 0, results[-1].stdout[-3000:] + results[-1].stderr[-2000:]
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    runs = [mlmd_runs.node_executions(store, "taxi", run_id) for run_id in mlmd_runs.run_ids(store, "taxi")]
    return home, results, runs


def _json(uri: str, name: str):
    return json.loads((Path(uri) / name).read_text())


def test_the_search_starts_from_the_configured_model_and_the_trainer_uses_its_best_values(tuned_runs):
    home, results, runs = tuned_runs
    first = runs[0]
    assert first["Tuner"].state == "complete"
    trials = _json(first["Tuner"].outputs["tuner_results"][0].uri, "tuner_results.json")
    assert len(trials) == 2 and trials == sorted(trials, key=lambda t: -t["score"])
    configured = next(t for t in trials if t["trial_id"] == "0")
    # The taxi config's own values (dropout 0.1, learning_rate 0.001) are tried first, though not in the space.
    assert (configured["dropout"], configured["learning_rate"]) == (0.1, 0.001)
    assert all(0.5 < t["score"] <= 1.0 for t in trials)
    best = _json(first["Tuner"].outputs["best_hyperparameters"][0].uri, "best_hyperparameters.txt")["values"]
    assert best == {k: v for k, v in trials[0].items() if k not in ("trial_id", "score")}
    # The Trainer read that artifact and trained with those values.
    trainer = first["Trainer"]
    assert [a.id for a in trainer.inputs["hyperparameters"]] == [first["Tuner"].outputs["best_hyperparameters"][0].id]
    summary = _json(trainer.outputs["model_run"][0].uri, "training_summary.json")
    assert summary["tuned"] == {"hyperparameters": best}
    assert {k: summary["hyperparameters"][k] for k in best} == best
    line = next(l for l in results[0].stdout.splitlines() if l.startswith("tuned "))
    assert line.startswith(f"tuned        2 trials, best auc {trials[0]['score']:.4f} (trial {trials[0]['trial_id']}")
    assert f"dropout={best['dropout']:.3g}" in line and "blessed      yes" in results[0].stdout


def test_a_rerun_reuses_the_search_from_the_cache_and_compare_shows_the_tuned_values(tuned_runs):
    home, results, runs = tuned_runs
    assert len(runs) == 2
    assert runs[1]["Tuner"].state == "cached" and runs[1]["Trainer"].state == "cached"
    assert (runs[1]["Tuner"].outputs["best_hyperparameters"][0].id
            == runs[0]["Tuner"].outputs["best_hyperparameters"][0].id)
    assert "tuned        2 trials" in results[1].stdout
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    first, second = mlmd_runs.run_ids(store, "taxi")
    compared = support.cli(["compare", first, second, "--home", home])
    assert compared.code == 0, compared.stderr
    section = compared.stdout.split("hyperparameters (trained model):")[1].split("\n\n")[0]
    assert "dropout (tuned)" in section and "learning_rate (tuned)" in section and "hidden_units " in section
