"""The one typed pipeline configuration: loaded from YAML, overridden from the command line, validated once."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = "taxi"

TASKS = ("binary", "multiclass", "regression")
EXAMPLE_GENS = ("csv", "digits")
BEAM_MODES = ("auto", "in_memory", "multi_processing")

# Metrics the Evaluator computes per task: TFMA metric name -> (TFMA/Keras class name, which direction is better).
# Thresholds in a config may name only these; pipeline/evaluation.py builds the TFMA config from this table.
TASK_METRICS: dict[str, dict[str, tuple[str, str]]] = {
    "binary": {
        "auc": ("AUC", "higher"),
        "binary_accuracy": ("BinaryAccuracy", "higher"),
        "precision": ("Precision", "higher"),
        "recall": ("Recall", "higher"),
        "calibration": ("Calibration", "higher"),
        "mean_label": ("MeanLabel", "higher"),
        "mean_prediction": ("MeanPrediction", "higher"),
        "example_count": ("ExampleCount", "higher"),
    },
    "multiclass": {
        "sparse_categorical_accuracy": ("SparseCategoricalAccuracy", "higher"),
        "example_count": ("ExampleCount", "higher"),
    },
    "regression": {
        "mean_squared_error": ("MeanSquaredError", "lower"),
        "mean_absolute_error": ("MeanAbsoluteError", "lower"),
        "example_count": ("ExampleCount", "higher"),
    },
    # Autoencoders: the serving signature's per-example reconstruction error is the "prediction".
    "reconstruction": {
        "mean_reconstruction_error": ("MeanPrediction", "lower"),
        "example_count": ("ExampleCount", "higher"),
    },
}
RECONSTRUCTION_FAMILIES = ("autoencoder",)


class ConfigError(ValueError):
    """A configuration the user wrote (file or flag) is wrong; the message says where and what to do."""


# Where the default data lives: inside the installed tfx package (no download at run time).
TAXI_PACKAGE_DATA = "package:tfx/examples/chicago_taxi_pipeline/data/simple"


@dataclass(frozen=True)
class LabelConfig:
    """What the model predicts: a raw column, or a dotted function of raw columns."""

    column: Optional[str] = None
    fn: Optional[str] = None  # dotted path: fn(inputs: dict[str, Tensor]) -> Tensor, run inside Transform
    inputs: tuple[str, ...] = ()  # raw columns `fn` reads; they must be in the data and are never features
    name: Optional[str] = None  # the label's name (defaults to `column`)

    @property
    def key(self) -> str:
        return self.name or self.column or "label"

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """Raw columns consumed to make the label (never used as features, absent at serving time)."""
        return (self.column,) if self.column else tuple(self.inputs)


@dataclass(frozen=True)
class FeaturesConfig:
    """Which columns become features and how; by default every schema column except the label's."""

    include: Optional[tuple[str, ...]] = None
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()  # integer columns to treat as categories (vocabulary), not numbers
    bucketize: Mapping[str, int] = field(default_factory=dict)  # float column -> number of quantile buckets
    top_k: int = 1000  # vocabulary size cap per categorical feature
    oov_buckets: int = 10


@dataclass(frozen=True)
class ModelConfig:
    family: str = "dnn"
    hparams: Mapping[str, Any] = field(default_factory=dict)
    # Per-family hyperparameters, so `--model rnn` on a config written for a cnn gets the rnn's own settings.
    hparams_by_family: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def effective_hparams(self) -> dict[str, Any]:
        return dict(self.hparams_by_family.get(self.family, self.hparams))


@dataclass(frozen=True)
class TrainingConfig:
    train_steps: int = 1000
    eval_steps: int = 100
    batch_size: int = 128
    epochs: int = 5  # train_steps are spread over this many epochs; early stopping checks after each
    early_stopping_patience: int = 2
    strategy: str = "auto"  # auto | default | one_device | mirrored | multi_worker | tpu
    workers: int = 1  # local multi-worker training: worker processes on 127.0.0.1 (needs strategy multi_worker)
    mixed_precision: Optional[str] = None  # bf16 | fp16
    steps_per_execution: int = 1
    warm_start: bool = False  # start from the latest blessed model's weights when the architecture matches
    warm_start_freeze_layers: int = 0  # with warm start: freeze this many of the lowest weighted layers
    seed: Optional[int] = 42  # Python/NumPy/TensorFlow seed for weights, dropout and shuffling; null: unseeded


@dataclass(frozen=True)
class Threshold:
    lower: Optional[float] = None
    upper: Optional[float] = None


@dataclass(frozen=True)
class EvaluationConfig:
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    # Allowed change against the latest blessed baseline, per metric, in the metric's "better" direction:
    # 0 means "not worse than the baseline"; -0.01 tolerates a drop of 0.01.
    change_thresholds: Mapping[str, float] = field(default_factory=dict)
    slices: tuple[str, ...] = ()
    # Thresholds gate the overall slice; true applies them to every slice too (small slices are noisy).
    thresholds_on_slices: bool = False
    # Per model family gates, replacing thresholds/change_thresholds for that family (an autoencoder is judged
    # on reconstruction error, not accuracy): {autoencoder: {thresholds: {...}, change_thresholds: {...}}}.
    by_family: Mapping[str, "Gates"] = field(default_factory=dict)


@dataclass(frozen=True)
class Gates:
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    change_thresholds: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineConfig:
    name: str
    task: str
    label: LabelConfig
    example_gen: str = "csv"  # csv (CsvExampleGen over `data`) | digits (scikit-learn's bundled 8×8 digits)
    data: str = TAXI_PACKAGE_DATA
    schema: Optional[str] = None  # a curated schema.pbtxt (ImportSchemaGen); None → SchemaGen infers one
    eval_split_percent: int = 20
    # Hash buckets per split, e.g. {train: 2, eval: 1} (TFX's own default split); overrides eval_split_percent.
    split_buckets: Optional[Mapping[str, int]] = None
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    serving_model_name: Optional[str] = None
    source: str = "<defaults>"  # the file this config came from (for messages)

    @property
    def objective(self) -> str:
        """What the Evaluator measures: the task, or reconstruction for autoencoders."""
        return "reconstruction" if self.model.family in RECONSTRUCTION_FAMILIES else self.task

    @property
    def gates(self) -> "Gates":
        """The thresholds in force for the configured model family."""
        if self.model.family in self.evaluation.by_family:
            return self.evaluation.by_family[self.model.family]
        return Gates(self.evaluation.thresholds, self.evaluation.change_thresholds)

    @property
    def model_name(self) -> str:
        return self.serving_model_name or self.name

    @property
    def data_dir(self) -> Path:
        return resolve_data_dir(self.data)

    @property
    def schema_path(self) -> Optional[Path]:
        return Path(self.schema) if self.schema else None

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def resolve_data_dir(data: str) -> Path:
    """`package:<path>` names a directory inside an installed package (shipped data); anything else is a path."""
    if data.startswith("package:"):
        package, _, rest = data[len("package:"):].partition("/")
        import importlib.util

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(f"data: package {package!r} is not installed (from {data!r}); run `make setup`.")
        return Path(list(spec.submodule_search_locations)[0]) / rest
    return Path(data).expanduser().resolve()


# ---------------------------------------------------------------------------------------------------------------
# Loading


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
    return ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))


def load_config(
    name_or_path: str | os.PathLike[str] | None = None, overrides: Optional[Mapping[str, Any]] = None
) -> PipelineConfig:
    """Reads a config file, applies dotted-key overrides (`training.train_steps`: 100), validates it."""
    path = config_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys to values.")
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value, path)
    return from_dict(raw, source=str(path), base_dir=path.parent)


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any, path: Path) -> None:
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
    return {
        str(family): _build(
            Gates, gates, f"{where}.{family}", {"thresholds": _thresholds, "change_thresholds": _changes}
        )
        for family, gates in value.items()
    }


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


def from_dict(raw: Mapping[str, Any], source: str = "<dict>", base_dir: Path = PROJECT_ROOT) -> PipelineConfig:
    where = Path(source).name if source.startswith("/") else source
    raw = dict(raw)
    for required in ("name", "task", "label"):
        if required not in raw:
            raise ConfigError(f"{where}: missing required key {required!r}.")
    if "data" in raw and raw["data"] is not None and not str(raw["data"]).startswith("package:"):
        data_path = Path(str(raw["data"])).expanduser()
        raw["data"] = str(data_path if data_path.is_absolute() else (base_dir / data_path).resolve())
    cfg = _build(
        PipelineConfig,
        {**raw, "schema": _resolve_file(raw.get("schema"), base_dir, f"{where}: schema")},
        where,
        converters={
            "label": lambda v, w: _build(LabelConfig, v, w, {"inputs": _str_tuple}),
            "features": lambda v, w: _build(
                FeaturesConfig,
                v,
                w,
                {
                    "include": _opt_str_tuple,
                    "exclude": _str_tuple,
                    "categorical": _str_tuple,
                    "bucketize": _buckets,
                    "top_k": _int(1),
                    "oov_buckets": _int(1),
                },
            ),
            "model": lambda v, w: _build(ModelConfig, v, w),
            "training": lambda v, w: _build(
                TrainingConfig,
                v,
                w,
                {
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
                },
            ),
            "evaluation": lambda v, w: _build(
                EvaluationConfig,
                v,
                w,
                {
                    "thresholds": _thresholds,
                    "change_thresholds": _changes,
                    "slices": _str_tuple,
                    "thresholds_on_slices": _bool,
                    "by_family": _by_family,
                },
            ),
            "eval_split_percent": _int(1),
            "split_buckets": _split_buckets,
        },
    )
    cfg = dataclasses.replace(cfg, source=source)
    validate(cfg, where)
    return cfg


def validate(cfg: PipelineConfig, where: str) -> None:
    """Checks that need more than one key at a time."""
    if not isinstance(cfg.name, str) or not cfg.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{where}: name must be letters, digits, - or _, got {cfg.name!r}.")
    if cfg.task not in TASKS:
        raise ConfigError(f"{where}: task must be one of {', '.join(TASKS)}, got {cfg.task!r}.")
    label = cfg.label
    if bool(label.column) == bool(label.fn):
        raise ConfigError(f"{where}: label needs exactly one of 'column' or 'fn' (a dotted function path).")
    if label.fn and not label.inputs:
        raise ConfigError(f"{where}: label.fn needs label.inputs, the raw columns the function reads.")
    if label.fn and not label.name:
        raise ConfigError(f"{where}: label.fn needs label.name, what the computed label is called.")
    if cfg.example_gen not in EXAMPLE_GENS:
        raise ConfigError(f"{where}: example_gen must be one of {', '.join(EXAMPLE_GENS)}, got {cfg.example_gen!r}.")
    if not 1 <= cfg.eval_split_percent <= 90:
        raise ConfigError(f"{where}: eval_split_percent must be between 1 and 90, got {cfg.eval_split_percent}.")
    if cfg.split_buckets is not None and cfg.example_gen != "csv":
        raise ConfigError(f"{where}: split_buckets applies to example_gen: csv only; use eval_split_percent.")
    from trainer_module.models import FAMILIES  # the registry of model builders

    for family in (cfg.model.family, *cfg.model.hparams_by_family):
        if family not in FAMILIES:
            raise ConfigError(
                f"{where}: model family {family!r} is unknown; known families: {', '.join(sorted(FAMILIES))}."
            )
    gate_sets = {None: Gates(cfg.evaluation.thresholds, cfg.evaluation.change_thresholds), **cfg.evaluation.by_family}
    for family, gates in gate_sets.items():
        if family is not None and family not in FAMILIES:
            raise ConfigError(f"{where}: evaluation.by_family names unknown model family {family!r}.")
        objective = "reconstruction" if (family or cfg.model.family) in RECONSTRUCTION_FAMILIES else cfg.task
        if family is None and cfg.model.family in cfg.evaluation.by_family:
            continue  # the top-level gates are not used for this family
        metrics = TASK_METRICS[objective]
        for metric in [*gates.thresholds, *gates.change_thresholds]:
            if metric not in metrics:
                where_key = f"evaluation.by_family.{family}" if family else "evaluation"
                raise ConfigError(
                    f"{where}: {where_key} metric {metric!r} is not computed for {objective} "
                    f"(model family {family or cfg.model.family}); use one of {', '.join(metrics)}."
                )
    overlap = set(cfg.features.categorical) & set(cfg.features.bucketize)
    if overlap:
        raise ConfigError(f"{where}: features {sorted(overlap)} are both categorical and bucketized; pick one.")
    strategies = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")
    if cfg.training.strategy not in strategies:
        raise ConfigError(
            f"{where}: training.strategy {cfg.training.strategy!r} is unknown; use one of {', '.join(strategies)}."
        )
    if cfg.training.workers > 1 and cfg.training.strategy != "multi_worker":
        raise ConfigError(
            f"{where}: training.workers {cfg.training.workers} needs training.strategy multi_worker "
            "(--strategy multi_worker --workers N)."
        )
    if cfg.training.mixed_precision not in (None, "bf16", "fp16"):
        raise ConfigError(
            f"{where}: training.mixed_precision must be bf16 or fp16 (or absent), got {cfg.training.mixed_precision!r}."
        )
