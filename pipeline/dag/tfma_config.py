"""The TFMA EvalConfig for a pipeline config: metrics for its objective, value and change thresholds, slices."""

from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from pipeline.config.evaluation import METRIC_MODULES, TASK_METRICS, TASK_PLOTS, metric_default_name
from pipeline.config.schema import PipelineConfig
from trainer_module import features as F
from trainer_module.serving_contract import SERVING_SIGNATURE, TRANSFORM_SIGNATURE, output_key

# TFMA's AUC defaults to 10,000 thresholds, i.e. a 10,000-bucket histogram that every slice's metrics re-bin in
# Python; 1,000 moves the AUC by less than 1e-3 here and takes ~1 s off the Evaluator (benchmarks/RESULTS.md).
AUC_THRESHOLDS = 1000

# TFMA compares a change with strict inequalities; this epsilon makes "change 0" mean "not worse".
_EPSILON = 1e-10


def metric_threshold(cfg: PipelineConfig, metric: str) -> tfma.MetricThreshold | None:
    """The value and change bounds the config sets for `metric`, in TFMA's terms; None when it sets none."""
    _, direction = TASK_METRICS[cfg.objective][metric]
    gates = cfg.gates
    value = gates.thresholds.get(metric)
    change = gates.change_thresholds.get(metric)
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
    """The Evaluator's EvalConfig: the objective's metrics (TASK_METRICS) with their gates and its plots
    (TASK_PLOTS), on the overall slice and each configured slice, read through the model's serving and transform
    signatures."""
    metrics = []
    for name, (class_name, _) in TASK_METRICS[cfg.objective].items():
        metric = tfma.MetricConfig(class_name=class_name, module=METRIC_MODULES.get(class_name, ""))
        options = {"name": name} if name != metric_default_name(class_name) else {}
        if class_name == "AUC":
            options["num_thresholds"] = AUC_THRESHOLDS
        if options:
            metric.config = json.dumps(options)
        threshold = metric_threshold(cfg, name)
        if threshold is not None and cfg.evaluation.thresholds_on_slices:
            metric.threshold.CopyFrom(threshold)  # TFMA applies a plain threshold to every slice
        elif threshold is not None:
            metric.per_slice_thresholds.append(
                tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)
            )
        metrics.append(metric)
    label = F.label_spec(F.transform_config(cfg))
    for class_name, options in TASK_PLOTS.get(cfg.objective, {}).items():
        metrics.append(tfma.MetricConfig(class_name=class_name, config=json.dumps(options)))
    model_spec = tfma.ModelSpec(
        # A SavedModel of signatures (trainer_module.export): TFMA loads it once with tf.saved_model.load
        # instead of probing it as a Keras model first.
        model_type=tfma.constants.TF_GENERIC,
        signature_name=SERVING_SIGNATURE,
        label_key=label.transformed_key,
        # Rows without a label weigh 0 (trainer_module.preprocessing): left out of every weighted metric.
        example_weight_key=label.weight_key,
        preprocessing_function_names=[TRANSFORM_SIGNATURE],
        # serving_default may return more than the evaluated output (class names, a reconstruction).
        prediction_key=output_key(cfg.task, cfg.objective == "reconstruction"),
    )
    config = tfma.EvalConfig(
        model_specs=[model_spec],
        slicing_specs=[tfma.SlicingSpec()] + [tfma.SlicingSpec(feature_keys=[s]) for s in cfg.evaluation.slices],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )
    if cfg.objective == "reconstruction":
        # An autoencoder's compiled loss compares reconstructions, not labels: TFMA's copy of it would mislead.
        config.options.include_default_metrics.value = False
    return config

