"""Magnitude pruning during training (`training.prune`, tensorflow-model-optimization): the schedule fitted to the
run's steps, the prunable layers wrapped, the wrappers stripped before export, and the sparsity reached.

Pruned: every Dense, Conv1D/2D/3D and Conv2DTranspose kernel (biases are not pruned). Not pruned: Embedding tables
(a row is read only for its own id, and rare ids' rows stay near their small initial values, so a per-table
magnitude threshold would zero whole categories rather than weak connections), recurrent cells, batch norm.
TensorFlow and tfmot are imported inside the functions: the config checks read the schedule without TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

# Defaults of training.prune's optional keys (pipeline/config/schema.PruneConfig documents them).
BEGIN_FRACTION = 0.1  # prune from 10% of the run's steps (the weights have moved away from their initial values)
END_FRACTION = 0.7  # ...up to 70%: the last 30% of steps fine-tune the pruned network at the target sparsity
UPDATES = 20  # frequency unset: the mask is updated about this many times between begin and end
PRUNABLE = ("Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose")  # Keras layer classes whose kernel is pruned


@dataclass(frozen=True)
class Schedule:
    """tfmot's PolynomialDecay from 0 to `target_sparsity`, over optimizer steps [begin_step, end_step], the mask
    updated every `frequency` steps; end_step is a multiple of `frequency` after begin_step, so the last update
    reaches the target."""

    target_sparsity: float
    begin_step: int
    end_step: int
    frequency: int

    def done_by_epoch(self, steps_per_epoch: int) -> int:
        """The first epoch (0-based) at whose end the target sparsity is in place (the wrappers count steps from 1:
        the update at end_step runs in the end_step-th batch)."""
        return max(0, math.ceil(self.end_step / max(1, steps_per_epoch)) - 1)


def schedule(prune: Mapping[str, Any], total_steps: int) -> Schedule:
    """The schedule of a `training.prune` mapping for a run of `total_steps` optimizer steps; ValueError (saying
    which key) when the steps cannot hold it."""
    target = float(prune["target_sparsity"])
    begin = int(float(prune.get("begin_fraction", BEGIN_FRACTION)) * total_steps)
    # Steps count from 0: the last step of the run is total_steps - 1.
    end = min(int(float(prune.get("end_fraction", END_FRACTION)) * total_steps), total_steps - 1)
    span = end - begin
    if span < 1:
        raise ValueError(f"training.prune: begin_fraction and end_fraction leave no step to prune in between over "
                         f"{total_steps} training steps; raise training.train_steps or widen the fractions.")
    frequency = prune.get("frequency") or max(1, span // UPDATES)
    if frequency > span:
        raise ValueError(f"training.prune.frequency {frequency} is more than the {span} steps between begin and end "
                         f"(of {total_steps} training steps): the mask would never be updated; lower it.")
    return Schedule(target, begin, begin + (span // frequency) * frequency, int(frequency))


def _prunable(layer: Any) -> bool:
    return type(layer).__name__ in PRUNABLE


def wrap(model: Any, plan: Schedule) -> Any:
    """A copy of the compiled `model` whose prunable layers are wrapped with prune_low_magnitude, holding the same
    weights, compiled the way `model` was. Call under the strategy's scope."""
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    decay = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=plan.target_sparsity, begin_step=plan.begin_step,
        end_step=plan.end_step, frequency=plan.frequency)

    def clone(layer: Any) -> Any:
        # A fresh layer from its config: returning `layer` itself would share it, and prune the original model.
        fresh = layer.__class__.from_config(layer.get_config())
        return tfmot.sparsity.keras.prune_low_magnitude(fresh, pruning_schedule=decay) if _prunable(fresh) else fresh

    pruned = tf.keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.weights:
            _inner(pruned, layer.name).set_weights(layer.get_weights())
            _inner(pruned, layer.name).trainable = layer.trainable  # a warm start's frozen layers stay frozen
    pruned.compile_from_config(model.get_compile_config())
    return pruned


def _inner(model: Any, name: str) -> Any:
    """The layer called `name` in `model`, unwrapped when prune_low_magnitude wraps it."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if getattr(layer, "layer", None) is not None and layer.layer.name == name:
            return layer.layer
    raise KeyError(name)


def callback() -> Any:
    """The callback that feeds the optimizer step to the wrappers (tfmot refuses to train without it)."""
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.UpdatePruningStep()


def for_fit(model: Any, prune: Optional[Mapping[str, Any]], epochs: int, steps_per_epoch: int, strategy: Any,
            fit_callbacks: list) -> tuple[Any, list]:
    """(the model to fit, its callbacks): unchanged without `prune`; else the wrapped model, the pruning step
    callback, and early stopping that neither stops nor picks its best epoch before the target sparsity is in
    place (restoring an earlier epoch's weights would restore a less pruned network)."""
    if not prune:
        return model, fit_callbacks
    import tensorflow as tf

    if isinstance(strategy, (tf.distribute.MultiWorkerMirroredStrategy, tf.distribute.TPUStrategy)):
        # the config refuses these by name; strategy auto can still resolve to one (TF_CONFIG, a TPU)
        raise ValueError(f"training.prune is not supported with {type(strategy).__name__} (not verified); remove "
                         "training.prune or train on one machine (training.strategy default or mirrored).")
    plan = schedule(prune, epochs * steps_per_epoch)
    with strategy.scope():
        pruned = wrap(model, plan)
    for found in fit_callbacks:
        if isinstance(found, tf.keras.callbacks.EarlyStopping):
            found.start_from_epoch = max(found.start_from_epoch, plan.done_by_epoch(steps_per_epoch))
    return pruned, [*fit_callbacks, callback()]


def after_fit(model: Any, strategy: Any) -> Any:
    """The fitted model without pruning wrappers (the model itself when it has none)."""
    if not any(type(layer).__name__ == "PruneLowMagnitude" for layer in model.layers):
        return model  # (without importing tfmot when nothing was pruned)
    with strategy.scope():
        return strip(model)


def strip(model: Any) -> Any:
    """The pruned model without its wrappers: plain layers holding the masked (zeroed) weights, the layer names of
    the unpruned model (so its weights fit a later warm start), compiled as the pruned model was."""
    import tensorflow_model_optimization as tfmot

    stripped = tfmot.sparsity.keras.strip_pruning(model)
    stripped.compile_from_config(model.get_compile_config())
    return stripped


def record(model: Any, family: str, prune: Optional[Mapping[str, Any]], epochs: int,
           steps_per_epoch: int) -> Optional[dict[str, Any]]:
    """The training summary's `pruning` record of the stripped, fitted `model`: the schedule, the share of zeros in
    each pruned kernel and over all of them; None without `prune`."""
    if not prune:
        return None
    if family == "gbt":  # model.family auto kept its forest: the networks were pruned, the trees cannot be
        return {"applied": False, "reason": "gbt grows trees: no weights to prune"}
    plan = schedule(prune, epochs * steps_per_epoch)
    layers, zeros, total = {}, 0, 0
    for layer in model.layers:
        if _prunable(layer):
            kernel = layer.kernel.numpy()
            layer_zeros = int((kernel == 0).sum())
            layers[layer.name] = round(layer_zeros / kernel.size, 4)
            zeros, total = zeros + layer_zeros, total + kernel.size
    return {
        "applied": True,
        "target_sparsity": plan.target_sparsity,
        "begin_step": plan.begin_step,
        "end_step": plan.end_step,
        "frequency": plan.frequency,
        "sparsity": round(zeros / total, 4) if total else None,  # over every pruned kernel's weights
        "pruned_weights": total,
        "layers": layers,
    }


def summary_line(record: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The run summary's `pruned` line from the training summary's `pruning` record; None when it has none."""
    if not record:
        return None
    if not record.get("applied"):
        return f"no: {record.get('reason')}"
    return (f"{record['sparsity']:.1%} of {record['pruned_weights']:,} Dense/Conv weights are zero "
            f"(target {record['target_sparsity']:.0%}, {len(record['layers'])} layers, "
            f"steps {record['begin_step']}-{record['end_step']} every {record['frequency']})")
