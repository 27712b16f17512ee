"""The unchanged-rerun check: every input it promises to watch makes it run the pipeline again."""

from __future__ import annotations

import dataclasses
import os
import shutil

import pytest
from ml_metadata.proto import metadata_store_pb2

from pipeline.config.loader import load_config
from pipeline.config.schema import ConfigError
from pipeline.local import up_to_date as U
from pipeline.metadata.store import open_store, sqlite_config

FLAGS = {"home": "/h", "beam_mode": "auto", "allow_anomalies": False, "metadata": None}


@pytest.fixture()
def setup(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(load_config("taxi").data_dir, data)
    cfg = load_config("taxi", {"data": str(data)})
    store = open_store(sqlite_config(tmp_path / "metadata.sqlite"))
    pushed = tmp_path / "serving" / "taxi" / "1"
    pushed.mkdir(parents=True)
    key = U.run_key(cfg, FLAGS)
    U.save(tmp_path, cfg.name, key, store, "run-1", str(pushed), "summary text\n")
    return tmp_path, cfg, store, pushed


def test_nothing_changed_returns_the_last_run(setup):
    home, cfg, store, _ = setup
    found = U.check(home, cfg.name, U.run_key(cfg, FLAGS), store)
    assert found is not None and found.run_id == "run-1" and found.summary == "summary text\n"


def test_config_flags_and_data_changes_change_the_key(setup):
    home, cfg, store, _ = setup
    key = U.run_key(cfg, FLAGS)
    assert U.run_key(dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, train_steps=7)), FLAGS) != key
    assert U.run_key(cfg, {**FLAGS, "beam_mode": "multi_processing"}) != key
    csv = cfg.data_dir / "data.csv"
    st = csv.stat()
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # touched: CsvExampleGen would re-read it
    assert U.run_key(cfg, FLAGS) != key
    assert U.check(home, cfg.name, U.run_key(cfg, FLAGS), store) is None
    (cfg.data_dir / "more.csv").write_text(csv.read_text().splitlines()[0] + "\n")
    assert U.run_key(cfg, FLAGS) != key


def test_code_change_changes_the_key(setup, monkeypatch):
    _, cfg, _, _ = setup
    key = U.run_key(cfg, FLAGS)
    monkeypatch.setattr(U, "code_digest", lambda: "other code")
    assert U.run_key(cfg, FLAGS) != key


def test_any_write_to_the_metadata_store_means_run(setup):
    home, cfg, store, _ = setup
    artifact_type = metadata_store_pb2.ArtifactType(name="SomethingNew")
    type_id = store.put_artifact_type(artifact_type)
    store.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri="/x")])  # e.g. another run's blessing
    assert U.check(home, cfg.name, U.run_key(cfg, FLAGS), store) is None


def test_deleted_push_or_missing_record_means_run(setup):
    home, cfg, store, pushed = setup
    shutil.rmtree(pushed)
    assert U.check(home, cfg.name, U.run_key(cfg, FLAGS), store) is None
    U.forget(home, cfg.name)
    assert U.check(home, cfg.name, U.run_key(cfg, FLAGS), store) is None
    U.record_path(home, cfg.name).write_text("{not json")
    assert U.check(home, cfg.name, U.run_key(cfg, FLAGS), store) is None
