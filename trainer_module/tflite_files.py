"""The compressed model's facts that need no TensorFlow: the quantization modes, the families TFLite cannot convert,
and where the Trainer writes the TFLite file and its record (read by the Evaluator, the Pusher and the summaries).

Layout in the Trainer's Model artifact, beside the SavedModel (`<Model uri>/Format-Serving`):

    <Model uri>/tflite/model.tflite     the Keras part as TFLite: transformed features in, the evaluated output out
    <Model uri>/tflite/tflite.json      {mode, bytes, saved_model_bytes, conversion_seconds, inputs, output, ...}
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

# model.export.quantize: none = float32 TFLite; dynamic = int8 weights (dynamic-range); float16 = float16 weights;
# int8 = weights and activations in int8, calibrated on transformed training rows, with float inputs and outputs.
QUANTIZE_MODES = ("none", "dynamic", "float16", "int8")
# Families whose model TFLite cannot convert, and why (model.family auto may pick gbt: it is then skipped, said so).
NOT_CONVERTIBLE = {
    "gbt": "a TF-DF forest is a TensorFlow custom op (SimpleMLInferenceOp) that TFLite has no kernel for",
    # Checked with TF 2.16: the converter fails on the LSTM/GRU loop ("Variable constant folding is failed",
    # TensorListReserve) unless the batch size is fixed, and a fixed batch of 1 cannot be evaluated by TFMA,
    # which feeds the interpreter whole batches.
    "rnn": "TFLite cannot convert its recurrent layer with a variable batch size (TensorList ops in the loop)",
}
CONVERTIBLE_FAMILIES = ("dnn", "cnn", "autoencoder")
TFLITE_DIR = "tflite"
TFLITE_FILE = "model.tflite"
RECORD_FILE = "tflite.json"
OUTPUT_NAME = "output"  # the TFLite signature's single output


def tflite_path(model_uri: str) -> str:
    """The TFLite file in a Model artifact (also `<version>/tflite/model.tflite` in a pushed version)."""
    return os.path.join(model_uri, TFLITE_DIR, TFLITE_FILE)


def record_path(model_uri: str) -> str:
    return os.path.join(model_uri, TFLITE_DIR, RECORD_FILE)


def read_record(model_uri: str) -> Optional[dict[str, Any]]:
    """The Trainer's record of the compressed model, or None when it wrote none (not requested, or older)."""
    import tensorflow as tf

    path = record_path(model_uri)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def has_tflite(model_uri: str) -> bool:
    import tensorflow as tf

    return tf.io.gfile.exists(tflite_path(model_uri))
