"""The compressed model on the shared taxi runs (tests/conftest.py TAXI_RUNS_ARGS: --quantize dynamic): the
TFLite file in the Model artifact and in the pushed version, served on transformed rows in agreement with the
SavedModel, its evaluation and gate recorded and shown; and a failing compressed gate, through the real gated
Evaluator and AtomicPusher executors on that run's artifacts (no new pipeline run): not blessed, nothing pushed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from components.gated_evaluator.compressed import COMPRESSED_PROPERTY
from pipeline.dag import node_ids
from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from pipeline.paths import PROJECT_ROOT
from tests import support
from trainer_module import serving_contract as contract
from trainer_module import tflite_export, tflite_files

TAXI_SCHEMA = PROJECT_ROOT / "schemas" / "taxi" / "schema.pbtxt"


@pytest.fixture(scope="module")
def first_run(taxi_runs):
    home, results, versions = taxi_runs
    assert results[0].code == 0, results[0].stdout + results[0].stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    executions = mlmd_runs.node_executions(store, "taxi", mlmd_runs.run_ids(store, "taxi")[0])
    return home, results[0], versions[0], executions


def test_the_tflite_model_is_written_pushed_and_agrees_with_the_saved_model(first_run, taxi_sample):
    import tensorflow as tf

    _, result, versions, executions = first_run
    model_uri = executions[node_ids.TRAINER].outputs["model"][0].uri
    record = tflite_files.read_record(model_uri)
    assert record["mode"] == "dynamic" and 0 < record["bytes"] < record["saved_model_bytes"]
    [version] = versions
    pushed = Path(version) / tflite_files.TFLITE_DIR / tflite_files.TFLITE_FILE
    assert pushed.read_bytes() == Path(tflite_files.tflite_path(model_uri)).read_bytes()

    # The served pair: the SavedModel's transform, then the TFLite model, against the SavedModel's own forward pass.
    saved = tf.saved_model.load(str(version))
    rows = support.read_csv_rows(taxi_sample / "data.csv", 40)
    transformed = saved.signatures[contract.TRANSFORM_SIGNATURE](
        **{contract.INPUT_KEY: tf.constant(support.serialized_examples(rows, TAXI_SCHEMA))})
    inputs = {name: transformed[name].numpy().reshape(len(rows), -1) for name in record["inputs"]}  # [n] → [n, 1]
    full = getattr(saved, contract.CALL_MODEL)({k: tf.constant(v) for k, v in inputs.items()}).numpy()
    lite = tflite_export.run_tflite(pushed.read_bytes(), inputs)
    assert lite.shape == full.shape and np.max(np.abs(lite - full)) < 0.05


def test_the_compressed_gate_is_recorded_and_shown(first_run):
    _, result, _, executions = first_run
    evaluation = executions[node_ids.EVALUATOR].outputs["evaluation"][0]
    verdict = json.loads(evaluation.properties[COMPRESSED_PROPERTY])
    assert verdict["metric"] == "auc" and verdict["mode"] == "dynamic" and verdict["passed"]
    assert verdict["max_drop"] == 0.005 and abs(verdict["full"] - verdict["compressed"]) < 0.005
    gates = json.loads(evaluation.properties["gates"])
    assert {"metric": "auc", "kind": "compressed", "source": "default"}.items() <= \
        next(g for g in gates if g["kind"] == "compressed").items()
    assert re.search(r"^compressed +dynamic TFLite [\d.]+ kB \(SavedModel [\d.]+ [kM]B: [\d.]+×\); auc [\d.]+ vs "
                     r"full [\d.]+: (worse by [\d.e-]+|better by [\d.e-]+|the same), allowed 0.005: pass$", result.stdout, re.M), result.stdout
    blessing = support.cli(["blessing", "--home", first_run[0]])
    assert blessing.code == 0 and "auc of the compressed model (TFLite dynamic) on slice overall is" in blessing.stdout


def test_a_failing_compressed_gate_unblesses_and_nothing_is_pushed(first_run, tmp_path):
    from tfx.types import standard_artifacts

    from components.atomic_pusher import executor as pusher
    from components.gated_evaluator.executor import COMPRESSED_MAX_DROP_KEY, Executor

    _, _, _, executions = first_run
    evaluator = executions[node_ids.EVALUATOR]
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = str(tmp_path / "evaluation"), str(tmp_path / "blessing")
    inputs = {"examples": evaluator.inputs["examples"], "model": evaluator.inputs["model"]}
    properties = {"eval_config": evaluator.properties["eval_config"], "example_splits": "null",
                  COMPRESSED_MAX_DROP_KEY: -1.0}  # "at least 1 AUC better than the full model": cannot pass
    Executor().Do(_artifacts(inputs), {"evaluation": [evaluation], "blessing": [blessing]}, properties)
    assert blessing.get_int_custom_property("blessed") == 0
    assert sorted(p.name for p in Path(blessing.uri).iterdir()) == ["NOT_BLESSED"]
    assert not json.loads(evaluation.get_string_custom_property(COMPRESSED_PROPERTY))["passed"]

    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / "pushed")
    base = tmp_path / "serving" / "taxi"
    pusher.Executor().Do({"model": _artifacts(inputs)["model"], "model_blessing": [blessing]},
                         {"pushed_model": [pushed]}, {"base_directory": str(base), "warmup_examples": 8})
    assert pushed.get_int_custom_property("pushed") == 0 and support.pushed_versions(base) == []


def _artifacts(inputs: dict) -> dict:
    """The run's recorded input artifacts (pipeline.metadata.runs.Artifact) as TFX artifacts."""
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils, standard_artifacts

    made = {}
    for key, recorded in inputs.items():
        kind = standard_artifacts.Examples if key == "examples" else standard_artifacts.Model
        made[key] = []
        for item in recorded:
            artifact = kind()
            artifact.uri = item.uri
            if key == "examples":
                artifact.split_names = artifact_utils.encode_split_names(["train", "eval"])
                examples_utils.set_payload_format(artifact, example_gen_pb2.FORMAT_TF_EXAMPLE)
            made[key].append(artifact)
    return made
