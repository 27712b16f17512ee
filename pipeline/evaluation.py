"""The TFMA EvalConfig for a pipeline config: metrics for its task, value and change thresholds, slices."""

from __future__ import annotations

import tensorflow_model_analysis as tfma

from pipeline.config import TASK_METRICS, PipelineConfig
from trainer_module import features as F
from trainer_module.run import SERVING_SIGNATURE, TRANSFORM_SIGNATURE

# TFMA compares a change with strict inequalities; this epsilon makes "change 0" mean "not worse".
_EPSILON = 1e-10


def metric_threshold(cfg: PipelineConfig, metric: str) -> tfma.MetricThreshold | None:
    _, direction = TASK_METRICS[cfg.task][metric]
    value = cfg.evaluation.thresholds.get(metric)
    change = cfg.evaluation.change_thresholds.get(metric)
    if value is None and change is None:
        return None
    threshold = tfma.MetricThreshold()
    if value is not None:
        if value.lower is not None:
            threshold.value_threshold.lower_bound.value = value.lower
        if value.upper is not None:
            threshold.value_threshold.upper_bound.value = value.upper
    if change is not None:
        # Config: the allowed change in the "better" direction (0: not worse; -0.01: may drop by 0.01).
        if direction == "higher":
            threshold.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
            threshold.change_threshold.absolute.value = change - _EPSILON
        else:
            threshold.change_threshold.direction = tfma.MetricDirection.LOWER_IS_BETTER
            threshold.change_threshold.absolute.value = -change + _EPSILON
    return threshold


def eval_config(cfg: PipelineConfig) -> tfma.EvalConfig:
    metrics = []
    for name, (class_name, _) in TASK_METRICS[cfg.task].items():
        metric = tfma.MetricConfig(class_name=class_name)
        threshold = metric_threshold(cfg, name)
        if threshold is not None and cfg.evaluation.thresholds_on_slices:
            metric.threshold.CopyFrom(threshold)  # TFMA applies a plain threshold to every slice
        elif threshold is not None:
            metric.per_slice_thresholds.append(
                tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)
            )
        metrics.append(metric)
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SERVING_SIGNATURE,
                label_key=F.transformed_name(cfg.label.key),
                preprocessing_function_names=[TRANSFORM_SIGNATURE],
            )
        ],
        slicing_specs=[tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=[s]) for s in cfg.evaluation.slices],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )
