"""Training the gbt family inside the Trainer: the train split read once through the transform graph (no shuffling,
no repeats: trees see each row once), TF-DF's early stopping on a slice of it or on the eval split, then the trees
wrapped as a functional Keras model with the same named inputs and task output as the other families."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import tensorflow as tf
from absl import logging

from trainer_module import datasets
from trainer_module.features import LabelSpec, ModelSpec
from trainer_module.models import gbt

BATCH = 8192  # TF-DF reads the whole dataset into memory before it grows trees; the batch size only paces reading


@dataclass(frozen=True)
class Trained:
    model: tf.keras.Model  # the functional wrapper (inputs by transformed name → the task's output)
    history: dict[str, list]  # per tree: the validation loss (TF-DF's training logs), as "loss"/"val_loss"
    fit_seconds: float
    trees: int


def _dataset(files: list[str], fn_args: Any, tf_transform_output: Any, label: LabelSpec) -> tf.data.Dataset:
    dataset = datasets.input_fn(files, fn_args.data_accessor, tf_transform_output, label, BATCH, shuffle=False,
                                num_epochs=1)
    if label.task == "regression":  # trees split on the target as it is: no scaling (their squared loss is the mean's)
        return dataset.map(lambda x, y, w: (x, tf.cast(y, tf.float32), w))
    return dataset.map(lambda x, y, w: (x, tf.cast(tf.reshape(y, [-1]), tf.int64), w))


def train(fn_args: Any, tf_transform_output: Any, spec: ModelSpec, label: LabelSpec,
          hparams: Mapping[str, Any], seed: int) -> Trained:
    trees = gbt.build(spec, hparams, seed=seed)
    train_ds = _dataset(fn_args.train_files, fn_args, tf_transform_output, label)
    # Early stopping on the eval split (as the networks'), or on a slice of the train split (TF-DF's own)
    valid_ds = None
    if gbt.uses_eval_split(hparams):
        valid_ds = _dataset(fn_args.eval_files, fn_args, tf_transform_output, label)
    started = time.time()
    trees.fit(train_ds, validation_data=valid_ds, verbose=0)
    fit_seconds = time.time() - started
    inspector = trees.make_inspector()
    logs = inspector.training_logs() or []
    losses = [float(log.evaluation.loss) for log in logs if log.evaluation is not None and log.evaluation.loss]
    logging.info("gbt: %d trees in %.1f s", inspector.num_trees(), fit_seconds)
    return Trained(Forest(trees, spec), {"loss": losses, "val_loss": losses}, fit_seconds, int(inspector.num_trees()))


class Forest(tf.keras.Model):
    """The trained trees behind the interface trainer_module.export reads: named transformed inputs
    (`export_input_specs`) → the task's output, float32 (binary: P(positive) [batch, 1]; multiclass: [batch, n];
    regression: [batch, 1] on the training scale)."""

    def __init__(self, trees: tf.keras.Model, spec: ModelSpec):
        super().__init__(name="gbt")
        self.trees = trees  # tracked: the SavedModel holds the forest (TF-DF's model resource and its assets)
        self._inputs_of = tuple((f.name, f.kind, tuple(f.shape)) for f in spec.inputs)

    def export_input_specs(self) -> dict[str, tf.TensorSpec]:
        """One value per row, as the trees were trained (rank 1: TF-DF's graph needs the rank it saw)."""
        return {name: tf.TensorSpec(shape=(None,), dtype=tf.float32 if kind == "numeric" else tf.int64, name=name)
                for name, kind, _ in self._inputs_of}

    def export_resources(self) -> tf.keras.Model:
        """What the SavedModel must track besides variables: the TF-DF model (its forest resource and assets)."""
        return self.trees

    def call(self, inputs, training=False):
        rows = {name: tf.reshape(inputs[name], [-1]) for name, _, _ in self._inputs_of}
        return tf.cast(self.trees(rows), tf.float32)
