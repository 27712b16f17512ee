"""GatedEvaluator: TFX's Evaluator component (same spec, inputs and outputs) run by the gated executor."""

from __future__ import annotations

from tfx.components.evaluator.component import Evaluator
from tfx.dsl.components.base import executor_spec

from components.gated_evaluator.executor import Executor


class GatedEvaluator(Evaluator):
    """The Evaluator whose executor adds the default gates and records every gate (components.gated_evaluator)."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
