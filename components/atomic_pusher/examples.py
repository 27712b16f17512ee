"""The requests a push is tested with: eval examples from an Examples artifact, cut to the columns the model parses."""

from __future__ import annotations

from typing import List

from absl import logging
from tfx import types

from components import eval_split
from components.atomic_pusher import signature as sig
from trainer_module.serving_contract import SERVING_SIGNATURE


def read_eval_examples(examples: types.Artifact, limit: int) -> List[bytes]:
    """Up to `limit` serialized tf.Examples from the Examples artifact's eval split (gzip or plain TFRecords)."""
    return eval_split.read_eval_records(examples, limit, "AtomicPusher",
                                        "the smoke test and warmup requests are drawn from it")


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
