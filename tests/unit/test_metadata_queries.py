"""pipeline.metadata.queries (`tfx-e2e runs/show/artifacts`) and runs on a real MLMD store filled as TFX runs do."""

from __future__ import annotations

import pytest

from pipeline.dag import node_ids
from pipeline.metadata import queries as Q
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError
from tests.unit.mlmd_runs import Store, taxi_run

DATA_NODES = ("CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomaliesGate", "Transform")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Read-only for the tests. taxi: run-1 blessed and pushed; run-2 data nodes cached, not blessed; run-3 failed
    in the Trainer.
    penguins (another pipeline in the same store): one run, not pushed."""
    tmp_path = tmp_path_factory.mktemp("store")
    b = Store(tmp_path / "metadata.sqlite")
    run1 = taxi_run(b, tmp_path, "run-1", pushed_version="1700000001")
    model1 = run1.outputs["Trainer"]["model"][0]
    run2 = taxi_run(b, tmp_path, "run-2", previous=run1, cached=DATA_NODES, blessed=False, baseline=model1)
    taxi_run(b, tmp_path, "run-3", previous=run2, cached=DATA_NODES, fail_at=node_ids.TRAINER)
    taxi_run(b, tmp_path, "peng-1", pipeline="penguins", blessed=False)
    return b.store


def test_runs_are_listed_newest_first_with_their_outcome(store):
    records = {r.run_id: r for r in Q.list_runs(store, "taxi")}
    assert [r.run_id for r in Q.list_runs(store, "taxi")] == ["run-3", "run-2", "run-1"]
    one, two, three = records["run-1"], records["run-2"], records["run-3"]
    # The resolver is a system node: it counts in no column.
    assert (one.state, one.nodes_ran, one.nodes_cached, one.nodes_failed) == ("complete", 9, 0, 0)
    assert (two.state, two.nodes_ran, two.nodes_cached, two.nodes_failed) == ("complete", 3, 6, 0)
    assert (three.state, three.nodes_ran, three.nodes_cached, three.nodes_failed) == ("failed", 0, 6, 1)
    assert (one.blessed, one.pushed_version) == (True, "1700000001")
    assert (two.blessed, two.pushed_version) == (False, None)  # the Pusher ran but pushed nothing
    assert (three.blessed, three.pushed_version) == (None, None)  # no Evaluator, no Pusher
    assert all(r.pipeline == "taxi" for r in records.values())


def test_every_pipeline_of_a_shared_store_is_listed_and_limit_applies(store):
    assert {r.run_id for r in Q.list_runs(store)} == {"run-1", "run-2", "run-3", "peng-1"}
    assert [r.run_id for r in Q.list_runs(store, "penguins")] == ["peng-1"]
    assert len(Q.list_runs(store, limit=2)) == 2
    # Each pipeline's node contexts are its own: the penguins run has no taxi executions.
    assert Q.list_runs(store, "penguins")[0].nodes_ran == 9


def test_unknown_pipeline_run_and_empty_store_are_metadata_errors(store, tmp_path):
    with pytest.raises(MetadataError, match="no pipeline named 'nope' in this store; pipelines: penguins, taxi"):
        Q.list_runs(store, "nope")
    with pytest.raises(MetadataError, match="no run 'nope' in this store"):
        Q.show_run(store, "nope")
    with pytest.raises(MetadataError, match="has no pipeline runs yet"):
        Q.list_runs(Store(tmp_path / "empty.sqlite").store)


def test_latest_resolves_to_the_newest_run(store):
    assert Q.resolve_run(store, "latest") == "peng-1"
    assert Q.resolve_run(store, "run-2") == "run-2"
    assert Q.pipeline_of(store, "run-2") == "taxi" and Q.pipeline_of(store, "peng-1") == "penguins"


def test_show_gives_every_node_in_order_with_its_artifacts(store):
    run, nodes = Q.show_run(store, "run-2")
    executions = R.node_executions(store, "taxi", "run-2")
    assert run.run_id == "run-2" and [n.node for n in nodes][:2] == ["CsvExampleGen", "ImportSchemaGen"]
    assert {n.node for n in nodes} == set(executions) and len(nodes) == 10
    by_node = {n.node: n for n in nodes}
    for name, e in executions.items():
        assert by_node[name].state == e.state and by_node[name].cached == (e.state == "cached")
        assert {k: [a["id"] for a in v] for k, v in by_node[name].outputs.items()} == \
               {k: [a.id for a in v] for k, v in e.outputs.items()}
    # A cached node shows the artifacts of the run it reused; the Evaluator got that run's model as baseline.
    run1 = R.node_executions(store, "taxi", "run-1")
    reused = run1["Transform"].outputs["transform_graph"][0].id
    assert by_node["Transform"].outputs["transform_graph"][0]["id"] == reused
    assert by_node["Evaluator"].inputs["baseline_model"][0]["id"] == run1["Trainer"].outputs["model"][0].id
    examples = by_node["CsvExampleGen"].outputs["examples"][0]
    assert examples["properties"]["split_names"] == '["train", "eval"]' and examples["type"] == "Examples"
    # In name order, whatever order MLMD's protobuf maps hand them out in (it differs between processes).
    assert list(examples["properties"]) == ["is_external", "span", "split_names", "tfx_version"]


def test_node_executions_carry_exec_properties_and_states(store):
    failed = R.node_executions(store, "taxi", "run-3")
    assert failed["Trainer"].state == "failed" and failed["Trainer"].outputs == {}
    assert node_ids.EVALUATOR not in failed and node_ids.PUSHER not in failed
    trainer = R.node_executions(store, "taxi", "run-1")["Trainer"]
    assert trainer.properties["train_args"] == '{"num_steps": 50}'
    assert R.run_ids(store, "taxi") == ["run-1", "run-2", "run-3"] and R.pipeline_names(store) == ["penguins", "taxi"]
    assert R.find_run(store, "nope") is None


def test_artifacts_by_type_and_by_run(store):
    models = Q.list_artifacts(store, "Model")
    assert [a.id for a in models] == sorted(a.id for a in store.get_artifacts_by_type("Model"))
    assert len(models) == 3  # run-1, run-2, penguins; run-3's Trainer failed
    of_run = Q.list_artifacts(store, run_id="run-2")
    outputs = {a.id for e in R.node_executions(store, "taxi", "run-2").values() for v in e.outputs.values() for a in v}
    assert {a.id for a in of_run} == outputs
    assert all(a.run_id == "run-2" and a.producer for a in of_run)
    producers = {a.type: a.producer for a in of_run}
    assert producers["TransformGraph"] == "Transform"  # re-published by run-2's cached Transform
    assert producers["ModelRun"] == "Trainer"
    # The resolver hands on run-2's model (and run-1's as the baseline): the model's producer is the Trainer.
    models = {a.id: a.producer for a in of_run if a.type == "Model"}
    trainer_model = R.node_executions(store, "taxi", "run-2")["Trainer"].outputs["model"][0].id
    assert models == {trainer_model: "Trainer", R.node_executions(store, "taxi", "run-1")["Trainer"].outputs[
        "model"][0].id: node_ids.BASELINE_RESOLVER}
    assert [a.type for a in Q.list_artifacts(store, "PushedModel", run_id="latest")] == ["PushedModel"]
    with pytest.raises(MetadataError, match="no artifacts of type 'Nope'; types here: .*ExampleStatistics"):
        Q.list_artifacts(store, "Nope")
