"""Compiling for Vertex AI and Kubeflow Pipelines v2: flags, targets, accelerators, and a valid result.

The validator's rules on corrupted specs are tested in test_kubeflow_validate.py."""

from __future__ import annotations

import json

import pytest

from kubeflow.compile import CompileOptions, compile_pipeline
from kubeflow.validate import validate
from pipeline.config.schema import ConfigError
from pipeline.config.loader import load_config
from tests import support

IMAGE = "us-docker.pkg.dev/proj/repo/tfx-e2e:1.0"
BASE = dict(image=IMAGE, pipeline_root="gs://bucket/root", data="gs://bucket/data/taxi", serving_dir="gs://bucket/serving")


def _compile(tmp_path, config="taxi", **options):
    merged = {**BASE, "target": "vertex", **options}
    return compile_pipeline(load_config(config), CompileOptions(out=tmp_path / "job.json", **merged))


@pytest.fixture(scope="module")
def vertex_job(tmp_path_factory):
    path = compile_pipeline(
        load_config("taxi"), CompileOptions(target="vertex", out=tmp_path_factory.mktemp("job") / "taxi.json", **BASE)
    )
    return json.loads(path.read_text())


def test_vertex_compile_is_valid_and_wires_the_whole_dag(vertex_job, tmp_path):
    path = tmp_path / "job.json"
    path.write_text(json.dumps(vertex_job))
    report = validate(path, "vertex")
    assert report.ok, report.errors
    assert report.schema_version == "2.0.0" and report.sdk_version == "tfx-1.16.0"
    tasks = vertex_job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {"CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "Transform", "Trainer",
            "Evaluator", "Pusher"} <= set(tasks)
    executors = vertex_job["pipelineSpec"]["deploymentSpec"]["executors"]
    assert all(e["container"]["image"] == IMAGE for e in executors.values() if "container" in e)
    text = json.dumps(vertex_job)
    assert "trainer_module.run.run_fn" in text and "trainer_module.preprocessing.preprocessing_fn" in text
    assert "module_file" not in text.replace('"module_file": {"type"', "")  # declared by TFX, never set
    assert "metadata_connection" not in text and "sqlite" not in text
    # The data root is a runtime parameter with the given default; the schema path is relative to the image's workdir.
    assert vertex_job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]["data-root"]
    assert "schemas/taxi/schema.pbtxt" in text and "/work/" not in text


def test_kubeflow_target_and_dataflow_beam_args(tmp_path):
    path = _compile(tmp_path, target="kubeflow", beam_runner="dataflow", project="proj", region="europe-west4",
                    temp_location="gs://bucket/tmp")
    job = json.loads(path.read_text())
    trainer_args = job["pipelineSpec"]["deploymentSpec"]["executors"]["Transform_executor"]["container"]["args"]
    assert "--runner=DataflowRunner" in trainer_args and "--region=europe-west4" in trainer_args
    assert f"--sdk_container_image={IMAGE}" in trainer_args and "--max_num_workers=4" in trainer_args
    assert validate(path, "kubeflow").ok


def test_vertex_training_with_gpus_and_workers_and_an_endpoint(tmp_path):
    path = _compile(tmp_path, project="proj", region="us-central1", vertex_training=True,
                    accelerator_type="NVIDIA_TESLA_T4", accelerator_count=2, replica_count=3, vertex_endpoint="taxi-ep")
    text = path.read_text()
    assert validate(path, "vertex").ok
    assert "tfx.extensions.google_cloud_ai_platform.trainer.executor" in text
    assert "tfx.extensions.google_cloud_ai_platform.pusher.executor" in text
    assert "NVIDIA_TESLA_T4" in text and "taxi-ep" in text
    custom = _trainer_custom_config(json.loads(text))
    pools = custom["ai_platform_training_args"]["worker_pool_specs"]
    assert [p["replica_count"] for p in pools] == [1, 2]
    assert pools[0]["machine_spec"] == {"machine_type": "n1-standard-4", "accelerator_type": "NVIDIA_TESLA_T4",
                                        "accelerator_count": 2}
    assert custom["training"]["strategy"] == "multi_worker"


def test_digits_with_a_tpu_needs_no_data(tmp_path):
    path = _compile(tmp_path, config="digits", data=None, project="proj", region="us-central1",
                    vertex_training=True, tpu_type="TPU_V3")
    custom = _trainer_custom_config(json.loads(path.read_text()))
    assert custom["ai_platform_training_args"]["worker_pool_specs"][0]["machine_spec"] == {
        "machine_type": "cloud-tpu", "accelerator_type": "TPU_V3", "accelerator_count": 8}
    assert validate(path, "vertex").ok


def _trainer_custom_config(job):
    params = job["pipelineSpec"]["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]
    return json.loads(params["custom_config"]["runtimeValue"]["constantValue"]["stringValue"])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"data": None}, "--data is required"),
        ({"serving_dir": None}, "--serving-dir URI"),
        ({"beam_runner": "dataflow"}, "--project and --region are required"),
        ({"vertex_training": True, "target": "kubeflow", "project": "p", "region": "r"}, "need --target vertex"),
    ],
)
def test_compile_rejects_incomplete_flags(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        _compile(tmp_path, **options)


def test_cli_compile_then_validate_exit_codes(tmp_path):
    out = tmp_path / "k.json"
    result = support.cli(["compile", "--target", "kubeflow", "--image", IMAGE, "--pipeline-root", "gs://b/root",
                          "--data", "gs://b/data", "--serving-dir", "gs://b/serving", "--out", out])
    assert result.code == 0, result.stdout + result.stderr
    assert "valid:" in result.stdout and out.is_file()
    job = json.loads(out.read_text())
    job["runtimeConfig"]["gcsOutputDirectory"] = "./relative/root"
    out.write_text(json.dumps(job))
    bad = support.cli(["validate", out, "--target", "kubeflow"])
    assert bad.code == 2 and "pipeline root './relative/root' is not remote" in bad.stdout
    missing = support.cli(["compile", "--target", "vertex", "--image", IMAGE, "--pipeline-root", "gs://b/r",
                           "--serving-dir", "gs://b/s"])
    assert missing.code == 2 and "--data is required" in missing.stderr


def test_a_tuned_config_compiles_the_tuner_feeding_the_trainer(tmp_path):
    cfg = load_config("taxi", {"tuning.trials": 3, "tuning.search_space": {"dropout": [0.0, 0.2]}})
    job = json.loads(compile_pipeline(cfg, CompileOptions(out=tmp_path / "job.json", target="vertex", **BASE))
                     .read_text())
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    assert tasks["Tuner"]["componentRef"]["name"] and "Transform" in tasks["Tuner"]["dependentTasks"]
    assert tasks["Trainer"]["inputs"]["artifacts"]["hyperparameters"]["taskOutputArtifact"] == {
        "outputArtifactKey": "best_hyperparameters", "producerTask": "Tuner"}
    params = tasks["Tuner"]["inputs"]["parameters"]
    assert params["tuner_fn"]["runtimeValue"]["constantValue"]["stringValue"] == "trainer_module.tuning.tuner_fn"
    tuning = json.loads(params["custom_config"]["runtimeValue"]["constantValue"]["stringValue"])["tuning"]
    assert tuning == {"trials": 3, "max_seconds": 600, "search_space": {"dropout": [0.0, 0.2]}}
    assert _trainer_custom_config(job)["tuning"] == tuning
    assert validate(tmp_path / "job.json", "vertex").ok
    untuned = json.loads(_compile(tmp_path).read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    assert "Tuner" not in untuned and "hyperparameters" not in untuned["Trainer"]["inputs"].get("artifacts", {})


def test_a_quantized_config_compiles_the_export_and_the_compressed_gate(tmp_path):
    cfg = load_config("taxi", {"model.export.quantize": "int8", "evaluation.compressed_max_drop": 0.01})
    job = json.loads(compile_pipeline(cfg, CompileOptions(out=tmp_path / "job.json", target="kubeflow", **BASE))
                     .read_text())
    assert _trainer_custom_config(job)["model"]["export"] == {"quantize": "int8"}
    evaluator = job["pipelineSpec"]["root"]["dag"]["tasks"]["Evaluator"]["inputs"]["parameters"]
    assert evaluator["compressed_max_drop"]["runtimeValue"]["constantValue"]["doubleValue"] == 0.01
    assert validate(tmp_path / "job.json", "kubeflow").ok
