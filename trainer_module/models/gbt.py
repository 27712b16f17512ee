"""Gradient boosted trees (TensorFlow Decision Forests) on Transform's features: vocabulary ids split as categories,
numbers as they are (scaling changes nothing for a tree). Trained in one pass over the train split (trees do not
train in epochs), then wrapped in a functional Keras model so the export, TFMA and serving see the same inputs and
outputs as every other family (trainer_module/gbt_training.py)."""

from __future__ import annotations

from typing import Any, Mapping

from trainer_module.features import ModelSpec
from trainer_module.models.common import resolve_hparams

DEFAULTS: dict[str, Any] = {
    "num_trees": 300,
    "max_depth": 6,
    "shrinkage": 0.1,
    "min_examples": 20,  # rows per leaf at least (HistGradientBoosting's default min_samples_leaf)
    "subsample": 1.0,
    "l2_regularization": 0.0,
    "categorical_algorithm": "CART",
    "validation_ratio": 0.1,  # rows of the train split held back for early stopping (TF-DF's own)
    "early_stopping": "LOSS_INCREASE",
    "max_seconds": 0,  # 0: no limit; else TF-DF's maximum_training_duration_seconds
}


def check_spec(spec: ModelSpec) -> None:
    """Trees read one value per feature: a tabular input. Images and sequences are for cnn/rnn."""
    wide = [f.name for f in spec.inputs if tuple(f.shape) != (1,)]
    if wide:
        raise ValueError(f"gbt: the inputs {wide} hold more than one value per row; gbt reads tabular features "
                         "(one value each). Use model.family cnn or rnn for images and sequences.")


def build(spec: ModelSpec, hparams: Mapping[str, Any], seed: int = 42):
    """An untrained TF-DF GradientBoostedTreesModel for the task (not compiled with an optimizer: it has none)."""
    import tensorflow_decision_forests as tfdf

    hp = resolve_hparams("gbt", DEFAULTS, hparams)
    check_spec(spec)
    semantic = {"categorical": tfdf.keras.FeatureSemantic.CATEGORICAL, "numeric": tfdf.keras.FeatureSemantic.NUMERICAL}
    features = [tfdf.keras.FeatureUsage(name=f.name, semantic=semantic[f.kind]) for f in spec.inputs]
    task = tfdf.keras.Task.REGRESSION if spec.task == "regression" else tfdf.keras.Task.CLASSIFICATION
    extra = {"maximum_training_duration_seconds": float(hp["max_seconds"])} if hp["max_seconds"] else {}
    model = tfdf.keras.GradientBoostedTreesModel(
        task=task,
        features=features,
        exclude_non_specified_features=True,
        num_trees=int(hp["num_trees"]),
        max_depth=int(hp["max_depth"]),
        shrinkage=float(hp["shrinkage"]),
        min_examples=int(hp["min_examples"]),
        subsample=float(hp["subsample"]),
        l2_regularization=float(hp["l2_regularization"]),
        categorical_algorithm=str(hp["categorical_algorithm"]),
        validation_ratio=float(hp["validation_ratio"]),
        early_stopping=str(hp["early_stopping"]),
        random_seed=int(seed),
        verbose=0,
        **extra,
    )
    return model
