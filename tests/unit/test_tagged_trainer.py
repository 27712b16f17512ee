"""The tagged Trainer executor: TFX's GenericExecutor.Do runs for real (a tiny run_fn, no TensorFlow training), then
the output Model carries its family; the multi-worker executor, its subclass, tags its model the same way."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from components.multiworker_trainer import executor as multiworker
from components.tagged_trainer import executor as tagged
from components.tagged_trainer.properties import MODEL_FAMILY_PROPERTY, model_family

RUN_FN = f"{__name__}.write_model"
MARKER = "trained_by.json"


def write_model(fn_args) -> None:
    """A run_fn: writes a marker into the serving model dir."""
    os.makedirs(fn_args.serving_model_dir, exist_ok=True)
    with open(os.path.join(fn_args.serving_model_dir, MARKER), "w") as f:
        json.dump({"pid": os.getpid(), "custom_config": fn_args.custom_config}, f)


def trainer_io(tmp: Path):
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = str(tmp / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    model, model_run = standard_artifacts.Model(), standard_artifacts.ModelRun()
    model.uri, model_run.uri = str(tmp / "model"), str(tmp / "model_run")
    return {"examples": [examples]}, {"model": [model], "model_run": [model_run]}


def exec_properties(custom_config) -> dict:
    return {
        "run_fn": RUN_FN,
        "train_args": json.dumps({"num_steps": 1}),
        "eval_args": json.dumps({"num_steps": 1}),
        "custom_config": json.dumps(custom_config),
    }


def run(executor_class, tmp: Path, custom_config):
    from tfx.dsl.components.base import base_executor

    inputs, outputs = trainer_io(tmp)
    context = base_executor.BaseExecutor.Context(tmp_dir=str(tmp / "tmp"), unique_id="test")
    executor_class(context).Do(inputs, outputs, exec_properties(custom_config))
    [model] = outputs["model"]
    marker = tmp / "model" / "Format-Serving" / MARKER
    return model, json.loads(marker.read_text()) if marker.exists() else None


def test_the_trained_model_carries_its_family(tmp_path):
    config = {"model": {"family": "cnn", "hparams": {}}, "training": {"workers": 1}}
    model, trained = run(tagged.Executor, tmp_path, config)
    assert trained["pid"] == os.getpid() and trained["custom_config"] == config
    assert model.get_string_custom_property(MODEL_FAMILY_PROPERTY) == "cnn"
    assert model_family(model) == "cnn"


def test_without_a_family_nothing_is_trained(tmp_path):
    for config in ({"training": {}}, {"model": {"family": ""}}, None):
        with pytest.raises(ValueError, match=r"custom_config has no model family"):
            run(tagged.Executor, tmp_path, config)
    assert not (tmp_path / "model").exists()


def test_an_untagged_model_has_no_family():
    from tfx.types import standard_artifacts

    model = standard_artifacts.Model()
    assert model_family(model) is None
    model.set_int_custom_property(MODEL_FAMILY_PROPERTY, 3)  # not a string: not a family
    assert model_family(model) is None


def test_the_multiworker_executor_tags_the_model_too(tmp_path):
    config = {"model": {"family": "dnn"}, "training": {"workers": 1}}
    model, trained = run(multiworker.Executor, tmp_path, config)
    assert trained["pid"] == os.getpid() and model_family(model) == "dnn"
    # With N workers only `train` differs (N processes, ~30 s to start here: tests/e2e/test_multi_worker.py runs
    # them); the tagging Do is the one inherited from the tagged executor.
    assert multiworker.Executor.Do is tagged.Executor.Do
    assert multiworker.Executor.train is not tagged.Executor.train
