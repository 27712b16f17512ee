"""TF Serving warmup files: PredictionLog TFRecords of predict requests that TF Serving replays on loading a version."""

from __future__ import annotations

from typing import Any, List, Sequence

from trainer_module.serving_contract import INPUT_KEY, SERVING_SIGNATURE


def warmup_log(model: str, batch: Sequence[bytes]) -> bytes:
    """One serialized PredictionLog whose predict request carries the batch, as TF Serving's warmup expects."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name = model
    request.model_spec.signature_name = SERVING_SIGNATURE
    request.inputs[INPUT_KEY].CopyFrom(tf.make_tensor_proto(list(batch), dtype=tf.string))
    return log.SerializeToString()


def write_warmup(path: str, model: str, batch: Sequence[bytes]) -> None:
    """Writes a warmup file holding one request: `batch` for the model named `model`."""
    import tensorflow as tf

    with tf.io.TFRecordWriter(path) as writer:
        writer.write(warmup_log(model, batch))


def read_warmup(path: str) -> List[Any]:
    """The PredictionLog records of a warmup file."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)
    ]


def warmup_batches(path: str) -> List[List[bytes]]:
    """The `examples` batch of every predict request in a warmup file."""
    import tensorflow as tf

    batches = []
    for log in read_warmup(path):
        tensor = log.predict_log.request.inputs[INPUT_KEY]
        batches.append([bytes(v) for v in tf.make_ndarray(tensor).ravel().tolist()])
    return batches
