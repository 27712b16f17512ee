"""A real ML Metadata store (SQLite under a test's tmp_path) filled the way TFX 1.16's LocalDagRunner records a run
(checked against the store of a real `tfx-e2e run`): contexts `pipeline` (the pipeline name), `pipeline_run` (the
run id) and `node` ("<pipeline>.<node id>"); per node one execution, associated with all three, carrying its exec
properties as custom properties; artifacts with TFX's properties, attributed to the same contexts; INPUT/OUTPUT
events keyed by channel (the resolver hands its model on as INTERNAL_OUTPUT); a cached node re-publishes the
artifacts of the execution it reuses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from google.protobuf import struct_pb2
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline.dag import node_ids
from pipeline.metadata.runs import NODE_CONTEXT, PIPELINE_CONTEXT, RUN_CONTEXT
from pipeline.metadata.store import open_store, sqlite_config

STATES = {"complete": pb.Execution.COMPLETE, "cached": pb.Execution.CACHED, "failed": pb.Execution.FAILED,
          "running": pb.Execution.RUNNING, "canceled": pb.Execution.CANCELED}
# Artifact types whose TFX definition has these as (typed) properties; everything else is a custom property.
TYPE_PROPERTIES = {"Examples": {"split_names": pb.STRING, "span": pb.INT, "version": pb.INT},
                   "ExampleStatistics": {"split_names": pb.STRING, "span": pb.INT},
                   "ExampleAnomalies": {"split_names": pb.STRING, "span": pb.INT}}


def _value(v: Any) -> pb.Value:
    if isinstance(v, bool) or isinstance(v, int):
        return pb.Value(int_value=int(v))
    if isinstance(v, float):
        return pb.Value(double_value=v)
    if isinstance(v, dict):
        struct = struct_pb2.Struct()
        struct.update(v)
        return pb.Value(struct_value=struct)
    return pb.Value(string_value=str(v))


@dataclass(frozen=True)
class New:
    """An artifact a node writes: its type, URI and properties (custom unless TYPE_PROPERTIES says otherwise)."""

    type: str
    uri: str
    properties: dict = field(default_factory=dict)


class Store:
    """Builds runs into a fresh SQLite MLMD store at `path`; `.store` is the MetadataStore the readers get."""

    def __init__(self, path: Path):
        self.store = open_store(sqlite_config(path))
        self._types: dict[tuple[str, str], int] = {}

    def _type(self, kind: str, name: str) -> int:
        if (kind, name) not in self._types:
            if kind == "context":
                t = self.store.put_context_type(pb.ContextType(name=name))
            elif kind == "execution":
                t = self.store.put_execution_type(pb.ExecutionType(name=name))
            else:
                t = self.store.put_artifact_type(pb.ArtifactType(name=name, properties=TYPE_PROPERTIES.get(name, {})))
            self._types[(kind, name)] = t
        return self._types[(kind, name)]

    def context(self, type_name: str, name: str) -> int:
        found = self.store.get_context_by_type_and_name(type_name, name)
        if found:
            return found.id
        return self.store.put_contexts([pb.Context(type_id=self._type("context", type_name), name=name)])[0]

    def artifact(self, new: New) -> pb.Artifact:
        """The (not yet stored) artifact; put_execution stores it with the event that produces it."""
        a = pb.Artifact(type_id=self._type("artifact", new.type), uri=new.uri, state=pb.Artifact.LIVE)
        typed = TYPE_PROPERTIES.get(new.type, {})
        for k, v in {"tfx_version": "1.16.0", "is_external": 0, **new.properties}.items():
            (a.properties if k in typed else a.custom_properties)[k].CopyFrom(_value(v))
        return a

    def run(self, pipeline: str, run_id: str) -> "Run":
        return Run(self, pipeline, run_id)


Output = Union[New, int]  # a new artifact, or the id of an existing one (re-published by a cached node)


class Run:
    """One pipeline run: `node(...)` records one node's execution, in the order a run executes them."""

    def __init__(self, builder: Store, pipeline: str, run_id: str):
        self.builder, self.pipeline, self.run_id = builder, pipeline, run_id
        self.contexts = [builder.context(PIPELINE_CONTEXT, pipeline), builder.context(RUN_CONTEXT, run_id)]
        self.outputs: dict[str, dict[str, list[int]]] = {}  # node id -> output key -> artifact ids

    def node(self, node_id: str, state: str = "complete", inputs: Optional[dict[str, list[int]]] = None,
             outputs: Optional[dict[str, list[Output]]] = None, properties: Optional[dict] = None,
             internal: bool = False) -> dict[str, list[int]]:
        """Records the execution of `node_id`; returns its output artifact ids by key. `internal`: the outputs are
        INTERNAL_OUTPUT events (a resolver's)."""
        b, inputs, outputs = self.builder, inputs or {}, outputs or {}
        execution = pb.Execution(type_id=b._type("execution", f"tfx.components.{node_id}"),
                                 last_known_state=STATES[state])
        for k, v in (properties or {}).items():
            execution.custom_properties[k].CopyFrom(_value(json.dumps(v) if isinstance(v, (dict, list)) else v))
        given = [a for items in [*inputs.values(), *outputs.values()] for a in items if isinstance(a, int)]
        stored = {a.id: a for a in b.store.get_artifacts_by_id(given)}
        pairs = [(stored[a], _event(pb.Event.INPUT, key, i))
                 for key, items in inputs.items() for i, a in enumerate(items)]
        keys = []
        for key, items in outputs.items():
            for i, a in enumerate(items):
                artifact = stored[a] if isinstance(a, int) else b.artifact(a)
                pairs.append((artifact, _event(pb.Event.INTERNAL_OUTPUT if internal else pb.Event.OUTPUT, key, i)))
                keys.append(key)
        contexts = b.store.get_contexts_by_id(self.contexts + [b.context(NODE_CONTEXT, f"{self.pipeline}.{node_id}")])
        _, artifact_ids, _ = b.store.put_execution(execution, pairs, contexts)
        ids: dict[str, list[int]] = {}
        for key, artifact_id in zip(keys, artifact_ids[len(pairs) - len(keys):]):
            ids.setdefault(key, []).append(artifact_id)
        self.outputs[node_id] = ids
        return ids


def _event(kind: int, key: str, index: int) -> pb.Event:
    event = pb.Event(type=kind)
    event.path.steps.add().key = key
    event.path.steps.add().index = index
    return event


SPLITS = json.dumps(["train", "eval"])


class _Stopped(Exception):
    """The node given as `fail_at` failed: nothing downstream runs."""


@dataclass(frozen=True)
class Spec:
    """How a taxi_run goes. `cached` nodes reuse the outputs of `previous`; the run stops at `fail_at` (that node
    failed); `baseline`: the blessed model the resolver hands the Evaluator; statistics/anomalies/evaluation: URIs
    of files a test wrote (a path under the test's root else)."""

    previous: Optional[Run] = None
    cached: tuple[str, ...] = ()
    fail_at: Optional[str] = None
    dropout: float = 0.1
    blessed: bool = True
    pushed_version: Optional[str] = None
    baseline: Optional[int] = None
    statistics: Optional[str] = None
    anomalies: Optional[str] = None
    evaluation: Optional[str] = None
    example_gen: str = node_ids.EXAMPLE_GEN


def taxi_run(store: Store, root: Path, run_id: str, pipeline: str = "taxi", **spec: Any) -> Run:
    """One run of our DAG (pipeline/dag/factory.py), node by node as MLMD records it (see Spec for the options)."""
    run = store.run(pipeline, run_id)
    try:
        _taxi_nodes(run, root, Spec(**spec))
    except _Stopped:
        pass
    return run


def _taxi_nodes(run: Run, root: Path, o: Spec) -> None:
    def uri(node: str, key: str) -> str:
        return str(root / run.pipeline / node / key / run.run_id)

    def step(node: str, inputs: dict, outputs: dict, properties: dict) -> dict[str, list[int]]:
        if node == o.fail_at:
            run.node(node, "failed", inputs=inputs, properties=properties)
            raise _Stopped(node)
        if node in o.cached:
            return run.node(node, "cached", inputs=inputs, outputs=o.previous.outputs[node], properties=properties)
        return run.node(node, inputs=inputs, outputs=outputs, properties=properties)

    gen = o.example_gen
    if gen == node_ids.DIGITS_EXAMPLE_GEN:
        gen_props = {"eval_percent": 33, "seed": 0}
    else:
        gen_props = {"input_base": "/data/taxi", "input_fingerprint": "split:single_split,num_files:1", "span": 0}
    examples = step(gen, {}, {"examples": [New("Examples", uri(gen, "examples"), {"split_names": SPLITS, "span": 0})]},
                    gen_props)["examples"]
    schema = step(node_ids.IMPORT_SCHEMA_GEN, {}, {"schema": [New("Schema", uri("ImportSchemaGen", "schema"))]},
                  {"schema_file": "schemas/taxi/schema.pbtxt"})["schema"]
    statistics = step(node_ids.STATISTICS_GEN, {"examples": examples}, {"statistics": [New(
        "ExampleStatistics", o.statistics or uri("StatisticsGen", "statistics"), {"split_names": SPLITS, "span": 0})]},
        {"exclude_splits": "[]"})["statistics"]
    anomalies = step(node_ids.EXAMPLE_VALIDATOR, {"schema": schema, "statistics": statistics}, {"anomalies": [New(
        "ExampleAnomalies", o.anomalies or uri("ExampleValidator", "anomalies"), {"split_names": SPLITS, "span": 0})]},
        {"exclude_splits": "[]"})["anomalies"]
    step(node_ids.ANOMALIES_GATE, {"anomalies": anomalies}, {}, {"allow_anomalies": 0})
    transform_graph = step(node_ids.TRANSFORM, {"examples": examples, "schema": schema},
                           {"transform_graph": [New("TransformGraph", uri("Transform", "transform_graph"))]},
                           {"preprocessing_fn": "trainer_module.preprocessing.preprocessing_fn"})["transform_graph"]
    trainer = step(node_ids.TRAINER, {"examples": examples, "schema": schema, "transform_graph": transform_graph},
                   {"model": [New("Model", uri("Trainer", "model"))],
                    "model_run": [New("ModelRun", uri("Trainer", "model_run"))]},
                   {"train_args": {"num_steps": 50},
                    "custom_config": {"model": {"hparams": {"dropout": o.dropout, "units": 16}}}})
    model = trainer["model"][0]
    # The resolver (components/baseline_resolver) hands on the candidate, and the baseline with its blessing.
    handed: dict[str, list[Output]] = {"candidate": [model]}
    baseline = {}
    if o.baseline:
        handed["model"], handed["model_blessing"] = [o.baseline], [_blessing_of(run.builder, o.baseline)]
        baseline = {"baseline_model": [o.baseline]}
    run.node(node_ids.BASELINE_RESOLVER, outputs=handed, internal=True)
    blessed = int(o.blessed)
    evaluator = step(node_ids.EVALUATOR, {"examples": examples, "model": [model], **baseline}, {
        "blessing": [New("ModelBlessing", uri("Evaluator", "blessing"),
                         {"blessed": blessed, "current_model_id": model})],
        "evaluation": [New("ModelEvaluation", o.evaluation or uri("Evaluator", "evaluation"))],
    }, {"example_splits": "null"})
    version = o.pushed_version
    pushed = {"pushed": 0}
    if blessed and version:
        pushed = {"pushed": 1, "pushed_destination": f"/serving/{run.pipeline}/{version}", "pushed_version": version,
                  "push_reused": 0}
    step(node_ids.PUSHER, {"model": [model], "examples": examples, "model_blessing": evaluator["blessing"]},
         {"pushed_model": [New("PushedModel", uri("Pusher", "pushed_model"), pushed)]},
         {"base_directory": f"/serving/{run.pipeline}", "warmup_examples": 32})


def _blessing_of(store: Store, model_id: int) -> int:
    return next(a.id for a in store.store.get_artifacts_by_type("ModelBlessing")
                if a.custom_properties["current_model_id"].int_value == model_id)
