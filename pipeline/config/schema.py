"""The typed configuration: one frozen dataclass per section of a config YAML (the evaluation section's live in
evaluation.py), the allowed values of its enumerated keys, where `data` points, and ConfigError."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from pipeline.config.evaluation import EvaluationConfig, Gates, objective_of
from trainer_module import pruning  # the schedule's defaults (no TensorFlow import)
from pipeline.config.importance import ImportanceConfig

TASKS = ("binary", "multiclass", "regression")
EXAMPLE_GENS = ("csv", "digits")
BEAM_MODES = ("auto", "in_memory", "multi_processing")


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
    # binary labels written as strings: the value that is the positive class (1); unset, the column's two values
    # must be a known pair such as yes/no (trainer_module.label_values).
    positive: Optional[str] = None

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
class ExportConfig:
    """model.export: what the Trainer writes besides the SavedModel (pipeline/config/compression.py)."""

    quantize: Optional[str] = None  # unset: no TFLite model; none | dynamic | float16 | int8


@dataclass(frozen=True)
class ModelConfig:
    """Which model family (trainer_module.models.FAMILIES) and its hyperparameters."""

    family: str = "dnn"
    hparams: Mapping[str, Any] = field(default_factory=dict)
    # Per-family hyperparameters, so `--model rnn` on a config written for a cnn gets the rnn's own settings.
    hparams_by_family: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # auto: the candidates' training time together (each gets an equal share; a network is cut at its share, the
    # forest gets it as TF-DF's maximum training duration); 0: no limit
    auto_max_seconds: int = 600
    export: ExportConfig = field(default_factory=ExportConfig)  # the TFLite model beside the SavedModel

    @property
    def effective_hparams(self) -> dict[str, Any]:
        return dict(self.hparams_by_family.get(self.family, self.hparams))


@dataclass(frozen=True)
class TrainingConfig:
    """How the Trainer trains: steps, batches, tf.distribute strategy, warm start, seed."""

    train_steps: int = 1000
    eval_steps: int = 100
    batch_size: int = 128
    epochs: int = 5  # train_steps are spread over this many epochs; early stopping checks after each
    early_stopping_patience: int = 2
    strategy: str = "auto"  # a tf.distribute choice: one of trainer_module.strategy.STRATEGIES
    workers: int = 1  # local multi-worker training: worker processes on 127.0.0.1 (needs strategy multi_worker)
    mixed_precision: Optional[str] = None  # bf16 | fp16
    steps_per_execution: int = 1
    warm_start: bool = False  # start from the latest blessed model's weights when the architecture matches
    warm_start_freeze_layers: int = 0  # with warm start: freeze this many of the lowest weighted layers
    seed: Optional[int] = 42  # Python/NumPy/TensorFlow seed for weights, dropout and shuffling; null: unseeded
    prune: Optional["PruneConfig"] = None  # magnitude pruning during training; null: none


@dataclass(frozen=True)
class PruneConfig:
    """training.prune (trainer_module.pruning): the Dense and Conv kernels reach `target_sparsity` (the share of
    zeros, 0 < x < 1) on a polynomial schedule from begin_fraction to end_fraction of the run's training steps, the
    mask updated every `frequency` steps (null: about trainer_module.pruning.UPDATES updates in between)."""

    target_sparsity: float
    begin_fraction: float = pruning.BEGIN_FRACTION  # 0.1
    end_fraction: float = pruning.END_FRACTION  # 0.7: the rest of the steps fine-tune the pruned network
    frequency: Optional[int] = None


@dataclass(frozen=True)
class TuningConfig:
    """The Tuner (opt-in: a `tuning` section or --tune): a random search whose best hyperparameters the Trainer
    uses. search_space: hparam -> list of values or {min, max, step, sampling}; empty: the family's default
    (trainer_module.tuning_space); with model.family auto, one space per candidate family."""

    enabled: bool = False
    trials: int = 8
    max_seconds: int = 600  # the whole search; a trial still running at the deadline is cut short and scored
    train_steps: Optional[int] = None  # each trial's training steps (default: training.train_steps)
    search_space: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineConfig:
    """A whole pipeline config: what data, which label and features, which model, how to train and evaluate."""

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
    tuning: TuningConfig = field(default_factory=TuningConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)  # the FeatureImportance component
    serving_model_name: Optional[str] = None
    source: str = "<defaults>"  # the file this config came from (for messages)

    @property
    def objective(self) -> str:
        """What the Evaluator measures: the task, or reconstruction for autoencoders."""
        return objective_of(self.task, self.model.family)

    @property
    def gates(self) -> Gates:
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
