"""pipeline/config/evaluation.py: the metrics each objective computes, TFMA's names for them, the objective rule."""

from __future__ import annotations

from pipeline.config.evaluation import TASK_METRICS, metric_default_name, objective_of


def test_tfma_names_metric_classes_in_snake_case():
    assert metric_default_name("AUC") == "auc"
    assert metric_default_name("BinaryAccuracy") == "binary_accuracy"
    assert metric_default_name("SparseCategoricalAccuracy") == "sparse_categorical_accuracy"
    # Every metric is either under TFMA's own name or renamed on purpose (the autoencoder's error).
    renamed = {
        (objective, name)
        for objective, metrics in TASK_METRICS.items()
        for name, (class_name, _) in metrics.items()
        if name != metric_default_name(class_name)
    }
    assert renamed == {("reconstruction", "mean_reconstruction_error")}


def test_autoencoders_are_judged_on_reconstruction():
    assert objective_of("multiclass", "autoencoder") == "reconstruction"
    assert objective_of("multiclass", "cnn") == "multiclass"
    assert set(TASK_METRICS) == {"binary", "multiclass", "regression", "reconstruction"}
    assert all(direction in ("higher", "lower") for m in TASK_METRICS.values() for _, direction in m.values())
