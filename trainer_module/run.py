"""run_fn, the Trainer's entry point (`trainer_module.run.run_fn`): set up, build, fit, export, summarize.

Each step is a function below or a module of its own: the input (trainer_module.datasets), the model families
(trainer_module.models), the warm start (trainer_module.warm_start), the exported SavedModel
(trainer_module.export) and the summary file (trainer_module.training_summary).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer_module import auto_family
from trainer_module import datasets
from trainer_module import export
from trainer_module import features as F
from trainer_module import label_stats
from trainer_module.label_study import Label, study_label
from trainer_module import models
from trainer_module import patches
from trainer_module import pruning
from trainer_module import progress
from trainer_module import strategy as strategies
from trainer_module import tflite_export
from trainer_module import training_summary
from trainer_module import tuning_space
from trainer_module import warm_start
from trainer_module.models.common import recompile



@dataclass(frozen=True)
class Setup:
    """Process-wide choices made before any other TensorFlow op runs."""

    strategy: Any  # tf.distribute.Strategy
    choice: strategies.Choice
    chief: bool
    precision: Optional[str]
    seed: Optional[int]


def set_up(training: Mapping[str, Any]) -> Setup:
    """The strategy (a multi-worker one must exist before any other TensorFlow op in this process), the seed and
    the mixed-precision policy."""
    strategy, choice = strategies.create(training.get("strategy", "auto"))
    logging.info("tf.distribute strategy: %s (%s)", choice.name, choice.reason)
    seed = training.get("seed")
    if seed is not None:
        tf.keras.utils.set_random_seed(int(seed))  # weights, dropout and shuffling repeat from run to run
    chief = strategies.is_chief(os.environ.get("TF_CONFIG")) if choice.name == "multi_worker" else True
    # TPUs compute in bfloat16 natively; elsewhere mixed precision is opt-in.
    precision = training.get("mixed_precision") or ("bf16" if choice.name == "tpu" else None)
    if precision:
        tf.keras.mixed_precision.set_global_policy(strategies.MIXED_PRECISION_POLICIES[precision])
    return Setup(strategy, choice, chief, precision, seed)


@dataclass(frozen=True)
class Built:
    model: tf.keras.Model
    warm: bool
    warm_reason: str
    steps_per_execution: int


def build_model(
    setup: Setup, family: str, spec: F.ModelSpec, custom: Mapping[str, Any], base_model: Optional[str]
) -> Built:
    """The family's compiled model under the strategy, warm-started from `base_model` when it fits."""
    training = custom.get("training", {})
    with setup.strategy.scope():
        model = models.build(family, spec, custom.get("model", {}).get("hparams", {}))
        warm, warm_reason = False, "not requested"
        if base_model or training.get("warm_start"):
            warm, warm_reason = warm_start.apply(
                model, family, base_model, int(training.get("warm_start_freeze_layers", 0))
            )
            logging.info("warm start: %s", warm_reason)
        steps_per_execution = int(training.get("steps_per_execution", 1))
        if warm or steps_per_execution > 1:
            recompile(model, steps_per_execution=steps_per_execution)
    return Built(model, warm, warm_reason, steps_per_execution)


@dataclass(frozen=True)
class Destinations:
    """Where this worker writes. Non-chief workers write to a scratch dir that is removed afterwards (saving still
    runs on every worker: under a multi-worker strategy it reads variables with collective ops)."""

    model_run_dir: str
    serving_dir: str
    scratch: Optional[str] = None


def destinations(fn_args: FnArgs, chief: bool) -> Destinations:
    if chief:
        return Destinations(fn_args.model_run_dir, fn_args.serving_model_dir)
    scratch = tempfile.mkdtemp(prefix="tfx-e2e-worker-")
    return Destinations(os.path.join(scratch, "logs"), os.path.join(scratch, "model", "Format-Serving"), scratch)


def callbacks(training: Mapping[str, Any], choice: strategies.Choice, log_dir: str, backup_root: str,
              chief: bool = True) -> list:
    found = [
        tf.keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=int(training.get("early_stopping_patience", 2)),
            restore_best_weights=True,
        ),
    ]
    if choice.name == "multi_worker":
        # A worker restarted by its cluster manager resumes from the last finished epoch.
        found.append(tf.keras.callbacks.BackupAndRestore(backup_dir=os.path.join(backup_root, "backup")))
    reporter = progress.callback(chief)  # a terminal watching `tfx-e2e run` asked for epoch/step/loss
    if reporter is not None:
        found.append(reporter)
    return found


def epochs_and_steps(training: Mapping[str, Any], train_steps: int) -> tuple[int, int]:
    """(epochs, steps per epoch): the configured epochs split train_steps, at least one step each."""
    epochs = max(1, min(int(training.get("epochs", 5)), train_steps))
    return epochs, max(1, train_steps // epochs)


def gbt_warm_start_reason(base_model: Optional[str]) -> str:
    """gbt has no warm start: a base model (from --warm-start) is named and not used."""
    return "not supported for gbt: the trees are grown anew each run" if base_model else "not requested"


def _fit(fn_args: FnArgs, tf_transform_output: Any, spec: F.ModelSpec, label: Label, custom: Mapping[str, Any],
         setup: Setup, train_ds: Any, eval_ds: Any, where: Destinations, family: str,
         extra_callbacks: tuple = ()) -> tuple[Built, dict, float, int]:
    """Trains one family: (the built model, its history, fit seconds, steps per epoch). gbt grows trees in one pass
    over the train split (trainer_module.gbt_training); the networks fit for the configured epochs."""
    custom = auto_family.for_family(custom, family)
    training = custom.get("training", {})
    if family == "gbt":
        from trainer_module import gbt_training

        if setup.choice.name in ("multi_worker", "tpu"):
            raise ValueError(f"model.family gbt trains on one machine's CPU; training.strategy {setup.choice.name} "
                             "is for neural networks (use strategy auto or default).")
        reason = gbt_warm_start_reason(fn_args.base_model)
        trained = gbt_training.train(fn_args, tf_transform_output, spec, label.spec,
                                     custom.get("model", {}).get("hparams", {}), setup.seed or 42)
        return Built(trained.model, False, reason, 1), trained.history, trained.fit_seconds, 1
    built = build_model(setup, family, spec, custom, fn_args.base_model)
    epochs, steps_per_epoch = epochs_and_steps(training, fn_args.train_steps)
    fit_started = time.time()
    # training.prune: the prunable layers wrapped for the fit, stripped after it (trainer_module.pruning)
    model, fit_callbacks = pruning.for_fit(built.model, training.get("prune"), epochs, steps_per_epoch, setup.strategy,
                                           callbacks(training, setup.choice, where.model_run_dir,
                                                     fn_args.model_run_dir, setup.chief))
    history = model.fit(
        train_ds,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=eval_ds,
        validation_steps=fn_args.eval_steps,
        callbacks=[*fit_callbacks, *extra_callbacks],
        verbose=2,
    ).history
    built = dataclasses.replace(built, model=pruning.after_fit(model, setup.strategy))
    return built, history, time.time() - fit_started, steps_per_epoch


@dataclass(frozen=True)
class Prepared:
    """Everything fitting a family needs, read once: the Trainer fits one family (or auto's candidates), the Tuner
    fits one per trial (trainer_module.tuning)."""

    custom: Mapping[str, Any]
    setup: Setup
    tf_transform_output: Any
    spec: F.ModelSpec
    label: Label
    train_ds: Any
    eval_ds: Any
    global_batch: int

    def fit(self, fn_args: FnArgs, where: Destinations, family: str, custom: Optional[Mapping[str, Any]] = None,
            extra_callbacks: tuple = ()) -> tuple[Built, dict, float, int]:
        return _fit(fn_args, self.tf_transform_output, self.spec, self.label, custom or self.custom, self.setup,
                    self.train_ds, self.eval_ds, where, family, extra_callbacks)


def prepare(fn_args: FnArgs, custom: Mapping[str, Any], family: str) -> Prepared:
    """The strategy and seed, the transform output, the model spec, the label and the train/eval inputs."""
    training = custom.get("training", {})
    setup = set_up(training)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path or fn_args.transform_output)
    # The run's steps: schedules over the whole run (the dnn's cosine decay) span this run's, or a trial's, steps.
    spec = F.model_spec(tf_transform_output, custom)
    spec = dataclasses.replace(spec, extra={**spec.extra, "train_steps": fn_args.train_steps})
    global_batch = int(training.get("batch_size", 128)) * setup.strategy.num_replicas_in_sync
    label = study_label(fn_args, tf_transform_output, custom, spec)
    train_ds, eval_ds = datasets.train_and_eval(
        fn_args, tf_transform_output, spec, label.spec, family, global_batch, label.scaling
    )
    return Prepared(custom, setup, tf_transform_output, spec, label, train_ds, eval_ds, global_batch)


def run_fn(fn_args: FnArgs) -> None:
    """Trains the configured model family on Transform's output and exports a SavedModel for TF Serving."""
    started = time.time()
    patches.apply()
    custom = fn_args.custom_config or {}
    training = custom.get("training", {})
    family = custom.get("model", {}).get("family", "dnn")
    # The Tuner's best hyperparameters (when the pipeline tunes): with auto, the Tuner also picked the family.
    tuned_family, tuned = tuning_space.best_hparams(fn_args.hyperparameters)
    family = tuned_family or family
    if fn_args.hyperparameters:
        custom = tuning_space.with_hparams(custom, family, tuned)
    prepared = prepare(fn_args, custom, family)
    setup, tf_transform_output, spec, label = prepared.setup, prepared.tf_transform_output, prepared.spec, prepared.label
    replicas, global_batch = setup.strategy.num_replicas_in_sync, prepared.global_batch
    where = destinations(fn_args, setup.chief)
    fit = functools.partial(prepared.fit, fn_args, where)
    auto = None
    reuse = custom.get("model", {}).get(auto_family.REUSE_KEY)
    if family == auto_family.AUTO and reuse:  # an earlier run chose for this same config: train that family only
        family, auto = reuse["family"], auto_family.reuse_record(reuse)
        fitted = fit(family)
    elif family == auto_family.AUTO:
        fitted, family, auto = auto_family.choose(fit, prepared.eval_ds, spec, label.scaling, custom)
    else:
        fitted = fit(family)
    custom = auto_family.for_family(custom, family)
    built, history, fit_seconds, steps_per_epoch = fitted
    if family == "gbt" and label.scaling is not None:  # trees trained on the target as it is
        label = dataclasses.replace(label, scaling=None, scaling_why="none: gbt trains on the target as it is")
    elif label.scaling is not None and label.scaling.kind == "log1p_zscore":  # serve the mean, not the median
        factor = label_stats.smearing_factor(built.model, prepared.eval_ds, label.scaling)
        label = dataclasses.replace(label, scaling=dataclasses.replace(label.scaling, smearing=factor),
                                    scaling_why=f"{label.scaling_why}; predictions × {factor:.4f} (Duan's smearing "
                                                "on the eval split: the mean, not the median)")

    signatures = export.serving_signatures(
        built.model, tf_transform_output, custom, spec, export.Outputs(label.served_names, label.scaling)
    )
    export.export(built.model, where.serving_dir, signatures)
    # model.export.quantize: the TFLite model beside the SavedModel (<Model uri>/tflite/model.tflite)
    compressed = tflite_export.for_run(built.model, custom, family, spec, label.scaling, prepared.train_ds,
                                       os.path.dirname(where.serving_dir), where.serving_dir) if setup.chief else None
    if family != "gbt":  # trees are grown anew each run: there are no weights to start from
        warm_start.save(built.model, family, where.serving_dir)
    if setup.chief and not models.is_reconstruction(family):
        label_stats.write_naive_model(where.serving_dir, {"task": label.spec.task, **label.record()})
    summary = training_summary.build(
        strategy=setup.choice.name,
        reason=setup.choice.reason,
        replicas=replicas,
        workers=int(training.get("workers", 1)),
        global_batch_size=global_batch,
        mixed_precision=setup.precision,
        steps_per_execution=built.steps_per_execution,
        model_family=family,
        warm_start=built.warm,
        warm_start_reason=built.warm_reason,
        seed=setup.seed,
        history=history,
        steps_per_epoch=steps_per_epoch,
        fit_seconds=fit_seconds,
        wall_seconds=time.time() - started,
        inputs=[f.name for f in spec.inputs],
        label=label.record(),
    )
    # The hyperparameters the model was trained with (the family's defaults, the config's, the Tuner's).
    summary["hyperparameters"] = {**models.module(family).DEFAULTS, **custom.get("model", {}).get("hparams", {})}
    summary["pruning"] = pruning.record(built.model, family, training.get("prune"),
                                        epochs_and_steps(training, fn_args.train_steps)[0], steps_per_epoch)
    if compressed is not None:
        summary["compressed"] = compressed
    if fn_args.hyperparameters:
        summary["tuned"] = tuning_space.summary_record(tuned_family, tuned)
    if auto is not None:
        summary["auto"] = auto  # the candidates' eval scores and why this family was kept
    if setup.chief:
        training_summary.write(fn_args.model_run_dir, summary)
    else:
        shutil.rmtree(where.scratch, ignore_errors=True)
    logging.info("training summary: %s", summary)
