"""One training worker process: rebuild the Trainer's FnArgs from the payload and call run_fn (TF_CONFIG is set)."""

from __future__ import annotations

import json
import os
import sys

import trainer_module  # noqa: F401  (Keras 2 before TensorFlow)

from tfx.components.trainer import executor as trainer_executor
from tfx.components.util import udf_utils
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from trainer_module import patches


def main(payload_path: str) -> int:
    with open(payload_path) as f:
        payload = json.load(f)
    input_dict = artifact_utils.parse_artifact_dict(payload["input_dict"])
    output_dict = artifact_utils.parse_artifact_dict(payload["output_dict"])
    exec_properties = payload["exec_properties"]
    context = base_executor.BaseExecutor.Context(tmp_dir=payload["tmp_dir"], unique_id=f"worker-{os.getpid()}")
    executor = trainer_executor.GenericExecutor(context)
    fn_args = patches.trainer_fn_args(executor, input_dict, output_dict, exec_properties)
    udf_utils.get_fn(exec_properties, "run_fn")(fn_args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
