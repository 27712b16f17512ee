"""The requests a push is tested with: eval examples from an Examples artifact, cut to the columns the model parses."""

from __future__ import annotations

import os
from typing import List

from absl import logging
from tfx import types
from tfx.types import artifact_utils

from components.atomic_pusher import signature as sig
from trainer_module.serving_contract import SERVING_SIGNATURE

EVAL_SPLIT = "eval"


def read_eval_examples(examples: types.Artifact, limit: int) -> List[bytes]:
    """Up to `limit` serialized tf.Examples from the Examples artifact's eval split (gzip or plain TFRecords)."""
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2

    splits = artifact_utils.decode_split_names(examples.split_names) if examples.split_names else []
    if EVAL_SPLIT not in splits:
        raise ValueError(
            f"AtomicPusher: the `examples` artifact ({examples.uri}) has no {EVAL_SPLIT!r} split (splits: "
            f"{', '.join(splits) or 'none recorded'}); the smoke test and warmup requests are drawn from it."
        )
    payload = examples_utils.get_payload_format(examples)
    if payload != example_gen_pb2.FORMAT_TF_EXAMPLE:
        raise ValueError(
            f"AtomicPusher: the `examples` artifact ({examples.uri}) holds "
            f"{example_gen_pb2.PayloadFormat.Name(payload)}, not tf.Examples; {SERVING_SIGNATURE} takes tf.Examples."
        )
    split_dir = artifact_utils.get_split_uri([examples], EVAL_SPLIT)
    files = sorted(tf.io.gfile.glob(os.path.join(split_dir, "*")))
    if not files:
        raise ValueError(f"AtomicPusher: the eval split {split_dir} has no files.")
    records: List[bytes] = []
    for path in files:
        compression = "GZIP" if path.endswith(".gz") else ""
        for record in tf.data.TFRecordDataset(path, compression_type=compression).take(limit - len(records)):
            records.append(record.numpy())
        if len(records) >= limit:
            break
    if not records:
        raise ValueError(f"AtomicPusher: the eval split {split_dir} holds no examples.")
    return records


def serving_batch(model_dir: str, records: List[bytes]) -> List[bytes]:
    """The eval examples as a serving request carries them: only the columns the serving signature parses.

    The serving signature is meant for rows WITHOUT the label, and eval examples carry it (and other unused columns
    such as the label function's inputs). Sending them unchanged would also work: tf.io.parse_example only reads
    the keys in its spec and ignores every other feature in a tf.Example, so the outputs are identical. Dropping
    them keeps the warmup requests representative of real traffic and proves the model serves without the label.
    When the parse spec cannot be read from the graph, the examples are used as they are.
    """
    try:
        names = sig.serving_input_features(model_dir, SERVING_SIGNATURE)
    except sig.SignatureError as err:
        logging.warning("AtomicPusher: using eval examples unchanged: %s", err)
        return records
    return sig.keep_features(records, names)
