"""The Tuner's search spaces: a sensible default per model family, how a config's `tuning.search_space` is written
and checked, how its entries become KerasTuner hyperparameters, and how the Tuner's best values come back as the
family's hparams. Reading and checking a space imports nothing heavy (config checks use it); only `register` needs
KerasTuner.

A space maps a hyperparameter of the family (a key of its module's DEFAULTS) to either
  - a list of values to choose from (`[0.0, 0.1, 0.2]`; lists of lists such as `[[128, 64], [256, 128]]` too), or
  - a range `{min, max}` with optional `step` and `sampling: linear|log` (integers when min and max are integers).
With `model.family: auto`, the space maps each candidate family to its own space and `family` itself is searched.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from trainer_module.auto_family import for_family

# Each tunable family's default search space (an autoencoder is judged on reconstruction, not on a task metric, and
# is not tuned), around the family's DEFAULTS (the first trial always runs the configured
# values, so tuning keeps them unless a trial scores better on the eval split).
DEFAULT_SPACES: dict[str, dict[str, Any]] = {
    "dnn": {
        "hidden_units": [[128, 64, 32], [256, 128], [512, 256, 128], [64, 32]],
        "dropout": [0.0, 0.1, 0.2, 0.3],
        "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
    },
    "gbt": {
        "num_trees": [100, 300, 500],
        "max_depth": [4, 6, 8],
        "shrinkage": [0.05, 0.1, 0.2],
        "min_examples": [5, 20, 50],
    },
    "cnn": {
        "filters": [[16, 32], [32, 64], [64, 128]],
        "dropout": [0.1, 0.25, 0.4],
        "dense_units": [32, 64, 128],
        "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
    },
    "rnn": {
        "cell": ["lstm", "gru"],
        "units": [32, 64, 128],
        "learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log"},
    },
}
FAMILY = "family"  # the hyperparameter that picks the family when model.family is auto
RANGE_KEYS = frozenset({"min", "max", "step", "sampling"})
SAMPLINGS = ("linear", "log")


def default_space(family: str, candidates: tuple[str, ...] = ()) -> dict[str, Any]:
    """The default space of `family`; for auto, each candidate's own."""
    if candidates:
        return {f: dict(DEFAULT_SPACES[f]) for f in candidates}
    return dict(DEFAULT_SPACES.get(family, {}))


def check_entry(name: str, entry: Any, where: str) -> str:
    """'' when `entry` is a valid choice list or range, else what is wrong with it (for ConfigError)."""
    if isinstance(entry, list):
        if not entry:
            return f"{where}.{name}: an empty list has nothing to choose from; give at least one value."
        kinds = {_kind(v) for v in entry}
        if None in kinds or len(kinds) > 1:
            return (f"{where}.{name}: the values must all be numbers, all strings, all booleans or all lists, "
                    f"got {entry!r}.")
        return ""
    if isinstance(entry, Mapping):
        unknown = set(entry) - RANGE_KEYS
        if unknown or "min" not in entry or "max" not in entry:
            return (f"{where}.{name}: a range is {{min, max}} with optional step and sampling (linear|log); "
                    f"got keys {sorted(entry)}.")
        lo, hi = entry["min"], entry["max"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or lo >= hi:
            return f"{where}.{name}: min and max must be numbers with min < max, got {lo!r} and {hi!r}."
        if entry.get("sampling", "linear") not in SAMPLINGS:
            return f"{where}.{name}: sampling must be linear or log, got {entry.get('sampling')!r}."
        if entry.get("sampling") == "log" and lo <= 0:
            return f"{where}.{name}: log sampling needs min > 0, got {lo!r}."
        step = entry.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0
                                 or (entry.get("sampling") == "log" and step <= 1)):
            return (f"{where}.{name}: step must be a number > 0 (with log sampling a factor > 1, or no step), "
                    f"got {step!r}.")
        return ""
    return f"{where}.{name}: expected a list of values or a range {{min, max}}, got {entry!r}."


def _kind(value: Any) -> Any:
    if isinstance(value, bool):
        return bool
    if isinstance(value, (int, float)):
        return float
    if isinstance(value, (str, list)):
        return type(value)
    return None


def encode(value: Any) -> Any:
    """A KerasTuner choice holds scalars: a list value is held as its JSON text."""
    return json.dumps(value) if isinstance(value, list) else value


def decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        return json.loads(value)
    return value


def register(hp: Any, space: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> None:
    """Declares each entry of `space` on `hp` (a keras_tuner.HyperParameters), defaulting to the configured value
    `current[name]` where the space can hold it, so the first trial is the configured model."""
    for name, entry in space.items():
        key = prefix + name
        default = current.get(name)
        if isinstance(entry, list):
            values = [encode(v) for v in entry]
            if default is not None and encode(default) not in values:
                values = [encode(default), *values]
            hp.Choice(key, values, default=encode(default) if default is not None else values[0])
            continue
        lo, hi, step = entry["min"], entry["max"], entry.get("step")
        sampling = entry.get("sampling", "linear")
        if isinstance(lo, int) and isinstance(hi, int) and (step is None or isinstance(step, int)):
            inside = default is not None and lo <= default <= hi and isinstance(default, int)
            # KerasTuner: a log-sampled Int takes no step (or a factor > 1); a linear one steps by 1 by default.
            hp.Int(key, lo, hi, step=step, sampling=sampling, default=default if inside else None)
        else:
            inside = default is not None and lo <= float(default) <= hi if isinstance(default, (int, float)) else False
            hp.Float(key, float(lo), float(hi), step=step, sampling=sampling,
                     default=float(default) if inside else None)


def with_hparams(custom: Mapping[str, Any], family: str, tuned: Mapping[str, Any]) -> dict[str, Any]:
    """The Trainer's custom config for `family` with the tuned values over its configured hparams."""
    custom = for_family(custom, family) if family != "auto" else dict(custom)
    model = dict(custom.get("model", {}))
    model["hparams"] = {**model.get("hparams", {}), **tuned}
    return {**custom, "model": model}


def summary_record(family: Optional[str], tuned: Mapping[str, Any]) -> dict[str, Any]:
    """What training_summary.json says about tuning (`tuned`)."""
    return {"hyperparameters": dict(tuned), **({"family": family} if family else {})}


def best_hparams(hyperparameters: Mapping[str, Any] | None) -> tuple[str | None, dict[str, Any]]:
    """(the family the Tuner picked, or None when the family was not searched; its hparams) from the Tuner's
    best_hyperparameters (KerasTuner's HyperParameters config: {"space": [...], "values": {...}})."""
    if not hyperparameters:
        return None, {}
    values = dict(hyperparameters.get("values", hyperparameters))
    family = values.pop(FAMILY, None)
    if family is not None:  # auto: the family's own entries are prefixed "<family>."
        values = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(f"{family}.")}
    return family, {name: decode(value) for name, value in values.items()}
