"""The private TFMA internals the compressed model's evaluation relies on, fenced and checked.

TFMA evaluates a TFLite model (model_type `tf_lite`), but its predictor feeds the interpreter the raw parsed
features (`FEATURES_KEY`), while our TFLite model takes the transformed ones (trainer_module/tflite_export.py: the
transform stays a TensorFlow graph). TFMA's public API has no switch for it, and `tfma.extractors` does not export the
TFLite predictor. So `transformed_tflite_extractor` builds TFMA's own `TFLitePredictExtractor` (module
`tensorflow_model_analysis.extractors.tflite_predict_extractor`) with a subclass of its `TFLitePredictionDoFn` whose
protected `_batch_reducible_process` hands the parent the extract with `FEATURES_KEY` replaced by
`TRANSFORMED_FEATURES_KEY` (which TFMA's TransformedFeaturesExtractor fills from the SavedModel's
`transform_features` signature), then puts the raw features back.

Checked against tensorflow-model-analysis 0.47.1 (requirements.lock). tests/unit/test_tfma_tflite.py fails when the
version or the internals below change, and `transformed_tflite_extractor` raises UpstreamChanged instead of
evaluating with a predictor that reads the wrong features.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

CHECKED_AGAINST = {"tensorflow-model-analysis": "0.47.1"}


class UpstreamChanged(RuntimeError):
    def __init__(self, what: str) -> None:
        versions = ", ".join(f"{name} {version}" for name, version in CHECKED_AGAINST.items())
        super().__init__(f"components.gated_evaluator.tfma_tflite: {what}. It was checked against {versions}; "
                         "re-check it against the installed version (tests/unit/test_tfma_tflite.py).")


def _module() -> Any:
    """TFMA's TFLite predictor module, after checking the names and signatures used here."""
    try:
        from tensorflow_model_analysis.extractors import tflite_predict_extractor as module
    except ImportError as err:
        raise UpstreamChanged(f"tensorflow_model_analysis.extractors.tflite_predict_extractor is gone ({err})")
    do_fn = getattr(module, "TFLitePredictionDoFn", None)
    make = getattr(module, "TFLitePredictExtractor", None)
    if do_fn is None or make is None:
        raise UpstreamChanged("tflite_predict_extractor has no TFLitePredictionDoFn or TFLitePredictExtractor")
    process = getattr(do_fn, "_batch_reducible_process", None)
    if process is None or list(inspect.signature(process).parameters) != ["self", "element"]:
        raise UpstreamChanged("TFLitePredictionDoFn._batch_reducible_process(self, element) changed or is gone")
    if "do_fn" not in inspect.signature(make).parameters:
        raise UpstreamChanged("TFLitePredictExtractor no longer takes do_fn")
    if "FEATURES_KEY" not in process.__code__.co_names:
        raise UpstreamChanged("TFLitePredictionDoFn no longer reads its inputs from FEATURES_KEY")
    return module


try:  # at import: Beam pickles the DoFn by its module-level class name
    from tensorflow_model_analysis.extractors import tflite_predict_extractor as _upstream
except ImportError:  # _module() says what changed
    _upstream = None


class TransformedTFLiteDoFn(getattr(_upstream, "TFLitePredictionDoFn", object)):  # type: ignore[misc]
    """TFMA's TFLite predictor, fed the transformed features (the TFLite model's inputs) instead of the raw ones."""

    def _batch_reducible_process(self, element: Any) -> Any:
        import tensorflow_model_analysis as tfma

        swapped = copy.copy(element)
        swapped[tfma.constants.FEATURES_KEY] = element[tfma.constants.TRANSFORMED_FEATURES_KEY]
        results = super()._batch_reducible_process(swapped)
        for result in results:
            result[tfma.constants.FEATURES_KEY] = element[tfma.constants.FEATURES_KEY]
        return results


def transformed_tflite_extractor(eval_config: Any, eval_shared_model: Any) -> Any:
    """TFMA's TFLite predict extractor, feeding the interpreter the transformed features (module docstring)."""
    module = _module()
    return module.TFLitePredictExtractor(eval_config=eval_config, eval_shared_model=eval_shared_model,
                                         do_fn=TransformedTFLiteDoFn)
