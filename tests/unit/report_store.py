"""A real MLMD store with the runs the report tests read (built with mlmd_runs, the files TFX writes, real TFMA
outputs from testdata): `slice_failed` (not blessed, anomalies, a run record, hostile strings in data and
metadata), `pushed` (blessed, a real SavedModel version directory with warmup requests) and `broken` (the Trainer
failed; its error only in the run's log)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from components.anomalies_gate.schema_diff import SCHEMA_DIFF_FILE
from pipeline.metadata.statistics import STATS_FILE
from tests.unit.gated_evaluations import CASES, record_gates
from tests.unit.mlmd_runs import Store, taxi_run

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE_COLUMN = 'fare"><img src=x onerror=alert(2)>'
UNEXPECTED = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
SLICE_GATES = [{"metric": "auc", "kind": "value", "lower": 0.5000000001, "upper": None, "change": None,
                "source": "config", "why": ""},
               {"metric": "binary_accuracy", "kind": "value", "lower": 0.71, "upper": None, "change": None,
                "source": "config", "why": ""}]
HISTORY = {"loss": [0.7, 0.5, 0.45], "auc": [0.6, 0.8, 0.85], "val_loss": [0.72, 0.55, 0.5],
           "val_auc": [0.58, 0.79, 0.84]}


@dataclass
class Built:
    root: Path
    store: Store
    home: Path


def _numeric(dataset, name: str, missing: int, present: int, buckets: list[tuple[float, float, float]]) -> None:
    f = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.FLOAT)
    f.path.step.append(name)
    n = f.num_stats
    n.common_stats.num_non_missing, n.common_stats.num_missing = present, missing
    n.common_stats.tot_num_values, n.common_stats.max_num_values = present, 1
    n.mean, n.std_dev, n.min, n.median, n.max, n.num_zeros = 3.5, 1.25, 0.0, 3.0, 9.0, 4
    h = n.histograms.add(type=statistics_pb2.Histogram.STANDARD)
    for low, high, count in buckets:
        h.buckets.add(low_value=low, high_value=high, sample_count=count)


def _strings(dataset, name: str, present: int, empty: int, top: list[tuple[str, float]]) -> None:
    f = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
    f.path.step.append(name)
    s = f.string_stats
    # An empty CSV cell: the feature is present with no value (tot_num_values counts values).
    s.common_stats.num_non_missing, s.common_stats.tot_num_values, s.common_stats.max_num_values = (
        present, present - empty, 1)
    s.unique, s.avg_length = len(top), 6.5
    for value, frequency in top:
        s.top_values.add(value=value, frequency=frequency)


def write_statistics(uri: Path) -> str:
    """train 100 rows, eval 40: trip_miles (numbers, 3 buckets), payment_type (strings, a hostile value, 10 empty
    cells in train), and a numeric column whose name is hostile."""
    for split, rows in (("train", 100), ("eval", 40)):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        dataset = stats.datasets.add(num_examples=rows)
        _numeric(dataset, "trip_miles", 5, rows - 5, [(0.0, 3.0, rows / 2), (3.0, 6.0, rows / 4), (6.0, 9.0, 5.0)])
        _strings(dataset, "payment_type", rows, 10 if split == "train" else 0,
                 [("Cash", rows * 0.5), (SCRIPT, rows * 0.3), (IMG, rows * 0.1)])
        _numeric(dataset, HOSTILE_COLUMN, 0, rows, [(0.0, 1.0, float(rows))])
        path = uri / f"Split-{split}"
        path.mkdir(parents=True, exist_ok=True)
        (path / STATS_FILE).write_bytes(stats.SerializeToString())
    return str(uri)


def write_anomalies(uri: Path) -> str:
    for split in ("train", "eval"):
        anomalies = anomalies_pb2.Anomalies()
        if split == "eval":
            info = anomalies.anomaly_info["payment_type"]
            info.description = f"Examples contain values missing from the schema: {SCRIPT} (~30%)."
            info.short_description = "Unexpected string values"
            info.reason.add(type=UNEXPECTED, short_description="Unexpected string values",
                            description=info.description)
        path = uri / f"Split-{split}"
        path.mkdir(parents=True, exist_ok=True)
        (path / SCHEMA_DIFF_FILE).write_bytes(anomalies.SerializeToString())
    return str(uri)


SCHEMA = """
feature { name: "trip_miles" type: FLOAT presence { min_fraction: 1.0 } float_domain { min: 0 max: 100 } }
feature { name: "payment_type" type: BYTES domain: "payment_type" presence { min_count: 1 } }
string_domain { name: "payment_type" value: "Cash" value: "Credit Card" }
"""


def write_plots(uri: Path) -> None:
    """TFMA's CalibrationPlot and ConfusionMatrixPlot of the overall slice, as TFMA writes them."""
    import tensorflow as tf
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as m

    record = m.PlotsForSlice()
    kv = record.plot_keys_and_values.add()
    buckets = kv.value.calibration_histogram_buckets.buckets
    for low, n, label, prediction in ((0.0, 10, 1, 1.5), (0.5, 20, 12, 13.0), (0.9, 0, 0, 0)):
        b = buckets.add(lower_threshold_inclusive=low)
        b.num_weighted_examples.value, b.total_weighted_label.value = n, label
        b.total_weighted_refined_prediction.value = prediction
    for t, fpr, tpr, precision in ((0.0, 1.0, 1.0, 0.3), (0.5, 0.2, 0.8, 0.7), (1.0, 0.0, 0.0, float("nan"))):
        matrix = kv.value.confusion_matrix_at_thresholds.matrices.add(threshold=t, false_positive_rate=fpr,
                                                                      recall=tpr, precision=precision)
        matrix.true_positives, matrix.false_positives = (tpr * 10, fpr * 10)
    with tf.io.TFRecordWriter(str(uri / "plots-00000-of-00001.tfrecord")) as writer:
        writer.write(record.SerializeToString())


def write_version_dir(path: Path) -> Path:
    """A real SavedModel whose serving_default parses tf.Examples (a float `x` with a default, a string `s`), with
    a warmup file of one request of 3 examples."""
    import tensorflow as tf

    from components.atomic_pusher import layout, warmup

    class Model(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([], tf.float32, default_value=0.0),
                                                    "s": tf.io.VarLenFeature(tf.string)})
            return {"score": parsed["x"] * 2.0}

    module = Model()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    (path / layout.ASSETS_EXTRA).mkdir(exist_ok=True)
    warmup.write_warmup(str(path / layout.ASSETS_EXTRA / layout.WARMUP_FILE), "m", [b"a", b"b", b"c"])
    return path


def _set_pushed(b: Store, run, destination: Path, version: str) -> None:
    [artifact] = b.store.get_artifacts_by_id(run.outputs["Pusher"]["pushed_model"])
    artifact.custom_properties["pushed_destination"].string_value = str(destination)
    artifact.custom_properties["pushed_version"].string_value = version
    b.store.put_artifacts([artifact])


def build(root: Path) -> Built:
    from pipeline.metadata import run_record

    home = root / "home"
    (home / "logs").mkdir(parents=True)
    b = Store(home / "metadata.sqlite")
    stats = write_statistics(root / "stats")
    anomalies = write_anomalies(root / "anomalies")
    evaluation = root / "evaluation"
    shutil.copytree(CASES / "binary_value_failed_on_slice", evaluation)
    write_plots(evaluation)
    for run_id in ("slice_failed", "pushed", "broken"):
        schema_dir = root / "taxi" / "ImportSchemaGen" / "schema" / run_id
        schema_dir.mkdir(parents=True)
        (schema_dir / "schema.pbtxt").write_text(SCHEMA)
        run_dir = root / "taxi" / "Trainer" / "model_run" / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "training_summary.json").write_text(json.dumps({
            "strategy": "default", "reason": "no GPU", "replicas": 1, "workers": 1, "global_batch_size": 64,
            "epochs_run": 3, "steps_per_epoch": 10, "history": HISTORY, "examples_per_second": 1000.0,
            "warm_start": False, "warm_start_reason": "not requested"}))
    first = taxi_run(b, root, "slice_failed", statistics=stats, anomalies=anomalies, evaluation=str(evaluation),
                     blessed=False)
    record_gates(b, first, SLICE_GATES)
    run_record.write_record(b.store, "slice_failed", {
        "config_yaml": f"name: taxi\nlabel: {SCRIPT}\n", "flags": {"train_steps": 50, "set": [IMG]},
        "versions": {"tfx": "1.16.0"}, "code_fingerprint": "cli:abc", "wall_seconds": 12.5,
        "node_seconds": {"Trainer": 4.25}, "log_file": str(home / "logs" / "run-x.log")})
    second = taxi_run(b, root, "pushed", statistics=stats, anomalies=anomalies,
                      evaluation=str(CASES / "binary_first_run_blessed"), blessed=True, pushed_version="7")
    serving = root / "serving" / "taxi"
    (serving / "3").mkdir(parents=True)  # an earlier version
    _set_pushed(b, second, write_version_dir(serving / "7"), "7")
    taxi_run(b, root, "broken", statistics=stats, anomalies=anomalies, fail_at="Trainer")
    (home / "logs" / "run-20260101-000000-000000.log").write_text(
        "INFO: pipeline run broken failed\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
        f"ValueError: the trainer broke {SCRIPT}\n")
    return Built(root, b, home)
