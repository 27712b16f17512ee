"""The speed fixes from the benchmarks keep results unchanged: Beam's cache weights, AutoGraph rules, the lean
SavedModel export, and the code fingerprint that keeps caching correct."""

from __future__ import annotations

import shutil
import sys
import types

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from pipeline.local import patches as beam_tuning
from trainer_module import features as F
from trainer_module import patches as tf_tuning


def test_beam_cache_weights_equal_beams_own():
    from apache_beam.runners.worker import statecache

    values = [
        {"a": list(range(1000)), "b": [tf, sys, np]},  # references to modules are not counted
        [1, 2, 3],
        "abc" * 100,
        {"t": tf.constant([1.0, 2.0])},
        np.arange(10_000, dtype=np.float64),
        (None, 1.5, b"bytes" * 50),
    ]
    for value in values:
        assert beam_tuning.get_deep_size(value) == statecache.get_deep_size(value)


def test_beam_cache_weights_follow_newly_loaded_modules():
    module = types.ModuleType("tfx_e2e_test_new_module")
    module.big = list(range(5000))
    holder = {"m": module.__dict__}
    sys.modules[module.__name__] = module
    try:
        # A module's globals dict is excluded as soon as the module is loaded, as in Beam's own function.
        assert beam_tuning.get_deep_size(holder) == __import__(
            "apache_beam.runners.worker.statecache", fromlist=["x"]
        ).get_deep_size(holder)
        assert beam_tuning.get_deep_size(holder) < 2000
    finally:
        del sys.modules[module.__name__]


def test_apply_installs_the_function_in_beam():
    from apache_beam.runners.worker import statecache

    beam_tuning.apply()
    assert statecache.get_deep_size is beam_tuning.get_deep_size


def test_autograph_skips_tf_keras_but_still_converts_user_code():
    from tensorflow.python.autograph.impl import conversion

    tf_tuning.skip_autograph_for_tf_keras()
    tf_tuning.skip_autograph_for_tf_keras()  # idempotent
    from tensorflow.python.autograph.core import config as autograph_config

    assert sum(getattr(r, "_prefix", None) == "tf_keras" for r in autograph_config.CONVERSION_RULES) == 1
    layer_call = tf.keras.layers.Dense.__call__
    assert conversion.is_allowlisted(layer_call)

    def user_fn(x):  # defined here, in a test module: AutoGraph must still convert it
        return x

    assert not conversion.is_allowlisted(user_fn)

    @tf.function
    def branchy(x):
        if tf.reduce_sum(x) > 0:  # a Python `if` on a tensor needs AutoGraph
            return x * 2.0
        return -x

    assert float(branchy(tf.constant([1.0]))[0]) == 2.0
    assert float(branchy(tf.constant([-1.0]))[0]) == 1.0


def test_code_fingerprint_changes_with_the_code(tmp_path):
    import trainer_module as pkg
    from pathlib import Path

    copy = tmp_path / "trainer_module"
    shutil.copytree(Path(pkg.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert F.code_fingerprint(str(copy)) == F.code_fingerprint()
    (copy / "run.py").write_text((copy / "run.py").read_text() + "\n# a change\n")
    assert F.code_fingerprint(str(copy)) != F.code_fingerprint()
    (copy / "extra.py").write_text("x = 1\n")
    assert len(F.code_fingerprint(str(copy))) == 16


def test_transform_and_trainer_configs_carry_the_fingerprint():
    from pipeline.config.loader import load_config
    from pipeline.dag.factory import trainer_custom_config

    cfg = load_config("taxi")
    assert F.transform_config(cfg)["code_fingerprint"] == F.code_fingerprint()
    assert trainer_custom_config(cfg)["code_fingerprint"] == F.code_fingerprint()


def test_lean_export_serves_like_the_keras_model(tmp_path):
    from trainer_module.run import export

    class FakeTransformLayer(tf.keras.layers.Layer):
        def call(self, inputs):
            return {"x_xf": inputs["x"] * 2.0}

    inputs = tf.keras.Input(shape=(1,), name="x_xf")
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.tft_layer = FakeTransformLayer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        raw = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})
        return {"probabilities": model(model.tft_layer(raw))}

    export(model, str(tmp_path / "m"), {"serving_default": serve})
    assert not (tmp_path / "m" / "keras_metadata.pb").exists()  # not a Keras SavedModel: nothing rebuilds layers
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    ex = tf.train.Example()
    ex.features.feature["x"].float_list.value.append(0.25)
    got = loaded.signatures["serving_default"](examples=tf.constant([ex.SerializeToString()]))["probabilities"]
    want = model({"x_xf": tf.constant([[0.5]])})
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert len(loaded.model_variables) == len(model.variables)
    bare = loaded.call_model({"x_xf": tf.constant([[0.5]])})
    np.testing.assert_allclose(bare.numpy(), want.numpy(), rtol=1e-6)


def test_tfx_api_names_are_tfx_v1s_own_objects():
    from tfx import v1

    from pipeline.dag import tfx_api

    assert tfx_api.dsl.Pipeline is v1.dsl.Pipeline and tfx_api.dsl.Resolver is v1.dsl.Resolver
    assert tfx_api.dsl.Channel is v1.dsl.Channel
    assert tfx_api.dsl.experimental.LatestBlessedModelStrategy is v1.dsl.experimental.LatestBlessedModelStrategy
    for name in ("Output", "SplitConfig", "TrainArgs", "EvalArgs"):
        assert getattr(tfx_api.proto, name) is getattr(v1.proto, name)
    for name in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ImportSchemaGen", "ExampleValidator", "Transform",
                 "Trainer", "Evaluator", "Pusher"):
        assert getattr(tfx_api.components, name) is getattr(v1.components, name)
    assert tfx_api.types.standard_artifacts.Model is v1.types.standard_artifacts.Model
    assert tfx_api.extensions.google_cloud_ai_platform is v1.extensions.google_cloud_ai_platform


def test_a_local_pipeline_does_not_import_the_cloud_extensions():
    import subprocess
    import sys

    code = ("import trainer_module, sys; from pipeline.config.loader import load_config; "
            "from pipeline.dag.factory import create_pipeline, Locations; "
            "create_pipeline(load_config('taxi'), Locations(data='/d', pipeline_root='/r', serving_dir='/s')); "
            "print(sorted(m for m in sys.modules if m.startswith(('tfx.v1', 'google.cloud.aiplatform'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _no_op_beam_executor_class():
    from tfx.dsl.components.base import base_beam_executor

    class _NoOp(base_beam_executor.BaseBeamExecutor):
        def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802  (TFX's name)
            return None

    _NoOp.__qualname__ = "_NoOpBeamExecutor"  # TFX wants a module-level name
    return _NoOp


_NoOpBeamExecutor = _no_op_beam_executor_class()


def test_local_beam_components_skip_tfxs_ephemeral_sdist(tmp_path, monkeypatch):
    import tempfile

    from tfx.dsl.components.base import base_beam_executor
    from tfx.utils import dependency_utils

    beam_tuning.apply()
    made = []
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(a) or str(tmp_path))
    args = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert dependency_utils.make_beam_dependency_flags(args) == args
    context = base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=list(args), tmp_dir=str(tmp_path))
    executor = _NoOpBeamExecutor(context=context)
    assert not any(a.startswith("--extra_package") for a in executor._beam_pipeline_args)
    assert made == []  # no copy of the tfx package was made
