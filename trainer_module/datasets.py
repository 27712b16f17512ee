"""The Trainer's input: raw examples through the transform graph into (features, target) batches."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from trainer_module import models
from trainer_module.features import ModelSpec


def input_fn(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """Raw examples → the transform graph → (features, label) batches, repeated. Transform does not materialize
    its output (pipeline.dag.factory): the same graph the model serves with is applied here, batch by batch.
    Sharded by element across workers: a pipeline often writes fewer files than there are workers, so file-level
    sharding would starve some."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle=shuffle),
        tf_transform_output.raw_metadata.schema,
    )
    tft_layer = tf_transform_output.transform_features_layer()

    def transform(raw):
        features = dict(tft_layer(raw))
        label = features.pop(label_key)
        return features, label

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (
        dataset.with_options(options)
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def train_and_eval(
    fn_args: FnArgs, tf_transform_output: tft.TFTransformOutput, spec: ModelSpec, family: str, global_batch: int
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """(train, eval) datasets; eval is the same `eval_steps` batches after every epoch."""
    datasets = [
        input_fn(files, fn_args.data_accessor, tf_transform_output, spec.label_key, global_batch, shuffle=shuffle)
        for files, shuffle in ((fn_args.train_files, True), (fn_args.eval_files, False))
    ]
    if models.is_reconstruction(family):
        # An autoencoder learns to reproduce its (transformed) inputs; the label is not used.
        family_module = models.module(family)
        datasets = [ds.map(lambda x, _: (x, family_module.target(spec, x))) for ds in datasets]
    train_ds, eval_ds = datasets
    # Read once and kept in memory: early stopping compares like with like, and no epoch pays to restart the eval
    # input pipeline.
    return train_ds, eval_ds.take(fn_args.eval_steps).cache()
