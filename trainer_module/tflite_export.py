"""The compressed model (model.export.quantize): the trained Keras model converted to TFLite with post-training
quantization, written by the Trainer beside the SavedModel (layout: trainer_module.tflite_files).

What is converted is the Keras part only: transformed features in (named as the model's inputs), the output the
Evaluator scores out (probabilities; a regression's value in the label's units; an autoencoder's reconstruction
error). Parsing tf.Examples and the tf.Transform graph stay TensorFlow (the SavedModel's `transform_features`
signature): they need TF ops TFLite has no builtin kernel for (ParseExampleV2, lookup tables), which would tie the
file to the Flex delegate and rule out int8. So the served pair is "TF transform + TFLite model".

How: an export-only clone of the model in which each CategoryEncoding (tf.DenseBincount, not a TFLite builtin, and
a SIGSEGV inside int8 calibration) becomes TFLiteOneHot (ONE_HOT + REDUCE_MAX, builtins), checked to answer like
the model within CLONE_TOLERANCE; its forward pass saved as a plain SavedModel signature; TFLiteConverter on that.
int8 runs in a subprocess (`python -m trainer_module.tflite_export`): a crash of the converter's calibration fails
the Trainer with a message instead of killing it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Mapping, Optional

import numpy as np
import tensorflow as tf

from trainer_module import tflite_files as files

CLONE_TOLERANCE = 1e-5  # max |model - clone| on the calibration rows
CALIBRATION_ROWS = 300  # transformed training rows for int8 calibration (and the clone and agreement checks)
CHECK_ROWS = 100  # rows on which the TFLite output is compared with the model's (recorded, not gated)
SUBPROCESS_TIMEOUT = 900


@tf.keras.utils.register_keras_serializable("tfx_e2e")
class TFLiteOneHot(tf.keras.layers.Layer):
    """CategoryEncoding(one_hot | multi_hot) with TFLite builtins: max over one_hot(ids) of each row's ids."""

    def __init__(self, num_tokens: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.num_tokens = int(num_tokens)

    def call(self, ids: tf.Tensor) -> tf.Tensor:
        return tf.reduce_max(tf.one_hot(tf.cast(ids, tf.int64), self.num_tokens, dtype=tf.float32), axis=-2)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens}


def _swap(layer: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
    """A new layer for the clone (never `layer` itself: returning it would share it with the trained model)."""
    if isinstance(layer, tf.keras.layers.CategoryEncoding):
        if layer.output_mode not in ("one_hot", "multi_hot"):
            raise ValueError(f"TFLite export: CategoryEncoding {layer.name} output_mode {layer.output_mode!r} "
                             "has no TFLite builtin form (one_hot and multi_hot do)")
        return TFLiteOneHot(layer.num_tokens, name=layer.name)
    return layer.__class__.from_config(layer.get_config())


def tflite_clone(model: tf.keras.Model) -> tf.keras.Model:
    """A functional copy of `model` with the trained weights, every CategoryEncoding swapped for TFLiteOneHot."""
    # The graph alone: the exported model also tracks layers outside it (its tf.Transform layer, which has no
    # config), and clone_model would try to copy those too.
    graph = tf.keras.Model(model.inputs, model.outputs)
    clone = tf.keras.models.clone_model(graph, clone_function=_swap)
    clone.set_weights(graph.get_weights())
    return clone


def input_specs(model: tf.keras.Model) -> dict[str, tf.TensorSpec]:
    return {name: tf.TensorSpec([None, *t.shape[1:]], t.dtype, name=name)
            for name, t in zip(model.input_names, model.inputs)}


def representative_rows(dataset: Any, model: tf.keras.Model, rows: int = CALIBRATION_ROWS) -> dict[str, np.ndarray]:
    """Up to `rows` transformed rows of the model's inputs from a (features, ...) dataset, as arrays shaped as the
    model's inputs (a scalar feature arrives as [batch]; Keras expands it to [batch, 1], TFLite does not)."""
    names = list(model.input_names)
    shapes = {name: tuple(t.shape[1:]) for name, t in zip(names, model.inputs)}
    parts: dict[str, list] = {n: [] for n in names}
    seen = 0
    for batch in dataset:
        features = batch[0] if isinstance(batch, (tuple, list)) else batch
        for n in names:
            parts[n].append(np.asarray(features[n]))
        seen += len(parts[names[0]][-1])
        if seen >= rows:
            break
    return {n: np.concatenate(v)[:rows].reshape((-1, *shapes[n])) for n, v in parts.items()}


def save_forward(model: tf.keras.Model, output_fn: Callable[[Mapping[str, tf.Tensor], tf.Tensor], tf.Tensor],
                 directory: str) -> None:
    """A SavedModel whose `serving_default` is the model's forward pass on transformed features, returning
    {OUTPUT_NAME: output_fn(inputs, model(inputs))}: what TFLiteConverter.from_saved_model converts."""
    root = tf.Module()
    root.model_variables = list(model.variables)
    forward = tf.function(lambda features: {files.OUTPUT_NAME: output_fn(features, model(features, training=False))},
                          input_signature=[input_specs(model)])
    tf.saved_model.save(root, directory, signatures={"serving_default": forward})


def convert(saved_dir: str, mode: str, calibration: Optional[Mapping[str, np.ndarray]] = None) -> bytes:
    """TFLiteConverter on the forward-pass SavedModel, with `mode`'s post-training quantization."""
    if mode not in files.QUANTIZE_MODES:
        raise ValueError(f"unknown quantization mode {mode!r}; use one of {', '.join(files.QUANTIZE_MODES)}")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_dir)
    if mode != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        if not calibration:
            raise ValueError("int8 quantization needs calibration rows (transformed training examples)")
        n = len(next(iter(calibration.values())))
        converter.representative_dataset = lambda: ({k: v[i:i + 1] for k, v in calibration.items()} for i in range(n))
        # Full integer ops, float inputs and outputs: callers (TFMA too) feed transformed features as they are.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def convert_in_subprocess(saved_dir: str, mode: str, calibration: Mapping[str, np.ndarray], work_dir: str) -> bytes:
    """`convert` in a fresh Python process: a converter crash (SIGSEGV in calibration) becomes a RuntimeError."""
    rows, out = os.path.join(work_dir, "calibration.npz"), os.path.join(work_dir, "converted.tflite")
    np.savez(rows, **calibration)
    cmd = [sys.executable, "-m", "trainer_module.tflite_export", saved_dir, mode, rows, out]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
    if proc.returncode != 0 or not os.path.exists(out):
        if proc.returncode < 0:  # a crash says nothing on stderr but TensorFlow's logs
            how = f"the converter crashed: killed by {signal.Signals(-proc.returncode).name}"
        else:
            errors = [line.strip() for line in proc.stderr.splitlines() if "Error" in line]
            how = f"exit code {proc.returncode}: {errors[-1] if errors else 'no error message'}"
        raise RuntimeError(
            f"TFLite {mode} conversion failed in its subprocess ({how}); "
            "set model.export.quantize to dynamic or float16 (or unset it to export no TFLite model)")
    with open(out, "rb") as f:
        return f.read()


def run_tflite(content: bytes, rows: Mapping[str, np.ndarray]) -> np.ndarray:
    """The TFLite model's output for each row, one row per call (batch 1, as TFLite is served)."""
    runner = tf.lite.Interpreter(model_content=content).get_signature_runner()
    dtypes = {name: d["dtype"] for name, d in runner.get_input_details().items()}
    n = len(next(iter(rows.values())))
    return np.concatenate([np.asarray(runner(**{k: v[i:i + 1].astype(dtypes[k]) for k, v in rows.items()})
                                      [files.OUTPUT_NAME]) for i in range(n)])


def tree_bytes(directory: str) -> int:
    return sum(tf.io.gfile.stat(os.path.join(d, f)).length for d, _, fs in tf.io.gfile.walk(directory) for f in fs)


def export_tflite(model: tf.keras.Model, model_uri: str, mode: str, calibration: Mapping[str, np.ndarray],
                  output_fn: Callable[[Mapping[str, tf.Tensor], tf.Tensor], tf.Tensor],
                  serving_dir: Optional[str] = None) -> dict[str, Any]:
    """Writes <model_uri>/tflite/model.tflite and its record; returns the record."""
    started = time.time()
    clone = tflite_clone(model)
    full = output_fn(calibration, model(calibration, training=False)).numpy()
    gap = float(np.max(np.abs(full - output_fn(calibration, clone(calibration, training=False)).numpy())))
    if not gap <= CLONE_TOLERANCE:
        raise RuntimeError(f"TFLite export: the export clone answers up to {gap:.3g} away from the trained model "
                           f"(allowed {CLONE_TOLERANCE}); report this model family's layers")
    with tempfile.TemporaryDirectory(prefix="tfx-e2e-tflite-") as work:
        forward_dir = os.path.join(work, "forward")
        save_forward(clone, output_fn, forward_dir)
        content = (convert_in_subprocess(forward_dir, mode, calibration, work) if mode == "int8"
                   else convert(forward_dir, mode))
    seconds = time.time() - started
    check = {k: v[:CHECK_ROWS] for k, v in calibration.items()}
    answered = run_tflite(content, check)
    path = files.tflite_path(model_uri)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(content)
    record = {
        "mode": mode,
        "bytes": len(content),
        "saved_model_bytes": tree_bytes(serving_dir) if serving_dir else None,
        "conversion_seconds": round(seconds, 2),
        "inputs": sorted(calibration),
        "output": files.OUTPUT_NAME,
        "calibration_rows": len(next(iter(calibration.values()))) if mode == "int8" else 0,
        "max_abs_diff": float(np.max(np.abs(answered.reshape(len(answered), -1)
                                            - full[:CHECK_ROWS].reshape(len(answered), -1)))),
        "rows_checked": len(answered),
    }
    with tf.io.gfile.GFile(files.record_path(model_uri), "w") as f:
        json.dump(record, f, indent=2)
    return record


def evaluated_output(family: str, spec: Any, scaling: Optional[Any]) -> Callable:
    """output_fn for export_tflite: what serving_default returns under the Evaluator's prediction key."""
    from trainer_module import models

    if models.is_reconstruction(family):
        module = models.module(family)
        return lambda inputs, out: module.reconstruction_error(module.target(spec, inputs), out)
    if scaling is None:
        return lambda inputs, out: out

    def inverse(inputs: Any, out: tf.Tensor) -> tf.Tensor:
        y = tf.cast(out, tf.float32) * scaling.scale + scaling.center
        # exp(y)·s − 1 rather than expm1 (no TFLite builtin): the same value to float precision.
        return tf.exp(y) * scaling.smearing - 1.0 if scaling.kind == "log1p_zscore" else y

    return inverse


def for_run(model: tf.keras.Model, custom: Mapping[str, Any], family: str, spec: Any, scaling: Optional[Any],
            train_ds: Any, model_uri: str, serving_dir: str) -> Optional[dict[str, Any]]:
    """The Trainer's step: the TFLite export when model.export.quantize is set (None when not); a family TFLite
    cannot convert, reached through model.family auto, is skipped with the reason recorded."""
    mode = (custom.get("model", {}).get("export") or {}).get("quantize")
    if not mode:
        return None
    if family in files.NOT_CONVERTIBLE:
        return {"mode": mode, "skipped": f"model.family auto chose {family}, which has no TFLite form "
                                         f"({files.NOT_CONVERTIBLE[family]}): no compressed model"}
    calibration = representative_rows(train_ds, model)
    return export_tflite(model, model_uri, mode, calibration, evaluated_output(family, spec, scaling), serving_dir)


def main(argv: list[str]) -> int:
    """`python -m trainer_module.tflite_export SAVED_DIR MODE CALIBRATION.npz OUT.tflite`."""
    saved_dir, mode, rows, out = argv
    with np.load(rows) as data:
        calibration = {k: data[k] for k in data.files}
    content = convert(saved_dir, mode, calibration)
    with open(out, "wb") as f:
        f.write(content)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
