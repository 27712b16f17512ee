"""The serving contract of every exported model: signature names, their input key and output keys (one source).

The exporter (trainer_module.export), the TFMA config, the Pusher's smoke test and warmup requests, `tfx-e2e predict`
and the benchmarks all read these names from here. Pure constants: importing this module loads no TensorFlow.
"""

from __future__ import annotations

# Serialized raw tf.Examples WITHOUT the label → the prediction outputs below (what TF Serving clients call).
SERVING_SIGNATURE = "serving_default"
# Serialized raw tf.Examples (label included) → transformed features; TFMA uses it to read the label.
TRANSFORM_SIGNATURE = "transform_features"
# Both signatures take one input: a batch of serialized tf.Examples.
INPUT_KEY = "examples"
# Not a signature: the model's forward pass on transformed features (`tf.saved_model.load(dir).call_model(...)`).
CALL_MODEL = "call_model"

# Output keys of serving_default.
PROBABILITIES = "probabilities"  # binary: P(label = 1) per row; multiclass: one probability per class
PREDICTIONS = "predictions"  # regression, in the label's own units
# Classification with class names (multiclass; binary labels written as strings), as TF Serving's classification
# outputs: CLASSES holds the class name of each column of PROBABILITIES (binary: the positive class, whose
# probability it is); PREDICTED_CLASS the name of the most likely class (binary: probability >= 0.5).
CLASSES = "classes"
PREDICTED_CLASS = "predicted_class"
RECONSTRUCTION = "reconstruction"  # autoencoders: the reconstructed (transformed) inputs
RECONSTRUCTION_ERROR = "reconstruction_error"  # autoencoders: per-example error, the anomaly score TFMA evaluates


def output_key(task: str, reconstruction: bool = False) -> str:
    """The output TFMA evaluates: class probabilities, the regression prediction, or the reconstruction error."""
    if reconstruction:
        return RECONSTRUCTION_ERROR
    return PREDICTIONS if task == "regression" else PROBABILITIES
