"""The full taxi pipeline on a 3,000-row sample, twice: a cold run that blesses and pushes, then a cached rerun."""

from __future__ import annotations

import numpy as np
import pytest

from components.atomic_pusher.properties import PUSHED_DESTINATION_KEY, PUSHED_KEY, PUSHED_MODEL_KEY
from components.tagged_trainer.properties import MODEL_FAMILY_PROPERTY
from pipeline.dag import node_ids
from pipeline.paths import PROJECT_ROOT
from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from trainer_module import serving_contract as contract

RESOLVER = node_ids.BASELINE_RESOLVER
COMPONENTS = [
    node_ids.EXAMPLE_GEN,
    node_ids.STATISTICS_GEN,
    node_ids.IMPORT_SCHEMA_GEN,
    node_ids.EXAMPLE_VALIDATOR,
    node_ids.ANOMALIES_GATE,
    node_ids.TRANSFORM,
    node_ids.TRAINER,
    node_ids.EVALUATOR,
    node_ids.FEATURE_IMPORTANCE,
    node_ids.PUSHER,
]
TAXI_SCHEMA = PROJECT_ROOT / "schemas" / "taxi" / "schema.pbtxt"


@pytest.fixture(scope="module")
def two_runs(taxi_runs):
    """The first two runs of the shared taxi fixture: a cold run, then an identical rerun."""
    home, results, versions = taxi_runs
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    return home, results[0], results[1], versions[0], store


def test_first_run_executes_every_node_and_pushes(two_runs):
    home, first, _, versions, store = two_runs
    assert first.code == 0, first.stdout + first.stderr
    run_ids = mlmd_runs.run_ids(store, "taxi")
    assert len(run_ids) == 4  # the shared fixture's four runs
    executions = mlmd_runs.node_executions(store, "taxi", run_ids[0])
    assert sorted(executions) == sorted(COMPONENTS + [RESOLVER])
    assert {n: e.state for n, e in executions.items()} == {n: "complete" for n in executions}

    blessing = executions[node_ids.EVALUATOR].outputs["blessing"][0]
    assert blessing.properties["blessed"] == 1
    assert (support.Path(blessing.uri) / "BLESSED").exists()
    # No baseline existed, so the resolver handed nothing to the Evaluator.
    assert executions[RESOLVER].outputs.get("model", []) == []

    pushed = executions[node_ids.PUSHER].outputs[PUSHED_MODEL_KEY][0]
    assert pushed.properties[PUSHED_KEY] == 1
    assert len(versions) == 1 and str(versions[0]) == pushed.properties[PUSHED_DESTINATION_KEY]
    # The Trainer recorded the model family on its Model: the baseline resolver of later runs filters on it.
    assert executions[node_ids.TRAINER].outputs["model"][0].properties[MODEL_FAMILY_PROPERTY] == "dnn"
    # Progress lines: one per component start and finish.
    for node in COMPONENTS:
        assert f"  {node}" in first.stdout


def test_pushed_model_serves_probabilities_for_raw_rows(two_runs, taxi_sample):
    import tensorflow as tf

    home, _, _, versions, _ = two_runs
    model = tf.saved_model.load(str(versions[0]))
    assert {contract.SERVING_SIGNATURE, contract.TRANSFORM_SIGNATURE} <= set(model.signatures)
    rows = support.read_csv_rows(taxi_sample / "data.csv", 64)
    examples = support.serialized_examples(rows, TAXI_SCHEMA, drop=("tips",))  # the label's source is absent
    outputs = model.signatures[contract.SERVING_SIGNATURE](**{contract.INPUT_KEY: tf.constant(examples)})
    probabilities = outputs[contract.PROBABILITIES].numpy()
    assert probabilities.shape == (64, 1)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert probabilities.std() > 0.01  # different rows get different answers: the model is not constant


def test_training_summary_is_written(two_runs):
    import json

    home, _, _, _, store = two_runs
    run_id = mlmd_runs.run_ids(store, "taxi")[0]
    model_run = mlmd_runs.node_executions(store, "taxi", run_id)[node_ids.TRAINER].outputs["model_run"][0]
    summary = json.loads((support.Path(model_run.uri) / "training_summary.json").read_text())
    assert summary["strategy"] == "default" and summary["replicas"] == 1
    assert summary["steps"] > 0 and summary["final"]["val_auc"] > 0.75
    # TensorBoard logs live beside it.
    assert list(support.Path(model_run.uri).rglob("events.out.tfevents.*"))


def test_failing_component_is_named_recorded_and_pushes_nothing(taxi_sample, tmp_path):
    result = support.cli([
        "run", "--data", taxi_sample, "--home", tmp_path,
        "--set", "label.fn=trainer_module.labels.no_such_label",
    ])
    assert result.code == 1, result.stdout + result.stderr
    assert f"FAILED: component {node_ids.TRANSFORM}" in result.stdout and "no_such_label" in result.stdout
    store = open_store(sqlite_config(tmp_path / "metadata.sqlite", create=False))
    run_id = mlmd_runs.run_ids(store, "taxi")[0]
    executions = mlmd_runs.node_executions(store, "taxi", run_id)
    assert executions[node_ids.TRANSFORM].state == "failed"
    assert node_ids.TRAINER not in executions and node_ids.PUSHER not in executions
    assert support.pushed_versions(tmp_path / "serving" / "taxi") == []


def test_second_identical_run_is_cached_and_pushes_nothing(two_runs, taxi_runs):
    home, _, second, _, store = two_runs
    _, _, versions = taxi_runs
    assert second.code == 0, second.stdout + second.stderr
    run_id = mlmd_runs.run_ids(store, "taxi")[1]
    executions = mlmd_runs.node_executions(store, "taxi", run_id)
    # Every component is served from the cache; the resolver is a system node that always re-resolves.
    assert {n: executions[n].state for n in COMPONENTS} == {n: "cached" for n in COMPONENTS}
    assert executions[RESOLVER].outputs.get("model", []) == []  # the candidate is never its own baseline
    assert versions[1] == versions[0] and len(versions[0]) == 1
    assert "cached: nothing new pushed" in second.stdout


def test_unchanged_rerun_shows_the_last_results_without_running_tfx(taxi_runs, taxi_sample):
    """The same command as the last run: nothing changed, so nothing runs and nothing is recorded."""
    from tests.conftest import TAXI_RUNS_ARGS, TAXI_VARIANTS

    home, results, versions = taxi_runs
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    runs_before = mlmd_runs.run_ids(store, "taxi")
    last_run_id = runs_before[-1]
    again = support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_RUNS_ARGS, *TAXI_VARIANTS[-1]])
    assert again.code == 0, again.stdout + again.stderr
    assert f"unchanged  config, code, data and metadata are as at run {last_run_id}" in again.stdout
    assert "blessed      no" in again.stdout  # the last run's own results, replayed
    assert mlmd_runs.run_ids(store, "taxi") == runs_before  # no new run in MLMD
    assert support.pushed_versions(home / "serving" / "taxi") == versions[-1]
