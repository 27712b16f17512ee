"""Builders of the DAG's model half: the Trainer (its custom_config and executor), the blessed-model resolvers, the
Evaluator and the Pusher."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

# Not in tfx.v1: TFX's documented way to give a standard component another executor (tfx.v1.components.Trainer's
# custom_executor_spec argument). Subclassing Trainer instead would rename the node's type in ML Metadata.
from tfx.dsl.components.base.executor_spec import ExecutorClassSpec

from components.baseline_resolver import strategy as baseline
from pipeline.config.schema import PipelineConfig
from pipeline.dag import node_ids
from pipeline.dag import tfx_api as tfx
from pipeline.dag.targets import Locations, VertexOptions
from pipeline.dag.tfma_config import eval_config
from trainer_module import features as F
from trainer_module.auto_family import REUSE_KEY

RUN_FN = "trainer_module.run.run_fn"
TUNER_FN = "trainer_module.tuning.tuner_fn"


def trainer_custom_config(cfg: PipelineConfig, auto_choice: Optional[Mapping[str, Any]] = None) -> dict:
    """What run_fn reads besides its inputs: the transform settings, the model family and hparams, training.
    `auto_choice`: with model.family auto, an earlier run's choice for this same config, trained alone."""
    auto = cfg.model.family == "auto"
    return {
        **F.transform_config(cfg),
        "model": {"family": cfg.model.family, "hparams": cfg.model.effective_hparams,
                  # auto trains several families (trainer_module.auto_family): each with its own hparams
                  **({"hparams_by_family": dict(cfg.model.hparams_by_family),
                      "auto_max_seconds": cfg.model.auto_max_seconds} if auto else {}),
                  **({REUSE_KEY: dict(auto_choice)} if auto and auto_choice else {}),
                  # the TFLite model beside the SavedModel (trainer_module.tflite_export); absent: none
                  **({"export": {"quantize": cfg.model.export.quantize}} if cfg.model.export.quantize else {})},
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
            # magnitude pruning (trainer_module.pruning), the Tuner's trials too; absent: the cache key is unchanged
            **({"prune": dataclasses.asdict(cfg.training.prune)} if cfg.training.prune else {}),
        },
        # The Tuner reads it; the Trainer's copy makes a tuning change re-train even when the best values repeat.
        **({"tuning": {"trials": cfg.tuning.trials, "max_seconds": cfg.tuning.max_seconds,
                       "search_space": dict(cfg.tuning.search_space)}} if cfg.tuning.enabled else {}),
    }


def trainer_executor_class(cfg: PipelineConfig) -> type:
    """The executor of a Trainer that runs in the pipeline's own process or container. Both record the model
    family on the Model artifact (the baseline resolver filters on it); multi-worker training also starts the
    worker processes."""
    if cfg.training.strategy == "multi_worker" and cfg.training.workers > 1:
        from components.multiworker_trainer.executor import Executor as MultiWorkerExecutor

        return MultiWorkerExecutor
    from components.tagged_trainer.executor import Executor as TaggedExecutor

    return TaggedExecutor


def trainer(
    cfg: PipelineConfig,
    *,
    examples: Any,
    transform_graph: Any,
    schema: Any,
    base_model: Optional[Any] = None,
    vertex: Optional[VertexOptions] = None,
    hyperparameters: Optional[Any] = None,
    auto_choice: Optional[Mapping[str, Any]] = None,
):
    """The Trainer: in the pipeline's process (locally, or in the KFP/Vertex container), or as a Vertex AI custom
    job when `vertex.training`. `base_model` is the warm-start model channel, `hyperparameters` the Tuner's best
    ones, if any; `auto_choice` an earlier run's model.family auto choice to reuse."""
    args = dict(
        run_fn=RUN_FN,
        base_model=base_model,
        hyperparameters=hyperparameters,
        examples=examples,
        transform_graph=transform_graph,
        schema=schema,
        train_args=tfx.proto.TrainArgs(num_steps=cfg.training.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=cfg.training.eval_steps),
    )
    if vertex and vertex.training:
        vertex_ai = tfx.extensions.google_cloud_ai_platform
        custom_config = {
            **trainer_custom_config(cfg, auto_choice),
            vertex_ai.ENABLE_VERTEX_KEY: True,
            vertex_ai.VERTEX_REGION_KEY: vertex.region,
            vertex_ai.TRAINING_ARGS_KEY: {"project": vertex.project, "worker_pool_specs": vertex.worker_pool_specs()},
        }
        return vertex_ai.Trainer(**args, custom_config=custom_config).with_id(node_ids.TRAINER)
    return tfx.components.Trainer(
        **args,
        custom_config=trainer_custom_config(cfg, auto_choice),
        custom_executor_spec=ExecutorClassSpec(trainer_executor_class(cfg)),
    ).with_id(node_ids.TRAINER)


def tuner(cfg: PipelineConfig, *, examples: Any, transform_graph: Any, schema: Any):
    """TFX's Tuner with KerasTuner (trainer_module.tuning.tuner_fn): a random search over the family's
    hyperparameters, each trial trained by the Trainer's code; its best values feed the Trainer. Cached like any
    component: the same inputs and tuning config reuse the last search."""
    steps = cfg.tuning.train_steps or cfg.training.train_steps
    return tfx.components.Tuner(
        tuner_fn=TUNER_FN,
        examples=examples,
        transform_graph=transform_graph,
        schema=schema,
        train_args=tfx.proto.TrainArgs(num_steps=steps),
        eval_args=tfx.proto.EvalArgs(num_steps=cfg.training.eval_steps),
        custom_config=trainer_custom_config(cfg),
    ).with_id(node_ids.TUNER)


def blessed_model_resolver(cfg: PipelineConfig, portable: bool, candidate: Any = None) -> tfx.dsl.Resolver:
    """The latest blessed model of this family, never `candidate` (LatestBlessedOtherModelStrategy); with
    `portable`, TFX's LatestBlessedModelStrategy, which compiles to KFP v2 but sees neither."""
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


def warm_start_resolver(cfg: PipelineConfig, portable: bool) -> tfx.dsl.Resolver:
    """The Trainer's warm-start source. Its own resolver: the Evaluator's baseline resolver waits for the Trainer,
    this one feeds it."""
    return blessed_model_resolver(cfg, portable).with_id(node_ids.WARM_START_RESOLVER)


def baseline_resolver(cfg: PipelineConfig, portable: bool, candidate: Any) -> tfx.dsl.Resolver:
    """The Evaluator's baseline: the latest blessed model other than `candidate`, this run's Trainer model."""
    return blessed_model_resolver(cfg, portable, candidate=candidate).with_id(node_ids.BASELINE_RESOLVER)


def evaluator(cfg: PipelineConfig, *, examples: Any, model: Any, baseline_model: Any):
    """TFX's Evaluator run by the gated executor: the config's gates, plus the default ones it leaves open
    ("better than the naive model", "not worse than the baseline"; components/gated_evaluator)."""
    from components.gated_evaluator.component import GatedEvaluator

    return GatedEvaluator(
        examples=examples, model=model, baseline_model=baseline_model, eval_config=eval_config(cfg),
        # the compressed (TFLite) model's gate; unset: the objective's default (components/gated_evaluator/gates.py)
        compressed_max_drop=cfg.evaluation.compressed_max_drop if cfg.model.export.quantize else None,
    ).with_id(node_ids.EVALUATOR)


def feature_importance(cfg: PipelineConfig, *, model: Any, examples: Any, evaluation: Any):
    """Permutation importance of the candidate's raw features on the eval split, after the Evaluator (its
    `evaluation` input orders it; components/feature_importance)."""
    from components.feature_importance import FeatureImportanceComponent

    label = F.label_spec(F.transform_config(cfg))
    return FeatureImportanceComponent(
        model=model, examples=examples, evaluation=evaluation, task=cfg.objective, label_key=label.transformed_key,
        weight_key=label.weight_key, max_rows=cfg.importance.max_rows, repeats=cfg.importance.repeats,
        seed=cfg.importance.seed,
    ).with_id(node_ids.FEATURE_IMPORTANCE)


def pusher(
    cfg: PipelineConfig,
    where: Locations,
    *,
    model: Any,
    model_blessing: Any,
    examples: Any,
    vertex: Optional[VertexOptions] = None,
):
    """A blessed model to <serving_dir>/<model_name>/<version> (AtomicPusher), or to a Vertex AI endpoint."""
    if vertex and vertex.endpoint:
        vertex_ai = tfx.extensions.google_cloud_ai_platform
        return vertex_ai.Pusher(
            model=model,
            model_blessing=model_blessing,
            custom_config={
                vertex_ai.ENABLE_VERTEX_KEY: True,
                vertex_ai.VERTEX_REGION_KEY: vertex.region,
                vertex_ai.VERTEX_CONTAINER_IMAGE_URI_KEY: vertex.serving_image,
                vertex_ai.SERVING_ARGS_KEY: {"project_id": vertex.project, "endpoint_name": vertex.endpoint},
            },
        ).with_id(node_ids.PUSHER)
    # TFX's Pusher copies into <base>/<version> in place, so TF Serving can load a partial version; ours
    # smoke-tests the model on eval examples, adds warmup requests and renames a complete copy into place.
    from components.atomic_pusher import AtomicPusher

    return AtomicPusher(
        model=model,
        model_blessing=model_blessing,
        examples=examples,
        base_directory=f"{where.serving_dir.rstrip('/')}/{cfg.model_name}",
    ).with_id(node_ids.PUSHER)
