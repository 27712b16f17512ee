"""pipeline/metadata/run_record.py: what `tfx-e2e run` records beside TFX, on the run's MLMD context."""

from __future__ import annotations

from pipeline.metadata.run_record import read_record, versions, write_record
from tests.unit.mlmd_runs import Store, taxi_run


def test_a_record_round_trips_and_leaves_the_run_as_it_was(tmp_path):
    b = Store(tmp_path / "metadata.sqlite")
    taxi_run(b, tmp_path, "run-1")
    store = b.store
    context = store.get_context_by_type_and_name("pipeline_run", "run-1")
    before = {k: v for k, v in context.custom_properties.items()}
    executions = store.get_executions_by_context(context.id)
    assert read_record(store, "run-1") == {}  # a run recorded before run_record existed
    record = {
        "config_yaml": "name: taxi\ntask: binary\n",
        "config_source": "/x/taxi.yaml",
        "flags": {"train_steps": 300, "overrides": ["a=1"], "metadata": None},
        "versions": versions(),
        "code_fingerprint": "cli:1,pipeline:2",
        "wall_seconds": 41.25,
        "node_seconds": {"Trainer": 9.5},
        "error": None,  # not recorded
        "log_file": "/h/logs/run-1.log",
    }
    assert write_record(store, "run-1", record) is True
    got = read_record(store, "run-1")
    assert got == {k: v for k, v in record.items() if v is not None}
    assert got["versions"]["tfx"] == "1.16.0"
    after = store.get_context_by_type_and_name("pipeline_run", "run-1")
    for key, value in before.items():
        assert after.custom_properties[key] == value  # TFX's own properties untouched
    assert [e.id for e in store.get_executions_by_context(after.id)] == [e.id for e in executions]
    assert write_record(store, "no-such-run", record) is False
