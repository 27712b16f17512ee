"""pipeline/dag/factory.py (with its node builders, data_nodes.py and model_nodes.py): the DAG for each config and
run target, read from the IR TFX's own compiler makes of it — node ids, who consumes what, each node's executor,
the resolver strategies, the Trainer's custom_config. No pipeline runs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.compiler import compiler
from tfx.proto.orchestration import executable_spec_pb2, pipeline_pb2

from components.multiworker_trainer.executor import Executor as MultiWorkerExecutor
from components.tagged_trainer.executor import Executor as TaggedExecutor
from pipeline.config.loader import load_config
from pipeline.dag import data_nodes, model_nodes, node_ids
from pipeline.dag.factory import create_pipeline
from pipeline.dag.targets import CloudTarget, Locations, LocalTarget, VertexOptions
from trainer_module import features as F

WHERE = Locations(data="/data/taxi", pipeline_root="/tmp/root", serving_dir="/srv/models/")
BLESSED_OTHER = "components.baseline_resolver.strategy.LatestBlessedOtherModelStrategy"
TFX_LATEST_BLESSED = "tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy.LatestBlessedModelStrategy"
TAGGED = "components.tagged_trainer.executor.Executor"
MULTI_WORKER = "components.multiworker_trainer.executor.Executor"
VERTEX = VertexOptions(project="p", region="us-central1", image="gcr.io/p/img:1", training=True, endpoint="ep")


@dataclass
class Node:
    consumes: dict[str, str]  # input key -> "<producer node id>.<output key>"
    upstream: set[str]
    parameters: dict[str, object]
    resolver_ops: list[tuple[str, dict]]  # (strategy class path, its config) of a Resolver
    caching: bool


@dataclass
class Dag:
    ids: list[str]
    nodes: dict[str, Node]
    executors: dict[str, str]  # node id -> executor class path
    metadata: str  # the metadata connection the IR carries ("" when none)


def _value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def compiled(pipeline) -> Dag:
    """The parts of TFX's compiled IR this file asserts on."""
    ir = compiler.Compiler().compile(pipeline)
    nodes = {}
    for wrapper in ir.nodes:
        node = wrapper.pipeline_node
        consumes = {
            key: f"{channel.producer_node_query.id}.{channel.output_key}"
            for key, spec in node.inputs.inputs.items()
            for channel in spec.channels
            if channel.producer_node_query.id
        }
        ops = [
            (graph_node.op_node.op_type, {k: _value(v.value.field_value) for k, v in graph_node.op_node.kwargs.items()})
            for graph in node.inputs.input_graphs.values()
            for graph_node in graph.nodes.values()
            if graph_node.HasField("op_node")
        ]
        nodes[node.node_info.id] = Node(
            consumes=consumes,
            upstream=set(node.upstream_nodes),
            parameters={k: _value(v.field_value) for k, v in node.parameters.parameters.items()},
            resolver_ops=ops,
            caching=node.execution_options.caching_options.enable_cache,
        )
    deployment = pipeline_pb2.IntermediateDeploymentConfig()
    ir.deployment_config.Unpack(deployment)
    executors = {}
    for node_id, spec in deployment.executor_specs.items():
        if spec.Is(executable_spec_pb2.BeamExecutableSpec.DESCRIPTOR):
            beam = executable_spec_pb2.BeamExecutableSpec()
            spec.Unpack(beam)
            executors[node_id] = beam.python_executor_spec.class_path
        else:
            python = executable_spec_pb2.PythonClassExecutableSpec()
            spec.Unpack(python)
            executors[node_id] = python.class_path
    metadata = ""
    if deployment.HasField("metadata_connection_config"):
        connection = metadata_store_pb2.ConnectionConfig()
        deployment.metadata_connection_config.Unpack(connection)
        metadata = connection.sqlite.filename_uri
    return Dag([w.pipeline_node.node_info.id for w in ir.nodes], nodes, executors, metadata)


def sqlite(path: str) -> metadata_store_pb2.ConnectionConfig:
    connection = metadata_store_pb2.ConnectionConfig()
    connection.sqlite.filename_uri = path
    return connection


def local(cfg, **target) -> Dag:
    return compiled(create_pipeline(cfg, WHERE, LocalTarget(**target)))


def cloud(cfg, **target) -> Dag:
    return compiled(create_pipeline(cfg, WHERE, CloudTarget(**target)))


def test_taxi_local_dag_wiring():
    dag = local(load_config("taxi"))
    assert dag.ids == [  # TFX's topological order
        node_ids.EXAMPLE_GEN, node_ids.IMPORT_SCHEMA_GEN, node_ids.STATISTICS_GEN, node_ids.EXAMPLE_VALIDATOR,
        node_ids.ANOMALIES_GATE, node_ids.TRANSFORM, node_ids.TRAINER, node_ids.BASELINE_RESOLVER,
        node_ids.EVALUATOR, node_ids.FEATURE_IMPORTANCE, node_ids.PUSHER,
    ]
    n = dag.nodes
    assert n[node_ids.STATISTICS_GEN].consumes == {"examples": "CsvExampleGen.examples"}
    assert n[node_ids.IMPORT_SCHEMA_GEN].consumes == {}  # a curated schema, read from a file
    assert n[node_ids.EXAMPLE_VALIDATOR].consumes == {
        "statistics": "StatisticsGen.statistics", "schema": "ImportSchemaGen.schema"}
    assert n[node_ids.ANOMALIES_GATE].consumes == {"anomalies": "ExampleValidator.anomalies"}
    assert n[node_ids.TRANSFORM].consumes == {"examples": "CsvExampleGen.examples", "schema": "ImportSchemaGen.schema"}
    # The gate has no output Transform reads: it is ordered by a task dependency.
    assert n[node_ids.TRANSFORM].upstream == {"AnomaliesGate", "CsvExampleGen", "ImportSchemaGen"}
    assert n[node_ids.TRAINER].consumes == {
        "examples": "CsvExampleGen.examples", "transform_graph": "Transform.transform_graph",
        "schema": "ImportSchemaGen.schema"}
    # The baseline resolver reads this run's model only to leave it out.
    assert n[node_ids.BASELINE_RESOLVER].consumes == {"_Trainer.model": "Trainer.model"}
    assert n[node_ids.EVALUATOR].consumes == {
        "examples": "CsvExampleGen.examples", "model": "Trainer.model",
        "baseline_model": "latest_blessed_model_resolver.model"}
    assert n[node_ids.PUSHER].consumes == {
        "model": "Trainer.model", "model_blessing": "Evaluator.blessing", "examples": "CsvExampleGen.examples"}
    # After the Evaluator (its evaluation is an input), on the candidate and the eval split.
    assert n[node_ids.FEATURE_IMPORTANCE].consumes == {
        "model": "Trainer.model", "examples": "CsvExampleGen.examples", "evaluation": "Evaluator.evaluation"}
    assert n[node_ids.FEATURE_IMPORTANCE].parameters == {
        "task": "binary", "label_key": "big_tipper_xf", "weight_key": "big_tipper__has_label_xf", "max_rows": 2000,
        "repeats": 3, "seed": 0}


def test_every_node_id_is_a_node_ids_constant():
    known = {v for k, v in vars(node_ids).items() if k.isupper() and k != "SYSTEM_NODE_SUFFIX"}
    for cfg in (load_config("taxi", {"training.warm_start": True}), load_config("digits"),
                load_config("taxi", {"schema": None})):
        assert set(local(cfg).ids) <= known
        assert set(cloud(cfg, vertex=VERTEX).ids) <= known
    resolvers = {node_ids.BASELINE_RESOLVER, node_ids.WARM_START_RESOLVER}
    assert {r for r in resolvers if r.endswith(node_ids.SYSTEM_NODE_SUFFIX)} == resolvers


def test_local_executors():
    dag = local(load_config("taxi"))
    assert dag.executors == {
        node_ids.EXAMPLE_GEN: "tfx.components.example_gen.csv_example_gen.executor.Executor",
        node_ids.STATISTICS_GEN: "tfx.components.statistics_gen.executor.Executor",
        node_ids.IMPORT_SCHEMA_GEN: "tfx.components.schema_gen.import_schema_gen.executor.Executor",
        node_ids.EXAMPLE_VALIDATOR: "tfx.components.example_validator.executor.Executor",
        node_ids.ANOMALIES_GATE: "components.anomalies_gate.executor.Executor",
        node_ids.TRANSFORM: "tfx.components.transform.executor.Executor",
        node_ids.TRAINER: TAGGED,  # records the model family the baseline resolver filters on
        node_ids.EVALUATOR: "components.gated_evaluator.executor.Executor",  # adds the default gates
        node_ids.FEATURE_IMPORTANCE: "components.feature_importance.executor.Executor",
        node_ids.PUSHER: "components.atomic_pusher.executor.Executor",
    }  # resolvers run inside the orchestrator: no executor


def test_feature_importance_follows_the_config():
    assert node_ids.FEATURE_IMPORTANCE not in local(load_config("taxi", {"importance.enabled": False})).ids
    dag = local(load_config("digits", {"model.family": "autoencoder", "importance.max_rows": 500}))
    assert dag.nodes[node_ids.FEATURE_IMPORTANCE].parameters["task"] == "reconstruction"
    assert dag.nodes[node_ids.FEATURE_IMPORTANCE].parameters["max_rows"] == 500
    assert node_ids.FEATURE_IMPORTANCE in cloud(load_config("taxi"), vertex=VERTEX).ids


def test_local_resolver_leaves_out_the_candidate_and_other_families():
    dag = local(load_config("digits"))
    assert dag.nodes[node_ids.BASELINE_RESOLVER].resolver_ops == [(BLESSED_OTHER, {"family": "cnn"})]
    dag = local(load_config("digits", {"model.family": "autoencoder"}))
    assert dag.nodes[node_ids.BASELINE_RESOLVER].resolver_ops == [(BLESSED_OTHER, {"family": "autoencoder"})]


def test_digits_reads_the_bundled_images_with_its_own_example_gen():
    dag = local(load_config("digits"))
    assert dag.ids[0] == node_ids.DIGITS_EXAMPLE_GEN
    assert dag.executors[node_ids.DIGITS_EXAMPLE_GEN] == "components.digits_example_gen.executor.Executor"
    assert dag.nodes[node_ids.DIGITS_EXAMPLE_GEN].parameters["eval_percent"] == 20
    for node in (node_ids.STATISTICS_GEN, node_ids.TRANSFORM, node_ids.TRAINER, node_ids.EVALUATOR, node_ids.PUSHER):
        assert dag.nodes[node].consumes["examples"] == "DigitsExampleGen.examples"
    assert json.loads(dag.nodes[node_ids.TRAINER].parameters["custom_config"])["model"]["family"] == "cnn"


def test_without_a_curated_schema_schema_gen_infers_one():
    dag = local(load_config("taxi", {"schema": None}))
    assert node_ids.IMPORT_SCHEMA_GEN not in dag.ids
    assert dag.nodes[node_ids.SCHEMA_GEN].consumes == {"statistics": "StatisticsGen.statistics"}
    # No fixed shapes: every column is optional at serving time and gets Transform's imputation when missing.
    assert dag.nodes[node_ids.SCHEMA_GEN].parameters["infer_feature_shape"] == 0
    assert dag.nodes[node_ids.TRAINER].consumes["schema"] == "SchemaGen.schema"


def test_warm_start_feeds_the_trainer_from_its_own_resolver():
    dag = local(load_config("taxi", {"training.warm_start": True}))
    assert dag.ids.index(node_ids.WARM_START_RESOLVER) < dag.ids.index(node_ids.TRAINER)
    warm = dag.nodes[node_ids.WARM_START_RESOLVER]
    assert warm.consumes == {}  # no candidate: it runs before the Trainer
    assert warm.resolver_ops == [(BLESSED_OTHER, {"family": "dnn"})]
    assert dag.nodes[node_ids.TRAINER].consumes["base_model"] == "warm_start_model_resolver.model"
    assert node_ids.WARM_START_RESOLVER not in local(load_config("taxi")).ids


def test_multi_worker_training_runs_the_worker_starting_executor():
    cfg = load_config("taxi", {"training.strategy": "multi_worker", "training.workers": 2})
    assert local(cfg).executors[node_ids.TRAINER] == MULTI_WORKER
    assert cloud(cfg).executors[node_ids.TRAINER] == MULTI_WORKER
    # One worker is ordinary training, even under the multi-worker strategy.
    one = load_config("taxi", {"training.strategy": "multi_worker"})
    assert local(one).executors[node_ids.TRAINER] == TAGGED
    assert issubclass(MultiWorkerExecutor, TaggedExecutor)  # it records the model family too


def test_trainer_custom_config_and_steps():
    cfg = load_config("taxi", {"training.train_steps": 7, "training.eval_steps": 3, "training.epochs": 2})
    trainer = local(cfg).nodes[node_ids.TRAINER].parameters
    custom = json.loads(trainer["custom_config"])
    assert custom == json.loads(json.dumps(model_nodes.trainer_custom_config(cfg)))
    assert custom["code_fingerprint"] == F.code_fingerprint()
    assert custom["model"] == {"family": "dnn", "hparams": dict(cfg.model.effective_hparams)}
    assert custom["training"]["epochs"] == 2 and custom["training"]["seed"] == 42
    assert json.loads(trainer["train_args"]) == {"num_steps": 7}
    assert json.loads(trainer["eval_args"]) == {"num_steps": 3}
    assert trainer["run_fn"] == model_nodes.RUN_FN


def test_local_target_settings_reach_the_pipeline():
    cfg = load_config("taxi")
    dag = local(cfg, metadata_connection_config=sqlite("/h/metadata.sqlite"), enable_cache=False,
                beam_pipeline_args=["--direct_num_workers=1"], allow_anomalies=True)
    assert dag.metadata == "/h/metadata.sqlite"
    assert not any(node.caching for node in dag.nodes.values())
    assert dag.nodes[node_ids.ANOMALIES_GATE].parameters["allow_anomalies"] == 1
    assert dag.nodes[node_ids.IMPORT_SCHEMA_GEN].parameters["schema_file"] == str(cfg.schema_path)
    assert dag.nodes[node_ids.PUSHER].parameters["base_directory"] == "/srv/models/taxi"
    pipeline = create_pipeline(cfg, WHERE, LocalTarget(beam_pipeline_args=("--direct_num_workers=1",)))
    assert pipeline.beam_pipeline_args == ["--direct_num_workers=1"]
    assert pipeline.pipeline_info.pipeline_root == "/tmp/root"
    defaults = local(cfg)
    assert defaults.metadata == "" and all(node.caching for node in defaults.nodes.values())
    assert defaults.nodes[node_ids.ANOMALIES_GATE].parameters["allow_anomalies"] == 0


def test_cloud_target_uses_the_portable_resolver_and_the_container_schema():
    cfg = load_config("taxi", {"training.warm_start": True})
    dag = cloud(cfg, schema_file="schemas/taxi/schema.pbtxt", beam_pipeline_args=["--runner=DataflowRunner"])
    # TFX 1.16's KFP v2 compiler knows only its own strategy: no candidate input, no family filter.
    assert dag.nodes[node_ids.BASELINE_RESOLVER].resolver_ops == [(TFX_LATEST_BLESSED, {})]
    assert dag.nodes[node_ids.BASELINE_RESOLVER].consumes == {}
    assert dag.nodes[node_ids.WARM_START_RESOLVER].resolver_ops == [(TFX_LATEST_BLESSED, {})]
    assert dag.nodes[node_ids.IMPORT_SCHEMA_GEN].parameters["schema_file"] == "schemas/taxi/schema.pbtxt"
    assert dag.metadata == "" and all(node.caching for node in dag.nodes.values())
    assert dag.nodes[node_ids.ANOMALIES_GATE].parameters["allow_anomalies"] == 0
    assert dag.executors == local(cfg).executors
    assert sorted(dag.ids) == sorted(local(cfg).ids)  # the same nodes (the order differs: no candidate edge)
    # Without a container path the schema is the config's own.
    assert cloud(cfg).nodes[node_ids.IMPORT_SCHEMA_GEN].parameters["schema_file"] == str(cfg.schema_path)


def test_vertex_options_swap_in_the_vertex_trainer_and_pusher():
    cfg = load_config("taxi")
    dag = cloud(cfg, vertex=VERTEX)
    assert sorted(dag.ids) == sorted(local(cfg).ids)
    assert dag.executors[node_ids.TRAINER] == "tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor"
    assert dag.executors[node_ids.PUSHER] == "tfx.extensions.google_cloud_ai_platform.pusher.executor.Executor"
    custom = json.loads(dag.nodes[node_ids.TRAINER].parameters["custom_config"])
    assert custom["ai_platform_enable_vertex"] is True and custom["ai_platform_vertex_region"] == "us-central1"
    assert custom["ai_platform_training_args"] == {"project": "p", "worker_pool_specs": VERTEX.worker_pool_specs()}
    assert custom["model"]["family"] == "dnn"  # run_fn's own settings ride along
    pusher = json.loads(dag.nodes[node_ids.PUSHER].parameters["custom_config"])
    assert pusher["ai_platform_serving_args"] == {"project_id": "p", "endpoint_name": "ep"}
    assert dag.nodes[node_ids.PUSHER].consumes == {"model": "Trainer.model", "model_blessing": "Evaluator.blessing"}
    # Vertex training only: the model still goes to the serving directory.
    training_only = cloud(cfg, vertex=VertexOptions(project="p", region="r", image="i", training=True))
    assert training_only.executors[node_ids.PUSHER] == "components.atomic_pusher.executor.Executor"


@pytest.mark.parametrize(
    "overrides, splits",
    [
        ({}, [("train", 2), ("eval", 1)]),
        ({"split_buckets": None, "eval_split_percent": 25}, [("train", 75), ("eval", 25)]),
    ],
)
def test_split_buckets_reach_csv_example_gen(overrides, splits):
    gen = data_nodes.example_gen(load_config("taxi", overrides), WHERE)
    output_config = json.loads(gen.exec_properties["output_config"])
    assert [(s["name"], s["hash_buckets"]) for s in output_config["split_config"]["splits"]] == splits
    assert gen.exec_properties["input_base"] == "/data/taxi"
