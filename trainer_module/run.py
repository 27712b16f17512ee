"""run_fn (Trainer entry point, `trainer_module.run.run_fn`): datasets, model under a strategy, export for serving."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Mapping

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from trainer_module import features as F
from trainer_module import models, strategy as strategies

SUMMARY_FILE = "training_summary.json"
SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"


def output_key(task: str) -> str:
    """The single output of the serving signature: class probabilities, or the regression prediction."""
    return "predictions" if task == "regression" else "probabilities"


def input_fn(
    file_pattern: list[str],
    data_accessor: tfx.components.DataAccessor,
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
) -> tf.data.Dataset:
    """Transformed examples as (features, label) batches, repeated; sharded per worker by the strategy."""
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=label_key),
        tf_transform_output.transformed_metadata.schema,
    ).prefetch(tf.data.AUTOTUNE)


def serving_signatures(
    model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput, custom_config: Mapping[str, Any]
) -> dict[str, Any]:
    """`serving_default`: serialized raw tf.Examples without the label → predictions.
    `transform_features`: serialized raw tf.Examples (label included) → transformed features (for TFMA)."""
    task = custom_config["task"]
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {c: raw_spec[c] for c in F.serving_columns(tf_transform_output, custom_config)}
    # The layer must be tracked by the model to be saved with it.
    model.tft_layer = tf_transform_output.transform_features_layer()
    out_key = output_key(task)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_examples(serialized):
        raw = tf.io.parse_example(serialized, serving_spec)
        transformed = model.tft_layer(raw)
        model_inputs = {name: transformed[name] for name in model.input_names}
        return {out_key: model(model_inputs)}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(serialized):
        raw = tf.io.parse_example(serialized, raw_spec)
        return model.tft_layer(raw)

    return {SERVING_SIGNATURE: serve_examples, TRANSFORM_SIGNATURE: transform_features}


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains the configured model family on Transform's output and exports a SavedModel for TF Serving."""
    started = time.time()
    custom = fn_args.custom_config or {}
    training = custom.get("training", {})
    strategy, choice = strategies.create(training.get("strategy", "auto"))
    logging.info("tf.distribute strategy: %s (%s)", choice.name, choice.reason)

    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = F.model_spec(tf_transform_output, custom)
    replicas = strategy.num_replicas_in_sync
    global_batch = int(training.get("batch_size", 128)) * replicas
    train_ds = input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output, spec.label_key, global_batch)
    eval_ds = input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, spec.label_key, global_batch)

    with strategy.scope():
        model = models.build(custom.get("model", {}).get("family", "dnn"), spec, custom.get("model", {}).get("hparams", {}))

    epochs = max(1, min(int(training.get("epochs", 5)), fn_args.train_steps))
    steps_per_epoch = max(1, fn_args.train_steps // epochs)
    callbacks = [
        tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq="epoch"),
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=int(training.get("early_stopping_patience", 2)),
            restore_best_weights=True,
        ),
    ]
    fit_started = time.time()
    history = model.fit(
        train_ds,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=eval_ds,
        validation_steps=fn_args.eval_steps,
        callbacks=callbacks,
        verbose=2,
    )
    fit_seconds = time.time() - fit_started
    epochs_run = len(history.history.get("loss", []))

    model.save(
        fn_args.serving_model_dir,
        save_format="tf",
        signatures=serving_signatures(model, tf_transform_output, custom),
    )
    summary = {
        "strategy": choice.name,
        "reason": choice.reason,
        "replicas": replicas,
        "global_batch_size": global_batch,
        "epochs_run": epochs_run,
        "steps_per_epoch": steps_per_epoch,
        "steps": epochs_run * steps_per_epoch,
        "final": {k: float(v[-1]) for k, v in history.history.items()},
        "examples_per_second": round(epochs_run * steps_per_epoch * global_batch / max(fit_seconds, 1e-9), 1),
        "wall_seconds": round(time.time() - started, 2),
        "inputs": [f.name for f in spec.inputs],
    }
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, SUMMARY_FILE), "w") as f:
        json.dump(summary, f, indent=2)
    logging.info("training summary: %s", summary)
