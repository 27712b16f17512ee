"""run_fn (Trainer entry point, `trainer_module.run.run_fn`): datasets, model under a strategy, export for serving."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from typing import Any, Mapping, Optional

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from trainer_module import features as F
from trainer_module import models
from trainer_module import warm_start
from trainer_module import strategy as strategies
from trainer_module import patches as tf_tuning

SUMMARY_FILE = "training_summary.json"
SERVING_SIGNATURE = "serving_default"
TRANSFORM_SIGNATURE = "transform_features"
RECONSTRUCTION_ERROR = "reconstruction_error"
MIXED_PRECISION_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def output_key(task: str, family: str = "dnn") -> str:
    """The output TFMA evaluates: class probabilities, the regression prediction, or the reconstruction error."""
    if models.is_reconstruction(family):
        return RECONSTRUCTION_ERROR
    return "predictions" if task == "regression" else "probabilities"


def input_fn(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    tf_transform_output: tft.TFTransformOutput,
    label_key: str,
    batch_size: int,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """Raw examples → the transform graph → (features, label) batches, repeated. Transform does not materialize
    its output (pipeline.py): the same graph the model serves with is applied here, batch by batch.
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


def serving_signatures(
    model: tf.keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    custom_config: Mapping[str, Any],
    spec: F.ModelSpec,
) -> dict[str, Any]:
    """`serving_default`: serialized raw tf.Examples without the label → predictions.
    `transform_features`: serialized raw tf.Examples (label included) → transformed features (for TFMA)."""
    family = custom_config.get("model", {}).get("family", "dnn")
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {c: raw_spec[c] for c in F.serving_columns(tf_transform_output, custom_config)}
    # The layer must be tracked by the model to be saved with it.
    model.tft_layer = tf_transform_output.transform_features_layer()
    out_key = output_key(spec.task, family)
    family_module = models.module(family)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_examples(serialized):
        raw = tf.io.parse_example(serialized, serving_spec)
        transformed = model.tft_layer(raw)
        model_inputs = {name: transformed[name] for name in model.input_names}
        outputs = model(model_inputs)
        if models.is_reconstruction(family):
            target = family_module.target(spec, model_inputs)
            return {"reconstruction": outputs, out_key: family_module.reconstruction_error(target, outputs)}
        return {out_key: outputs}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(serialized):
        raw = tf.io.parse_example(serialized, raw_spec)
        return model.tft_layer(raw)

    return {SERVING_SIGNATURE: serve_examples, TRANSFORM_SIGNATURE: transform_features}


def export(model: tf.keras.Model, serving_dir: str, signatures: Mapping[str, Any]) -> None:
    """Writes a SavedModel holding just the signatures, the variables they read and the tf.Transform graph.

    Keras' own `model.save` also traces and stores every layer's call functions so the model can be rebuilt as
    Keras; nothing downstream needs that (TFMA, the Pusher and TF Serving call the signatures; a warm start reads
    the weights saved beside the model), and it made the export and every later load several times slower.
    """
    root = tf.Module()
    root.tft_layer = model.tft_layer  # owns the transform graph and its vocabulary assets
    root.model_variables = list(model.variables)
    # The model's forward pass alone, on transformed features (not a serving signature): for debugging and for
    # the serving benchmark's bare-model baseline. `tf.saved_model.load(dir).call_model({name: tensor})`.
    input_spec = {
        name: tf.TensorSpec(shape=t.shape, dtype=t.dtype, name=name) for name, t in zip(model.input_names, model.inputs)
    }
    root.call_model = tf.function(lambda features: model(features, training=False), input_signature=[input_spec])
    tf.saved_model.save(root, serving_dir, signatures=signatures)


def is_chief(tf_config: Optional[str]) -> bool:
    """The chief writes the model and logs: the `chief` task, else worker 0, else a single process."""
    if not tf_config:
        return True
    config = json.loads(tf_config)
    task = config.get("task", {})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def recompile(model: tf.keras.Model, **overrides: Any) -> None:
    """Compiles again with the same loss/metrics (after freezing layers, or to change steps_per_execution)."""
    model.compile(
        optimizer=model.optimizer,
        loss=model.loss,
        metrics=model.compiled_metrics._user_metrics if model.compiled_metrics else None,  # pylint: disable=protected-access
        **overrides,
    )


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured model family on Transform's output and exports a SavedModel for TF Serving."""
    started = time.time()
    tf_tuning.skip_autograph_for_tf_keras()
    custom = fn_args.custom_config or {}
    training = custom.get("training", {})
    family = custom.get("model", {}).get("family", "dnn")
    # A multi-worker strategy must exist before any other TensorFlow op runs in this process.
    strategy, choice = strategies.create(training.get("strategy", "auto"))
    logging.info("tf.distribute strategy: %s (%s)", choice.name, choice.reason)
    seed = training.get("seed")
    if seed is not None:
        tf.keras.utils.set_random_seed(int(seed))  # weights, dropout and shuffling repeat from run to run
    chief = is_chief(os.environ.get("TF_CONFIG")) if choice.name == "multi_worker" else True
    # TPUs compute in bfloat16 natively; elsewhere mixed precision is opt-in.
    precision = training.get("mixed_precision") or ("bf16" if choice.name == "tpu" else None)
    if precision:
        tf.keras.mixed_precision.set_global_policy(MIXED_PRECISION_POLICIES[precision])

    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    spec = F.model_spec(tf_transform_output, custom)
    replicas = strategy.num_replicas_in_sync
    global_batch = int(training.get("batch_size", 128)) * replicas
    datasets = [
        input_fn(files, fn_args.data_accessor, tf_transform_output, spec.label_key, global_batch, shuffle=shuffle)
        for files, shuffle in ((fn_args.train_files, True), (fn_args.eval_files, False))
    ]
    family_module = models.module(family)
    if models.is_reconstruction(family):
        # An autoencoder learns to reproduce its (transformed) inputs; the label is not used.
        datasets = [ds.map(lambda x, _: (x, family_module.target(spec, x))) for ds in datasets]
    train_ds, eval_ds = datasets
    # The same eval_steps batches after every epoch, read once and kept in memory: early stopping compares like
    # with like, and no epoch pays to restart the eval input pipeline.
    eval_ds = eval_ds.take(fn_args.eval_steps).cache()

    with strategy.scope():
        model = models.build(family, spec, custom.get("model", {}).get("hparams", {}))
        warm, warm_reason = False, "not requested"
        if fn_args.base_model or training.get("warm_start"):
            warm, warm_reason = warm_start.apply(
                model, family, fn_args.base_model, int(training.get("warm_start_freeze_layers", 0))
            )
            logging.info("warm start: %s", warm_reason)
        steps_per_execution = int(training.get("steps_per_execution", 1))
        if warm or steps_per_execution > 1:
            recompile(model, steps_per_execution=steps_per_execution)

    # Non-chief workers write to a scratch dir that is removed afterwards (saving still runs on every worker:
    # under a multi-worker strategy it reads variables with collective ops).
    scratch = None if chief else tempfile.mkdtemp(prefix="tfx-e2e-worker-")
    model_run_dir = fn_args.model_run_dir if chief else os.path.join(scratch, "logs")
    serving_dir = fn_args.serving_model_dir if chief else os.path.join(scratch, "model", "Format-Serving")

    epochs = max(1, min(int(training.get("epochs", 5)), fn_args.train_steps))
    steps_per_epoch = max(1, fn_args.train_steps // epochs)
    callbacks = [
        tf.keras.callbacks.TensorBoard(log_dir=model_run_dir, update_freq="epoch"),
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=int(training.get("early_stopping_patience", 2)),
            restore_best_weights=True,
        ),
    ]
    if choice.name == "multi_worker":
        # A worker restarted by its cluster manager resumes from the last finished epoch.
        callbacks.append(tf.keras.callbacks.BackupAndRestore(backup_dir=os.path.join(fn_args.model_run_dir, "backup")))
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

    export(model, serving_dir, serving_signatures(model, tf_transform_output, custom, spec))
    warm_start.save(model, family, serving_dir)
    summary = {
        "strategy": choice.name,
        "reason": choice.reason,
        "replicas": replicas,
        "workers": int(training.get("workers", 1)),
        "global_batch_size": global_batch,
        "mixed_precision": precision,
        "steps_per_execution": steps_per_execution,
        "model_family": family,
        "warm_start": warm,
        "seed": seed,
        "warm_start_reason": warm_reason,
        "epochs_run": epochs_run,
        "steps_per_epoch": steps_per_epoch,
        "steps": epochs_run * steps_per_epoch,
        "history": {k: [float(x) for x in v] for k, v in history.history.items()},
        "final": {k: float(v[-1]) for k, v in history.history.items()},
        "examples_per_second": round(epochs_run * steps_per_epoch * global_batch / max(fit_seconds, 1e-9), 1),
        "wall_seconds": round(time.time() - started, 2),
        "inputs": [f.name for f in spec.inputs],
    }
    if chief:
        tf.io.gfile.makedirs(fn_args.model_run_dir)
        with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, SUMMARY_FILE), "w") as f:
            json.dump(summary, f, indent=2)
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    logging.info("training summary: %s", summary)
