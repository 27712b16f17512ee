"""Writes the evaluation_cases fixtures: real TFMA 0.47 output (metrics, validations, eval_config.json) for each way
an Evaluator's validation can end, from model-agnostic evaluations of hand-made predictions (no model to train).

Run once from the project root: `.venv/bin/python tests/unit/testdata/evaluation_cases/make_cases.py` (Beam runs
each evaluation in memory, ~10 s each). The unit tests only read the files it writes."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.api import model_eval_lib
from tensorflow_model_analysis.utils import config_util

HERE = Path(__file__).parent
EPSILON = 1e-10  # pipeline/dag/tfma_config.py: a change threshold of 0 means "not worse than the baseline"


def _examples(rows: list[dict], path: Path) -> str:
    with tf.io.TFRecordWriter(str(path)) as writer:
        for row in rows:
            feature = {}
            for key, value in row.items():
                if isinstance(value, list):
                    feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value))
                elif isinstance(value, float):
                    feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
                else:
                    feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return str(path)


def _binary_rows(hour: int, n: int, positives: int, correct: int, baseline_correct: int | None = None) -> list[dict]:
    """n rows of one hour, `positives` of them labelled 1; the candidate's score is right on `correct` rows (0.9 for
    a 1, 0.1 for a 0; wrong: 0.4 for a 1, 0.6 for a 0), the baseline's on `baseline_correct`. The wrong rows are
    spread over both labels (row i is wrong when i*37 mod n falls below the number of wrong rows)."""

    def score(i: int, label: int, right: int, sure: float, unsure: float) -> float:
        if (i * 37) % n >= n - right:
            return sure if label else 1 - sure
        return unsure if label else 1 - unsure

    rows = []
    for i in range(n):
        label = 1 if i < positives else 0
        row = {"hour": hour, "label": label, "prediction": score(i, label, correct, 0.9, 0.4)}
        if baseline_correct is not None:
            row["baseline_prediction"] = score(i, label, baseline_correct, 0.8, 0.3)
        rows.append(row)
    return rows


def _metric(class_name: str, lower=None, change=None, on_every_slice=False, slice_spec=None):
    metric = tfma.MetricConfig(class_name=class_name)
    if class_name == "AUC":
        metric.config = json.dumps({"num_thresholds": 1000})
    if lower is None and change is None:
        return metric
    threshold = tfma.MetricThreshold()
    if lower is not None:
        threshold.value_threshold.lower_bound.value = lower
    if change is not None:
        threshold.change_threshold.direction = tfma.MetricDirection.HIGHER_IS_BETTER
        threshold.change_threshold.absolute.value = change - EPSILON
    if on_every_slice:
        metric.threshold.CopyFrom(threshold)
    else:
        metric.per_slice_thresholds.append(tfma.PerSliceMetricThreshold(
            slicing_specs=[slice_spec or tfma.SlicingSpec()], threshold=threshold))
    return metric


def _evaluate(name: str, rows: list[dict], metrics: list, *, baseline: bool = False, slices: bool = True,
              label_key: str = "label") -> None:
    """One model-agnostic evaluation into HERE/name: the candidate's predictions (and the baseline's), as the
    Evaluator writes them: models `candidate`/`baseline` with a baseline, one unnamed model without."""
    out = HERE / name
    shutil.rmtree(out, ignore_errors=True)
    if baseline:
        specs = [tfma.ModelSpec(name="candidate", label_key=label_key, prediction_key="prediction"),
                 tfma.ModelSpec(name="baseline", label_key=label_key, prediction_key="baseline_prediction",
                                is_baseline=True)]
    else:
        specs = [tfma.ModelSpec(label_key=label_key, prediction_key="prediction")]
    config = tfma.EvalConfig(
        model_specs=specs,
        slicing_specs=[tfma.SlicingSpec()] + ([tfma.SlicingSpec(feature_keys=["hour"])] if slices else []),
        metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
    )
    # As the Evaluator does (tfx/components/evaluator/executor.py): the config's defaults for a run with or without
    # a baseline, always "rubber stamping" (without a baseline its change thresholds are dropped); its models are
    # never marked rubber-stamped, so TFMA's writer is not either. (TFMA would take "no model" for "no baseline".)
    full = config_util.update_eval_config_with_defaults(config, has_baseline=baseline, rubber_stamp=True)
    model_eval_lib._update_eval_config_with_defaults = lambda *_: full
    locations = {spec.name: "<unknown>" for spec in full.model_specs}
    writers = [
        tfma.writers.EvalConfigWriter(str(out), eval_config=full, model_locations=locations),
        tfma.writers.MetricsPlotsAndValidationsWriter(
            output_paths={k: str(out / k) for k in ("metrics", "plots", "attributions", "validations")},
            eval_config=full),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        data = _examples(rows, Path(tmp) / "examples.tfrecord")
        tfma.run_model_analysis(eval_config=config, data_location=data, output_path=str(out), writers=writers)
    for plots in out.glob("plots*"):
        plots.unlink()  # the readers never open plots
    for attributions in out.glob("attributions*"):
        attributions.unlink()
    print(name, tfma.load_validation_result(str(out)), file=sys.stderr)


def main() -> None:
    # 100 rows, 29 positive: the majority class (0) is 71% of the rows; the candidate is right on 85.
    first = _binary_rows(0, 100, 29, 85)
    _evaluate("binary_first_run_blessed", first,
              [_metric("AUC", lower=0.5 + EPSILON, change=0.0), _metric("BinaryAccuracy", lower=0.71, change=0.0),
               _metric("ExampleCount")], slices=False)
    # Hour 0 right on 90 of 100, hour 1 on 61 of 100: overall 0.755 passes >= 0.71, slice hour=1 does not.
    by_hour = _binary_rows(0, 100, 29, 90) + _binary_rows(1, 100, 29, 61)
    _evaluate("binary_value_failed_on_slice", by_hour,
              [_metric("AUC", lower=0.5 + EPSILON, on_every_slice=True),
               _metric("BinaryAccuracy", lower=0.71, on_every_slice=True), _metric("ExampleCount")])
    # The candidate is right on 84 rows, the blessed baseline on 86: 0.02 worse, and "not worse" is the gate.
    regressed = _binary_rows(0, 100, 29, 84, baseline_correct=86)
    _evaluate("binary_change_failed", regressed,
              [_metric("AUC", lower=0.5 + EPSILON, change=0.0), _metric("BinaryAccuracy", lower=0.71, change=0.0),
               _metric("ExampleCount")], baseline=True, slices=False)
    # A gate on slice hour=7, which the eval split does not have: TFMA lists it in missing_slices.
    _evaluate("binary_missing_slice", by_hour,
              [_metric("BinaryAccuracy", lower=0.71, slice_spec=tfma.SlicingSpec(feature_values={"hour": "7"})),
               _metric("ExampleCount")])
    # Three classes (0: 50 rows, 1: 30, 2: 20) and no threshold (TFMA: missing_thresholds); right on 80 of 100.
    rows = []
    for i in range(100):
        label = 0 if i < 50 else 1 if i < 80 else 2
        guess = label if i % 5 else (label + 1) % 3
        rows.append({"label": label, "hour": 0, "prediction": [0.8 if c == guess else 0.1 for c in range(3)]})
    _evaluate("multiclass_no_thresholds", rows,
              [_metric("SparseCategoricalAccuracy"), _metric("ExampleCount")], slices=False)


if __name__ == "__main__":
    main()
