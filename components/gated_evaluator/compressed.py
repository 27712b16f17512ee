"""The compressed model's evaluation and gate: when the candidate Model artifact holds a TFLite model
(trainer_module.tflite_files), the gated Evaluator evaluates it in a second TFMA run and blesses the candidate only
if its main metric stays within `compressed_max_drop` of the full model's.

TFMA cannot evaluate a TFLite model beside a SavedModel in one run, and it feeds a TFLite model the raw parsed
features. So the second run reads a model directory assembled under the evaluation output
(`<evaluation uri>/compressed/model`: a copy of the SavedModel, whose `transform_features` signature computes the
transformed features and label, plus the TFLite file named `tflite`, where TFMA looks for it), with a predict
extractor that feeds the interpreter the transformed features (tfma_tflite.py: TFMA internals, fenced). Its results go to `<evaluation uri>/compressed/`,
its verdict to `compressed.json` there and to the evaluation artifact's `compressed` property.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx.components.evaluator import constants as evaluator_constants
from tfx.utils import io_utils, path_utils

from components.gated_evaluator import gates as G
from components.gated_evaluator import tfma_tflite
from trainer_module import tflite_files

COMPRESSED_DIR = "compressed"
RECORD_FILE = "compressed.json"
COMPRESSED_PROPERTY = "compressed"


def main_metric(eval_config: tfma.EvalConfig) -> Optional[str]:
    """The gated metric: the first of COMPRESSED_METRICS that the EvalConfig computes."""
    names = {G.metric_name(m.class_name, m.config) for spec in eval_config.metrics_specs for m in spec.metrics}
    return next((m for m in G.COMPRESSED_METRICS if m in names), None)


def assemble_model_dir(model_uri: str, directory: str) -> str:
    """`directory` = the SavedModel + its TFLite file named `tflite` (TFMA's layout for model_type tf_lite)."""
    if tf.io.gfile.exists(directory):
        tf.io.gfile.rmtree(directory)
    io_utils.copy_dir(path_utils.serving_model_path(model_uri), directory)
    io_utils.copy_file(tflite_files.tflite_path(model_uri), os.path.join(directory, "tflite"), overwrite=True)
    return directory


def tflite_eval_config(eval_config: tfma.EvalConfig, metric: str) -> tfma.EvalConfig:
    """The candidate's model spec as tf_lite, the gated metric and the example count only, overall slice, no
    thresholds (the gate is applied here, not by TFMA)."""
    spec = next((s for s in eval_config.model_specs if not s.is_baseline), eval_config.model_specs[0])
    model_spec = tfma.ModelSpec(
        model_type=tfma.constants.TF_LITE, label_key=spec.label_key, example_weight_key=spec.example_weight_key,
        preprocessing_function_names=list(spec.preprocessing_function_names))
    metrics = [tfma.MetricConfig(class_name=m.class_name, module=m.module, config=m.config)
               for s in eval_config.metrics_specs for m in s.metrics
               if G.metric_name(m.class_name, m.config) in (metric, "example_count")]
    config = tfma.EvalConfig(model_specs=[model_spec], slicing_specs=[tfma.SlicingSpec()],
                             metrics_specs=[tfma.MetricsSpec(metrics=metrics)])
    config.options.include_default_metrics.value = False
    return config


def run_tflite_evaluation(make_pipeline: Callable[[], Any], file_patterns: list[str], config: tfma.EvalConfig,
                          model_dir: str, output_path: str) -> None:
    """TFMA on the eval split's raw tf.Examples with the TFLite model of `model_dir`."""
    import apache_beam as beam
    from tfx_bsl.public import tfxio

    shared = tfma.default_eval_shared_model(eval_saved_model_path=model_dir, eval_config=config)
    extractors = tfma.default_extractors(
        eval_shared_model=shared, eval_config=config,
        custom_predict_extractor=tfma_tflite.transformed_tflite_extractor(config, shared))
    with make_pipeline() as pipeline:
        sources = [pipeline | f"ReadCompressed[{i}]" >> tfxio.TFExampleRecord(
            file_pattern=pattern, raw_record_column_name=tfma.constants.ARROW_INPUT_COLUMN).BeamSource()
            for i, pattern in enumerate(file_patterns)]
        _ = (sources | "FlattenCompressed" >> beam.Flatten()
             | "EvaluateCompressed" >> tfma.ExtractEvaluateAndWriteResults(
                 eval_shared_model=shared, eval_config=config, extractors=extractors, output_path=output_path))


def overall_metric(output_path: str, metric: str) -> Optional[float]:
    """The candidate's `metric` on the overall slice of a TFMA output (example-weighted when both exist)."""
    found: dict[bool, float] = {}
    for per_slice in tfma.load_metrics(output_path):
        if per_slice.slice_key.single_slice_keys:
            continue
        for item in per_slice.metric_keys_and_values:
            key = item.key
            if key.name != metric or key.is_diff or key.model_name not in ("", "candidate") or key.HasField("sub_key"):
                continue
            if item.value.HasField("double_value"):
                found[key.example_weighted.value] = item.value.double_value.value
    return found.get(True, found.get(False))


def decide(metric: str, full: Optional[float], compressed: Optional[float], max_drop: float) -> dict[str, Any]:
    """The gate's verdict: how much worse the compressed model scores (relative for a lower-is-better error)."""
    higher = metric not in G.LOWER_IS_BETTER
    if full is None or compressed is None:
        return {"metric": metric, "full": full, "compressed": compressed, "drop": None, "max_drop": max_drop,
                "relative": not higher, "passed": False}
    if higher:
        drop = full - compressed
    else:
        drop = (compressed - full) / abs(full) if full else compressed - full
    return {"metric": metric, "full": full, "compressed": compressed, "drop": drop, "max_drop": max_drop,
            "relative": not higher, "passed": bool(drop <= max_drop + 1e-12)}


def gate(metric: str, objective: str, max_drop: float, configured: bool, mode: str) -> G.Gate:
    relative = metric in G.LOWER_IS_BETTER
    how = f"{100 * max_drop:g}% (relative)" if relative else f"{max_drop:g}"
    return G.Gate(metric, "compressed", "config" if configured else "default",
                  why=f"the compressed model (TFLite {mode}) may score at most {how} worse than the full model on "
                      f"the eval split (evaluation.compressed_max_drop{'' if configured else f', {objective} default'})",
                  change=-max_drop, higher_is_better=not relative)


def evaluate(make_pipeline: Callable[[], Any], model_uri: str, file_patterns: list[str],
             eval_config: tfma.EvalConfig, evaluation_uri: str,
             configured_drop: Optional[float]) -> Optional[tuple[dict[str, Any], G.Gate]]:
    """(verdict record, gate) for a candidate with a TFLite model; None when it has none."""
    record = tflite_files.read_record(model_uri)
    if record is None or not tf.io.gfile.exists(tflite_files.tflite_path(model_uri)):
        return None
    metric = main_metric(eval_config)
    if metric is None:
        return None
    objective = G.OBJECTIVE_OF_METRIC[metric]
    max_drop = float(configured_drop) if configured_drop is not None else G.DEFAULT_COMPRESSED_MAX_DROP[objective]
    root = os.path.join(evaluation_uri, COMPRESSED_DIR)
    model_dir = assemble_model_dir(model_uri, os.path.join(root, "model"))
    run_tflite_evaluation(make_pipeline, file_patterns, tflite_eval_config(eval_config, metric), model_dir,
                          os.path.join(root, "results"))
    verdict = decide(metric, overall_metric(evaluation_uri, metric), overall_metric(os.path.join(root, "results"),
                                                                                  metric), max_drop)
    verdict.update(mode=record.get("mode"), bytes=record.get("bytes"),
                   saved_model_bytes=record.get("saved_model_bytes"))
    tf.io.gfile.rmtree(model_dir)  # a copy of the SavedModel: the evaluation keeps only its results
    with tf.io.gfile.GFile(os.path.join(root, RECORD_FILE), "w") as f:
        json.dump(verdict, f, indent=2)
    return verdict, gate(metric, objective, max_drop, configured_drop is not None, str(record.get("mode")))


def unbless(blessing: Any) -> None:
    """The compressed gate failed: the blessing says NOT blessed, as TFX's Evaluator writes it (the `blessed`
    property 0 and a NOT_BLESSED file, no BLESSED file)."""
    blessed_file = os.path.join(blessing.uri, evaluator_constants.BLESSED_FILE_NAME)
    if tf.io.gfile.exists(blessed_file):
        tf.io.gfile.remove(blessed_file)
    io_utils.write_string_file(os.path.join(blessing.uri, evaluator_constants.NOT_BLESSED_FILE_NAME), "")
    blessing.set_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                     evaluator_constants.NOT_BLESSED_VALUE)
