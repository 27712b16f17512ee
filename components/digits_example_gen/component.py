"""DigitsExampleGen's component spec and component class (the executor does all the work)."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.digits_example_gen.executor import (
    DEFAULT_EVAL_PERCENT,
    DEFAULT_SEED,
    EVAL_PERCENT_KEY,
    EXAMPLES_KEY,
    SEED_KEY,
    Executor,
)


class DigitsExampleGenSpec(ComponentSpec):
    """No inputs; `eval_percent` and `seed` choose the split; one `examples` output with train and eval splits."""

    PARAMETERS = {
        EVAL_PERCENT_KEY: ExecutionParameter(type=int),
        SEED_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {}
    OUTPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
    }


class DigitsExampleGen(base_component.BaseComponent):
    """Writes sklearn's 1,797 handwritten digits as gzipped tf.Examples, split stratified by class into train/eval.

    Each example has `pixels` (64 floats in 0..16, the 8x8 image row by row) and `label` (int64, 0..9).
    The data ships inside scikit-learn, so the component needs no input and no network; the same
    `eval_percent` and `seed` always give byte-identical splits, which keeps reruns cached downstream.

    Usage:

        from components.digits_example_gen import DigitsExampleGen

        example_gen = DigitsExampleGen(eval_percent=20, seed=0)
        statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
        schema_importer = Importer(source_uri="schemas/digits", artifact_type=Schema)

    Component `outputs` contains:

      - `examples`: Channel of type `standard_artifacts.Examples` with splits `train` and `eval`.
    """

    SPEC_CLASS = DigitsExampleGenSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, eval_percent: int = DEFAULT_EVAL_PERCENT, seed: int = DEFAULT_SEED):
        """eval_percent: share of each class (1..90) written to `eval`; seed: fixes which rows those are."""
        examples = types.Channel(type=standard_artifacts.Examples)
        spec = DigitsExampleGenSpec(eval_percent=eval_percent, seed=seed, examples=examples)
        super().__init__(spec=spec)
