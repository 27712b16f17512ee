"""The importance section of a config: the permutation importance the FeatureImportance component computes after
the Evaluator in every run (components/feature_importance), and how much of the eval split it uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

# Bounds that keep the component cheap enough to run in every pipeline run (README "Feature importance").
MAX_ROWS_LIMIT = 100_000
MAX_REPEATS = 20


@dataclass(frozen=True)
class ImportanceConfig:
    """enabled: add the component to the DAG; max_rows: eval rows scored (the first ones of the split);
    repeats: seeded shuffles per column; seed: numpy's seed of the shuffles."""

    enabled: bool = True
    max_rows: int = 2000
    repeats: int = 3
    seed: int = 0


def importance_config(value: Any, where: str, error: type = ValueError) -> ImportanceConfig:
    """The `importance` section as written → ImportanceConfig; `error` (the loader's ConfigError, which lives in
    schema.py, a module that imports this one) names the bad key."""
    if value is None:
        return ImportanceConfig()
    if not isinstance(value, Mapping):
        raise error(f"{where}: expected a mapping {{enabled, max_rows, repeats, seed}}, got {value!r}.")
    known = ("enabled", "max_rows", "repeats", "seed")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise error(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                                    f"{', '.join(map(repr, unknown))}; known keys: {', '.join(known)}.")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise error(f"{where}.enabled: expected true or false, got {enabled!r}.")
    bounds = {"max_rows": (10, MAX_ROWS_LIMIT), "repeats": (1, MAX_REPEATS), "seed": (0, 2**31 - 1)}
    numbers = {}
    for key, (low, high) in bounds.items():
        v = value.get(key, getattr(ImportanceConfig, key))
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise error(f"{where}.{key}: expected an integer from {low} to {high}, got {v!r}.")
        numbers[key] = v
    return ImportanceConfig(enabled=enabled, **numbers)
