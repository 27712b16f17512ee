"""components/gated_evaluator/tfma_tflite.py uses TFMA internals: these tests fail when TFMA moves. Re-check the
subclass against the new TFLite predictor, then update CHECKED_AGAINST."""

import importlib.metadata

import pytest

from components.gated_evaluator import tfma_tflite


@pytest.mark.parametrize("dist", sorted(tfma_tflite.CHECKED_AGAINST))
def test_installed_version_is_the_one_the_subclass_was_checked_against(dist):
    assert importlib.metadata.version(dist) == tfma_tflite.CHECKED_AGAINST[dist], (
        f"{dist} changed: re-check components/gated_evaluator/tfma_tflite.py and update CHECKED_AGAINST")


def test_the_internals_are_where_the_subclass_expects_them():
    module = tfma_tflite._module()  # raises UpstreamChanged otherwise
    assert module.TFLitePredictionDoFn._batch_reducible_process.__qualname__ == \
        "TFLitePredictionDoFn._batch_reducible_process"


def test_the_extractor_is_tfma_s_own_with_the_transformed_features_predictor():
    import tensorflow_model_analysis as tfma

    config = tfma.EvalConfig(model_specs=[tfma.ModelSpec(model_type="tf_lite")])
    shared = tfma.types.EvalSharedModel(model_path="unused", model_type="tf_lite")  # not loaded until Beam runs it
    extractor = tfma_tflite.transformed_tflite_extractor(config, eval_shared_model=shared)
    assert extractor.stage_name == "ExtractTFLitePredictions"
    do_fn = extractor.ptransform._kwargs["do_fn"]  # Beam's ptransform_fn keeps the call's arguments
    assert do_fn is tfma_tflite.TransformedTFLiteDoFn and do_fn.__mro__[1].__name__ == "TFLitePredictionDoFn"
    import pickle

    assert pickle.loads(pickle.dumps(do_fn)) is do_fn  # Beam pickles the DoFn: a module-level class


def test_a_changed_tfma_fails_loudly(monkeypatch):
    from tensorflow_model_analysis.extractors import tflite_predict_extractor as module

    monkeypatch.setattr(module.TFLitePredictionDoFn, "_batch_reducible_process", lambda self, batch, extra: [])
    with pytest.raises(tfma_tflite.UpstreamChanged, match="_batch_reducible_process.*checked against"):
        tfma_tflite.transformed_tflite_extractor(None, None)
    monkeypatch.delattr(module, "TFLitePredictExtractor")
    with pytest.raises(tfma_tflite.UpstreamChanged, match="TFLitePredictExtractor"):
        tfma_tflite.transformed_tflite_extractor(None, None)
