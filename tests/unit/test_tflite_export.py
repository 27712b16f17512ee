"""The compressed model (issue #16): the TFLite export clone and conversion per mode on small real models, the
int8 subprocess's failure path, the config keys, the compressed gate's arithmetic and blessing rewrite, and the
Pusher's `<version>/tflite/model.tflite` (real TensorFlow, TFLite and TFX artifacts; no pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from components.gated_evaluator import compressed as C
from pipeline.config.loader import load_config
from pipeline.config.schema import ConfigError
from pipeline.metadata import compressed as summary_compressed
from tests.unit.test_atomic_pusher import blessing_artifact, examples_artifact, model_artifact, run, versions
from trainer_module import models, tflite_export as T, tflite_files
from trainer_module.features import InputFeature, ModelSpec

TABULAR = (InputFeature("fare_xf", "numeric"), InputFeature("miles_xf", "numeric"),
           InputFeature("company_xf", "categorical", 12), InputFeature("bag_xf", "categorical", 7, (3,)))
IMAGE = (InputFeature("pixels_xf", "numeric", 0, (64,)),)


def rows(inputs, n=120, seed=0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f.name: (rng.normal(size=(n, *f.shape)).astype("float32") if f.kind == "numeric"
                     else rng.integers(0, f.cardinality, (n, *f.shape)).astype("int64")) for f in inputs}


@pytest.fixture(scope="module")
def dnn():
    import tensorflow as tf

    # Seeded: the int8 gap below depends on the (untrained) weights, and unseeded it ranged 0.22-0.43 over 8 draws.
    tf.keras.utils.set_random_seed(0)
    model = models.build("dnn", ModelSpec(inputs=TABULAR, task="binary"), {})  # dynamic needs tensors ≥ 1024
    assert any(isinstance(layer, tf.keras.layers.CategoryEncoding) for layer in model.layers)  # one_hot and multi_hot
    return model


def test_the_export_clone_swaps_category_encoding_and_answers_like_the_model(dnn):
    import tensorflow as tf

    class NoConfig(tf.keras.layers.Layer):  # like tf.Transform's layer, which the exported model tracks
        def get_config(self):
            raise NotImplementedError("get_config")

    dnn.tft_layer = NoConfig()
    clone = T.tflite_clone(dnn)
    x = rows(TABULAR)
    assert not any(isinstance(layer, tf.keras.layers.CategoryEncoding) for layer in clone.layers)
    assert sum(isinstance(layer, T.TFLiteOneHot) for layer in clone.layers) == 2
    assert np.max(np.abs(dnn(x).numpy() - clone(x).numpy())) <= T.CLONE_TOLERANCE
    assert not {id(layer) for layer in clone.layers} & {id(layer) for layer in dnn.layers}  # nothing shared


@pytest.mark.parametrize("family,inputs,task,modes", [
    ("dnn", TABULAR, "binary", ("none", "dynamic", "float16", "int8")),
    ("cnn", IMAGE, "multiclass", ("none", "dynamic", "float16")),
])
def test_each_mode_converts_runs_and_shrinks_the_model(family, inputs, task, modes, dnn, tmp_path):
    model = dnn if family == "dnn" else models.build(family, ModelSpec(inputs=inputs, task=task, num_classes=10), {})
    x = rows(inputs)
    records = {}
    for mode in modes:
        record = T.export_tflite(model, str(tmp_path / mode), mode, x, T.evaluated_output(family, None, None))
        records[mode] = record
        content = Path(tflite_files.tflite_path(str(tmp_path / mode))).read_bytes()
        assert record["bytes"] == len(content) and record["rows_checked"] == min(len(x[inputs[0].name]), T.CHECK_ROWS)
        assert json.loads(Path(tflite_files.record_path(str(tmp_path / mode))).read_text()) == record
        # Its own check against the Keras model, repeated here on rows it has not seen. int8 on this untrained network
        # is far off (0.23 with the seed above); on the trained taxi model it costs 0.0009 AUC (RESULTS.md, section 9).
        other = rows(inputs, n=20, seed=1)
        gap = np.max(np.abs(T.run_tflite(content, other) - model(other).numpy()))
        assert gap <= {"none": 1e-5, "float16": 5e-3, "dynamic": 0.05, "int8": 0.35}[mode], (mode, gap)
    sizes = {m: r["bytes"] for m, r in records.items()}
    assert sizes["none"] > sizes["float16"] > sizes["dynamic"], sizes
    if "int8" in sizes:
        assert sizes["int8"] < sizes["float16"] and records["int8"]["calibration_rows"] == len(x["fare_xf"])


def test_an_int8_converter_crash_fails_with_a_message_not_a_dead_process(dnn, tmp_path):
    # The trained model itself (not the clone): int8 calibration over tf.DenseBincount crashes the converter.
    T.save_forward(dnn, lambda inputs, out: out, str(tmp_path / "forward"))
    with pytest.raises(RuntimeError, match=r"TFLite int8 conversion failed in its subprocess \(the converter crashed: "
                                           r"killed by SIGSEGV\); set model.export.quantize to dynamic or float16"):
        T.convert_in_subprocess(str(tmp_path / "forward"), "int8", rows(TABULAR, n=20), str(tmp_path))


def test_calibration_rows_are_shaped_as_the_model_inputs(dnn):
    import tensorflow as tf

    # The transformed dataset delivers a scalar feature as [batch]; Keras expands it, a TFLite input does not.
    x = rows(TABULAR, n=50)
    flat = {**{k: v[:, 0] if v.shape[1:] == (1,) else v for k, v in x.items()}, "not_an_input": np.zeros(50)}
    dataset = tf.data.Dataset.from_tensor_slices((flat, np.zeros(50))).batch(16)
    got = T.representative_rows(dataset, dnn, rows=40)
    assert {k: v.shape for k, v in got.items()} == {"fare_xf": (40, 1), "miles_xf": (40, 1), "company_xf": (40, 1),
                                                   "bag_xf": (40, 3)}
    assert np.array_equal(got["bag_xf"], x["bag_xf"][:40])


def test_for_run_exports_nothing_unless_asked_and_skips_gbt_with_the_reason(dnn, tmp_path):
    assert T.for_run(dnn, {"model": {}}, "dnn", None, None, [], str(tmp_path), str(tmp_path)) is None
    skipped = T.for_run(dnn, {"model": {"export": {"quantize": "dynamic"}}}, "gbt", None, None, [], str(tmp_path), "")
    assert "model.family auto chose gbt" in skipped["skipped"] and not (tmp_path / "tflite").exists()
    assert summary_compressed.summary_line(None, skipped) == skipped["skipped"]


# ------------------------------------------------------------------------------------------------ config


@pytest.mark.parametrize("overrides,message", [
    ({"model.export.quantize": "int4"}, "model.export.quantize: unknown mode 'int4'; use one of none, dynamic"),
    ({"model.export.quantize": "dynamic", "model.family": "gbt"}, "model family gbt cannot be converted to TFLite"),
    ({"model.export.quantize": "int8", "model.family": "rnn"}, "model family rnn cannot be converted to TFLite"),
    ({"model.export.bogus": 1}, "model.export: expected {quantize:"),
    ({"evaluation.compressed_max_drop": "a lot"}, "evaluation.compressed_max_drop: expected a number"),
])
def test_bad_compression_config_is_refused_at_load(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("(", r"\(")):
        load_config("taxi", overrides)


def test_compression_config_reaches_the_trainer_and_the_evaluator():
    from pipeline.dag.model_nodes import evaluator, trainer_custom_config
    from tfx.types import standard_artifacts
    from tfx.types.channel import Channel

    plain = load_config("taxi")
    assert plain.model.export.quantize is None and "export" not in trainer_custom_config(plain)["model"]
    cfg = load_config("taxi", {"model.export.quantize": "int8", "model.family": "auto",
                               "evaluation.compressed_max_drop": 0.02})
    assert trainer_custom_config(cfg)["model"]["export"] == {"quantize": "int8"}
    node = evaluator(cfg, examples=Channel(type=standard_artifacts.Examples),
                     model=Channel(type=standard_artifacts.Model), baseline_model=None)
    assert node.exec_properties["compressed_max_drop"] == 0.02
    assert "compressed_max_drop" not in evaluator(plain, examples=Channel(type=standard_artifacts.Examples),
                                                  model=None, baseline_model=None).exec_properties


# ------------------------------------------------------------------------------------------------ the gate


def test_the_gate_compares_the_main_metric_with_the_allowed_drop():
    assert C.decide("auc", 0.90, 0.897, 0.005)["passed"]
    failed = C.decide("auc", 0.90, 0.89, 0.005)
    assert not failed["passed"] and failed["drop"] == pytest.approx(0.01)
    assert C.decide("auc", 0.90, 0.91, -1)["passed"] is False  # -1: "at least 1 better", never met
    assert C.decide("mean_reconstruction_error", 0.40, 0.41, 0.05)["passed"]  # +2.5%, relative
    assert not C.decide("mean_reconstruction_error", 0.40, 0.43, 0.05)["passed"]  # +7.5%
    assert not C.decide("auc", None, 0.9, 0.005)["passed"]
    verdict = {**failed, "mode": "dynamic", "bytes": 19_000, "saved_model_bytes": 1_200_000}
    assert summary_compressed.words(verdict) == ("auc of the compressed model (TFLite dynamic) on slice overall is "
                                                 "0.89, the full model has 0.9: worse by 0.01, allowed: at most 0.005 "
                                                 "worse than the full model")
    assert summary_compressed.summary_line(verdict, None) == (
        "dynamic TFLite 19.0 kB (SavedModel 1.2 MB: 0.0158×); auc 0.89 vs full 0.9: worse by 0.01, allowed 0.005: "
        "FAIL (not blessed)")


def test_a_failed_gate_rewrites_the_blessing_as_tfx_writes_not_blessed(tmp_path):
    from tfx.components.util import model_utils

    blessing = blessing_artifact(tmp_path, True)
    C.unbless(blessing)
    assert not model_utils.is_model_blessed(blessing)
    assert sorted(p.name for p in Path(blessing.uri).iterdir()) == ["NOT_BLESSED"]


def test_the_tflite_eval_config_keeps_the_label_and_transform_and_only_the_gated_metric():
    from pipeline.dag.tfma_config import eval_config

    config = eval_config(load_config("taxi"))
    assert C.main_metric(config) == "auc"
    lite = C.tflite_eval_config(config, "auc")
    [spec] = lite.model_specs
    assert spec.model_type == "tf_lite" and spec.label_key == config.model_specs[0].label_key
    assert list(spec.preprocessing_function_names) == ["transform_features"] and not spec.prediction_key
    names = sorted(m.class_name for s in lite.metrics_specs for m in s.metrics)
    assert names == ["AUC", "ExampleCount"] and not any(m.HasField("threshold") or m.per_slice_thresholds
                                                        for s in lite.metrics_specs for m in s.metrics)


# ------------------------------------------------------------------------------------------------ the Pusher


def test_the_pusher_publishes_the_tflite_file_inside_the_version(tmp_path):
    model = model_artifact(tmp_path, "model")
    lite = Path(tflite_files.tflite_path(model.uri))
    lite.parent.mkdir(parents=True)
    lite.write_bytes(b"TFL3 not a real model: the Pusher copies bytes")
    base = tmp_path / "serving" / "tiny"
    run(model, blessing_artifact(tmp_path, True), examples_artifact(tmp_path), base)
    [version] = versions(base)
    assert (version / "tflite" / "model.tflite").read_bytes() == lite.read_bytes()
    assert (version / "saved_model.pb").is_file()


def test_a_failing_tflite_copy_publishes_nothing(tmp_path, monkeypatch):
    from components.atomic_pusher import publish

    model = model_artifact(tmp_path, "model")
    lite = Path(tflite_files.tflite_path(model.uri))
    lite.parent.mkdir(parents=True)
    lite.write_bytes(b"bytes")

    def broken(tmp, extra):
        raise OSError("disk full while copying the TFLite file")

    monkeypatch.setattr(publish, "copy_extra_files", broken)
    base = tmp_path / "serving" / "tiny"
    with pytest.raises(OSError, match="disk full"):
        run(model, blessing_artifact(tmp_path, True), examples_artifact(tmp_path), base)
    assert versions(base) == [] and [p.name for p in base.iterdir()] == [".push.lock"]
