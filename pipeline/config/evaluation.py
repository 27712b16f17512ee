"""The evaluation section of a config: which metrics each task computes (TASK_METRICS, TFMA's names for them),
value and change thresholds, slices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from components.gated_evaluator.gates import metric_name  # plain Python, no TFX
from trainer_module.models import RECONSTRUCTION_FAMILIES  # TF-free: the family registry

# Metrics the Evaluator computes per task: TFMA metric name -> (TFMA/Keras class name, which direction is better).
# Thresholds in a config may name only these; pipeline/dag/tfma_config.py builds the TFMA config from this table.
# Plots the Evaluator also computes per task (TFMA class -> its options), for the run report: a calibration plot
# and the confusion matrices at thresholds that ROC and precision-recall curves are drawn from.
TASK_PLOTS: dict[str, dict[str, dict]] = {
    "binary": {"CalibrationPlot": {"num_buckets": 10}, "ConfusionMatrixPlot": {"num_thresholds": 100}},
}
# Classes not in TFMA or Keras, and the module that defines them:
METRIC_MODULES = {"RSquared": "components.gated_evaluator.r_squared"}
TASK_METRICS: dict[str, dict[str, tuple[str, str]]] = {
    "binary": {
        "auc": ("AUC", "higher"),
        "binary_accuracy": ("BinaryAccuracy", "higher"),
        "precision": ("Precision", "higher"),
        "recall": ("Recall", "higher"),
        "calibration": ("Calibration", "higher"),
        "mean_label": ("MeanLabel", "higher"),
        "mean_prediction": ("MeanPrediction", "higher"),
        "example_count": ("ExampleCount", "higher"),
    },
    "multiclass": {
        "sparse_categorical_accuracy": ("SparseCategoricalAccuracy", "higher"),
        "example_count": ("ExampleCount", "higher"),
    },
    "regression": {
        "mean_squared_error": ("MeanSquaredError", "lower"),
        "mean_absolute_error": ("MeanAbsoluteError", "lower"),
        # 1 - MSE / the label's variance on the eval split: > 0 is better than predicting the mean.
        "r_squared": ("RSquared", "higher"),
        "example_count": ("ExampleCount", "higher"),
    },
    # Autoencoders: the serving signature's per-example reconstruction error is the "prediction".
    "reconstruction": {
        "mean_reconstruction_error": ("MeanPrediction", "lower"),
        "example_count": ("ExampleCount", "higher"),
    },
}


@dataclass(frozen=True)
class Threshold:
    """Bounds a metric's value must stay within for the model to be blessed."""

    lower: Optional[float] = None
    upper: Optional[float] = None


@dataclass(frozen=True)
class EvaluationConfig:
    """The `evaluation` section: gates (value and change thresholds), slices, per-family gates."""

    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    # Allowed change against the latest blessed baseline, per metric, in the metric's "better" direction:
    # 0 means "not worse than the baseline"; -0.01 tolerates a drop of 0.01.
    change_thresholds: Mapping[str, float] = field(default_factory=dict)
    slices: tuple[str, ...] = ()
    # Thresholds gate the overall slice; true applies them to every slice too (small slices are noisy).
    thresholds_on_slices: bool = False
    # Per model family gates, replacing thresholds/change_thresholds for that family (an autoencoder is judged
    # on reconstruction error, not accuracy): {autoencoder: {thresholds: {...}, change_thresholds: {...}}}.
    by_family: Mapping[str, "Gates"] = field(default_factory=dict)
    # With model.export.quantize: how much lower the compressed (TFLite) model's main metric may be than the full
    # model's on the eval split (null: pipeline/config/compression.py DEFAULT_MAX_DROP for the objective).
    compressed_max_drop: Optional[float] = None


@dataclass(frozen=True)
class Gates:
    """The value and change thresholds in force for one model family."""

    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    change_thresholds: Mapping[str, float] = field(default_factory=dict)


def objective_of(task: str, family: str) -> str:
    """What the Evaluator measures: the task, or reconstruction for autoencoders."""
    return "reconstruction" if family in RECONSTRUCTION_FAMILIES else task


def metric_default_name(class_name: str) -> str:
    """TFMA's own name for a metric class (AUC → auc, BinaryAccuracy → binary_accuracy): the gated Evaluator's rule,
    which reads the same names back from an EvalConfig."""
    return metric_name(class_name)
