"""Loading a config: a bundled name or a YAML path, dotted-key overrides, each section converted to its dataclass
(schema.py) with errors that name the key, then the cross-key checks (checks.py)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from pipeline.config.checks import validate
from pipeline.config.evaluation import EvaluationConfig, Gates, Threshold
from pipeline.config import compression, pruning
from pipeline.config.importance import importance_config
from pipeline.config.schema import (ConfigError, FeaturesConfig, LabelConfig, ModelConfig, PipelineConfig,
                                    TrainingConfig, TuningConfig)
from pipeline.paths import PROJECT_ROOT

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = "taxi"


def config_path(name_or_path: str | os.PathLike[str] | None) -> Path:
    """A bundled config name (`taxi`) or a path to a YAML file."""
    name_or_path = str(name_or_path or DEFAULT_CONFIG)
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        if not candidate.is_file():
            raise ConfigError(f"config file {candidate} does not exist; give a bundled name ({bundled()}) or a path.")
        return candidate.resolve()
    bundled_path = CONFIG_DIR / f"{name_or_path}.yaml"
    if not bundled_path.is_file():
        raise ConfigError(f"unknown config {name_or_path!r}: bundled configs are {bundled()}, or give a YAML path.")
    return bundled_path


def bundled() -> str:
    """The bundled config names, for messages and --help."""
    return ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))


def load_config(
    name_or_path: str | os.PathLike[str] | None = None, overrides: Optional[Mapping[str, Any]] = None
) -> PipelineConfig:
    """Reads a config file, applies dotted-key overrides (`training.train_steps`: 100), validates it."""
    path = config_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}".replace("\n", " ")) from None
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError(f"config file {path} cannot be read ({why}); check that it is a readable YAML file.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values.")
    file_family = (raw.get("model") or {}).get("family") if isinstance(raw.get("model"), dict) else None
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value, path)
    _drop_other_family_hparams(raw, file_family, overrides or {})
    return from_dict(raw, source=str(path), base_dir=path.parent)


def _drop_other_family_hparams(raw: dict[str, Any], file_family: Any, overrides: Mapping[str, Any]) -> None:
    """`model.hparams` are the file's family's: when an override (`--model gbt`, `--set model.family=...`) picks
    another family and gives no hparams of its own, that family starts from its defaults (or from
    `model.hparams_by_family`), not from hyperparameters it does not know."""
    model = raw.get("model")
    if not isinstance(model, dict) or "model.family" not in overrides or "model.hparams" in overrides:
        return
    if file_family is not None and model.get("family") != file_family:
        model.pop("hparams", None)


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any, path: Path) -> None:
    """raw[a][b][c] = value for `a.b.c`, creating missing sections."""
    node = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {dotted}: {part!r} is not a section in {path}.")
        node = child
    node[parts[-1]] = value


def _build(cls: type, raw: Any, where: str, converters: Mapping[str, Any] | None = None) -> Any:
    """Builds a dataclass from a mapping, rejecting unknown keys with the list of known ones."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__} {raw!r}.")
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(known)}."
        )
    kwargs = {}
    for key, value in raw.items():
        convert = (converters or {}).get(key)
        kwargs[key] = convert(value, f"{where}.{key}") if convert else value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{where}: {err}") from None


# Converters: (value as written, its dotted key for messages) -> the typed value, or a ConfigError naming the key.


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of column names, got {value!r}.")
    return tuple(value)


def _opt_str_tuple(value: Any, where: str) -> Optional[tuple[str, ...]]:
    return None if value is None else _str_tuple(value, where)


def _int(minimum: int) -> Any:
    def convert(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{where}: expected an integer ≥ {minimum}, got {value!r}.")
        return value

    return convert


def _opt_int(minimum: int) -> Any:
    def convert(value: Any, where: str) -> Optional[int]:
        return None if value is None else _int(minimum)(value, where)

    return convert


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}.")
    return value


def _buckets(value: Any, where: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of column -> number of buckets, got {value!r}.")
    return {str(k): _int(2)(v, f"{where}.{k}") for k, v in value.items()}


def _split_buckets(value: Any, where: str) -> Optional[dict[str, int]]:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"train", "eval"}:
        raise ConfigError(f"{where}: expected {{train: N, eval: M}} (hash buckets per split), got {value!r}.")
    return {"train": _int(1)(value["train"], f"{where}.train"), "eval": _int(1)(value["eval"], f"{where}.eval")}


def _thresholds(value: Any, where: str) -> dict[str, Threshold]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of metric -> {{lower: x}} or {{upper: x}}, got {value!r}.")
    out = {}
    for metric, bound in value.items():
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            bound = {"lower": bound}
        threshold = _build(Threshold, bound, f"{where}.{metric}")
        for side in ("lower", "upper"):
            v = getattr(threshold, side)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise ConfigError(f"{where}.{metric}.{side}: expected a number, got {v!r}.")
        if threshold.lower is None and threshold.upper is None:
            raise ConfigError(f"{where}.{metric}: give a lower and/or an upper bound.")
        out[str(metric)] = threshold
    return out


def _changes(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
    ):
        raise ConfigError(f"{where}: expected a mapping of metric -> allowed change (a number), got {value!r}.")
    return {str(k): float(v) for k, v in value.items()}


def _by_family(value: Any, where: str) -> dict[str, Gates]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of model family -> {{thresholds, change_thresholds}}.")
    return {str(family): _build(Gates, gates, f"{where}.{family}", _GATES) for family, gates in value.items()}


def _resolve_file(value: Optional[str], base_dir: Path, where: str) -> Optional[str]:
    """Relative paths in a config are relative to the config file, then to the project root."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a path, got {value!r}.")
    path = Path(value).expanduser()
    if not path.is_absolute():
        for root in (base_dir, PROJECT_ROOT):
            if (root / path).exists():
                path = root / path
                break
    if not path.is_file():
        raise ConfigError(f"{where}: {value} does not exist (looked beside the config and in {PROJECT_ROOT}).")
    return str(path.resolve())


# Converters of each section's keys; keys without one are passed through as written.
_GATES = {"thresholds": _thresholds, "change_thresholds": _changes}
_FEATURES = {
    "include": _opt_str_tuple,
    "exclude": _str_tuple,
    "categorical": _str_tuple,
    "bucketize": _buckets,
    "top_k": _int(1),
    "oov_buckets": _int(1),
}
_TRAINING = {
    "train_steps": _int(1),
    "eval_steps": _int(1),
    "batch_size": _int(1),
    "epochs": _int(1),
    "early_stopping_patience": _int(0),
    "workers": _int(1),
    "steps_per_execution": _int(1),
    "warm_start": _bool,
    "warm_start_freeze_layers": _int(0),
    "seed": _opt_int(0),
    "prune": pruning.convert,
}
_TUNING = {"enabled": _bool, "trials": _int(1), "max_seconds": _int(1), "train_steps": _opt_int(1)}
_EVALUATION = {**_GATES, "slices": _str_tuple, "thresholds_on_slices": _bool, "by_family": _by_family,
               "compressed_max_drop": compression.max_drop}


def _tuning(value: Any, where: str) -> TuningConfig:
    """A `tuning` section turns the Tuner on unless it says `enabled: false`."""
    if value is None:
        return TuningConfig()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping {{trials, max_seconds, train_steps, search_space}}, "
                          f"got {value!r}.")
    return _build(TuningConfig, {"enabled": True, **value}, where, _TUNING)


def _section(cls: type, converters: Mapping[str, Any] | None = None) -> Any:
    """The converter of a section: its mapping → `cls`, each key through its converter."""

    def convert(value: Any, where: str) -> Any:
        return _build(cls, value, where, converters)

    return convert


_TOP_LEVEL = {
    "label": _section(LabelConfig, {"inputs": _str_tuple}),
    "features": _section(FeaturesConfig, _FEATURES),
    "model": _section(ModelConfig, {"auto_max_seconds": _int(0), "export": compression.export_config}),
    "training": _section(TrainingConfig, _TRAINING),
    "tuning": _tuning,
    "evaluation": _section(EvaluationConfig, _EVALUATION),
    "importance": lambda value, where: importance_config(value, where, ConfigError),
    "eval_split_percent": _int(1),
    "split_buckets": _split_buckets,
}


def from_dict(raw: Mapping[str, Any], source: str = "<dict>", base_dir: Path = PROJECT_ROOT) -> PipelineConfig:
    """A checked PipelineConfig from a parsed config mapping; relative `data` and `schema` paths are resolved
    against `base_dir` (the config file's folder). `source` names the config in messages."""
    where = Path(source).name if source.startswith("/") else source
    raw = dict(raw)
    for required in ("name", "task", "label"):
        if required not in raw:
            raise ConfigError(f"{where}: missing required key {required!r}.")
    if "data" in raw and raw["data"] is not None and not str(raw["data"]).startswith("package:"):
        data_path = Path(str(raw["data"])).expanduser()
        raw["data"] = str(data_path if data_path.is_absolute() else (base_dir / data_path).resolve())
    raw["schema"] = _resolve_file(raw.get("schema"), base_dir, f"{where}: schema")
    cfg = _build(PipelineConfig, raw, where, _TOP_LEVEL)
    cfg = dataclasses.replace(cfg, source=source)
    validate(cfg, where)
    return cfg
