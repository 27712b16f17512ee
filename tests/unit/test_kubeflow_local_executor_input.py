"""kubeflow/local/executor_input.py and spec.apply_params: a task's input parameters come from runtimeConfig,
constants and `--param` (typed by the pipeline's definitions); its ExecutorInput has the input artifacts, output
URIs under `<root>/<job>/<task>/<key>` and the output file; every KFP placeholder of a container's arguments is
substituted, and any other is refused by name.

Tasks come from the hand-written job testdata/kfp_local/small_job.json, read by spec.load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeflow.local import executor_input as ei
from kubeflow.local.errors import LocalRunError
from kubeflow.local.spec import apply_params, load

SMALL = Path(__file__).parent / "testdata" / "kfp_local" / "small_job.json"
MODEL_TYPE = {"instanceSchema": "title: tfx.Model\ntype: object\n"}
EXAMPLES_TYPE = {"instanceSchema": "title: tfx.Examples\ntype: object\n"}


@pytest.fixture
def job():
    return load(SMALL)


def _with_runtime_config(tmp_path: Path, runtime_config: dict):
    document = json.loads(SMALL.read_text())
    document["runtimeConfig"] = runtime_config
    path = tmp_path / "job.json"
    path.write_text(json.dumps(document))
    return load(path)


def _artifact(n: int, title: str = "tfx.Model", **metadata) -> ei.Artifact:
    type_schema = {"instanceSchema": f"title: {title}\ntype: object\n"}
    return ei.Artifact(name=f"artifacts/{n}", schema_title=title, uri=f"gs://bucket/root/old/T/{n}",
                       metadata=metadata, type_schema=type_schema)


# -- input parameters ------------------------------------------------------------------------------------------------
def test_constants_become_plain_values_of_their_type(job):
    assert ei.input_parameters(job, job.tasks["Gen"], {}) == {
        "input_base": "gs://bucket/data/small",  # the pipeline parameter, from runtimeConfig.parameters
        "split": "train",  # constantValue.stringValue
        "buckets": 3,  # constantValue.intValue (a string in JSON)
        "options": {"k": ["v", 1]},  # constant: a struct Value
    }


def test_pipeline_parameters_come_from_legacy_runtime_config_parameters(tmp_path):
    job = _with_runtime_config(tmp_path, {"gcsOutputDirectory": "gs://b/r", "parameters": {
        "data-root": {"stringValue": "gs://b/d"}, "steps": {"intValue": "12"}, "rate": {"doubleValue": 0.125}}})
    assert ei.input_parameters(job, job.tasks["Train"], {}) == {"steps": 12, "rate": 0.125}
    assert ei.input_parameters(job, job.tasks["Gen"], {})["input_base"] == "gs://b/d"


def test_pipeline_parameters_come_from_runtime_config_parameter_values(tmp_path):
    job = _with_runtime_config(tmp_path, {"gcsOutputDirectory": "gs://b/r", "parameterValues": {
        "data-root": "gs://b/values", "steps": 12, "rate": 0.125}})
    values = ei.input_parameters(job, job.tasks["Train"], {})
    assert values == {"steps": 12, "rate": 0.125}
    assert isinstance(values["steps"], int)  # a JSON number, typed INT by the component: an int, not 12.0
    assert ei.input_parameters(job, job.tasks["Gen"], {})["input_base"] == "gs://b/values"


def test_a_pipeline_parameter_without_a_value_is_refused_with_the_flag_to_give_it(tmp_path):
    job = _with_runtime_config(tmp_path, {"gcsOutputDirectory": "gs://b/r", "parameters": {"steps": {"intValue": "1"}}})
    with pytest.raises(LocalRunError, match=r"task Gen: pipeline parameter 'data-root' has no value; give it with "
                                            r"--param data-root=VALUE"):
        ei.input_parameters(job, job.tasks["Gen"], {})


def test_an_upstream_output_parameter_is_read_from_that_tasks_outputs(tmp_path):
    document = json.loads(SMALL.read_text())
    tasks = document["pipelineSpec"]["root"]["dag"]["tasks"]
    tasks["Train"]["inputs"]["parameters"]["steps"] = {
        "taskOutputParameter": {"producerTask": "Gen", "outputParameterKey": "count"}}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(document))
    job = load(path)
    upstream = {"Gen": ei.TaskOutputs({}, {"count": 42})}
    assert ei.input_parameters(job, job.tasks["Train"], upstream)["steps"] == 42


# -- --param NAME=VALUE (spec.apply_params) --------------------------------------------------------------------------
def test_param_values_are_typed_by_the_pipelines_definitions(job):
    assert apply_params(job, {"steps": "12", "rate": "0.75", "data-root": "gs://other/data"}) == {
        "steps": "--param", "rate": "--param", "data-root": "--param"}
    assert job.parameters == {"steps": 12, "rate": 0.75, "data-root": "gs://other/data"}
    assert ei.input_parameters(job, job.tasks["Train"], {}) == {"steps": 12, "rate": 0.75}


@pytest.mark.parametrize("name, text", [("steps", "x"), ("steps", "1.5"), ("rate", "fast")])
def test_a_param_that_is_not_a_number_of_a_numeric_parameter_is_refused(job, name, text):
    with pytest.raises(LocalRunError, match=rf"--param {name}={text}: {name} is a parameter of type \w+; give a number"):
        apply_params(job, {name: text})


def test_an_unknown_param_is_refused_listing_the_known_ones(job):
    with pytest.raises(LocalRunError) as raised:
        apply_params(job, {"data_root": "./d"})
    assert str(raised.value) == ("--param data_root=...: the pipeline has no parameter 'data_root'; its parameters: "
                                 "data-root, rate, steps.")


def test_a_relative_existing_directory_becomes_absolute(job, tmp_path, monkeypatch):
    (tmp_path / "my-data").mkdir()
    monkeypatch.chdir(tmp_path)
    apply_params(job, {"data-root": "my-data"})
    assert job.parameters["data-root"] == str(tmp_path / "my-data")
    apply_params(job, {"data-root": "./not-yet"})  # a path by its look: made absolute too
    assert job.parameters["data-root"] == str(tmp_path / "not-yet")


@pytest.mark.parametrize("text", ["gs://bucket/data", "plain-word"])
def test_a_cloud_location_or_a_word_that_names_no_file_is_kept(job, tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    apply_params(job, {"data-root": text})
    assert job.parameters["data-root"] == text


# -- the ExecutorInput -----------------------------------------------------------------------------------------------
def test_the_executor_input_has_parameters_input_artifacts_output_uris_and_the_output_file(job):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    model, baseline = _artifact(7, blessed=1), _artifact(5)
    examples = _artifact(3, "tfx.Examples", split_names='["train"]')
    inputs = {"model": [model], "examples": [examples], "baseline_model": [baseline]}
    document = ei.build(job, "small-1", job.tasks["Eval"], {}, inputs)
    assert document["inputs"]["artifacts"]["model"] == {"artifacts": [
        {"name": "artifacts/7", "type": MODEL_TYPE, "uri": "gs://bucket/root/old/T/7", "metadata": {"blessed": 1}}]}
    assert document["inputs"]["artifacts"]["examples"]["artifacts"][0]["metadata"] == {"split_names": '["train"]'}
    blessing_type = {"instanceSchema": "title: tfx.ModelBlessing\ntype: object\n"}
    evaluation_type = {"instanceSchema": "title: tfx.ModelEvaluation\ntype: object\n"}
    assert document["outputs"] == {
        "artifacts": {
            "blessing": {"artifacts": [{"name": "", "type": blessing_type,
                                        "uri": "gs://bucket/root/small-1/Eval/blessing", "metadata": {}}]},
            "evaluation": {"artifacts": [{"name": "", "type": evaluation_type,
                                          "uri": "gs://bucket/root/small-1/Eval/evaluation", "metadata": {}}]},
        },
        "parameters": {},
        "outputFile": "gs://bucket/root/small-1/Eval/executor_output.json",
    }
    parsed = json_format.Parse(json.dumps(document), pipeline_spec_pb2.ExecutorInput())
    assert parsed.inputs.artifacts["baseline_model"].artifacts[0].name == "artifacts/5"


def test_parameters_are_given_in_both_forms_and_output_parameters_get_their_files(job):
    task = job.tasks["Gen"]
    parameters = ei.input_parameters(job, task, {})
    document = ei.build(job, "small-1", task, parameters, {})
    assert document["inputs"]["parameterValues"] == parameters
    legacy = dict(document["inputs"]["parameters"])
    assert json.loads(legacy.pop("options")["stringValue"]) == {"k": ["v", 1]}  # a struct: as JSON text
    assert legacy == {"input_base": {"stringValue": "gs://bucket/data/small"}, "split": {"stringValue": "train"},
                      "buckets": {"intValue": "3"}}
    assert document["outputs"]["parameters"] == {"count": {"outputFile": "gs://bucket/root/small-1/Gen/count"}}
    assert document["outputs"]["artifacts"]["examples"]["artifacts"][0]["uri"] == "gs://bucket/root/small-1/Gen/examples"


def test_a_pipeline_root_with_a_trailing_slash_gives_the_same_uris(job):
    job.pipeline_root = "gs://bucket/root/"
    assert ei.task_root(job, "j", "Train") == "gs://bucket/root/j/Train"


@pytest.mark.parametrize("type_schema, title", [
    ({"schemaTitle": "system.Model"}, "system.Model"),
    ({"instanceSchema": "title: tfx.Examples\ntype: object\n"}, "tfx.Examples"),
    ({}, "system.Artifact"),
])
def test_schema_title_reads_either_form_of_the_type(type_schema, title):
    assert ei.schema_title(type_schema) == title


# -- placeholders ----------------------------------------------------------------------------------------------------
@pytest.fixture
def document(job):
    task = job.tasks["Eval"]
    inputs = {"model": [_artifact(7, current_model_id="artifacts/7", blessed=1.0, score=0.5)],
              "examples": [_artifact(3, "tfx.Examples")], "baseline_model": []}
    doc = ei.build(job, "small-1", task, {"steps": 12, "name": "taxi", "cfg": {"a": 1}}, inputs)
    doc["outputs"]["parameters"]["count"] = {"outputFile": "gs://bucket/root/small-1/Eval/count"}
    return doc


CONTEXT = {".pipeline_job_name": "small-1", ".pipeline_task_name": "Eval"}
SUBSTITUTED = [
    ("{{$.inputs.parameters['name']}}", "taxi"),
    ("{{$.inputs.parameters['steps']}}", "12"),
    ("{{$.inputs.parameters['cfg']}}", '{"a": 1}'),
    ("{{$.inputs.artifacts['model'].uri}}", "gs://bucket/root/old/T/7"),
    ("{{$.inputs.artifacts['model'].path}}", "gs://bucket/root/old/T/7"),
    ("{{$.inputs.artifacts['model'].metadata['current_model_id']}}", "artifacts/7"),
    ("{{$.inputs.artifacts['model'].metadata['blessed']}}", "1"),  # 1.0 as KFP prints an integral number
    ("{{$.inputs.artifacts['model'].metadata['score']}}", "0.5"),
    ("{{$.inputs.artifacts['model'].metadata}}", '{"blessed": 1.0, "current_model_id": "artifacts/7", "score": 0.5}'),
    ("{{$.outputs.artifacts['blessing'].uri}}", "gs://bucket/root/small-1/Eval/blessing"),
    ("{{$.outputs.artifacts['evaluation'].path}}", "gs://bucket/root/small-1/Eval/evaluation"),
    ("{{$.outputs.parameters['count'].output_file}}", "gs://bucket/root/small-1/Eval/count"),
    ("{{$.outputs.output_file}}", "gs://bucket/root/small-1/Eval/executor_output.json"),
    ("{{$.pipeline_job_name}}", "small-1"),
    ("--task={{$.pipeline_task_name}} --out={{$.outputs.output_file}}",
     "--task=Eval --out=gs://bucket/root/small-1/Eval/executor_output.json"),
    ("no placeholder here", "no placeholder here"),
]


@pytest.mark.parametrize("text, expected", SUBSTITUTED, ids=[t for t, _ in SUBSTITUTED])
def test_each_placeholder_is_substituted(document, text, expected):
    got = ei.substitute(text, document, CONTEXT, "task Eval")
    if text.endswith(".metadata}}"):
        assert json.loads(got) == json.loads(expected)
    else:
        assert got == expected


def test_the_whole_executor_input_placeholder_is_the_document_as_json(document):
    got = ei.substitute("{{$}}", document, CONTEXT, "task Eval")
    assert json.loads(got) == document


@pytest.mark.parametrize("text, problem", [
    ("{{$.inputs.parameters['x'].bogus}}", r"the placeholder \{\{\$\.inputs\.parameters\['x'\]\.bogus\}\} is not one"),
    ("{{$.pipeline_job_uuid}}", r"the placeholder \{\{\$\.pipeline_job_uuid\}\} is not one"),  # not in CONTEXT
    ("{{$.inputs.artifacts['model'].size}}", r"is not one the local runner implements"),
    ("{{$.outputs.parameters['count']}}", r"is not one the local runner implements"),
    ("{{$.inputs.artifacts['baseline_model'].uri}}", r"names artifact 'baseline_model', which has no value here"),
    ("{{$.inputs.artifacts['nothing'].uri}}", r"names artifact 'nothing', which has no value here"),
    ("{{$.inputs.artifacts['model'].metadata['absent']}}", r"artifact 'model' has no metadata 'absent'"),
    # A parameter the task is not given: an error naming it, not the text "null" in the command line.
    ("--x={{$.inputs.parameters['nothing']}}", r"'nothing'"),
    # An output parameter the component does not declare: an error naming it, not a KeyError traceback.
    ("{{$.outputs.parameters['nothing'].output_file}}", r"'nothing'"),
])
def test_an_unknown_or_unanswerable_placeholder_is_refused_by_name(document, text, problem):
    with pytest.raises(LocalRunError, match=r"^task Eval: .*" + problem):
        ei.substitute(text, document, CONTEXT, "task Eval")


@pytest.mark.parametrize("text", [
    '{"Concat": ["--x=", "{{$.inputs.parameters[\'name\']}}"]}',
    '{"IfPresent": {"InputName": "name", "Then": ["--name"]}}',
])
def test_a_structured_placeholder_is_refused(document, text):
    with pytest.raises(LocalRunError, match=r"^task Eval: a structured placeholder \(Concat/IfPresent\) is not "
                                            r"implemented"):
        ei.substitute(text, document, CONTEXT, "task Eval")
