"""Trainer executor: TFX's GenericExecutor, then the model family from custom_config set on the output Model.

Referenced by class path (`components.tagged_trainer.executor.Executor`) as the Trainer's custom executor, locally
and in the Kubeflow/Vertex container; it imports nothing beyond what GenericExecutor imports.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.trainer import executor as trainer_executor
from tfx.types import artifact_utils, standard_component_specs

from components.tagged_trainer.properties import MODEL_FAMILY_PROPERTY


def configured_family(exec_properties: Dict[str, Any]) -> str:
    """custom_config["model"]["family"]; ValueError when it is missing, checked before any training starts."""
    custom = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if isinstance(custom, str):
        custom = json.loads(custom or "null")
    family = ((custom or {}).get("model") or {}).get("family")
    if not isinstance(family, str) or not family:
        raise ValueError(
            f"Trainer: custom_config has no model family (custom_config['model']['family'] = {family!r}); the "
            "tagged Trainer executor records it on the Model artifact, so the Trainer's custom_config must name it."
        )
    return family


def tag(model: types.Artifact, family: str) -> None:
    """Records the family on the Model artifact; the orchestrator publishes it to ML Metadata with the artifact."""
    model.set_string_custom_property(MODEL_FAMILY_PROPERTY, family)


def trained_family(output_dict: Dict[str, List[types.Artifact]], configured: str) -> str:
    """The family run_fn trained: the configured one, or for `auto` the one it kept (training_summary.json)."""
    if configured != "auto":
        return configured
    import tensorflow as tf

    from trainer_module.training_summary import SUMMARY_FILE

    model_run = artifact_utils.get_single_instance(output_dict[standard_component_specs.MODEL_RUN_KEY])
    path = f"{model_run.uri.rstrip('/')}/{SUMMARY_FILE}"
    with tf.io.gfile.GFile(path) as f:
        return str(json.load(f)["model_family"])


class Executor(trainer_executor.GenericExecutor):
    """GenericExecutor whose output Model carries the custom property `model_family`."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        family = configured_family(exec_properties)
        model = artifact_utils.get_single_instance(output_dict[standard_component_specs.MODEL_KEY])
        self.train(input_dict, output_dict, exec_properties)
        family = trained_family(output_dict, family)
        tag(model, family)
        logging.info("Trainer: the model in %s is tagged %s=%r.", model.uri, MODEL_FAMILY_PROPERTY, family)

    def train(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        """Trains and writes the model (GenericExecutor.Do); executors that train differently override this."""
        super().Do(input_dict, output_dict, exec_properties)
