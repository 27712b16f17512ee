"""A taxi label function (`label.fn`) for the fault tests of `submit --target local`: taxi_big_tipper's label, but it
raises while the file named by $TFX_E2E_LABEL_FAILS_WHILE exists, so a test can break Transform and then fix it
without recompiling (the task processes inherit the environment of `tfx-e2e`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    import tensorflow as tf

MARKER_ENV = "TFX_E2E_LABEL_FAILS_WHILE"
FAILURE = "flaky_labels: the label is broken on purpose while the marker file exists"


def big_tipper_unless_marked(inputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
    """taxi_big_tipper, or a ValueError naming the marker file while that file exists."""
    from trainer_module.labels import taxi_big_tipper  # here: the tests import this module for its names only

    marker = os.environ.get(MARKER_ENV)
    if marker and Path(marker).exists():
        raise ValueError(f"{FAILURE} ({marker})")
    return taxi_big_tipper(inputs)
