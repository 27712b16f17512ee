"""GatedEvaluator: TFX's Evaluator component (same inputs and outputs, one more parameter) run by the gated
executor."""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.components.evaluator.component import Evaluator
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import json_utils

from components.gated_evaluator.executor import COMPRESSED_MAX_DROP_KEY, Executor


class GatedEvaluatorSpec(standard_component_specs.EvaluatorSpec):
    """TFX's EvaluatorSpec plus `compressed_max_drop` (the compressed model's gate; unset: the default)."""

    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        COMPRESSED_MAX_DROP_KEY: ExecutionParameter(type=float, optional=True),
    }


class GatedEvaluator(Evaluator):
    """The Evaluator whose executor adds the default gates, evaluates the candidate's TFLite model when it has one
    (components.gated_evaluator.compressed) and records every gate.

    Usage: `GatedEvaluator(examples=..., model=..., baseline_model=..., eval_config=...)`."""

    SPEC_CLASS = GatedEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, examples: types.BaseChannel, model: Optional[types.BaseChannel] = None,
                 baseline_model: Optional[types.BaseChannel] = None, eval_config=None,
                 compressed_max_drop: Optional[float] = None):
        spec = GatedEvaluatorSpec(
            examples=examples, model=model, baseline_model=baseline_model, eval_config=eval_config,
            # TFX's Evaluator passes these as JSON null; the same values keep its exec properties unchanged.
            fairness_indicator_thresholds=json_utils.dumps(None), example_splits=json_utils.dumps(None),
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            **({COMPRESSED_MAX_DROP_KEY: float(compressed_max_drop)} if compressed_max_drop is not None else {}))
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
