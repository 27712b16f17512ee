"""Small real StatisticsGen, ExampleValidator and Evaluator outputs, written in the files and formats TFX 1.16 and
TFMA 0.47 write them (FeatureStats.pb, SchemaDiff.pb per Split-<name>; metrics/validations TFRecords and
eval_config.json), for the metadata readers' unit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from components.anomalies_gate.schema_diff import SCHEMA_DIFF_FILE
from pipeline.metadata.statistics import STATS_FILE

TESTDATA = Path(__file__).parent / "testdata"
REAL_EVALUATION = TESTDATA / "evaluation"  # see its README.md


def _split_dir(uri: Path, split: str) -> Path:
    path = uri / f"Split-{split}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_statistics(uri: Path, splits: dict[str, tuple[int, dict[str, dict]]]) -> str:
    """splits: {split: (rows, {feature: {"mean", "std_dev", "missing"} or {"unique", "missing"}})}."""
    for split, (rows, features) in splits.items():
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        dataset = stats.datasets.add(num_examples=rows)
        for name, values in features.items():
            feature = dataset.features.add()
            feature.path.step.append(name)
            if "unique" in values:
                feature.type = statistics_pb2.FeatureNameStatistics.STRING
                feature.string_stats.unique = values["unique"]
                feature.string_stats.common_stats.num_missing = values["missing"]
            else:
                feature.type = statistics_pb2.FeatureNameStatistics.FLOAT
                feature.num_stats.mean, feature.num_stats.std_dev = values["mean"], values["std_dev"]
                feature.num_stats.common_stats.num_missing = values["missing"]
        (_split_dir(uri, split) / STATS_FILE).write_bytes(stats.SerializeToString())
    return str(uri)


def write_anomalies(uri: Path, splits: dict[str, dict[str, tuple[int, str, str]]]) -> str:
    """splits: {split: {feature: (AnomalyInfo.Type, short description, description)}}; "<dataset>" for a
    dataset-level anomaly."""
    for split, features in splits.items():
        anomalies = anomalies_pb2.Anomalies()
        for feature, (kind, short, description) in features.items():
            info = (anomalies.dataset_anomaly_info if feature == "<dataset>" else anomalies.anomaly_info[feature])
            info.description, info.short_description = description, short
            info.severity = anomalies_pb2.AnomalyInfo.ERROR
            info.reason.add(type=kind, short_description=short, description=description)
        (_split_dir(uri, split) / SCHEMA_DIFF_FILE).write_bytes(anomalies.SerializeToString())
    return str(uri)


def _slice_key(name: str):
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2

    key = metrics_for_slice_pb2.SliceKey()
    if name != "overall":
        column, value = name.split("=")
        key.single_slice_keys.add(column=column, int64_value=int(value))
    return key


def eval_config(thresholds: dict[str, tuple[Optional[float], Optional[float]]], slices: tuple[str, ...] = ()):
    """An EvalConfig as pipeline/dag builds it: per metric class (AUC, BinaryAccuracy, ...) an overall-slice value
    threshold (lower bound) and/or a change threshold (higher is better, absolute)."""
    import tensorflow_model_analysis as tfma

    metrics = []
    for class_name, (lower, change) in thresholds.items():
        threshold = tfma.MetricThreshold()
        if lower is not None:
            threshold.value_threshold.lower_bound.value = lower
        if change is not None:
            threshold.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
            threshold.change_threshold.absolute.value = change
        metrics.append(tfma.MetricConfig(class_name=class_name, per_slice_thresholds=[
            tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="big_tipper_xf")],
        slicing_specs=[tfma.SlicingSpec(), *(tfma.SlicingSpec(feature_keys=[s]) for s in slices)],
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )


def write_evaluation(uri: Path, candidate: dict[str, dict[str, float]], config,
                     baseline: Optional[dict[str, dict[str, float]]] = None,
                     failures: tuple[tuple[str, str, str], ...] = ()) -> str:
    """An Evaluator's `evaluation` artifact. candidate/baseline: {slice ("overall" or "column=int"): {metric:
    value}}; with a baseline, TFMA names the models candidate/baseline and adds diff metrics. failures: (metric,
    slice, "value" | "change") the validation failed."""
    import tensorflow as tf
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2, validation_result_pb2

    uri.mkdir(parents=True, exist_ok=True)
    models = {"candidate": candidate, **({"baseline": baseline} if baseline else {})}
    with tf.io.TFRecordWriter(str(uri / "metrics-00000-of-00001.tfrecord")) as writer:
        for slc in candidate:
            record = metrics_for_slice_pb2.MetricsForSlice(slice_key=_slice_key(slc))
            for model, values in models.items():
                for name, value in values.get(slc, {}).items():
                    kv = record.metric_keys_and_values.add()
                    kv.key.name, kv.key.model_name = name, model if baseline else ""
                    kv.key.example_weighted.SetInParent()
                    kv.value.double_value.value = value
                    if model == "candidate" and baseline and name in baseline.get(slc, {}):
                        diff = record.metric_keys_and_values.add()
                        diff.key.CopyFrom(kv.key)
                        diff.key.is_diff = True
                        diff.value.double_value.value = value - baseline[slc][name]
            writer.write(record.SerializeToString())
    result = validation_result_pb2.ValidationResult(validation_ok=not failures)
    per_slice = {}
    for metric, slc, kind in failures:
        if slc not in per_slice:
            per_slice[slc] = result.metric_validations_per_slice.add(slice_key=_slice_key(slc))
        failure = per_slice[slc].failures.add()
        failure.metric_key.name = metric
        failure.metric_value.double_value.value = candidate[slc][metric]
        getattr(failure.metric_threshold, f"{kind}_threshold").SetInParent()  # which of the metric's thresholds
    with tf.io.TFRecordWriter(str(uri / "validations.tfrecord")) as writer:
        writer.write(result.SerializeToString())
    (uri / "eval_config.json").write_text(json.dumps(
        {"evalConfig": json_format.MessageToDict(config), "version": tfma.__version__}, indent=2))
    return str(uri)
