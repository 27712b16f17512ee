"""kubeflow/local/store.py, resolver.py: the workdir's ML Metadata record (SQLite) gives back a completed task's outputs
for its cache key only; the two latest-blessed-model resolver queries of our compiled specs find the newest blessed
model; the importer registers an artifact once and reuses it unless `reimport`.

Tasks come from the hand-written job testdata/kfp_local/small_job.json, read by spec.load; artifacts are recorded as
the runner records a task's outputs (store.record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeflow.local.errors import LocalRunError
from kubeflow.local.executor_input import Artifact
from kubeflow.local.mirror import GcsMirror
from kubeflow.local.resolver import import_artifact, resolve
from kubeflow.local.spec import load
from kubeflow.local.store import CACHED, COMPLETE, FAILED, LocalStore

SMALL = Path(__file__).parent / "testdata" / "kfp_local" / "small_job.json"
BLESSING_FILTER = 'schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
MODEL_FILTER = ('schema_title="tfx.Model" AND state=LIVE AND '
                'name="{{$.inputs.artifacts[\'input\'].metadata[\'current_model_id\']}}"')


@pytest.fixture
def job():
    return load(SMALL)


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "metadata.sqlite", "small", "small-1", {"file": "job.json"})


def _new(title: str, uri: str, **metadata) -> Artifact:
    """An output as a container task's executor output describes it (no id yet)."""
    return Artifact(name="", schema_title=title, uri=uri, metadata=metadata,
                    type_schema={"instanceSchema": f"title: {title}\ntype: object\n"})


def _train_and_evaluate(store: LocalStore, run: int, blessed: int) -> tuple[Artifact, Artifact]:
    """Records a Train execution (its model) and an Eval one (its blessing of that model); returns both."""
    [model] = store.record("Train", "container", COMPLETE, f"train-{run}", {},
                           {"model": [_new("tfx.Model", f"gs://bucket/root/j{run}/Train/model")]}, {}, 1.0)["model"]
    blessing = _new("tfx.ModelBlessing", f"gs://bucket/root/j{run}/Eval/blessing", blessed=blessed,
                    current_model_id=model.name)
    [blessing] = store.record("Eval", "container", COMPLETE, f"eval-{run}", {"model": [model]},
                              {"blessing": [blessing]}, {}, 1.0)["blessing"]
    return model, blessing


# -- the record and the cache ----------------------------------------------------------------------------------------
def test_recorded_outputs_get_names_and_keep_uri_type_and_metadata(store):
    stored = store.record("Gen", "container", COMPLETE, "key-1", {},
                          {"examples": [_new("tfx.Examples", "gs://bucket/root/j/Gen/examples", split_names='["a"]')]},
                          {"split": "train"}, 2.5)
    [examples] = stored["examples"]
    assert examples.name.startswith("artifacts/") and int(examples.name.split("/")[1]) > 0
    assert (examples.schema_title, examples.uri) == ("tfx.Examples", "gs://bucket/root/j/Gen/examples")
    assert examples.metadata == {"split_names": '["a"]'}
    assert examples.type_schema == {"instanceSchema": "title: tfx.Examples\ntype: object\n"}
    assert examples.create_time.endswith("Z")
    assert store.artifacts_of("tfx.Examples") == [examples]
    assert store.artifacts_of("tfx.Model") == []


def test_cached_gives_the_outputs_for_the_same_key_only(store):
    stored = store.record("Gen", "container", COMPLETE, "key-1", {},
                          {"examples": [_new("tfx.Examples", "gs://b/r/j/Gen/examples")],
                           "statistics": [_new("tfx.ExampleStatistics", "gs://b/r/j/Gen/statistics")]}, {}, 1.0)
    assert store.cached("key-1") == ("small-1", stored)
    assert store.cached("key-2") is None


def test_a_failed_execution_is_never_a_cache_hit(store):
    store.record("Gen", "container", FAILED, "key-f", {}, {"examples": [_new("tfx.Examples", "gs://b/r/j/x")]}, {}, 1.0)
    assert store.cached("key-f") is None


def test_a_later_job_in_the_same_workdir_finds_the_earlier_jobs_outputs(store, tmp_path):
    stored = store.record("Gen", "container", COMPLETE, "key-1", {},
                          {"examples": [_new("tfx.Examples", "gs://b/r/small-1/Gen/examples")]}, {}, 1.0)
    later = LocalStore(tmp_path / "metadata.sqlite", "small", "small-2", {})
    assert later.cached("key-1") == ("small-1", stored)
    # A cached task is recorded in the later job, linked to the same artifacts (no new ones).
    later.record("Gen", "container", CACHED, "key-1", {}, stored, {}, 0.0, reuse=True)
    assert later.artifacts_of("tfx.Examples") == stored["examples"]
    other_pipeline = LocalStore(tmp_path / "metadata.sqlite", "other", "other-1", {})
    assert other_pipeline.cached("key-1") is None
    assert other_pipeline.artifacts_of("tfx.Examples") == []


def test_an_artifact_given_under_two_input_keys_is_recorded_once_per_direction(store, tmp_path):
    model, _ = _train_and_evaluate(store, 1, blessed=1)
    stored = store.record("Eval", "container", COMPLETE, "eval-2", {"model": [model], "baseline_model": [model]},
                          {"blessing": [_new("tfx.ModelBlessing", "gs://b/r/j2/Eval/blessing", blessed=1)]}, {}, 1.0)
    [blessing] = stored["blessing"]
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    from pipeline.metadata.store import sqlite_config

    mlmd = metadata_store.MetadataStore(sqlite_config(tmp_path / "metadata.sqlite", create=False))
    [execution] = [e for e in mlmd.get_executions() if e.custom_properties["cache_key"].string_value == "eval-2"]
    events = mlmd.get_events_by_execution_ids([execution.id])
    assert sorted((e.artifact_id, e.type) for e in events) == sorted([
        (int(model.name.split("/")[1]), metadata_store_pb2.Event.INPUT),
        (int(blessing.name.split("/")[1]), metadata_store_pb2.Event.OUTPUT)])
    assert json.loads(execution.custom_properties["inputs"].string_value) == {
        "model": [model.name], "baseline_model": [model.name]}


# -- the latest blessed model resolver ---------------------------------------------------------------------------------
def test_the_resolvers_find_the_newest_blessed_model(job, store):
    first_model, first_blessing = _train_and_evaluate(store, 1, blessed=1)
    second_model, second_blessing = _train_and_evaluate(store, 2, blessed=1)
    _train_and_evaluate(store, 3, blessed=0)  # newer, but not blessed
    blessings, evaluated = resolve(job.tasks["blessing-resolver"], {}, store)
    assert blessings == {"model_blessing": [second_blessing]}
    assert evaluated == {"model_blessing": BLESSING_FILTER}
    models, evaluated = resolve(job.tasks["model-resolver"], {"input": blessings["model_blessing"]}, store)
    assert models == {"model": [second_model]}
    assert evaluated == {"model": MODEL_FILTER.replace(
        "{{$.inputs.artifacts['input'].metadata['current_model_id']}}", second_model.name)}
    # Given the older blessing, the model query finds the model that blessing names.
    models, _ = resolve(job.tasks["model-resolver"], {"input": [first_blessing]}, store)
    assert models == {"model": [first_model]}


def test_the_resolvers_find_nothing_when_no_model_was_blessed(job, store):
    _train_and_evaluate(store, 1, blessed=0)
    blessings, _ = resolve(job.tasks["blessing-resolver"], {}, store)
    assert blessings == {"model_blessing": []}
    models, evaluated = resolve(job.tasks["model-resolver"], {"input": []}, store)
    assert models == {"model": []}
    assert "not evaluated: its input has no artifact" in evaluated["model"]


def test_a_blessing_recorded_by_another_pipeline_is_not_found(job, store, tmp_path):
    other = LocalStore(tmp_path / "metadata.sqlite", "other", "other-1", {})
    _train_and_evaluate(other, 1, blessed=1)
    assert resolve(job.tasks["blessing-resolver"], {}, store)[0] == {"model_blessing": []}


def test_a_query_without_a_schema_title_is_refused(job, store):
    query = job.tasks["blessing-resolver"].executor.resolver.output_artifact_queries["model_blessing"]
    query.filter = "state=LIVE AND metadata.blessed.number_value=1"
    with pytest.raises(LocalRunError, match=r"task blessing-resolver, query 'model_blessing': the query names no "
                                            r"schema_title"):
        resolve(job.tasks["blessing-resolver"], {}, store)


# -- the importer --------------------------------------------------------------------------------------------------------
@pytest.fixture
def mirror(tmp_path):
    mirror = GcsMirror(tmp_path / "gcs")
    (tmp_path / "gcs" / "bucket" / "data" / "schema").mkdir(parents=True)
    return mirror


def _import_and_record(job, store, mirror):
    task = job.tasks["SchemaImporter"]
    outputs, reused = import_artifact(task, {}, store, mirror)
    stored = store.record(task.name, task.kind, COMPLETE, "", {}, outputs, {}, 0.0, reuse=reused)
    return stored["result"][0], reused


def test_the_importer_creates_the_artifact_then_reuses_it(job, store, mirror):
    first, reused = _import_and_record(job, store, mirror)
    assert reused is False
    assert (first.schema_title, first.uri) == ("tfx.Schema", "gs://bucket/data/schema")
    assert first.name.startswith("artifacts/")
    again, reused = _import_and_record(job, store, mirror)
    assert reused is True and again == first
    assert store.artifacts_of("tfx.Schema") == [first]


def test_the_importer_imports_again_with_reimport(job, store, mirror):
    first, _ = _import_and_record(job, store, mirror)
    job.tasks["SchemaImporter"].executor.importer.reimport = True
    second, reused = _import_and_record(job, store, mirror)
    assert reused is False and second.name != first.name and second.uri == first.uri
    assert [a.name for a in store.artifacts_of("tfx.Schema")] == [first.name, second.name]


def test_the_importer_refuses_a_uri_that_does_not_exist_here(job, store, tmp_path):
    mirror = GcsMirror(tmp_path / "empty-mirror")
    with pytest.raises(LocalRunError) as raised:
        import_artifact(job.tasks["SchemaImporter"], {}, store, mirror)
    assert str(raised.value) == (f"task SchemaImporter: the importer's URI gs://bucket/data/schema does not exist here "
                                 f"({tmp_path / 'empty-mirror' / 'bucket' / 'data' / 'schema'}).")


def test_the_importer_takes_its_uri_from_a_runtime_parameter(job, store, mirror, tmp_path):
    spec = job.tasks["SchemaImporter"].executor.importer
    spec.artifact_uri.runtime_parameter = "artifact_uri"
    outputs, reused = import_artifact(job.tasks["SchemaImporter"], {"artifact_uri": "gs://bucket/data/schema"},
                                      store, mirror)
    assert outputs["result"][0].uri == "gs://bucket/data/schema" and reused is False
    with pytest.raises(LocalRunError, match="the importer's URI comes from parameter 'artifact_uri', which has no value"):
        import_artifact(job.tasks["SchemaImporter"], {}, store, mirror)
