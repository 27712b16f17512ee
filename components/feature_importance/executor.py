"""FeatureImportance's executor: read eval rows, load the candidate once, score each raw column's shuffles.

Inputs are checked first (one model, one Examples artifact with an eval split of tf.Examples, valid parameters);
then up to `max_rows` eval rows are read, their labels and weights taken from the model's `transform_features`
signature (rows weighing 0, without a label, are left out as the Evaluator leaves them out), and
permutation.importance calls `serving_default` on the rows without the label. Writes importance.json into the
output artifact and records the metric, the baseline and the top features as its custom properties.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor

from components import eval_split
from components.feature_importance import permutation
from components.feature_importance import properties as P
from components.feature_importance.artifact import FeatureImportance  # noqa: F401  (registers the type by name)
from trainer_module import serving_contract as contract

WHO = "FeatureImportance"


def _single(artifacts: Optional[Sequence[types.Artifact]], key: str, where: str) -> types.Artifact:
    artifacts = list(artifacts or [])
    if len(artifacts) != 1:
        raise ValueError(f"{WHO}: expected exactly one `{key}` {where} artifact, got {len(artifacts)}.")
    return artifacts[0]


def validate_parameters(task: Any, max_rows: Any, repeats: Any, seed: Any) -> None:
    """ValueError naming the parameter when one is out of range (the config loader checks the same earlier)."""
    if task not in permutation.METRICS:
        raise ValueError(f"{WHO}: `{P.TASK_KEY}` is {task!r}; expected one of {', '.join(permutation.METRICS)}.")
    for key, value, minimum in ((P.MAX_ROWS_KEY, max_rows, 2), (P.REPEATS_KEY, repeats, 1), (P.SEED_KEY, seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{WHO}: `{key}` is {value!r}; expected an integer ≥ {minimum}.")


def read_eval_records(examples: types.Artifact, limit: int) -> List[bytes]:
    """Up to `limit` serialized tf.Examples from the eval split, in file order (gzip or plain TFRecords)."""
    return eval_split.read_eval_records(examples, limit, WHO, "importance is measured on it")


class Model:
    """The candidate SavedModel, loaded once: its serving output and its transformed label and weight."""

    def __init__(self, model_dir: str, task: str):
        import tensorflow as tf

        from trainer_module.custom_ops import register_for

        self._tf = tf
        register_for(model_dir)  # a gbt forest runs TF-DF's inference ops
        self.loaded = tf.saved_model.load(model_dir)
        for name in (contract.SERVING_SIGNATURE, contract.TRANSFORM_SIGNATURE):
            if name not in self.loaded.signatures:
                raise ValueError(f"{WHO}: the model at {model_dir} has no {name!r} signature (it has: "
                                 f"{', '.join(sorted(self.loaded.signatures))}); it must be exported by "
                                 "trainer_module.export.")
        self.serve = self.loaded.signatures[contract.SERVING_SIGNATURE]
        self.transform = self.loaded.signatures[contract.TRANSFORM_SIGNATURE]
        self.output = contract.output_key(task, task == "reconstruction")

    def predict(self, batch: List[bytes]):
        out = self.serve(**{contract.INPUT_KEY: self._tf.constant(batch)})
        return out[self.output].numpy()

    def labels(self, records: List[bytes], label_key: str, weight_key: str, needs_label: bool):
        """(label per row or None, weight per row): the transformed label and its has-a-label weight."""
        import numpy as np

        labels, weights = [], []
        for i in range(0, len(records), permutation.BATCH):
            out = self.transform(**{contract.INPUT_KEY: self._tf.constant(records[i:i + permutation.BATCH])})
            if needs_label and label_key not in out:
                raise ValueError(f"{WHO}: transform_features returns no {label_key!r} (it returns "
                                 f"{', '.join(sorted(out))}); check the label key of the pipeline config.")
            if needs_label:
                labels.append(out[label_key].numpy().reshape(-1))
            weights.append(out[weight_key].numpy().reshape(-1) if weight_key in out
                           else np.ones(len(records[i:i + permutation.BATCH]), dtype=np.float32))
        return (np.concatenate(labels) if needs_label else None), np.concatenate(weights)


def measure(model_dir: str, records: List[bytes], task: str, label_key: str, weight_key: str, repeats: int,
            seed: int) -> permutation.Result:
    """The importance of each column `serving_default` parses, on the labelled ones of `records`."""
    import numpy as np

    from components.atomic_pusher import signature as sig

    columns = list(sig.serving_input_features(model_dir, contract.SERVING_SIGNATURE))
    model = Model(model_dir, task)
    needs_label = task != "reconstruction"
    labels, weights = model.labels(records, label_key, weight_key, needs_label)
    keep = np.flatnonzero(weights > 0)
    records = [records[i] for i in keep]
    labels = labels[keep] if labels is not None else np.zeros(len(records))
    metric, higher = permutation.METRICS[task]
    note = "no eval row has a label" if not records else permutation.usable(task, labels)
    if note:
        logging.warning("%s: no importances: %s.", WHO, note)
        return permutation.Result(metric, higher, float("nan"), len(records), repeats, seed, [], note)
    table = permutation.Table(records, columns)
    return permutation.importance(model.predict, table, labels, task, repeats, seed)


class Executor(base_executor.BaseExecutor):
    """Writes the permutation importance of the candidate model's raw features (components.feature_importance)."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]], output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        import time

        from tfx.utils import path_utils

        self._log_startup(input_dict, output_dict, exec_properties)
        model = _single(input_dict.get(P.MODEL_KEY), P.MODEL_KEY, "input")
        examples = _single(input_dict.get(P.EXAMPLES_KEY), P.EXAMPLES_KEY, "input")
        output = _single(output_dict.get(P.IMPORTANCE_KEY), P.IMPORTANCE_KEY, "output")
        task = exec_properties.get(P.TASK_KEY)
        max_rows, repeats, seed = (exec_properties.get(k) for k in (P.MAX_ROWS_KEY, P.REPEATS_KEY, P.SEED_KEY))
        validate_parameters(task, max_rows, repeats, seed)
        label_key, weight_key = exec_properties.get(P.LABEL_KEY) or "", exec_properties.get(P.WEIGHT_KEY) or ""
        if task != "reconstruction" and not label_key:
            raise ValueError(f"{WHO}: `{P.LABEL_KEY}` is empty; a {task} model is scored against its label.")

        start = time.monotonic()
        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        records = read_eval_records(examples, max_rows)
        result = measure(model_dir, records, task, label_key, weight_key, repeats, seed)
        write(output, result)
        logging.info("%s: %d columns on %d eval rows × %d in %.1f s.", WHO, len(result.features), result.rows,
                     repeats, time.monotonic() - start)


def write(output: types.Artifact, result: permutation.Result) -> None:
    """importance.json and the artifact's custom properties."""
    import tensorflow as tf

    tf.io.gfile.makedirs(output.uri)
    with tf.io.gfile.GFile(os.path.join(output.uri, P.IMPORTANCE_FILE), "w") as f:
        f.write(json.dumps(result.to_json(), indent=1, allow_nan=True))
    output.set_string_custom_property(P.METRIC_PROPERTY, result.metric)
    output.set_float_custom_property(P.BASELINE_PROPERTY, result.baseline)
    output.set_int_custom_property(P.ROWS_PROPERTY, result.rows)
    output.set_int_custom_property(P.REPEATS_PROPERTY, result.repeats)
    top = [[f.name, round(f.importance, 6)] for f in result.features[:P.TOP]]
    output.set_string_custom_property(P.TOP_FEATURES_PROPERTY, json.dumps(top))
