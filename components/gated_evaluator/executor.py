"""The gated Evaluator's executor: adds the default gates (gates.py) to the EvalConfig, runs TFX's Evaluator
executor unchanged, evaluates the candidate's TFLite model when it has one (compressed.py), and records every gate
in force on the evaluation artifact.

Referenced by class path (`components.gated_evaluator.executor.Executor`) locally and in the Kubeflow/Vertex
container. The naive model is read from `naive_model.json` in the candidate Model artifact, written by the Trainer
(trainer_module.label_stats); a model without one (an autoencoder, or trained before it existed) gets no default
value gates.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

import tensorflow as tf
import tensorflow_model_analysis as tfma
from absl import logging
from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, path_utils, proto_utils

from components.gated_evaluator import compressed
from components.gated_evaluator import gates as G
from trainer_module import custom_ops
from trainer_module.label_stats import NAIVE_MODEL_FILE

# The change-threshold epsilon of pipeline/dag/tfma_config.py: TFMA compares a change strictly.
_EPSILON = 1e-10
# The GatedEvaluator's own parameter (component.py): the compressed model's allowed drop (unset: the default).
COMPRESSED_MAX_DROP_KEY = "compressed_max_drop"


def read_naive_model(model: types.Artifact) -> Optional[dict]:
    """{task, rows, majority_class, majority_rate, ...} from the Trainer's record, or None when it wrote none."""
    path = os.path.join(model.uri, NAIVE_MODEL_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        record = json.load(f)
    return {"task": record.get("task"), **(record.get("naive_model") or {})}


def _overall(metric: tfma.MetricConfig) -> tfma.MetricThreshold:
    """The metric's threshold on the overall slice, created when it has none."""
    for per_slice in metric.per_slice_thresholds:
        if any(not spec.feature_keys and not spec.feature_values for spec in per_slice.slicing_specs):
            return per_slice.threshold
    added = metric.per_slice_thresholds.add()
    added.slicing_specs.add()
    return added.threshold


def configured_gates(eval_config: tfma.EvalConfig) -> list[G.Gate]:
    """The gates the config itself sets (pipeline/dag/tfma_config.py put them there)."""
    found = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            name = G.metric_name(metric.class_name, metric.config)
            thresholds = ([metric.threshold] if metric.HasField("threshold") else []) + [
                t.threshold for t in metric.per_slice_thresholds]
            for threshold in thresholds:
                if threshold.HasField("value_threshold"):
                    v = threshold.value_threshold
                    found.append(G.Gate(
                        name, "value", "config", why="set in the config (evaluation.thresholds)",
                        lower=v.lower_bound.value if v.HasField("lower_bound") else None,
                        upper=v.upper_bound.value if v.HasField("upper_bound") else None))
                if threshold.HasField("change_threshold"):
                    c = threshold.change_threshold
                    higher = c.direction == tfma.MetricDirection.HIGHER_IS_BETTER
                    allowed = c.absolute.value + _EPSILON if higher else -(c.absolute.value - _EPSILON)
                    found.append(G.Gate(name, "change", "config", why="set in the config (evaluation.change_thresholds)",
                                        change=round(allowed, 9), higher_is_better=higher))
    return found


def add_gates(eval_config: tfma.EvalConfig, gates: list[G.Gate]) -> list[G.Gate]:
    """Attaches `gates` to their metrics on the overall slice; returns those whose metric the config computes."""
    by_name = {G.metric_name(m.class_name, m.config): m for spec in eval_config.metrics_specs for m in spec.metrics}
    added = []
    for gate in gates:
        metric = by_name.get(gate.metric)
        if metric is None:
            logging.warning("gated Evaluator: no metric %r in the EvalConfig; default gate skipped", gate.metric)
            continue
        threshold = _overall(metric)
        if gate.kind == "value":
            if gate.lower is not None:
                threshold.value_threshold.lower_bound.value = gate.lower
            if gate.upper is not None:
                threshold.value_threshold.upper_bound.value = gate.upper
        else:
            threshold.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
            threshold.change_threshold.absolute.value = (gate.change or 0.0) - _EPSILON
        added.append(gate)
    return added


def gates_in_force(eval_config: tfma.EvalConfig, naive: Optional[dict]) -> list[G.Gate]:
    """Adds the default gates the config leaves open to `eval_config` (in place); returns every gate in force."""
    configured = configured_gates(eval_config)
    defaults: list[G.Gate] = []
    if naive is not None:
        if not any(g.kind == "value" for g in configured):
            defaults += G.default_value_gates(naive)
        if not any(g.kind == "change" for g in configured):
            defaults += G.default_change_gate(naive.get("task", ""))
    return configured + add_gates(eval_config, defaults)


class Executor(evaluator_executor.Executor):
    """TFX's Evaluator executor with the default gates added and every gate recorded (module docstring)."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        raw_config = exec_properties.get(standard_component_specs.EVAL_CONFIG_KEY)
        models = input_dict.get(standard_component_specs.MODEL_KEY) or []
        for model in models + list(input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or []):
            custom_ops.register_for(path_utils.serving_model_path(model.uri))  # a gbt forest needs TF-DF's ops
        if not raw_config or not models:
            super().Do(input_dict, output_dict, exec_properties)
            return
        eval_config = tfma.EvalConfig()
        proto_utils.json_to_proto(raw_config, eval_config)
        gates = gates_in_force(eval_config, read_naive_model(models[0]))
        for gate in gates:
            logging.info("gate (%s): %s %s %s", gate.source, gate.metric, gate.kind, gate.why)
        super().Do(input_dict, output_dict,
                   {**exec_properties, standard_component_specs.EVAL_CONFIG_KEY: proto_utils.proto_to_json(eval_config)})
        evaluation = artifact_utils.get_single_instance(output_dict[standard_component_specs.EVALUATION_KEY])
        # The candidate's TFLite model, when the Trainer wrote one: its own TFMA run and gate (compressed.py).
        examples = input_dict[standard_component_specs.EXAMPLES_KEY]
        patterns = [io_utils.all_files_pattern(uri) for uri in artifact_utils.get_split_uris(examples, "eval")]
        checked = compressed.evaluate(self._make_beam_pipeline, models[0].uri, patterns, eval_config, evaluation.uri,
                                      exec_properties.get(COMPRESSED_MAX_DROP_KEY))
        if checked is not None:
            verdict, gate = checked
            gates.append(gate)
            evaluation.set_string_custom_property(compressed.COMPRESSED_PROPERTY, json.dumps(verdict))
            logging.info("gate (%s): %s %s %s: %s", gate.source, gate.metric, gate.kind, gate.why, verdict)
            if not verdict["passed"]:
                compressed.unbless(artifact_utils.get_single_instance(
                    output_dict[standard_component_specs.BLESSING_KEY]))
        evaluation.set_string_custom_property(G.GATES_PROPERTY, G.to_json(gates))
