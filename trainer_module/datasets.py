"""The Trainer's input: raw examples through the transform graph into (features, target, weight) batches; a row
without a label weighs 0 (trainer_module.preprocessing)."""

from __future__ import annotations

from typing import Any, Optional

import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from trainer_module import models
from trainer_module.features import LabelSpec, ModelSpec


def input_fn(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    tf_transform_output: tft.TFTransformOutput,
    label: LabelSpec,
    batch_size: int,
    shuffle: bool = True,
    num_epochs: Optional[int] = None,
) -> tf.data.Dataset:
    """Raw examples → the transform graph → (features, label) batches, repeated. Transform does not materialize
    its output (pipeline.dag.factory): the same graph the model serves with is applied here, batch by batch.
    Sharded by element across workers: a pipeline often writes fewer files than there are workers, so file-level
    sharding would starve some."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle=shuffle, num_epochs=num_epochs),
        tf_transform_output.raw_metadata.schema,
    )
    tft_layer = tf_transform_output.transform_features_layer()

    def transform(raw):
        features = dict(tft_layer(raw))
        target = features.pop(label.transformed_key)
        weight = features.pop(label.weight_key)
        return features, target, weight

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (
        dataset.with_options(options)
        .map(transform, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def train_labels(
    fn_args: FnArgs, tf_transform_output: tft.TFTransformOutput, label: LabelSpec, batch_size: int = 1024
) -> tf.data.Dataset:
    """(label, weight) batches of the train split, read once (to choose a regression target's scaling)."""
    dataset = input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output, label, batch_size,
                       shuffle=False, num_epochs=1)
    return dataset.map(lambda _, target, weight: (target, weight))


def train_and_eval(
    fn_args: FnArgs,
    tf_transform_output: tft.TFTransformOutput,
    spec: ModelSpec,
    label: LabelSpec,
    family: str,
    global_batch: int,
    scaling: Optional[Any] = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """(train, eval) datasets; eval is the same `eval_steps` batches after every epoch. `scaling` (a
    label_stats.TargetScaling) maps a regression target to the scale the model trains on."""
    datasets = [
        input_fn(files, fn_args.data_accessor, tf_transform_output, label, global_batch, shuffle=shuffle)
        for files, shuffle in ((fn_args.train_files, True), (fn_args.eval_files, False))
    ]
    if models.is_reconstruction(family):
        # An autoencoder learns to reproduce its (transformed) inputs; the label is not used.
        family_module = models.module(family)
        datasets = [ds.map(lambda x, _, w: (x, family_module.target(spec, x))) for ds in datasets]
    elif scaling is not None:
        datasets = [ds.map(lambda x, y, w: (x, scaling.forward(y), w)) for ds in datasets]
    train_ds, eval_ds = datasets
    # Read once and kept in memory: early stopping compares like with like, and no epoch pays to restart the eval
    # input pipeline.
    return train_ds, eval_ds.take(fn_args.eval_steps).cache()
