"""The eval split of an Examples artifact as serialized tf.Examples: what the Pusher's smoke test and warmup requests
and the FeatureImportance component read (one reader, one set of errors)."""

from __future__ import annotations

import os
from typing import List

from tfx import types
from tfx.types import artifact_utils

EVAL_SPLIT = "eval"


def read_eval_records(examples: types.Artifact, limit: int, who: str, purpose: str) -> List[bytes]:
    """Up to `limit` serialized tf.Examples from the artifact's eval split, in file order (gzip or plain TFRecords).

    ValueError naming `who` when there is no eval split, it holds no tf.Examples or no rows; `purpose` says what the
    rows were for ("importance is measured on it")."""
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2

    splits = artifact_utils.decode_split_names(examples.split_names) if examples.split_names else []
    if EVAL_SPLIT not in splits:
        raise ValueError(f"{who}: the `examples` artifact ({examples.uri}) has no {EVAL_SPLIT!r} split (splits: "
                         f"{', '.join(splits) or 'none recorded'}); {purpose}.")
    payload = examples_utils.get_payload_format(examples)
    if payload != example_gen_pb2.FORMAT_TF_EXAMPLE:
        raise ValueError(f"{who}: the `examples` artifact ({examples.uri}) holds "
                         f"{example_gen_pb2.PayloadFormat.Name(payload)}, not tf.Examples; serving_default takes "
                         "tf.Examples.")
    split_dir = artifact_utils.get_split_uri([examples], EVAL_SPLIT)
    files = sorted(tf.io.gfile.glob(os.path.join(split_dir, "*")))
    if not files:
        raise ValueError(f"{who}: the eval split {split_dir} has no files.")
    records: List[bytes] = []
    for path in files:
        compression = "GZIP" if path.endswith(".gz") else ""
        for record in tf.data.TFRecordDataset(path, compression_type=compression).take(limit - len(records)):
            records.append(record.numpy())
        if len(records) >= limit:
            break
    if not records:
        raise ValueError(f"{who}: the eval split {split_dir} holds no examples.")
    return records
