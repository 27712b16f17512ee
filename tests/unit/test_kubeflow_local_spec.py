"""kubeflow/local/spec.py: a PipelineJob file is read with KFP's protos into tasks in dependency order, and every
file or construct the local runner cannot execute is refused with one line naming it (exit 2 at the CLI).

The hand-written job in testdata/kfp_local/small_job.json has every executor kind our compiled specs carry
(containers, an importer, the two latest-blessed-model resolvers) and a task (Eval) whose upstream tasks are known
only from its input artifacts. The real compiled taxi and digits jobs are compiled once for this file, in a
subprocess, so that this test process never imports TensorFlow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kubeflow.local import executor_input as ei
from kubeflow.local.errors import LocalRunError
from kubeflow.local.spec import CONTAINER, IMPORTER, RESOLVER, load
from pipeline.paths import PROJECT_ROOT

SMALL = Path(__file__).parent / "testdata" / "kfp_local" / "small_job.json"


@pytest.fixture
def small() -> dict:
    return json.loads(SMALL.read_text())


def _write(tmp_path: Path, document, name: str = "job.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _refused(path: Path) -> str:
    with pytest.raises(LocalRunError) as raised:
        load(path)
    message = str(raised.value)
    assert "\n" not in message, message  # one line at the CLI
    return message


def _tasks(document: dict) -> dict:
    return document["pipelineSpec"]["root"]["dag"]["tasks"]


def _executors(document: dict) -> dict:
    return document["pipelineSpec"]["deploymentSpec"]["executors"]


def _components(document: dict) -> dict:
    return document["pipelineSpec"]["components"]


# -- acceptance ------------------------------------------------------------------------------------------------------
def test_the_small_job_loads_with_every_task_its_kind_and_its_upstream_tasks(small):
    job = load(SMALL)
    assert job.pipeline_name == "small"
    assert (job.schema_version, job.sdk_version) == ("2.0.0", "tfx-1.16.0")
    assert job.pipeline_root == "gs://bucket/root"
    assert {name: task.kind for name, task in job.tasks.items()} == {
        "Gen": CONTAINER, "SchemaImporter": IMPORTER, "Train": CONTAINER, "blessing-resolver": RESOLVER,
        "model-resolver": RESOLVER, "Eval": CONTAINER, "Push": CONTAINER}
    # Eval lists no dependentTasks: its upstream comes from the producers of its input artifacts.
    assert "dependentTasks" not in _tasks(small)["Eval"]
    assert job.tasks["Eval"].upstream == ("Gen", "Train", "model-resolver")
    # Train lists only Gen; SchemaImporter produces its schema artifact.
    assert job.tasks["Train"].upstream == ("Gen", "SchemaImporter")
    assert job.tasks["Train"].executor_class == "components.tagged_trainer.executor.Executor"
    assert job.tasks["SchemaImporter"].executor_class == ""


def test_the_order_respects_every_dependency_and_breaks_ties_by_name():
    job = load(SMALL)
    assert job.order == ["Gen", "SchemaImporter", "Train", "blessing-resolver", "model-resolver", "Eval", "Push"]
    position = {name: i for i, name in enumerate(job.order)}
    for name, task in job.tasks.items():
        assert all(position[up] < position[name] for up in task.upstream), name


def test_runtime_parameters_come_from_runtime_config_then_the_definitions_defaults():
    job = load(SMALL)
    assert job.parameters == {"data-root": "gs://bucket/data/small", "steps": 5, "rate": 0.5}
    assert job.parameter_types == {"data-root": "STRING", "steps": "INT", "rate": "NUMBER_DOUBLE"}


def test_parameter_values_of_the_new_runtime_config_win_over_the_legacy_ones(small, tmp_path):
    small["runtimeConfig"]["parameterValues"] = {"data-root": "gs://bucket/other", "rate": 0.25}
    job = load(_write(tmp_path, small))
    assert job.parameters["data-root"] == "gs://bucket/other"
    assert job.parameters["rate"] == 0.25
    assert job.parameters["steps"] == 5  # still from the legacy `parameters`


# -- files that are not a PipelineJob ----------------------------------------------------------------------------------
def test_a_missing_file_is_refused(tmp_path):
    missing = tmp_path / "nowhere.json"
    message = _refused(missing)
    assert str(missing) in message and "cannot read" in message


def test_a_file_that_is_not_json_is_refused_with_line_and_column(tmp_path):
    message = _refused(_write(tmp_path, '{"pipelineSpec": {}}\nthis is not json\n'))
    assert "is not JSON" in message
    assert "line 2 column 1" in message
    assert "the file ends early" not in message


def _cut_between_values(text: str) -> str:
    return text[: text.index('"components"')]  # after `},\n  `: the next key is missing


def _cut_inside_a_string(text: str) -> str:
    return text[: text.index("kubeflow_v2_run_executor") + 8]  # in the middle of "python -m ...kubeflow_v2..."


@pytest.mark.parametrize("cut", [_cut_between_values, _cut_inside_a_string], ids=["between values", "inside a string"])
def test_a_truncated_file_is_refused_as_cut_short(tmp_path, cut):
    message = _refused(_write(tmp_path, cut(SMALL.read_text())))
    assert "is not JSON" in message and "(the file ends early: cut short?)" in message


@pytest.mark.parametrize("document", [{"displayName": "x"}, [], {"pipelineSpec": "text"}])
def test_json_without_a_pipeline_spec_object_is_refused(tmp_path, document):
    assert "no `pipelineSpec` object" in _refused(_write(tmp_path, document))


def test_a_wrong_typed_field_is_refused_as_not_following_the_schema(small, tmp_path):
    small["pipelineSpec"]["root"] = 5
    message = _refused(_write(tmp_path, small))
    assert "does not follow KFP's PipelineSpec schema" in message
    assert "root" in message


def test_an_unknown_field_is_refused_as_not_following_the_schema(small, tmp_path):
    _tasks(small)["Gen"]["retryPolicyy"] = {}
    assert "retryPolicyy" in _refused(_write(tmp_path, small))


@pytest.mark.parametrize("version", ["3.0.0", ""])
def test_an_unknown_schema_version_is_refused(small, tmp_path, version):
    small["pipelineSpec"]["schemaVersion"] = version
    message = _refused(_write(tmp_path, small))
    assert "schema version" in message and repr(version or "(none)") in message and "2.0.0, 2.1.0" in message


def test_a_root_without_tasks_is_refused(small, tmp_path):
    small["pipelineSpec"]["root"]["dag"] = {"tasks": {}}
    assert "has no DAG of tasks" in _refused(_write(tmp_path, small))


# -- constructs the runner does not implement: each refused by name, with the task -----------------------------------
def _condition(doc):
    _tasks(doc)["Train"]["triggerPolicy"] = {"condition": "inputs.parameter_values['steps'] > 1"}


def _parameter_iterator(doc):
    _tasks(doc)["Train"]["parameterIterator"] = {"items": {"raw": "[1, 2]"}, "itemInput": "steps"}


def _artifact_iterator(doc):
    _tasks(doc)["Train"]["artifactIterator"] = {"items": {"inputArtifact": "examples"}, "itemInput": "examples"}


def _exit_handler(doc):
    _tasks(doc)["Push"]["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}


def _custom_job(doc):
    _executors(doc)["Train_executor"] = {"customJob": {"customJob": {"displayName": "train"}}}


def _sub_dag(doc):
    _components(doc)["Train"] = {"dag": {"tasks": {"inner": {"taskInfo": {"name": "inner"},
                                                             "componentRef": {"name": "Gen"}}}}}


def _task_final_status(doc):
    _tasks(doc)["Push"]["inputs"]["parameters"]["status"] = {"taskFinalStatus": {"producerTask": "Eval"}}


def _component_input_artifact(doc):
    _tasks(doc)["Train"]["inputs"]["artifacts"]["examples"] = {"componentInputArtifact": "examples"}


UNSUPPORTED = [
    (_condition, "task Train", r"a run condition \(dsl\.Condition: \"inputs\.parameter_values\['steps'\] > 1\"\)"),
    (_parameter_iterator, "task Train", r"a loop over items \(dsl\.ParallelFor"),
    (_artifact_iterator, "task Train", r"a loop over items \(dsl\.ParallelFor"),
    (_exit_handler, "task Push", r"an exit handler"),
    (_custom_job, "task Train", r"a Vertex AI custom job executor \(customJob\)"),
    (_sub_dag, "task Train", r"a sub-DAG \(component Train\)"),
    (_task_final_status, "task Push", r"input parameter 'status' given by task_final_status"),
    (_component_input_artifact, "task Train", r"input artifact 'examples' given by component_input_artifact"),
]


@pytest.mark.parametrize("change, where, what", UNSUPPORTED, ids=[c.__name__.strip("_") for c, _, _ in UNSUPPORTED])
def test_an_unsupported_construct_is_refused_naming_it_and_its_task(small, tmp_path, change, where, what):
    change(small)
    message = _refused(_write(tmp_path, small))
    assert re.search(what, message), message
    assert f"(in {where})" in message
    assert "local runner does not implement" in message and "--target vertex|kubeflow" in message


def test_an_unknown_component_ref_is_refused(small, tmp_path):
    _tasks(small)["Train"]["componentRef"]["name"] = "NoSuchComponent"
    message = _refused(_write(tmp_path, small))
    assert "task Train names component 'NoSuchComponent', which the spec does not define" in message


def test_an_unknown_executor_label_is_refused(small, tmp_path):
    _components(small)["Train"]["executorLabel"] = "Gone_executor"
    assert "component Train names executor 'Gone_executor', which the spec does not define" in _refused(
        _write(tmp_path, small))


def test_an_unknown_upstream_task_is_refused(small, tmp_path):
    _tasks(small)["Push"]["dependentTasks"].append("Deploy")
    assert "task Push depends on 'Deploy', which is not a task of the pipeline" in _refused(_write(tmp_path, small))


def test_a_dependency_cycle_is_refused_naming_the_tasks_in_it(small, tmp_path):
    _tasks(small)["Gen"]["dependentTasks"] = ["Push"]
    message = _refused(_write(tmp_path, small))
    assert "depend on each other in a cycle" in message
    assert "Eval, Gen, Push, Train" in message  # the tasks that cannot be ordered
    assert "SchemaImporter" not in message


def test_local_run_errors_are_user_errors_at_the_cli():
    from cli.errors import user_errors

    assert issubclass(LocalRunError, user_errors())


# -- the real compiled jobs --------------------------------------------------------------------------------------------
# Compiles as `tfx-e2e compile --target vertex` does (kubeflow.compile, the flags' values), both pipelines in one
# process: TensorFlow is imported there once, and never here.
COMPILE_BOTH = """
import sys
from pathlib import Path
from kubeflow.compile import CompileOptions, compile_pipeline
from pipeline.config.loader import load_config
out = Path(sys.argv[1])
base = dict(target="vertex", image="us-docker.pkg.dev/p/r/tfx-e2e:1", pipeline_root="gs://bucket/root",
            serving_dir="gs://bucket/serving")
compile_pipeline(load_config("taxi"), CompileOptions(data="gs://bucket/data/taxi", out=out / "taxi.json", **base))
compile_pipeline(load_config("digits"), CompileOptions(out=out / "digits.json", **base))
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, Path]:
    """The taxi and digits pipelines compiled for Vertex with gs:// locations."""
    out = tmp_path_factory.mktemp("compiled")
    proc = subprocess.run([sys.executable, "-c", COMPILE_BOTH, str(out)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: out / f"{name}.json" for name in ("taxi", "digits")}


@pytest.mark.parametrize("config", ["taxi", "digits"])
def test_a_compiled_job_loads_into_twelve_tasks_in_dependency_order(compiled, config):
    job = load(compiled[config])
    assert len(job.tasks) == 12
    assert sorted(job.order) == sorted(job.tasks)
    position = {name: i for i, name in enumerate(job.order)}
    for name, task in job.tasks.items():
        assert all(position[up] < position[name] for up in task.upstream), name
    kinds = [task.kind for task in job.tasks.values()]
    assert kinds.count(RESOLVER) == 2 and kinds.count(CONTAINER) == 10
    assert job.pipeline_root == "gs://bucket/root"
    gen = "CsvExampleGen" if config == "taxi" else "DigitsExampleGen"
    assert job.order == [gen, "ImportSchemaGen", "StatisticsGen", "ExampleValidator", "AnomaliesGate", "Transform",
                         "Trainer", "latest_blessed_model_resolver-model-blessing-resolver",
                         "latest_blessed_model_resolver-model-resolver", "Evaluator", "FeatureImportance", "Pusher"]
    # The Evaluator's baseline comes from the resolver: an upstream task given only by an input artifact.
    assert job.tasks["Evaluator"].upstream == (gen, "Trainer", "latest_blessed_model_resolver-model-resolver")
    assert set(job.tasks["FeatureImportance"].upstream) == {gen, "Trainer", "Evaluator"}
    # Our own artifact type, by the name the container imports it by.
    output = job.tasks["FeatureImportance"].component.output_definitions.artifacts["importance"]
    assert "title: components.FeatureImportance" in output.artifact_type.instance_schema


def _fake_outputs(job, job_id: str, name: str, counter: list[int]) -> ei.TaskOutputs:
    """What a task would hand on: one artifact per output key at the URI the runner plans for it."""
    from google.protobuf import json_format

    artifacts = {}
    for key, spec in job.tasks[name].component.output_definitions.artifacts.items():
        counter[0] += 1
        type_schema = json_format.MessageToDict(spec.artifact_type)
        artifacts[key] = [ei.Artifact(name=f"artifacts/{counter[0]}", schema_title=ei.schema_title(type_schema),
                                      uri=f"{ei.task_root(job, job_id, name)}/{key}",
                                      metadata={"current_model_id": "artifacts/1", "blessed": 1},
                                      type_schema=type_schema)]
    return ei.TaskOutputs(artifacts, {})


@pytest.mark.parametrize("config", ["taxi", "digits"])
def test_every_container_task_of_a_compiled_job_gets_a_complete_executor_input(compiled, config):
    """The ExecutorInput of each container task parses as KFP's proto, has every input and output the component
    declares, and leaves no placeholder behind, neither in itself nor in the substituted arguments."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    job = load(compiled[config])
    outputs: dict[str, ei.TaskOutputs] = {}
    counter = [0]
    context = {".pipeline_job_name": "job-1", ".pipeline_task_name": "t"}
    for name in job.order:
        task = job.tasks[name]
        outputs[name] = _fake_outputs(job, "job-1", name, counter)
        if task.kind != CONTAINER:
            continue
        inputs = {key: outputs[spec.task_output_artifact.producer_task].artifacts[
                      spec.task_output_artifact.output_artifact_key]
                  for key, spec in task.spec.inputs.artifacts.items()}
        parameters = ei.input_parameters(job, task, outputs)
        document = ei.build(job, "job-1", task, parameters, inputs)
        text = json.dumps(document)
        parsed = json_format.Parse(text, pipeline_spec_pb2.ExecutorInput())
        assert set(parsed.inputs.artifacts) == set(task.component.input_definitions.artifacts), name
        assert set(parsed.inputs.parameter_values) == set(task.spec.inputs.parameters), name
        assert set(parsed.outputs.artifacts) == set(task.component.output_definitions.artifacts), name
        for key, artifacts in parsed.outputs.artifacts.items():
            assert artifacts.artifacts[0].uri == f"gs://bucket/root/job-1/{name}/{key}"
        assert parsed.outputs.output_file == f"gs://bucket/root/job-1/{name}/executor_output.json"
        assert "{{$" not in text, name
        args = [ei.substitute(a, document, context, f"task {name}") for a in task.executor.container.args]
        assert not any("{{" in a for a in args), (name, args)
        assert json.loads(args[args.index("--json_serialized_invocation_args") + 1]) == document
