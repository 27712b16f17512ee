"""AtomicPusher's executor: smoke-test the blessed candidate, write TF Serving warmup requests, publish atomically.

A push: read up to `warmup_examples` eval examples (examples.py) → load the candidate and call its serving
signature on them, failing on an error or any non-finite output (smoke_test.py) → copy the SavedModel into
`.tmp-*` beside the target, add assets.extra (warmup.py, identity.py) → load that copy and replay its warmup file
(outputs must be finite and equal the candidate's) → fsync → `os.rename` to `<base>/<version>`, which is atomic on
one local filesystem, so TF Serving sees either no version or a complete one (publish.py). The directory layout
under `<base>` is described in layout.py.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.utils import io_utils, path_utils

from components.atomic_pusher import examples as eval_examples
from components.atomic_pusher import identity, parameters, publish, smoke_test
from components.atomic_pusher.layout import SAVED_MODEL_FILE, TFLITE_DIR, TFLITE_FILE
from components.atomic_pusher.properties import (
    PUSH_REUSED_KEY,
    PUSHED_DESTINATION_KEY,
    PUSHED_KEY,
    PUSHED_MODEL_KEY,
    PUSHED_VERSION_KEY,
)
from trainer_module import tflite_files


def _single(artifacts: Optional[Sequence[types.Artifact]], key: str, where: str, optional: bool = False):
    artifacts = list(artifacts or [])
    if optional and not artifacts:
        return None
    if len(artifacts) != 1:
        raise ValueError(f"AtomicPusher: expected exactly one `{key}` {where} artifact, got {len(artifacts)}.")
    return artifacts[0]


def is_blessed(blessing: types.Artifact) -> bool:
    """As TFX's Pusher: the `blessed` custom property (model_utils.is_model_blessed); when an artifact lacks the
    property altogether, the BLESSED marker file the Evaluator writes beside it."""
    import tensorflow as tf
    from tfx.components.evaluator import constants as evaluator_constants
    from tfx.components.util import model_utils

    if evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY in blessing.mlmd_artifact.custom_properties:
        return model_utils.is_model_blessed(blessing)
    return tf.io.gfile.exists(os.path.join(blessing.uri, evaluator_constants.BLESSED_FILE_NAME))


class Executor(base_executor.BaseExecutor):
    """Pushes a blessed model to `<base_directory>/<version>` atomically, smoke-tested and with warmup requests."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model = _single(input_dict.get(parameters.MODEL_KEY), parameters.MODEL_KEY, "input")
        blessing = _single(input_dict.get(parameters.MODEL_BLESSING_KEY), parameters.MODEL_BLESSING_KEY, "input")
        examples = _single(input_dict.get(parameters.EXAMPLES_KEY), parameters.EXAMPLES_KEY, "input", optional=True)
        pushed_model = _single(output_dict.get(PUSHED_MODEL_KEY), PUSHED_MODEL_KEY, "output")
        base = exec_properties.get(parameters.BASE_DIRECTORY_KEY)
        warmup_examples = exec_properties.get(parameters.WARMUP_EXAMPLES_KEY)
        if warmup_examples is None:
            warmup_examples = parameters.DEFAULT_WARMUP_EXAMPLES
        parameters.validate_parameters(base, warmup_examples)
        base = base.rstrip("/")

        if not is_blessed(blessing):
            logging.info("AtomicPusher: the model on %s was not blessed (%s); nothing pushed.", model.uri, blessing.uri)
            pushed_model.set_int_custom_property(PUSHED_KEY, 0)
            return

        import tensorflow as tf

        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        if not tf.io.gfile.exists(os.path.join(model_dir, SAVED_MODEL_FILE)):
            raise ValueError(
                f"AtomicPusher: the `model` artifact has no SavedModel at {model_dir} (no saved_model.pb); "
                "the Trainer's run_fn must save the serving model to fn_args.serving_model_dir."
            )

        batch: List[bytes] = []
        if examples is not None:
            records = eval_examples.read_eval_examples(examples, int(warmup_examples))
            batch = eval_examples.serving_batch(model_dir, records)
        # Smoke test the candidate before anything is written next to the served versions.
        expected = smoke_test.serve(model_dir, batch, "the candidate model")
        logging.info("AtomicPusher: smoke test passed on %d eval examples (%s).", len(batch), ", ".join(expected))

        wanted = identity.identity(model, model_dir)
        # The compressed model (model.export.quantize), when the Trainer wrote one: <version>/tflite/model.tflite.
        tflite = tflite_files.tflite_path(model.uri)
        extra = {os.path.join(TFLITE_DIR, TFLITE_FILE): tflite} if tf.io.gfile.exists(tflite) else {}
        version, destination, reused = publish.push(model_dir, base, wanted, batch, expected, extra)

        # As TFX's Pusher: keep a copy of what was pushed in the PushedModel artifact, then mark it.
        io_utils.copy_dir(destination, pushed_model.uri)
        pushed_model.set_int_custom_property(PUSHED_KEY, 1)
        pushed_model.set_string_custom_property(PUSHED_DESTINATION_KEY, destination)
        pushed_model.set_string_custom_property(PUSHED_VERSION_KEY, str(version))
        pushed_model.set_int_custom_property(PUSH_REUSED_KEY, int(reused))
