"""create_pipeline(cfg): the one TFX DAG, shared by the local runner and the Kubeflow/Vertex compiler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from pipeline.dag import tfx_api as tfx

from components.anomalies_gate import AnomaliesGate
from components.baseline_resolver import strategy as baseline
from pipeline.config.schema import PipelineConfig
from pipeline.dag.tfma_config import eval_config
from trainer_module import features as F

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"
RUN_FN = "trainer_module.run.run_fn"


@dataclass(frozen=True)
class Locations:
    """Where a run reads and writes: URIs may be local paths or remote (gs://...). `data` may also be a
    RuntimeParameter, so a compiled Kubeflow/Vertex pipeline takes its data root when submitted."""

    data: Any
    pipeline_root: str
    serving_dir: str  # the model base path TF Serving watches; versions go below <serving_dir>/<model_name>/


@dataclass(frozen=True)
class VertexOptions:
    """Run the Trainer as a Vertex AI custom job and/or push to a Vertex endpoint (cloud targets only)."""

    project: str
    region: str
    image: str
    training: bool = False
    machine_type: str = "n1-standard-4"
    accelerator_type: Optional[str] = None  # e.g. NVIDIA_TESLA_T4, or a TPU type with machine_type cloud-tpu
    accelerator_count: int = 0
    replica_count: int = 1  # > 1: multi-worker (one chief pool + a worker pool)
    endpoint: Optional[str] = None  # push to this Vertex endpoint instead of a filesystem serving dir
    serving_image: str = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"

    def worker_pool_specs(self) -> list[dict]:
        machine_spec: dict[str, Any] = {"machine_type": self.machine_type}
        if self.accelerator_type:
            machine_spec["accelerator_type"] = self.accelerator_type
            machine_spec["accelerator_count"] = self.accelerator_count or 1
        pool = {"machine_spec": machine_spec, "replica_count": 1, "container_spec": {"image_uri": self.image}}
        pools = [pool]
        if self.replica_count > 1:
            pools.append({**pool, "replica_count": self.replica_count - 1})
        return pools


def trainer_custom_config(cfg: PipelineConfig) -> dict:
    return {
        **F.transform_config(cfg),
        "model": {"family": cfg.model.family, "hparams": cfg.model.effective_hparams},
        "training": {
            "batch_size": cfg.training.batch_size,
            "epochs": cfg.training.epochs,
            "early_stopping_patience": cfg.training.early_stopping_patience,
            "strategy": cfg.training.strategy,
            "workers": cfg.training.workers,
            "mixed_precision": cfg.training.mixed_precision,
            "steps_per_execution": cfg.training.steps_per_execution,
            "warm_start_freeze_layers": cfg.training.warm_start_freeze_layers,
            "seed": cfg.training.seed,
        },
    }


def _example_gen(cfg: PipelineConfig, where: Locations):
    if cfg.example_gen == "digits":
        from components.digits_example_gen import DigitsExampleGen

        return DigitsExampleGen(eval_percent=cfg.eval_split_percent)
    buckets = cfg.split_buckets or {"train": 100 - cfg.eval_split_percent, "eval": cfg.eval_split_percent}
    return tfx.components.CsvExampleGen(
        input_base=where.data,
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name="train", hash_buckets=buckets["train"]),
                    tfx.proto.SplitConfig.Split(name="eval", hash_buckets=buckets["eval"]),
                ]
            )
        ),
    )


def _blessed_model_resolver(cfg: PipelineConfig, portable: bool, candidate: Any = None) -> tfx.dsl.Resolver:
    """Latest blessed model of this family, never the candidate (locally); TFX's plain strategy on KFP v2."""
    channels = dict(
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    )
    if portable:
        return tfx.dsl.Resolver(strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy, **channels)
    if candidate is not None:
        channels[baseline.CANDIDATE_KEY] = candidate
    return tfx.dsl.Resolver(
        strategy_class=baseline.LatestBlessedOtherModelStrategy, config={"family": cfg.model.family}, **channels
    )


def _trainer_executor(cfg: PipelineConfig) -> dict:
    """Local multi-worker training runs the Trainer through an executor that starts the worker processes."""
    if cfg.training.strategy == "multi_worker" and cfg.training.workers > 1:
        from tfx.dsl.components.base import executor_spec

        from components.multiworker_trainer.executor import Executor

        return {"custom_executor_spec": executor_spec.ExecutorClassSpec(Executor)}
    return {}


def create_pipeline(
    cfg: PipelineConfig,
    where: Locations,
    *,
    enable_cache: bool = True,
    beam_pipeline_args: Sequence[str] = (),
    metadata_connection_config: Optional[object] = None,
    vertex: Optional[VertexOptions] = None,
    schema_file: Optional[str] = None,
    portable_resolvers: bool = False,
    allow_anomalies: bool = False,
) -> tfx.dsl.Pipeline:
    """The DAG. `schema_file` overrides where ImportSchemaGen reads the curated schema (a container-relative path
    when compiling for the cloud); `vertex` swaps in the Vertex AI Trainer and/or Pusher; `portable_resolvers`
    uses TFX's LatestBlessedModelStrategy, the only blessed-model resolver Kubeflow Pipelines v2 compiles;
    `allow_anomalies` lets the run continue past ExampleValidator anomalies (the AnomaliesGate only logs them)."""
    example_gen = _example_gen(cfg, where)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    if cfg.schema_path:
        schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_file or str(cfg.schema_path))
    else:
        schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=F.transform_config(cfg),
        disable_statistics=True,  # StatisticsGen already describes the data; this saves two full passes
        # The Trainer applies the transform graph to raw examples as it reads them (trainer_module.run.input_fn):
        # no transformed copy of every split is written, and a Trainer reading fewer rows than the data holds
        # (the usual case at scale) transforms only those.
        materialize=False,
        # No analyzer cache: it only pays off for incremental analysis over growing spans, and writing it is an
        # extra branch per analyzer in every run.
        disable_analyzer_cache=True,
    )
    # ExampleValidator only records anomalies; the gate fails the run on them. Transform (and so everything after
    # it) waits for the gate through a task dependency: it has no output to consume.
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"], allow_anomalies=allow_anomalies)
    transform.add_upstream_node(anomalies_gate)
    warm_start_resolver = None
    if cfg.training.warm_start:
        # Its own resolver: the Evaluator's baseline resolver waits for the Trainer, this one feeds it.
        warm_start_resolver = _blessed_model_resolver(cfg, portable_resolvers).with_id("warm_start_model_resolver")
    trainer_args = dict(
        run_fn=RUN_FN,
        base_model=warm_start_resolver.outputs["model"] if warm_start_resolver else None,
        examples=example_gen.outputs["examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=cfg.training.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=cfg.training.eval_steps),
    )
    if vertex and vertex.training:
        vertex_ai = tfx.extensions.google_cloud_ai_platform
        trainer = vertex_ai.Trainer(
            **trainer_args,
            custom_config={
                **trainer_custom_config(cfg),
                vertex_ai.ENABLE_VERTEX_KEY: True,
                vertex_ai.VERTEX_REGION_KEY: vertex.region,
                vertex_ai.TRAINING_ARGS_KEY: {
                    "project": vertex.project,
                    "worker_pool_specs": vertex.worker_pool_specs(),
                },
            },
        )
    else:
        trainer = tfx.components.Trainer(**trainer_args, custom_config=trainer_custom_config(cfg), **_trainer_executor(cfg))
    model_resolver = _blessed_model_resolver(
        cfg, portable_resolvers, candidate=trainer.outputs["model"]
    ).with_id("latest_blessed_model_resolver")
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs[baseline.MODEL_KEY],
        eval_config=eval_config(cfg),
    )
    if vertex and vertex.endpoint:
        vertex_ai = tfx.extensions.google_cloud_ai_platform
        pusher = vertex_ai.Pusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            custom_config={
                vertex_ai.ENABLE_VERTEX_KEY: True,
                vertex_ai.VERTEX_REGION_KEY: vertex.region,
                vertex_ai.VERTEX_CONTAINER_IMAGE_URI_KEY: vertex.serving_image,
                vertex_ai.SERVING_ARGS_KEY: {"project_id": vertex.project, "endpoint_name": vertex.endpoint},
            },
        )
    else:
        # TFX's Pusher copies into <base>/<version> in place, so TF Serving can load a partial version; ours
        # smoke-tests the model on eval examples, adds warmup requests and renames a complete copy into place.
        from components.atomic_pusher import AtomicPusher

        pusher = AtomicPusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            examples=example_gen.outputs["examples"],
            base_directory=f"{where.serving_dir.rstrip('/')}/{cfg.model_name}",
        ).with_id("Pusher")
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
            *([warm_start_resolver] if warm_start_resolver else []),
            trainer,
            model_resolver,
            evaluator,
            pusher,
        ],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(beam_pipeline_args),
    )
