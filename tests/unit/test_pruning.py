"""training.prune (trainer_module/pruning.py, pipeline/config/pruning.py): the schedule fitted to the run's steps,
the config's errors, and real dnn and cnn models pruned to the target while fitting, stripped, exported and served,
and warm-started from."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from pipeline.config.loader import load_config
from pipeline.dag.model_nodes import trainer_custom_config
from tests.unit.test_config_loader import BASE, config_error
from trainer_module import export, pruning, run, warm_start
from trainer_module.features import InputFeature, ModelSpec
from trainer_module.strategy import Choice

DEFAULT = run.Setup(tf.distribute.get_strategy(), Choice("default", "test"), chief=True, precision=None, seed=None)
TABULAR = ModelSpec((InputFeature("fare_xf", "numeric"), InputFeature("company_xf", "categorical", 12)), "binary")
IMAGES = ModelSpec((InputFeature("pixels_xf", "numeric", 0, (64,)),), "multiclass", num_classes=10)
EPOCHS, STEPS_PER_EPOCH = 3, 10


def test_the_schedule_spans_the_runs_steps_and_ends_on_an_update():
    assert pruning.schedule({"target_sparsity": 0.5}, 1000) == pruning.Schedule(0.5, 100, 700, 30)
    # an explicit frequency: the end moves back onto an update (10 + 8 × 7); 32 steps: an update every step
    assert pruning.schedule({"target_sparsity": 0.8, "frequency": 7}, 100) == pruning.Schedule(0.8, 10, 66, 7)
    assert pruning.schedule({"target_sparsity": 0.5}, 32) == pruning.Schedule(0.5, 3, 22, 1)
    # end_fraction 1.0 still ends inside the run (its last step is total - 1)
    assert pruning.schedule({"target_sparsity": 0.5, "end_fraction": 1.0}, 50).end_step == 49
    plan = pruning.Schedule(0.5, 100, 700, 30)
    assert plan.done_by_epoch(200) == 3  # step 700 runs in the 4th epoch of 200 steps (0-based: 3)
    assert plan.done_by_epoch(100) == 6
    with pytest.raises(ValueError, match="leave no step to prune"):
        pruning.schedule({"target_sparsity": 0.5}, 1)
    with pytest.raises(ValueError, match="frequency 50 is more than the 30 steps"):
        pruning.schedule({"target_sparsity": 0.5, "frequency": 50}, 50)


@pytest.mark.parametrize(
    "training, message",
    [
        ("{prune: {target_sparsity: 1.0}}", "training.prune.target_sparsity: expected a number with 0.0 ≤ x < 1.0"),
        ("{prune: {target_sparsity: 0}}", "remove training.prune to train without pruning"),
        ("{prune: {target_sparsity: half}}", "got 'half'"),
        ("{prune: {sparsity: 0.5}}", "expected a mapping with target_sparsity"),
        ("{prune: {target_sparsity: 0.5, begin: 0.2}}", "unknown key 'begin'; known keys: target_sparsity"),
        ("{prune: {target_sparsity: 0.5, begin_fraction: 0.6, end_fraction: 0.5}}",
         "end_fraction 0.5 must be greater than begin_fraction 0.6"),
        ("{prune: {target_sparsity: 0.5, frequency: 0}}", "training.prune.frequency: expected an integer ≥ 1"),
        ("{train_steps: 50, prune: {target_sparsity: 0.5, frequency: 40}}",
         "frequency 40 is more than the 30 steps between begin and end (of 50 training steps): the mask would never "
         "be updated; lower it. (training.train_steps 50)"),
        ("{train_steps: 1, prune: {target_sparsity: 0.5}}", "leave no step to prune"),
        ("{strategy: multi_worker, prune: {target_sparsity: 0.5}}",
         "training.prune is not supported with training.strategy multi_worker"),
        ("{strategy: tpu, prune: 0.5}", "training.prune is not supported with training.strategy tpu"),
    ],
)
def test_config_errors_name_the_key(tmp_path, training, message):
    assert message in config_error(tmp_path, f"{BASE}training: {training}\n")


def test_gbt_is_refused_and_the_trainer_gets_the_schedule_keys(tmp_path):
    assert "model.family gbt grows trees, it has no weights to prune" in config_error(
        tmp_path, BASE + "model: {family: gbt}\ntraining: {prune: {target_sparsity: 0.5}}\n")
    cfg = load_config("taxi", {"training.prune": {"target_sparsity": 0.6, "frequency": 5}})
    assert trainer_custom_config(cfg)["training"]["prune"] == {
        "target_sparsity": 0.6, "begin_fraction": 0.1, "end_fraction": 0.7, "frequency": 5}
    assert load_config("taxi", {"training.prune": 0.5}).training.prune.target_sparsity == 0.5  # a bare number
    assert "prune" not in trainer_custom_config(load_config("taxi"))["training"]  # unchanged Trainer cache key


def _dataset(spec: ModelSpec, n: int = 320) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    x = {f.name: rng.normal(size=(n, *f.shape)).astype("float32") if f.kind == "numeric"
         else rng.integers(0, f.cardinality, size=(n, *f.shape)).astype("int64") for f in spec.inputs}
    y = rng.integers(0, spec.num_classes if spec.task == "multiclass" else 2, size=(n, 1))
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(32).repeat()


def _fit_pruned(family: str, spec: ModelSpec, prune: dict, base_model=None):
    """What run._fit does for a network: build (warm-started from `base_model`), wrap, fit, strip."""
    built = run.build_model(DEFAULT, family, spec, {"training": {}}, base_model=base_model)
    stopping = tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, restore_best_weights=True)
    model, fit_callbacks = pruning.for_fit(built.model, prune, EPOCHS, STEPS_PER_EPOCH, DEFAULT.strategy, [stopping])
    data = _dataset(spec)
    model.fit(data, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH, validation_data=data, validation_steps=2,
              callbacks=fit_callbacks, verbose=0)
    return built, model, pruning.after_fit(model, DEFAULT.strategy), stopping


PRUNE = {"target_sparsity": 0.5}


@pytest.fixture(scope="module")
def pruned():
    """family → (built, fitted, stripped, early stopping) of one pruned fit each (the warm-start test reuses dnn's)."""
    return {}


@pytest.mark.parametrize("family, spec", [("dnn", TABULAR), ("cnn", IMAGES)])
def test_a_real_model_is_pruned_to_the_target_stripped_and_served(tmp_path, pruned, family, spec):
    prune = PRUNE
    pruned[family] = built, fitted, stripped, stopping = _fit_pruned(family, spec, prune)
    plan = pruning.schedule(prune, EPOCHS * STEPS_PER_EPOCH)
    assert stopping.start_from_epoch == plan.done_by_epoch(STEPS_PER_EPOCH) == 2  # no best epoch before the target
    wrapped = [layer.name for layer in fitted.layers if type(layer).__name__ == "PruneLowMagnitude"]
    assert wrapped and all(name.startswith("prune_low_magnitude_") for name in wrapped)
    assert not any(type(layer).__name__ == "PruneLowMagnitude" for layer in stripped.layers)
    assert [layer.name for layer in stripped.layers] == [layer.name for layer in built.model.layers]
    record = pruning.record(stripped, family, prune, EPOCHS, STEPS_PER_EPOCH)
    assert record["applied"] and set(record["layers"]) == {name[len("prune_low_magnitude_"):] for name in wrapped}
    assert abs(record["sparsity"] - 0.5) <= 0.02
    for layer in stripped.layers:
        if layer.name in record["layers"] and layer.kernel.shape.num_elements() >= 100:
            assert abs(record["layers"][layer.name] - 0.5) <= 0.02, layer.name
    # the model it was built from was copied, not pruned in place
    assert all(float(np.mean(layer.kernel.numpy() == 0)) < 0.1 for layer in built.model.layers
               if layer.name in record["layers"])
    # exported the way run_fn exports, loaded and called: the stripped model serves its zeros
    stripped.tft_layer = tf.Module()  # export.export saves the transform layer beside the model
    batch = next(iter(_dataset(spec).take(1)))[0]
    serve = tf.function(lambda features: {"outputs": stripped(features, training=False)},
                        input_signature=[export.input_specs(stripped)])
    export.export(stripped, str(tmp_path / "Format-Serving"), {"serving_default": serve})
    loaded = tf.saved_model.load(str(tmp_path / "Format-Serving"))
    served = loaded.signatures["serving_default"](**batch)["outputs"].numpy()
    np.testing.assert_allclose(served, stripped(batch, training=False).numpy(), rtol=1e-5, atol=1e-6)
    kernels = [v.numpy() for v in loaded.model_variables if "kernel" in v.name]
    assert kernels and max(float(np.mean(k == 0)) for k in kernels) >= 0.48
    # the TFLite export (trainer_module.tflite_export, after the SavedModel in run_fn) takes the stripped model:
    # its float file answers like it, and gzip finds the zeros (an unpruned kernel compresses far less)
    from trainer_module import tflite_export

    rows = {name: np.asarray(value) for name, value in batch.items()}
    record = tflite_export.export_tflite(stripped, str(tmp_path / "model"), "none", rows, lambda inputs, out: out)
    assert record["max_abs_diff"] <= 1e-5
    content = (tmp_path / "model" / "tflite" / "model.tflite").read_bytes()
    assert len(gzip.compress(content)) < 0.8 * len(content)


def test_a_pruned_model_warm_starts_the_next_pruned_run(tmp_path, pruned):
    first = pruned["dnn"][2] if "dnn" in pruned else _fit_pruned("dnn", TABULAR, PRUNE)[2]
    serving_dir = str(tmp_path / "Format-Serving")
    warm_start.save(first, "dnn", serving_dir)  # the stripped model's weights, under the unpruned layer names
    again = {"target_sparsity": 0.7, "begin_fraction": 0.0, "end_fraction": 0.5}
    built, _, second, _ = _fit_pruned("dnn", TABULAR, again, base_model=serving_dir)
    assert built.warm, built.warm_reason
    for ours, theirs in zip(built.model.get_weights(), first.get_weights()):
        np.testing.assert_array_equal(ours, theirs)  # started from the pruned weights (zeros included)
    assert abs(pruning.record(second, "dnn", again, EPOCHS, STEPS_PER_EPOCH)["sparsity"] - 0.7) <= 0.02


def test_without_prune_nothing_is_wrapped_and_gbt_records_why():
    model = run.build_model(DEFAULT, "dnn", TABULAR, {"training": {}}, base_model=None).model
    stopping = tf.keras.callbacks.EarlyStopping()
    assert pruning.for_fit(model, None, EPOCHS, STEPS_PER_EPOCH, DEFAULT.strategy, [stopping]) == (model, [stopping])
    assert pruning.after_fit(model, DEFAULT.strategy) is model and stopping.start_from_epoch == 0
    assert pruning.record(model, "dnn", None, EPOCHS, STEPS_PER_EPOCH) is None
    assert pruning.record(model, "gbt", {"target_sparsity": 0.5}, EPOCHS, STEPS_PER_EPOCH) == {
        "applied": False, "reason": "gbt grows trees: no weights to prune"}


def test_the_run_summary_shows_the_sparsity_reached():
    import io

    from cli.render import run as run_view
    from pipeline.metadata.summary import RunSummary

    record = {"applied": True, "target_sparsity": 0.5, "begin_step": 100, "end_step": 700, "frequency": 30,
              "sparsity": 0.4998, "pruned_weights": 11181, "layers": {"dense_0": 0.5, "dense_1": 0.4997}}
    line = "50.0% of 11,181 Dense/Conv weights are zero (target 50%, 2 layers, steps 100-700 every 30)"
    assert pruning.summary_line(record) == line
    assert pruning.summary_line({"applied": False, "reason": "gbt grows trees"}) == "no: gbt grows trees"
    assert pruning.summary_line(None) is None
    out = io.StringIO()

    class Result:  # print_summary reads these of a pipeline.local.runner.RunResult
        run_id, pipeline_name, wall_seconds = "r1", "taxi", 1.0

    run_view.print_summary(Result(), RunSummary(pruned=line), out)
    assert f"pruned       {line}" in out.getvalue().splitlines()
