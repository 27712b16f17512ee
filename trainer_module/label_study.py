"""What the Trainer learns about the label from the train split before fitting: class names and counts
(classification) or the target's scaling (regression), recorded in training_summary.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import tensorflow as tf
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer_module import datasets
from trainer_module import features as F
from trainer_module import label_stats


@dataclass(frozen=True)
class Label:
    """What the Trainer learned about the label from the train split (recorded in training_summary.json)."""

    spec: F.LabelSpec
    class_names: Optional[list[str]]  # classification: the name of each class id, as the data writes it
    named: bool  # the names are the user's strings (served as `classes`), not class numbers
    naive: Optional[dict]  # the majority-class model, for the Evaluator's default gates
    scaling: Optional[label_stats.TargetScaling]  # regression: how the target is scaled for training
    scaling_why: str = ""

    @property
    def served_names(self) -> Optional[list[str]]:
        """Class names the serving signature returns: every multiclass label's, a binary label's when it is
        written as strings (a 0/1 label's names would say nothing)."""
        if self.spec.task == "multiclass" or (self.spec.task == "binary" and self.named):
            return self.class_names
        return None

    def record(self) -> dict[str, Any]:
        return {
            "key": self.spec.key,
            "task": self.spec.task,
            "classes": self.class_names,
            "positive": self.class_names[1] if self.spec.task == "binary" and self.class_names else None,
            "naive_model": self.naive,
            "target_scaling": label_stats.scaling_record(self.scaling, self.scaling_why),
        }


def study_label(fn_args: FnArgs, tf_transform_output: Any, custom: Mapping[str, Any], spec: F.ModelSpec) -> Label:
    """Class names and counts (classification) or the target's scaling (regression), from the train split."""
    label = F.label_spec(custom)
    if label.task == "regression":
        values = label_stats.labels_of(datasets.train_labels(fn_args, tf_transform_output, label).as_numpy_iterator())
        scaling, why = label_stats.choose_scaling(values)
        naive = {"rows": int(values.size), **label_stats.describe(values)}
        logging.info("regression target: %s", why)
        return Label(label, None, False, naive, scaling, why)
    raw_spec = tf_transform_output.raw_feature_spec()
    named = bool(label.column and raw_spec[label.column].dtype == tf.string)
    names = label_stats.class_names(tf_transform_output, label, spec.num_classes, named)
    # Without counts (the config sets its own value gates), the naive model is not needed.
    naive = label_stats.naive_classifier(label_stats.class_counts(tf_transform_output), names) if label.counts else None
    return Label(label, names, named, naive, None)
