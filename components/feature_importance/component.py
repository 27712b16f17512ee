"""FeatureImportanceComponent's spec and component class (the executor does all the work)."""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.feature_importance import properties as P
from components.feature_importance.artifact import FeatureImportance
from components.feature_importance.executor import Executor


class FeatureImportanceSpec(ComponentSpec):
    """The candidate model, the examples (eval split) and the Evaluator's evaluation (for order only) in; the
    task, label and weight keys, rows, repeats and seed; a FeatureImportance out."""

    PARAMETERS = {
        P.TASK_KEY: ExecutionParameter(type=str),
        P.LABEL_KEY: ExecutionParameter(type=str),
        P.WEIGHT_KEY: ExecutionParameter(type=str),
        P.MAX_ROWS_KEY: ExecutionParameter(type=int),
        P.REPEATS_KEY: ExecutionParameter(type=int),
        P.SEED_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        P.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        P.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        P.EVALUATION_KEY: ChannelParameter(type=standard_artifacts.ModelEvaluation, optional=True),
    }
    OUTPUTS = {
        P.IMPORTANCE_KEY: ChannelParameter(type=FeatureImportance),
    }


class FeatureImportanceComponent(base_component.BaseComponent):
    """Permutation importance of each raw feature of the candidate model on the eval split.

    Reads up to `max_rows` eval rows, scores them through the model's `serving_default` signature (labels and
    weights from its `transform_features` signature), then, per raw column the signature parses, shuffles that
    column `repeats` times (numpy, seeded per column) and records the drop of the task's metric: AUC (binary),
    accuracy (multiclass), R² (regression), or the rise of the mean reconstruction error (autoencoders).

    Usage:

        from components.feature_importance import FeatureImportanceComponent

        importance = FeatureImportanceComponent(
            model=trainer.outputs["model"],
            examples=example_gen.outputs["examples"],
            evaluation=evaluator.outputs["evaluation"],
            task="binary", label_key="tips_xf", weight_key="tips__has_label_xf",
        ).with_id("FeatureImportance")
    """

    SPEC_CLASS = FeatureImportanceSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        model: types.BaseChannel,
        examples: types.BaseChannel,
        task: str,
        label_key: str = "",
        weight_key: str = "",
        evaluation: Optional[types.BaseChannel] = None,
        max_rows: int = 2000,
        repeats: int = 3,
        seed: int = 0,
    ):
        """task: binary | multiclass | regression | reconstruction; label_key, weight_key: the transformed label
        and its has-a-label weight (trainer_module.features.LabelSpec); evaluation: orders it after the Evaluator."""
        spec = FeatureImportanceSpec(
            model=model, examples=examples, evaluation=evaluation, task=task, label_key=label_key,
            weight_key=weight_key, max_rows=max_rows, repeats=repeats, seed=seed,
            importance=types.Channel(type=FeatureImportance),
        )
        super().__init__(spec=spec)
