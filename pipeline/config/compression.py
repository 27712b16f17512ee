"""The compressed model's config keys: `model.export.quantize` (which TFLite model the Trainer also writes) and
`evaluation.compressed_max_drop` (how much worse than the full model it may score and still be blessed); their
conversion, defaults and checks."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pipeline.config.schema import ConfigError, ExportConfig
from components.gated_evaluator.gates import DEFAULT_COMPRESSED_MAX_DROP  # plain Python
from trainer_module.tflite_files import CONVERTIBLE_FAMILIES, NOT_CONVERTIBLE, QUANTIZE_MODES  # TF-free


def export_config(value: Any, where: str) -> ExportConfig:
    if value is None:
        return ExportConfig()
    if not isinstance(value, Mapping) or set(value) - {"quantize"}:
        raise ConfigError(f"{where}: expected {{quantize: {' | '.join(QUANTIZE_MODES)}}}, got {value!r}.")
    mode = value.get("quantize")
    if mode is False:  # YAML reads an unquoted `none`... as a string, but `no`/`off` as false
        mode = None
    if mode is not None and mode not in QUANTIZE_MODES:
        raise ConfigError(f"{where}.quantize: unknown mode {mode!r}; use one of {', '.join(QUANTIZE_MODES)} "
                          "(none = float32 TFLite), or leave it unset for no TFLite model.")
    return ExportConfig(quantize=mode)


def max_drop(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: expected a number (the main metric's allowed drop), got {value!r}.")
    return float(value)


def allowed_drop(objective: str, configured: Optional[float]) -> float:
    """evaluation.compressed_max_drop, else the objective's default (components/gated_evaluator/gates.py)."""
    return float(configured) if configured is not None else DEFAULT_COMPRESSED_MAX_DROP[objective]


def check(cfg: Any, where: str) -> None:
    """A family TFLite converts: gbt is refused; auto says what happens when it picks gbt (no compressed model)."""
    mode = cfg.model.export.quantize
    if mode is None:
        return
    family = cfg.model.family
    if family in NOT_CONVERTIBLE:
        raise ConfigError(
            f"{where}: model.export.quantize {mode} (--quantize): model family {family} cannot be converted to "
            f"TFLite ({NOT_CONVERTIBLE[family]}); use model family {', '.join(CONVERTIBLE_FAMILIES)} (--model), "
            "or drop --quantize.")
