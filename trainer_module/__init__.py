"""TensorFlow code run inside Transform and Trainer; importing it pins tf.keras to Keras 2 (tf-keras).

This is the single place that sets TF_USE_LEGACY_KERAS. TFX 1.16's Keras code paths need Keras 2, and the flag
must be set before TensorFlow is first imported. Every entry point imports this package first: the CLI and
`python -m cli` (via `cli/__init__.py`), the tests (via `tests/conftest.py`), TFX executors that load
`trainer_module.*` by dotted path, and Beam worker processes, which inherit the environment of the process that
spawns them. The container image sets the same variable (kubeflow/Dockerfile).
"""

import os
import sys

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"


def _pin_legacy_keras() -> None:
    if os.environ.get(LEGACY_KERAS_ENV) not in (None, "1", "true", "True"):
        raise RuntimeError(
            f"{LEGACY_KERAS_ENV}={os.environ[LEGACY_KERAS_ENV]!r} is set in the environment, but tfx-e2e needs "
            f"Keras 2 (tf-keras) for TFX 1.16: unset it or set it to 1."
        )
    if "tensorflow" in sys.modules and os.environ.get(LEGACY_KERAS_ENV) is None:
        raise RuntimeError(
            "TensorFlow was imported before tfx-e2e could set TF_USE_LEGACY_KERAS=1; import pipeline or "
            "trainer_module before tensorflow (or export TF_USE_LEGACY_KERAS=1)."
        )
    os.environ[LEGACY_KERAS_ENV] = "1"


_pin_legacy_keras()
