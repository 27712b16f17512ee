"""AtomicPusher's input and parameter names, their defaults and the validation of its parameters."""

from __future__ import annotations

from typing import Any

import numpy as np

from components.atomic_pusher.layout import model_name

# Inputs (the output's name is properties.PUSHED_MODEL_KEY).
MODEL_KEY = "model"
MODEL_BLESSING_KEY = "model_blessing"
EXAMPLES_KEY = "examples"
# Parameters.
BASE_DIRECTORY_KEY = "base_directory"
WARMUP_EXAMPLES_KEY = "warmup_examples"

DEFAULT_WARMUP_EXAMPLES = 32
MAX_WARMUP_EXAMPLES = 1000


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def validate_parameters(base_directory: Any, warmup_examples: Any) -> None:
    """Raises ValueError naming the bad parameter and what to pass instead."""
    if not isinstance(base_directory, str) or not base_directory.strip():
        raise ValueError(
            f"AtomicPusher: base_directory={base_directory!r} is invalid; pass the path TF Serving watches for this "
            "model, <serving_dir>/<model_name> (a local path or gs://...)."
        )
    if not model_name(base_directory):
        raise ValueError(
            f"AtomicPusher: base_directory={base_directory!r} has no last path component to use as the model name; "
            "pass <serving_dir>/<model_name>."
        )
    if not _is_int(warmup_examples) or not 1 <= warmup_examples <= MAX_WARMUP_EXAMPLES:
        raise ValueError(
            f"AtomicPusher: warmup_examples={warmup_examples!r} is invalid; pass an int from 1 to "
            f"{MAX_WARMUP_EXAMPLES} (eval examples used for the smoke test and the warmup request, e.g. 32)."
        )
