"""Feature and label naming and the feature plan, derived from the schema's columns and the config (one source).

Transform and Trainer exchange nothing but what is defined here: the `_xf` suffix of transformed names, which raw
columns become which kind of feature, and the label's transformed key. The pipeline passes the relevant part of
the config to both as `custom_config` (see `transform_config`), so the same plain dict drives both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

TRANSFORMED_SUFFIX = "_xf"
# Transform's vocabularies of the label (train split): multiclass string labels → class ids in this file's order;
# binary string labels → the raw values seen. LABEL_COUNTS: "<count> <class id>" per line, rows with a label only.
LABEL_VOCABULARY = "label_vocabulary"
LABEL_COUNTS = "label_counts"


def transformed_name(name: str) -> str:
    return f"{name}{TRANSFORMED_SUFFIX}"


def raw_name(transformed: str) -> str:
    if not transformed.endswith(TRANSFORMED_SUFFIX):
        raise ValueError(f"{transformed!r} is not a transformed feature name (no {TRANSFORMED_SUFFIX} suffix)")
    return transformed[: -len(TRANSFORMED_SUFFIX)]


@dataclass(frozen=True)
class LabelSpec:
    key: str  # the label's name; its transformed key is transformed_name(key)
    task: str  # binary | multiclass | regression
    column: Optional[str] = None
    fn: Optional[str] = None
    inputs: tuple[str, ...] = ()
    positive: Optional[str] = None  # binary string labels: the positive value (else trainer_module.label_values)
    counts: bool = True  # classification: Transform writes the train split's class counts (LABEL_COUNTS)

    @property
    def transformed_key(self) -> str:
        return transformed_name(self.key)

    @property
    def weight_key(self) -> str:
        """Transform's 1.0/0.0 per row: does the row have a label? Rows without one weigh 0 in training and in the
        Evaluator's metrics (TFMA's example_weight_key), so they are left out of both. Never a model input."""
        return transformed_name(f"{self.key}__has_label")

    @property
    def outputs(self) -> tuple[str, str]:
        """The transformed outputs that are not model inputs."""
        return self.transformed_key, self.weight_key

    @property
    def raw_columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column else tuple(self.inputs)


@dataclass(frozen=True)
class FeaturePlan:
    """How each raw column is transformed. Kinds: numeric (z-score), categorical (vocabulary), bucketized."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    bucketized: Mapping[str, int]
    label: LabelSpec
    top_k: int = 1000
    oov_buckets: int = 10

    @property
    def columns(self) -> tuple[str, ...]:
        """Raw feature columns, the ones a serving request carries (label columns excluded)."""
        return tuple(sorted((*self.numeric, *self.categorical, *self.bucketized)))


# Column kinds as seen in a schema / the tensors Transform receives.
FLOAT, INT, STRING = "float", "int", "string"


def transform_config(cfg: Any) -> dict[str, Any]:
    """The part of a PipelineConfig that Transform and Trainer need, as JSON-serializable custom_config."""
    return {
        "task": cfg.task,
        "label": {
            "key": cfg.label.key,
            "column": cfg.label.column,
            "fn": cfg.label.fn,
            "inputs": list(cfg.label.inputs),
            "positive": cfg.label.positive,
            # Class counts of the train split, for the default gates' naive model: only when they are in force
            # (a vocabulary analyzer costs Transform seconds on the taxi data).
            "counts": cfg.task in ("binary", "multiclass") and not cfg.gates.thresholds,
        },
        "features": {
            "include": list(cfg.features.include) if cfg.features.include is not None else None,
            "exclude": list(cfg.features.exclude),
            "categorical": list(cfg.features.categorical),
            "bucketize": dict(cfg.features.bucketize),
            "top_k": cfg.features.top_k,
            "oov_buckets": cfg.features.oov_buckets,
        },
        # TFX fingerprints a module_file but not code named by a dotted path (preprocessing_fn=, run_fn=): without
        # this, editing trainer_module would leave Transform and Trainer cached on their old outputs.
        "code_fingerprint": code_fingerprint(),
    }


def code_fingerprint(root: Optional[str] = None) -> str:
    """sha256 (16 hex digits) of trainer_module's Python sources (or those under `root`): the code Transform and
    Trainer run."""
    import hashlib
    from pathlib import Path

    root = Path(root) if root else Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def label_spec(custom_config: Mapping[str, Any]) -> LabelSpec:
    label = custom_config["label"]
    return LabelSpec(
        key=label["key"],
        task=custom_config["task"],
        column=label.get("column"),
        fn=label.get("fn"),
        inputs=tuple(label.get("inputs") or ()),
        positive=label.get("positive"),
        counts=bool(label.get("counts", True)),
    )


def plan_features(column_kinds: Mapping[str, str], custom_config: Mapping[str, Any]) -> FeaturePlan:
    """Decides each column's treatment from its kind (float/int/string) and the config's overrides.

    Default: every column except the label's raw columns; floats and ints are numeric, strings categorical.
    """
    label = label_spec(custom_config)
    features = custom_config.get("features") or {}
    include = features.get("include")
    exclude = set(features.get("exclude") or ())
    categorical_ints = set(features.get("categorical") or ())
    bucketize = dict(features.get("bucketize") or {})

    named = set(include or ()) | exclude | categorical_ints | set(bucketize) | set(label.raw_columns)
    unknown = sorted(named - set(column_kinds))
    if unknown:
        raise ValueError(
            f"columns {unknown} named in the config are not in the schema; schema columns: {sorted(column_kinds)}"
        )
    # A label column is never a feature. A computed label's inputs stay features unless the config excludes them
    # (taxi: fare is a feature, tips is excluded).
    label_only = set(label.raw_columns) if label.column else set()
    chosen = [c for c in (include if include is not None else sorted(column_kinds)) if c not in exclude | label_only]
    numeric, categorical, bucketized = [], [], {}
    for column in chosen:
        kind = column_kinds[column]
        if column in bucketize:
            if kind == STRING:
                raise ValueError(f"column {column!r} is a string column and cannot be bucketized")
            bucketized[column] = int(bucketize[column])
        elif kind == STRING or column in categorical_ints:
            categorical.append(column)
        else:
            numeric.append(column)
    if not (numeric or categorical or bucketized):
        raise ValueError("no feature columns are left after removing the label and excluded columns")
    return FeaturePlan(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        bucketized=bucketized,
        label=label,
        top_k=int(features.get("top_k", 1000)),
        oov_buckets=int(features.get("oov_buckets", 10)),
    )


@dataclass(frozen=True)
class InputFeature:
    name: str  # transformed name, the Keras input name
    kind: str  # "numeric" or "categorical"
    cardinality: int = 0  # categorical only: number of distinct ids (vocabulary + OOV buckets)
    shape: tuple[int, ...] = (1,)  # per-example shape as the dataset delivers it, e.g. (64,) for 8×8 pixels


@dataclass(frozen=True)
class ModelSpec:
    """What a model builder needs to know: its inputs, the task and the output size."""

    inputs: tuple[InputFeature, ...]
    task: str
    num_classes: int = 2
    label_key: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def model_spec(tf_transform_output: Any, custom_config: Mapping[str, Any]) -> ModelSpec:
    """Derives the model's inputs from Transform's output: float outputs are numeric, int outputs categorical."""
    import tensorflow as tf

    label = label_spec(custom_config)
    spec = tf_transform_output.transformed_feature_spec()
    inputs = []
    for name in sorted(spec):
        if name in label.outputs:
            continue
        shape = tuple(int(d) for d in getattr(spec[name], "shape", ()) or ()) or (1,)
        if spec[name].dtype == tf.int64:
            cardinality = tf_transform_output.num_buckets_for_transformed_feature(name)
            inputs.append(InputFeature(name, "categorical", int(cardinality), shape))
        else:
            inputs.append(InputFeature(name, "numeric", shape=shape))
    num_classes = 2
    if label.task == "multiclass":
        num_classes = int(tf_transform_output.num_buckets_for_transformed_feature(label.transformed_key))
    return ModelSpec(inputs=tuple(inputs), task=label.task, num_classes=num_classes, label_key=label.transformed_key)


def serving_columns(tf_transform_output: Any, custom_config: Mapping[str, Any]) -> list[str]:
    """Raw columns a serving request must carry: those behind a transformed feature (never the label's)."""
    label = label_spec(custom_config)
    return sorted(
        raw_name(name) for name in tf_transform_output.transformed_feature_spec() if name not in label.outputs
    )
