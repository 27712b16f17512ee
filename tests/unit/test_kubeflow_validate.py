"""kubeflow/validate.py: the compiled taxi job passes every rule; each rule catches a job broken in its own way only.

Every case below is the compiled job with one change that breaks exactly one rule: the test asserts that this
rule, and no other, reports it, with the expected message (so a rule that stops checking fails here).
"""

from __future__ import annotations

import copy
import json

import pytest

from kubeflow.compile import CompileOptions, compile_pipeline
from kubeflow.validate import RULES, no_local_paths, parse, remote_locations, validate
from pipeline.config.loader import load_config

IMAGE = "us-docker.pkg.dev/proj/repo/tfx-e2e:1.0"
BASE = dict(image=IMAGE, pipeline_root="gs://bucket/root", data="gs://bucket/data/taxi", serving_dir="gs://bucket/serving")


@pytest.fixture(scope="module")
def vertex_job(tmp_path_factory):
    path = compile_pipeline(
        load_config("taxi"), CompileOptions(target="vertex", out=tmp_path_factory.mktemp("job") / "taxi.json", **BASE)
    )
    return json.loads(path.read_text())


def _corrupt(vertex_job, tmp_path, change):
    job = copy.deepcopy(vertex_job)
    change(job)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(job))
    return validate(path, "vertex")


def _executors(job):
    return job["pipelineSpec"]["deploymentSpec"]["executors"]


def _tasks(job):
    return job["pipelineSpec"]["root"]["dag"]["tasks"]


def _set_param(job, task, key, value):
    _tasks(job)[task]["inputs"]["parameters"][key] = {"runtimeValue": {"constantValue": {"stringValue": value}}}


def _findings(job, target="vertex"):
    compiled = parse(job, target)
    return {rule.__name__: list(rule(compiled)) for rule in RULES}


def test_the_compiled_job_breaks_no_rule(vertex_job):
    assert _findings(vertex_job) == {rule.__name__: [] for rule in RULES}
    assert [rule.__name__ for rule in RULES] == [
        "sdk_versions", "container_executors", "task_wiring", "dotted_paths", "remote_locations", "no_local_paths",
        "no_credentials"]


def _set_artifact_source(job, task, key, output_key):
    _tasks(job)[task]["inputs"]["artifacts"][key]["taskOutputArtifact"]["outputArtifactKey"] = output_key


EVALUATOR_NOTE = "pipelineSpec.root.dag.tasks.Evaluator.inputs.parameters.note.runtimeValue.constantValue.stringValue"

BREAKS = [
    ("sdk_versions", lambda j: j["pipelineSpec"].pop("schemaVersion"), "pipeline: no schemaVersion recorded"),
    ("sdk_versions", lambda j: j["pipelineSpec"].pop("sdkVersion"), "pipeline: no sdkVersion recorded"),
    ("container_executors", lambda j: _executors(j)["Trainer_executor"]["container"].update(image=""),
     "node Trainer: its executor has no container image"),
    ("container_executors", lambda j: _executors(j)["Pusher_executor"]["container"].pop("command"),
     "node Pusher: its executor has no command"),
    ("container_executors", lambda j: _executors(j).update(Pusher_executor={"customJob": {"customJob": {}}}),
     "node Pusher: its executor is neither a container, an importer nor a resolver"),
    ("task_wiring", lambda j: _tasks(j).pop("Transform"),
     "node Trainer: input 'transform_graph' comes from 'Transform', which is not in the pipeline"),
    ("task_wiring", lambda j: _tasks(j)["Trainer"]["componentRef"].update(name="NoSuchComponent"),
     "node Trainer: refers to component 'NoSuchComponent', which is not defined"),
    ("task_wiring", lambda j: j["pipelineSpec"]["components"]["Trainer"].update(executorLabel="Ghost_executor"),
     "node Trainer: its executor 'Ghost_executor' is not defined"),
    ("task_wiring", lambda j: _tasks(j)["Trainer"]["dependentTasks"].append("Ghost"),
     "node Trainer: depends on 'Ghost', which is not in the pipeline"),
    ("task_wiring", lambda j: _set_artifact_source(j, "Trainer", "transform_graph", "no_such_output"),
     "node Trainer: input 'transform_graph' wants output 'no_such_output' that Transform lacks"),
    ("dotted_paths", lambda j: _set_param(j, "Trainer", "run_fn", "trainer_module.run.no_such_fn"),
     "node Trainer: run_fn trainer_module.run.no_such_fn: module trainer_module.run has no 'no_such_fn'"),
    ("dotted_paths", lambda j: _set_param(j, "Transform", "preprocessing_fn", "nowhere.module.fn"),
     "node Transform: preprocessing_fn nowhere.module.fn: cannot import nowhere.module: ModuleNotFoundError"),
    ("dotted_paths", lambda j: _executors(j)["Trainer_executor"]["container"]["args"].__setitem__(1, "tfx.nope.Executor"),
     "node Trainer: executor class tfx.nope.Executor: cannot import tfx.nope"),
    ("dotted_paths", lambda j: _set_param(j, "Trainer", "module_file", "gs://bucket/code/trainer.py"),
     "node Trainer: uses module_file; reference code by dotted path instead"),
    ("remote_locations", lambda j: j["runtimeConfig"].update(gcsOutputDirectory="relative/root"),
     "pipeline: pipeline root 'relative/root' is not remote; use gs://, s3:// or minio:// for vertex"),
    ("remote_locations", lambda j: j["runtimeConfig"]["parameters"].update({"data-root": {"stringValue": "data/taxi"}}),
     "pipeline: parameter data-root = 'data/taxi' is not a remote URI"),
    ("remote_locations",
     lambda j: _set_param(j, "Pusher", "push_destination", json.dumps({"filesystem": {"base_directory": "models"}})),
     "node Pusher: base_directory 'models' is not a remote URI"),
    ("no_local_paths", lambda j: _set_param(j, "Evaluator", "note", "/srv/data/taxi.csv"),
     f"node Evaluator: local absolute path '/srv/data/taxi.csv' in {EVALUATOR_NOTE}"),
    ("no_credentials", lambda j: _set_param(j, "Trainer", "db_password", "hunter2-secret"),
     "node Trainer: db_password carries a value that looks like a credential"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "gs://u:pa55word@bucket/x"),
     f"node Evaluator: {EVALUATOR_NOTE} contains a URI with a password; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "AKIA" + "ABCDEFGHIJKLMNOP"),
     f"node Evaluator: {EVALUATOR_NOTE} contains an AWS access key id; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "-----BEGIN RSA PRIVATE KEY-----"),
     f"node Evaluator: {EVALUATOR_NOTE} contains a private key; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "ya29." + "a" * 24),
     f"node Evaluator: {EVALUATOR_NOTE} contains a Google OAuth access token; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "ghp_" + "b" * 36),
     f"node Evaluator: {EVALUATOR_NOTE} contains a GitHub token; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", json.dumps({"private_key_id": "k1"})),
     f"node Evaluator: {EVALUATOR_NOTE} contains a service-account key file; pass secrets at run time instead"),
    ("no_credentials", lambda j: _set_param(j, "Evaluator", "note", "password=hunter22"),
     f"node Evaluator: {EVALUATOR_NOTE} contains a password or token assignment; pass secrets at run time instead"),
]


@pytest.mark.parametrize("rule, change, message", BREAKS, ids=[f"{rule}-{i}" for i, (rule, _, _) in enumerate(BREAKS)])
def test_each_rule_reports_its_own_break_and_no_other_rule_does(vertex_job, rule, change, message):
    job = copy.deepcopy(vertex_job)
    change(job)
    findings = _findings(job)
    assert [name for name, errors in findings.items() if errors] == [rule], findings
    assert any(error.startswith(message) for error in findings[rule]), findings[rule]


def test_validate_runs_every_rule_and_reports_each_finding_once(vertex_job, tmp_path):
    def breaks(job):
        job["pipelineSpec"].pop("sdkVersion")
        _set_param(job, "Trainer", "db_password", "hunter2-secret")
        # A secret-named key at two depths of one nested JSON string: the same finding, reached twice.
        _set_param(job, "Evaluator", "note", json.dumps({"token": "t-1", "more": {"token": "t-2"}}))

    job = copy.deepcopy(vertex_job)
    breaks(job)
    twice = "node Evaluator: token carries a value that looks like a credential"
    assert _findings(job)["no_credentials"].count(twice) == 2

    report = _corrupt(vertex_job, tmp_path, breaks)
    assert report.errors[0] == "pipeline: no sdkVersion recorded"  # rules run in RULES order
    assert sorted(report.errors[1:]) == sorted(
        [twice, "node Trainer: db_password carries a value that looks like a credential"])
    assert report.nodes == sorted(_tasks(vertex_job)) and report.schema_version == "2.0.0"


def test_a_local_target_does_not_require_a_remote_pipeline_root(vertex_job):
    job = copy.deepcopy(vertex_job)
    job["runtimeConfig"]["gcsOutputDirectory"] = "relative/root"
    assert list(remote_locations(parse(job, "local"))) == []
    assert list(remote_locations(parse(job, "kubeflow")))


def test_tmp_paths_are_the_containers_own(vertex_job):
    job = copy.deepcopy(vertex_job)
    _set_param(job, "Evaluator", "note", "/tmp/scratch")
    assert list(no_local_paths(parse(job, "vertex"))) == []


def test_a_document_that_is_not_a_pipeline_job_is_refused(vertex_job, tmp_path):
    job = copy.deepcopy(vertex_job)
    job["pipelineSpec"]["noSuchField"] = 1
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(job))
    report = validate(path, "vertex")
    assert len(report.errors) == 1 and "not a valid KFP PipelineJob/PipelineSpec" in report.errors[0]
    path.write_text("{not json")
    assert "not a readable JSON PipelineJob" in validate(path, "vertex").errors[0]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda j: j["runtimeConfig"].update(gcsOutputDirectory="/home/me/root"), "pipeline root '/home/me/root' is not remote"),
        (lambda j: _executors(j)["Trainer_executor"]["container"].update(image=""), "node Trainer: its executor has no container image"),
        (lambda j: _executors(j)["Pusher_executor"]["container"].pop("command"), "node Pusher: its executor has no command"),
        (lambda j: _tasks(j).pop("Transform"), "node Trainer: input 'transform_graph' comes from 'Transform', which is not in the pipeline"),
        (lambda j: _set_param(j, "Trainer", "db_password", "hunter2-secret"), "node Trainer: db_password carries a value that looks like a credential"),
        (lambda j: _set_param(j, "Evaluator", "note", "gs://u:pa55word@bucket/x"), "node Evaluator"),
        (lambda j: _set_param(j, "Trainer", "run_fn", "trainer_module.run.no_such_fn"), "node Trainer: run_fn trainer_module.run.no_such_fn: module trainer_module.run has no 'no_such_fn'"),
        (lambda j: _set_param(j, "Transform", "preprocessing_fn", "nowhere.module.fn"), "cannot import nowhere.module"),
        (lambda j: _executors(j)["Trainer_executor"]["container"]["args"].__setitem__(1, "tfx.nope.Executor"), "node Trainer: executor class tfx.nope.Executor"),
        (lambda j: j["runtimeConfig"]["parameters"].update({"data-root": {"stringValue": "/home/me/data"}}),
         "pipeline: parameter data-root = '/home/me/data' is not a remote URI"),
        (lambda j: _set_param(j, "Pusher", "push_destination", json.dumps({"filesystem": {"base_directory": "/srv/models"}})), "node Pusher: base_directory '/srv/models' is not a remote URI"),
    ],
)
def test_validate_names_the_node_and_the_problem(vertex_job, tmp_path, change, message):
    report = _corrupt(vertex_job, tmp_path, change)
    assert not report.ok
    assert any(message in e for e in report.errors), report.errors


