"""Gradient boosted trees (TensorFlow Decision Forests) on Transform's features: vocabulary ids split as categories,
numbers as they are (scaling changes nothing for a tree). Trained in one pass over the train split (trees do not
train in epochs), then wrapped in a functional Keras model so the export, TFMA and serving see the same inputs and
outputs as every other family (trainer_module/gbt_training.py)."""

from __future__ import annotations

from typing import Any, Mapping

from trainer_module.features import ModelSpec
from trainer_module.models.common import check_choice, resolve_hparams

DEFAULTS: dict[str, Any] = {
    # 500 trees at shrinkage 0.05 (early stopping ends sooner when the validation loss rises): claims R² 0.356 → 0.374,
    # taxi, taxi_fare and fraud equal within noise vs 300 at 0.1 (benchmarks/RESULTS.md §7, gbt-slow)
    "num_trees": 500,
    "max_depth": 6,
    "shrinkage": 0.05,
    "min_examples": 20,  # rows per leaf at least (HistGradientBoosting's default min_samples_leaf)
    "subsample": 1.0,
    "l2_regularization": 0.0,
    "categorical_algorithm": "CART",
    # LOCAL (depth-first to max_depth) or BEST_FIRST_GLOBAL (the best split anywhere next, up to max_num_nodes
    # nodes: HistGradientBoosting's way, 31 leaves = 61 nodes; max_depth -1 then lifts the depth limit)
    "growing_strategy": "LOCAL",
    "max_num_nodes": 61,
    # Early stopping on: "train_slice" (validation_ratio of the train split held back, TF-DF's own) or
    # "eval_split" (the pipeline's eval split, as the networks' early stopping: every train row grows trees)
    "validation": "train_slice",
    "validation_ratio": 0.1,
    "early_stopping": "LOSS_INCREASE",
    "max_seconds": 0,  # 0: no limit; else TF-DF's maximum_training_duration_seconds
}


def check_spec(spec: ModelSpec) -> None:
    """Trees read one value per feature: a tabular input. Images and sequences are for cnn/rnn."""
    wide = [f.name for f in spec.inputs if tuple(f.shape) != (1,)]
    if wide:
        raise ValueError(f"gbt: the inputs {wide} hold more than one value per row; gbt reads tabular features "
                         "(one value each). Use model.family cnn or rnn for images and sequences.")


VALIDATIONS = ("train_slice", "eval_split")
GROWING_STRATEGIES = ("LOCAL", "BEST_FIRST_GLOBAL")


def hparams_of(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults overridden by `hparams`, checked."""
    hp = resolve_hparams("gbt", DEFAULTS, hparams)
    check_choice("gbt", "validation", hp["validation"], VALIDATIONS)
    check_choice("gbt", "growing_strategy", hp["growing_strategy"], GROWING_STRATEGIES)
    return hp


def uses_eval_split(hparams: Mapping[str, Any]) -> bool:
    """Does early stopping read the pipeline's eval split (trainer_module.gbt_training passes it to fit)?"""
    hp = hparams_of(hparams)
    return hp["validation"] == "eval_split" and hp["early_stopping"] != "NONE"


def build(spec: ModelSpec, hparams: Mapping[str, Any], seed: int = 42):
    """An untrained TF-DF GradientBoostedTreesModel for the task (not compiled with an optimizer: it has none)."""
    import tensorflow_decision_forests as tfdf

    hp = hparams_of(hparams)
    check_spec(spec)
    semantic = {"categorical": tfdf.keras.FeatureSemantic.CATEGORICAL, "numeric": tfdf.keras.FeatureSemantic.NUMERICAL}
    features = [tfdf.keras.FeatureUsage(name=f.name, semantic=semantic[f.kind]) for f in spec.inputs]
    task = tfdf.keras.Task.REGRESSION if spec.task == "regression" else tfdf.keras.Task.CLASSIFICATION
    extra = {"maximum_training_duration_seconds": float(hp["max_seconds"])} if hp["max_seconds"] else {}
    if hp["growing_strategy"] == "BEST_FIRST_GLOBAL":
        extra["max_num_nodes"] = int(hp["max_num_nodes"])
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
        growing_strategy=str(hp["growing_strategy"]),
        validation_ratio=0.0 if hp["validation"] == "eval_split" else float(hp["validation_ratio"]),
        early_stopping=str(hp["early_stopping"]),
        random_seed=int(seed),
        verbose=0,
        **extra,
    )
    return model
