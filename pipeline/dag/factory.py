"""create_pipeline(cfg, where, target): the one TFX DAG, shared by the local runner and the Kubeflow/Vertex compiler."""

from __future__ import annotations

from pipeline.config.schema import PipelineConfig
from pipeline.dag import data_nodes, model_nodes
from pipeline.dag import tfx_api as tfx
from pipeline.dag.targets import Locations, Target


def create_pipeline(cfg: PipelineConfig, where: Locations, target: Target) -> tfx.dsl.Pipeline:
    """The DAG of `cfg`, reading and writing at `where`, for a LocalTarget (LocalDagRunner on this machine) or a
    CloudTarget (compiled for Kubeflow Pipelines v2 / Vertex AI). Node ids are pipeline.dag.node_ids."""
    example_gen = data_nodes.example_gen(cfg, where)
    examples = example_gen.outputs["examples"]
    statistics_gen = data_nodes.statistics_gen(examples)
    statistics = statistics_gen.outputs["statistics"]
    schema_gen = data_nodes.schema_gen(cfg, statistics, target.schema_file)
    schema = schema_gen.outputs["schema"]
    example_validator = data_nodes.example_validator(statistics, schema)
    anomalies_gate = data_nodes.anomalies_gate(example_validator.outputs["anomalies"], target.allow_anomalies)
    transform = data_nodes.transform(cfg, examples, schema, after=anomalies_gate)

    tuner = (model_nodes.tuner(cfg, examples=examples, transform_graph=transform.outputs["transform_graph"],
                               schema=schema) if cfg.tuning.enabled else None)
    warm_start = model_nodes.warm_start_resolver(cfg, target.portable_resolvers) if cfg.training.warm_start else None
    trainer = model_nodes.trainer(
        cfg,
        examples=examples,
        transform_graph=transform.outputs["transform_graph"],
        schema=schema,
        base_model=warm_start.outputs["model"] if warm_start else None,
        vertex=target.vertex,
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        auto_choice=target.auto_choice,
    )
    model = trainer.outputs["model"]
    baseline = model_nodes.baseline_resolver(cfg, target.portable_resolvers, candidate=model)
    evaluator = model_nodes.evaluator(cfg, examples=examples, model=model, baseline_model=baseline.outputs["model"])
    importance = (model_nodes.feature_importance(cfg, model=model, examples=examples,
                                                 evaluation=evaluator.outputs["evaluation"])
                  if cfg.importance.enabled else None)
    pusher = model_nodes.pusher(
        cfg, where, model=model, model_blessing=evaluator.outputs["blessing"], examples=examples, vertex=target.vertex
    )
    return tfx.dsl.Pipeline(
        pipeline_name=cfg.name,
        pipeline_root=where.pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            anomalies_gate,
            transform,
            *([tuner] if tuner else []),
            *([warm_start] if warm_start else []),
            trainer,
            baseline,
            evaluator,
            *([importance] if importance else []),
            pusher,
        ],
        enable_cache=target.enable_cache,
        metadata_connection_config=target.metadata_connection_config,
        beam_pipeline_args=list(target.beam_pipeline_args),
    )
