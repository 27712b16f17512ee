"""`training.prune`: its keys converted (loader.py's converter) and the rules it must follow across the config:
a target share of zeros in (0, 1), fractions that leave steps to prune, and the families and strategies it works with."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

from pipeline.config.schema import ConfigError, PipelineConfig, PruneConfig

# Verified with tfmot 0.8.0 here: the default strategy (also with steps_per_execution 4: the same schedule) and
# mirrored on 2 logical CPUs; one_device places the same single replica. multi_worker and tpu were not verified.
STRATEGIES = ("auto", "default", "one_device", "mirrored")


def _number(value: Any, where: str, low: float, high: float, high_included: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (low <= value < high or (high_included and value == high)):
        bound = f"{low} ≤ x {'≤' if high_included else '<'} {high}"
        raise ConfigError(f"{where}: expected a number with {bound}, got {value!r}.")
    return float(value)


def convert(value: Any, where: str) -> Optional[PruneConfig]:
    """A `training.prune` mapping → PruneConfig (null: no pruning). A bare number is the target sparsity."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"target_sparsity": value}
    known = [f.name for f in dataclasses.fields(PruneConfig)]
    if not isinstance(value, Mapping) or "target_sparsity" not in value:
        raise ConfigError(f"{where}: expected a mapping with target_sparsity (e.g. {{target_sparsity: 0.5}}), "
                          f"got {value!r}.")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                          f"known keys: {', '.join(known)}.")
    target = _number(value["target_sparsity"], f"{where}.target_sparsity", 0.0, 1.0, False)
    if target == 0.0:
        raise ConfigError(f"{where}.target_sparsity: expected a share of zeros between 0 and 1 (e.g. 0.5), got 0; "
                          "remove training.prune to train without pruning.")
    defaults = PruneConfig(target)
    begin = _number(value.get("begin_fraction", defaults.begin_fraction), f"{where}.begin_fraction", 0.0, 1.0, False)
    end = _number(value.get("end_fraction", defaults.end_fraction), f"{where}.end_fraction", 0.0, 1.0, True)
    if end <= begin:
        raise ConfigError(f"{where}: end_fraction {end} must be greater than begin_fraction {begin}.")
    frequency = value.get("frequency")
    if frequency is not None and (isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1):
        raise ConfigError(f"{where}.frequency: expected an integer ≥ 1 (steps between mask updates) or null, "
                          f"got {frequency!r}.")
    return PruneConfig(target, begin, end, frequency)


def check(cfg: PipelineConfig, where: str) -> None:
    """Pruning works with the neural families on one machine, and the run's steps must hold its schedule."""
    prune = cfg.training.prune
    if prune is None:
        return
    from trainer_module import pruning

    if cfg.model.family == "gbt":
        raise ConfigError(f"{where}: training.prune: model.family gbt grows trees, it has no weights to prune; "
                          "remove training.prune or use a neural family (dnn, cnn, rnn, autoencoder).")
    if cfg.training.strategy not in STRATEGIES:
        raise ConfigError(f"{where}: training.prune is not supported with training.strategy "
                          f"{cfg.training.strategy} (verified: {', '.join(STRATEGIES)}); remove training.prune or "
                          "train on one machine.")
    steps = {"training.train_steps": cfg.training.train_steps}
    if cfg.tuning.enabled and cfg.tuning.train_steps:
        steps["tuning.train_steps"] = cfg.tuning.train_steps  # the Tuner's trials prune too
    for key, total in steps.items():
        try:
            pruning.schedule(dataclasses.asdict(prune), total)
        except ValueError as err:
            raise ConfigError(f"{where}: {err} ({key} {total})") from None
