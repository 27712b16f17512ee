"""`tfx-e2e explain`: per row, the prediction and each raw feature's integrated-gradients attribution, computed
through the pushed model's explanation functions (trainer_module.explain_export) from raw CSV / JSON-lines rows.

Rows become serialized tf.Examples exactly as for `tfx-e2e predict` (pipeline.predict); `explain_embed` parses and
transforms them like serving_default and returns each row's points (numeric inputs, embedding and one-hot outputs);
pipeline.explain.integrated interpolates the points from the all-zero baseline through `explain_head`; the
attributions of every point of a raw column (bucketized numbers and categories: their embedding and one-hot parts;
a vector column: every element) are summed to that column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from pipeline.config.schema import ConfigError
from pipeline.data.csv_format import DataError
from pipeline.explain.integrated import STEPS, refined, tolerance
from pipeline.predict.examples import to_example
from pipeline.predict.rows import read_rows
from pipeline.predict.serve import input_features, resolve_model
from trainer_module.serving_contract import (
    CLASSES,
    INPUT_KEY,
    PREDICTIONS,
    PROBABILITIES,
    RECONSTRUCTION_ERROR,
    SERVING_SIGNATURE,
)

BASELINE_TEXT = ("numbers at their training mean (transformed value 0, also what a missing number is filled with); "
                 "categories and buckets as no category (zero embedding, empty one-hot)")
GBT_HINT = ("is a gradient-boosted tree forest, which has no gradients to integrate: integrated gradients need a "
            "differentiable model (family dnn, cnn, rnn or autoencoder); the pipeline's permutation importance "
            "ranks a forest's features")
OLD_HINT = ("has no explanation functions (explain_embed / explain_head): it was exported before `tfx-e2e explain` "
            "existed; re-train with this version (`tfx-e2e run`) and explain the new push")


@dataclass
class RowExplanation:
    row: int  # 1-based data row of the input
    prediction: float  # the explained value: F(row)
    baseline: float  # F(baseline)
    target_class: Optional[int]  # multiclass: the class whose probability is explained (the most likely one)
    class_name: Optional[str]
    attributions: list[tuple[str, float]]  # (raw column, attribution), largest |attribution| first
    values: dict[str, Any]  # raw column → the row's value as given
    gap: float  # |Σ attributions − (prediction − baseline)|
    allowed: float  # the tolerance for this row
    steps: int  # integration steps used (doubled from the default while the gap exceeded the tolerance)
    elements: dict[str, np.ndarray]  # vector columns (e.g. an image's pixels): per-element attribution
    transformed: dict[str, np.ndarray]  # vector columns: the row's transformed values (the picture, up to scale)

    @property
    def total(self) -> float:
        return float(sum(a for _, a in self.attributions))

    @property
    def holds(self) -> bool:
        return self.gap <= self.allowed


@dataclass
class Explanations:
    model_dir: Path
    output: str  # serving_default's output key that is explained
    steps: int
    ignored_columns: list[str]
    rows: list[RowExplanation]


def load(model_dir: Path) -> Any:
    """The SavedModel, which must carry explanation functions (ConfigError saying why not otherwise)."""
    import tensorflow as tf

    from trainer_module import explain_export as X
    from trainer_module.custom_ops import register_for

    try:
        register_for(str(model_dir))  # a gbt model's forest needs TF-DF's ops even to load
        loaded = tf.saved_model.load(str(model_dir))
    except Exception as err:  # pylint: disable=broad-except
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ConfigError(f"{model_dir}: cannot load the model: {type(err).__name__}: {first}") from None
    if not hasattr(loaded, X.EMBED) or not hasattr(loaded, X.HEAD):
        raise ConfigError(f"{model_dir} {GBT_HINT if hasattr(loaded, 'model_resources') else OLD_HINT}")
    return loaded


def _examples(model_dir: Path, input_path: Path) -> tuple[list[Any], list[bytes], dict[str, Any], list[str]]:
    features = input_features(model_dir)
    columns, rows = read_rows(input_path)
    absent = [n for n, f in features.items() if n not in columns and (f.kind != "dense" or f.required)]
    if absent:
        raise DataError(
            f"{input_path}: missing column(s) the model reads: {', '.join(absent)} (found: {', '.join(columns)})"
        )
    return rows, [to_example(row, features, input_path) for row in rows], features, \
        [c for c in columns if c not in features]


def explain(model: str, input_path: Path, home: Path, config: Optional[str] = None, steps: int = STEPS) -> Explanations:
    model_dir = resolve_model(model, home, config)
    input_path = Path(input_path).expanduser()
    rows, examples, features, ignored = _examples(model_dir, input_path)
    loaded = load(model_dir)

    import tensorflow as tf

    from trainer_module import explain_export as X  # imports TensorFlow: only once a model is to be explained

    serialized = tf.constant(examples, dtype=tf.string)
    try:
        points = {k: v.numpy() for k, v in getattr(loaded, X.EMBED)(serialized).items()}
        served = loaded.signatures[SERVING_SIGNATURE](**{INPUT_KEY: serialized})
    except tf.errors.InvalidArgumentError as err:
        raise DataError(f"{input_path}: the model rejected the rows: {err.message.strip().splitlines()[0]}") from None
    head = getattr(loaded, X.HEAD)
    result, used = refined(lambda p: head(dict(p)), points, steps)
    class_names = [v.decode() for v in served[CLASSES].numpy()[0]] if CLASSES in served else None
    key = next(k for k in (PROBABILITIES, PREDICTIONS, RECONSTRUCTION_ERROR) if k in served)
    out = []
    for i, row in enumerate(rows):
        per_column: dict[str, float] = {}
        elements: dict[str, np.ndarray] = {}
        transformed: dict[str, np.ndarray] = {}
        for point, attribution in result.points.items():
            column = X.raw_column(point)
            per_column[column] = per_column.get(column, 0.0) + float(np.sum(attribution[i]))
            if X.SEPARATOR not in point and np.size(attribution[i]) > 1:
                elements[column] = np.ravel(attribution[i])
                transformed[column] = np.ravel(points[point][i])
        target = None if result.target is None else int(result.target[i])
        name = None
        if class_names is not None:
            name = class_names[target] if target is not None else class_names[0]
        delta = float(result.prediction[i] - result.baseline[i])
        out.append(RowExplanation(
            row=row.number,
            prediction=float(result.prediction[i]),
            baseline=float(result.baseline[i]),
            target_class=target,
            class_name=name,
            attributions=sorted(per_column.items(), key=lambda item: -abs(item[1])),
            values={c: row.values.get(c) for c in features},
            gap=float(result.gap()[i]),
            allowed=tolerance(delta),
            steps=int(used[i]),
            elements=elements,
            transformed=transformed,
        ))
    return Explanations(model_dir, key, steps, ignored, out)
