"""DigitsExampleGen's executor: loads sklearn's digits, splits them by class and writes the TFRecord splits."""

from __future__ import annotations

import os
from typing import Any, Dict, List

import numpy as np
from absl import logging
from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

EVAL_PERCENT_KEY = "eval_percent"
SEED_KEY = "seed"
EXAMPLES_KEY = "examples"

DEFAULT_EVAL_PERCENT = 20
DEFAULT_SEED = 0
MIN_EVAL_PERCENT, MAX_EVAL_PERCENT = 1, 90

TRAIN_SPLIT, EVAL_SPLIT = "train", "eval"
SPLIT_NAMES = [TRAIN_SPLIT, EVAL_SPLIT]
# The name FileBasedExampleGen's WriteSplit gives its single shard, so anything globbing for it finds ours too.
FILE_NAME = "data_tfrecord-00000-of-00001.gz"
FILE_FORMAT = "tfrecords_gzip"

PIXELS_FEATURE, LABEL_FEATURE = "pixels", "label"


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but eval_percent=True is a mistake, not 1 %.
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def validate_parameters(eval_percent: Any, seed: Any) -> None:
    """Raises ValueError naming the bad parameter and what to pass instead."""
    if not _is_int(eval_percent) or not MIN_EVAL_PERCENT <= eval_percent <= MAX_EVAL_PERCENT:
        raise ValueError(
            f"DigitsExampleGen: eval_percent={eval_percent!r} is invalid; pass an int from {MIN_EVAL_PERCENT} to "
            f"{MAX_EVAL_PERCENT} (the percentage of each digit class written to the eval split, e.g. 20)."
        )
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"DigitsExampleGen: seed={seed!r} is invalid; pass a non-negative int (e.g. 0).")


def split_indices(labels: np.ndarray, eval_percent: int, seed: int) -> Dict[str, np.ndarray]:
    """Row indices per split: about eval_percent % of every class in eval, fixed by the seed, rows shuffled."""
    rng = np.random.default_rng(seed)
    train, eval_ = [], []
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        # Round half up (not banker's rounding) and keep at least one row of each class in both splits,
        # so every class is seen in training and measured in evaluation even at the 1 % / 90 % extremes.
        n_eval = int(np.floor(len(rows) * eval_percent / 100 + 0.5))
        n_eval = min(max(n_eval, 1), len(rows) - 1)
        eval_.append(rows[:n_eval])
        train.append(rows[n_eval:])
    # Shuffle across classes so a reader that takes the first N rows does not see one class only.
    return {TRAIN_SPLIT: rng.permutation(np.concatenate(train)), EVAL_SPLIT: rng.permutation(np.concatenate(eval_))}


def _serialize(pixels: np.ndarray, label: int) -> bytes:
    import tensorflow as tf

    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                PIXELS_FEATURE: tf.train.Feature(float_list=tf.train.FloatList(value=pixels.tolist())),
                LABEL_FEATURE: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }
        )
    )
    # `feature` is a protobuf map whose entry order is otherwise unspecified (it varied between runs in one
    # process), which would break the promise that the same seed writes byte-identical files.
    return example.SerializeToString(deterministic=True)


class Executor(base_executor.BaseExecutor):
    """Writes `<uri>/Split-{train,eval}/data_tfrecord-00000-of-00001.gz` and marks the artifact as ExampleGen does."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        eval_percent = exec_properties.get(EVAL_PERCENT_KEY, DEFAULT_EVAL_PERCENT)
        seed = exec_properties.get(SEED_KEY, DEFAULT_SEED)
        validate_parameters(eval_percent, seed)

        import tensorflow as tf
        from sklearn.datasets import load_digits

        digits = load_digits()
        # images are (n, 8, 8); reshape is row-major, so pixel i is row i // 8, column i % 8.
        pixels = digits.images.reshape(len(digits.images), -1).astype(np.float32)
        labels = digits.target.astype(np.int64)

        examples_artifact = artifact_utils.get_single_instance(output_dict[EXAMPLES_KEY])
        examples_artifact.split_names = artifact_utils.encode_split_names(SPLIT_NAMES)
        for split, rows in split_indices(labels, eval_percent, seed).items():
            split_dir = artifact_utils.get_split_uri([examples_artifact], split)
            tf.io.gfile.makedirs(split_dir)
            with tf.io.TFRecordWriter(os.path.join(split_dir, FILE_NAME), options="GZIP") as writer:
                for i in rows:
                    writer.write(_serialize(pixels[i], labels[i]))
            logging.info("DigitsExampleGen: wrote %d examples to split %s.", len(rows), split)

        # What ExampleGen's driver and executor record, so resolvers and TFXIO readers treat this output alike:
        # span/version as custom properties (driver.update_output_artifact), payload and file format (executor).
        examples_artifact.set_int_custom_property(example_gen_utils.SPAN_PROPERTY_NAME, 0)
        examples_artifact.set_int_custom_property(example_gen_utils.VERSION_PROPERTY_NAME, 0)
        examples_utils.set_payload_format(examples_artifact, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(examples_artifact, FILE_FORMAT)
