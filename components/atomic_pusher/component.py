"""AtomicPusher's component spec and component class (the executor does all the work)."""

from __future__ import annotations

from typing import Optional

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.atomic_pusher.executor import Executor
from components.atomic_pusher.parameters import (
    BASE_DIRECTORY_KEY,
    DEFAULT_WARMUP_EXAMPLES,
    EXAMPLES_KEY,
    MODEL_BLESSING_KEY,
    MODEL_KEY,
    WARMUP_EXAMPLES_KEY,
)
from components.atomic_pusher.properties import PUSHED_MODEL_KEY


class AtomicPusherSpec(ComponentSpec):
    """A model, its blessing and (optionally) examples in; `base_directory`, `warmup_examples`; a PushedModel out."""

    PARAMETERS = {
        BASE_DIRECTORY_KEY: ExecutionParameter(type=str),
        WARMUP_EXAMPLES_KEY: ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
        MODEL_BLESSING_KEY: ChannelParameter(type=standard_artifacts.ModelBlessing),
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
    }
    OUTPUTS = {
        PUSHED_MODEL_KEY: ChannelParameter(type=standard_artifacts.PushedModel),
    }


class AtomicPusher(base_component.BaseComponent):
    """Pushes a blessed model into TF Serving's layout, `<base_directory>/<version>/`, so that a partial version is
    never visible, after checking that it serves.

    Only when `model_blessing` is blessed: loads the candidate SavedModel, calls its serving signature on up to
    `warmup_examples` serialized tf.Examples from the eval split of `examples` (fails on an error or a non-finite
    output), copies it into `<base_directory>/.tmp-<version>-<random>` with
    `assets.extra/tf_serving_warmup_requests` (PredictionLog TFRecords of those examples, replayed by TF Serving
    when it loads the version) and `assets.extra/tfx_e2e_push.json` (Model URI and content fingerprint), loads and
    replays that copy, and renames it to `<base_directory>/<version>`. Versions are the unix time but always above
    the highest existing one; pushing the model the latest version already holds reuses that version.

    The `pushed_model` output carries the custom properties TFX's Pusher sets: `pushed` (1 or 0),
    `pushed_destination` (the version directory) and `pushed_version`.

    Usage:

        from components.atomic_pusher import AtomicPusher

        pusher = AtomicPusher(
            model=trainer.outputs["model"],
            model_blessing=evaluator.outputs["blessing"],
            examples=example_gen.outputs["examples"],
            base_directory="/srv/serving/taxi",
        ).with_id("Pusher")
    """

    SPEC_CLASS = AtomicPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        model: types.BaseChannel,
        model_blessing: types.BaseChannel,
        base_directory: str,
        examples: Optional[types.BaseChannel] = None,
        warmup_examples: int = DEFAULT_WARMUP_EXAMPLES,
    ):
        """base_directory: <serving_dir>/<model_name>, local or gs://; its last component is the model name in the
        warmup requests. warmup_examples: eval examples for the smoke test and warmup request (1..1000)."""
        pushed_model = types.Channel(type=standard_artifacts.PushedModel)
        spec = AtomicPusherSpec(
            model=model,
            model_blessing=model_blessing,
            examples=examples,
            base_directory=base_directory,
            warmup_examples=warmup_examples,
            pushed_model=pushed_model,
        )
        super().__init__(spec=spec)
