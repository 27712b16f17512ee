"""pipeline.metadata.lineage (`tfx-e2e lineage`) on a real MLMD store filled as TFX runs do."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline.dag import node_ids
from pipeline.metadata import lineage as L
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError
from tests.unit.mlmd_runs import Store, taxi_run

REUSED = ("CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomaliesGate", "Transform")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """run-1 pushed version 1; run-2 reuses run-1's data nodes (cached) and pushes version 2; run-3 is not blessed.
    digits: a DigitsExampleGen pipeline in the same store."""
    root = tmp_path_factory.mktemp("store")
    b = Store(root / "metadata.sqlite")
    run1 = taxi_run(b, root, "run-1", pushed_version="1")
    run2 = taxi_run(b, root, "run-2", previous=run1, cached=REUSED, pushed_version="2",
                    baseline=run1.outputs["Trainer"]["model"][0])
    taxi_run(b, root, "run-3", previous=run2, cached=REUSED, blessed=False)
    taxi_run(b, root, "digits-1", pipeline="digits", example_gen=node_ids.DIGITS_EXAMPLE_GEN, pushed_version="1")
    return b.store


def _executions(store, pipeline, run_id):
    return R.node_executions(store, pipeline, run_id)


def _labels(graph, keys):
    by_key = {n.key: n for n in graph.nodes}
    return [by_key[k].label for k in keys if by_key[k].kind == "execution"]


def test_latest_pushed_model_is_the_newest_push(store):
    pushed = _executions(store, "taxi", "run-2")["Pusher"].outputs["pushed_model"][0].id
    digits = _executions(store, "digits", "digits-1")["Pusher"].outputs["pushed_model"][0].id
    assert L.latest_pushed_model(store) == max(pushed, digits) == digits
    assert pushed > _executions(store, "taxi", "run-1")["Pusher"].outputs["pushed_model"][0].id


def test_upstream_of_a_pushed_model_reaches_the_raw_input_through_the_work_that_made_it(store):
    run1, run2 = _executions(store, "taxi", "run-1"), _executions(store, "taxi", "run-2")
    pushed = run2["Pusher"].outputs["pushed_model"][0].id
    graph = L.lineage(store, pushed)
    assert graph.artifact_id == pushed and graph.downstream == []
    executions = {n.id: n for n in graph.nodes if n.kind == "execution" and n.key in graph.upstream}
    # run-2's own Pusher, Evaluator and Trainer; the data nodes it reused ran in run-1 (cached executions are no work).
    assert {run2[n].execution_id for n in ("Pusher", "Evaluator", "Trainer")} <= set(executions)
    assert {run1[n].execution_id for n in ("Transform", "CsvExampleGen", "ImportSchemaGen")} <= set(executions)
    assert not {run2[n].execution_id for n in REUSED} & set(executions)
    # The model's producer is the Trainer, not the resolver that handed it on; the baseline came from run-1.
    assert node_ids.BASELINE_RESOLVER not in _labels(graph, graph.upstream)
    assert run1["Trainer"].execution_id in executions  # via the Evaluator's baseline_model
    assert graph.raw_inputs == [{"execution_id": run1["CsvExampleGen"].execution_id, "node": "CsvExampleGen",
                                 "input_base": "/data/taxi", "input_fingerprint": "split:single_split,num_files:1",
                                 "span": 0}]


def test_edges_are_the_events_of_mlmd(store):
    run2 = _executions(store, "taxi", "run-2")
    graph = L.lineage(store, run2["Pusher"].outputs["pushed_model"][0].id)
    keys = {n.key for n in graph.nodes}
    assert all(a in keys and b in keys for a, b in graph.edges)
    trainer = run2["Trainer"]
    inputs = {f"a{ev.artifact_id}" for ev in store.get_events_by_execution_ids([trainer.execution_id])
              if ev.type == pb.Event.INPUT}
    assert {a for a, b in graph.edges if b == f"e{trainer.execution_id}"} == inputs
    assert (f"e{trainer.execution_id}", f"a{trainer.outputs['model'][0].id}") in graph.edges
    node = next(n for n in graph.nodes if n.key == f"e{trainer.execution_id}")
    assert (node.label, node.detail) == ("Trainer", "complete")
    assert node.properties["custom_config"] == '{"model": {"hparams": {"dropout": 0.1, "units": 16}}}'


def test_downstream_of_examples_are_their_consumers(store):
    run1 = _executions(store, "taxi", "run-1")
    examples = run1["CsvExampleGen"].outputs["examples"][0].id
    graph = L.lineage(store, examples)
    consumers = _labels(graph, graph.downstream)
    assert {"StatisticsGen", "Transform", "Trainer", "Evaluator", "Pusher"} <= set(consumers)
    assert consumers.count("Trainer") == 3  # run-1, run-2 and run-3 each trained on the same examples
    assert consumers.count("StatisticsGen") == 1  # run-2 and run-3 reused run-1's
    assert _labels(graph, graph.upstream) == ["CsvExampleGen"]


def test_a_built_in_example_gen_is_reached_but_has_no_raw_input(store):
    digits = _executions(store, "digits", "digits-1")
    graph = L.lineage(store, digits["Pusher"].outputs["pushed_model"][0].id)
    assert node_ids.DIGITS_EXAMPLE_GEN in _labels(graph, graph.upstream)
    assert graph.raw_inputs == []  # its data is built in: no input_base to trace


def test_unknown_artifact_and_no_push_are_metadata_errors(store, tmp_path):
    with pytest.raises(MetadataError, match="no artifact 999999 in this store"):
        L.lineage(store, 999999)
    empty = Store(tmp_path / "m.sqlite")
    taxi_run(empty, tmp_path, "only", blessed=False)
    with pytest.raises(MetadataError, match="no pushed model in this store yet"):
        L.latest_pushed_model(empty.store)


def test_renderings_draw_every_node_and_edge(store):
    graph = L.lineage(store, L.latest_pushed_model(store))
    dot = L.to_dot(graph).splitlines()
    assert dot[0] == "digraph lineage {" and dot[-1] == "}"
    assert {line.strip() for line in dot if "->" in line} == {f"{a} -> {b};" for a, b in graph.edges}
    assert sum("fillcolor" in line for line in dot) == 1  # the artifact asked about
    mermaid = L.to_mermaid(graph).splitlines()
    assert mermaid[0] == "flowchart LR"
    assert {line.strip() for line in mermaid if "-->" in line} == {f"{a} --> {b}" for a, b in graph.edges}
    assert len([line for line in mermaid if "[" in line]) == len(graph.nodes)
    text = L.to_text(graph).splitlines()
    assert text[0].startswith(f"artifact PushedModel #{graph.artifact_id}")
    assert len(text) == 1 + 1 + len(graph.upstream) + 1  # header, "upstream", one per node, "downstream: none"
