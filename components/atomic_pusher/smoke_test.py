"""The serving smoke test: load a SavedModel, call its serving signature on a batch, require finite outputs."""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from trainer_module.serving_contract import INPUT_KEY, SERVING_SIGNATURE


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def serve(model_dir: str, batch: Sequence[bytes], what: str) -> Dict[str, np.ndarray]:
    """Loads `model_dir`, calls the serving signature on `batch` and checks every numeric output is finite.

    Raises RuntimeError naming the model, the output and how many examples got a non-finite value."""
    import tensorflow as tf

    from trainer_module.custom_ops import register_for

    try:
        register_for(model_dir)  # a gbt model's forest needs TF-DF's ops (TF Serving ≥ 2.11 has them built in)
        loaded = tf.saved_model.load(model_dir)
    except Exception as err:  # pylint: disable=broad-except  (any load failure means it cannot serve)
        raise RuntimeError(f"AtomicPusher: {what} {model_dir} cannot be loaded: {_first_line(err)}") from err
    signatures = dict(loaded.signatures)
    if SERVING_SIGNATURE not in signatures:
        raise RuntimeError(
            f"AtomicPusher: {what} {model_dir} has no {SERVING_SIGNATURE!r} signature "
            f"(it has: {', '.join(signatures) or 'none'})."
        )
    fn = signatures[SERVING_SIGNATURE]
    inputs = fn.structured_input_signature[1]
    if list(inputs) != [INPUT_KEY]:
        raise RuntimeError(
            f"AtomicPusher: {what} {model_dir}: {SERVING_SIGNATURE} takes {sorted(inputs)}, expected one input "
            f"{INPUT_KEY!r} (serialized tf.Examples)."
        )
    if not batch:
        return {}
    try:
        outputs = fn(**{INPUT_KEY: tf.constant(list(batch), dtype=tf.string)})
    except Exception as err:  # pylint: disable=broad-except
        raise RuntimeError(
            f"AtomicPusher: serving smoke test failed: {what} {model_dir} cannot serve {len(batch)} eval examples: "
            f"{_first_line(err)}"
        ) from err
    result = {name: value.numpy() for name, value in outputs.items()}
    for name, value in sorted(result.items()):
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.complexfloating)):
            continue
        finite = np.isfinite(value).reshape(len(value), -1).all(axis=1) if value.ndim else np.isfinite(value)
        bad = int(np.size(finite) - np.count_nonzero(finite))
        if bad:
            raise RuntimeError(
                f"AtomicPusher: serving smoke test failed: output {name!r} of {what} {model_dir} is not finite "
                f"(NaN or inf) for {bad} of {len(batch)} eval examples; nothing was pushed."
            )
    return result
