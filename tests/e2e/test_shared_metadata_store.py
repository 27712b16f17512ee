"""One ML Metadata store on a real MariaDB server shared by different pipelines (`--metadata mysql://...`): taxi in
one home, then two others run together in a second home (the lock is per pipeline)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2

from pipeline.metadata import runs as mlmd_runs
from pipeline.paths import SQLITE_FILE
from pipeline.metadata.store import connection_config, open_store
from tests import support
from tests.e2e.test_other_dataset import CONFIG as PARCELS_CONFIG
from tests.e2e.test_other_dataset import write_synthetic
from tests.mariadb import free_port

TAXI_NODES = {
    "CsvExampleGen", "StatisticsGen", "ImportSchemaGen", "ExampleValidator", "AnomaliesGate", "Transform", "Trainer",
    "Evaluator", "FeatureImportance", "Pusher", "latest_blessed_model_resolver",
}
PARCELS = "parcels2"
OTHER = "parcels_b"  # started with parcels2, in its home


def _parcels_config(tmp: Path, name: str, rows: int) -> Path:
    """The parcels config of test_other_dataset under another pipeline (and served model) name, on its own data."""
    data_dir = tmp / f"{name}-data"
    write_synthetic(data_dir, rows=rows)
    text = PARCELS_CONFIG.format(data=data_dir).replace("name: parcels", f"name: {name}")  # serving_model_name too
    assert f"\nname: {name}\n" in text and f"serving_model_name: {name}\n" in text
    config = tmp / f"{name}.yaml"
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def shared(mariadb, taxi_sample, tmp_path_factory):
    """The taxi pipeline in its own home, then two different pipelines (parcels2, parcels_b) started together in a
    second home (--no-wait), all three recording into one MariaDB database."""
    uri = mariadb.uri(mariadb.create_database("mlmd_shared"))
    taxi_home = tmp_path_factory.mktemp("taxi_home")
    taxi = support.cli([
        "run", "--data", taxi_sample, "--home", taxi_home, "--train-steps", "100", "--eval-steps", "3",
        "--set", "evaluation.thresholds.auc.lower=0.5", "--set", "evaluation.thresholds.binary_accuracy.lower=0.5",
        "--metadata", uri,
    ])
    # Only after the taxi model is blessed: it must not become parcels2's baseline.
    parcels_tmp = tmp_path_factory.mktemp("parcels2")
    parcels_home = parcels_tmp / "home"
    accuracy = "evaluation.thresholds.sparse_categorical_accuracy.lower"
    parcels = support.start_cli([
        "run", "--config", _parcels_config(parcels_tmp, PARCELS, rows=600), "--home", parcels_home,
        "--train-steps", "100", "--eval-steps", "3", "--set", f"{accuracy}=0.5", "--metadata", uri, "--no-wait",
    ])
    other = support.start_cli([
        "run", "--config", _parcels_config(parcels_tmp, OTHER, rows=400), "--home", parcels_home,
        "--train-steps", "60", "--eval-steps", "2", "--set", f"{accuracy}=0.3", "--metadata", uri, "--no-wait",
    ])
    return {
        "uri": uri, "store": open_store(connection_config(uri)),
        "taxi": (taxi, taxi_home),
        PARCELS: (support.finished(parcels), parcels_home), OTHER: (support.finished(other), parcels_home),
        "password": mariadb.password,
    }


def _all_artifacts(executions: dict[str, mlmd_runs.NodeExecution]) -> list[mlmd_runs.Artifact]:
    return [a for e in executions.values() for side in (e.inputs, e.outputs) for arts in side.values() for a in arts]


def test_taxi_run_is_recorded_in_mariadb_not_sqlite(shared):
    result, home = shared["taxi"]
    assert result.code == 0, result.stdout + result.stderr
    assert not (home / SQLITE_FILE).exists()
    assert "metadata  mysql://u:***@127.0.0.1:" in result.stdout
    assert shared["password"] not in result.stdout + result.stderr

    store = shared["store"]
    run_ids = mlmd_runs.run_ids(store, "taxi")
    assert len(run_ids) == 1 and run_ids[0] in result.stdout
    executions = mlmd_runs.node_executions(store, "taxi", run_ids[0])
    assert set(executions) == TAXI_NODES
    assert {n: e.state for n, e in executions.items()} == {n: "complete" for n in TAXI_NODES}
    blessing = executions["Evaluator"].outputs["blessing"][0]
    assert blessing.properties["blessed"] == 1
    assert (Path(blessing.uri) / "BLESSED").exists()
    pushed = executions["Pusher"].outputs["pushed_model"][0]
    assert pushed.properties["pushed"] == 1
    assert Path(pushed.properties["pushed_destination"]).parent == home / "serving" / "taxi"


def test_second_pipeline_shares_the_store_with_separate_lineage(shared):
    store = shared["store"]
    result, home = shared[PARCELS]
    assert result.code == 0, result.stdout + result.stderr
    assert not (home / SQLITE_FILE).exists()

    runs = {name: mlmd_runs.run_ids(store, name) for name in ("taxi", PARCELS)}
    assert {name: len(ids) for name, ids in runs.items()} == {"taxi": 1, PARCELS: 1}, runs
    assert runs["taxi"] != runs[PARCELS]

    pipeline_type = store.get_context_type(mlmd_runs.PIPELINE_CONTEXT)
    per_pipeline = {}
    for name, (_, own_home) in ((n, shared[n]) for n in ("taxi", PARCELS)):
        executions = mlmd_runs.node_executions(store, name, runs[name][0])
        assert executions and all(e.state == "complete" for e in executions.values()), executions
        # Every artifact a run read or wrote lives under its own pipeline root.
        root = own_home / "pipeline_root"
        for artifact in _all_artifacts(executions):
            assert Path(artifact.uri).is_relative_to(root), (name, artifact)
        # Each execution belongs to exactly one pipeline context: its own.
        for e in executions.values():
            owners = [c.name for c in store.get_contexts_by_execution(e.execution_id) if c.type_id == pipeline_type.id]
            assert owners == [name], (name, e.node_id, owners)
        ctx = store.get_context_by_type_and_name(mlmd_runs.PIPELINE_CONTEXT, name)
        per_pipeline[name] = {e.id for e in store.get_executions_by_context(ctx.id)}
        assert {e.execution_id for e in executions.values()} <= per_pipeline[name]
    assert not per_pipeline["taxi"] & per_pipeline[PARCELS]

    # Same model family (dnn), same store: the taxi model, blessed first, must not become parcels2's baseline.
    parcels = mlmd_runs.node_executions(store, PARCELS, runs[PARCELS][0])
    assert parcels["latest_blessed_model_resolver"].outputs.get("model", []) == []
    assert "SchemaGen" in parcels and "ImportSchemaGen" not in parcels


def test_env_var_is_read_and_an_unreachable_store_is_a_usage_error(shared, taxi_sample, tmp_path, monkeypatch):
    # Nothing listens on this port: proves TFX_E2E_METADATA is read (no --metadata flag) and that an unreachable
    # MySQL server stops the run before anything executes, with one line on stderr and exit code 2.
    monkeypatch.setenv("TFX_E2E_METADATA", f"mysql://u:secret-pw@127.0.0.1:{free_port()}/mlmd")
    home = tmp_path / "home"
    result = support.cli(["run", "--data", taxi_sample, "--home", home, "--train-steps", "10"], timeout=120)
    assert result.code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot open the metadata store" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "secret-pw" not in result.stdout + result.stderr
    assert not (home / SQLITE_FILE).exists() and not (home / "pipeline_root").exists()


def test_database_password_is_not_written_under_the_home(shared):
    # TFX logs the compiled pipeline (its metadata_connection_config) and "Using connection config" at INFO level;
    # the run log under <home>/logs must not keep the MySQL password in clear text.
    password = shared["password"]
    leaks = [
        str(path)
        for name in ("taxi", PARCELS)
        for path in shared[name][1].rglob("*")
        if path.is_file() and path.stat().st_size < 50_000_000 and password.encode() in path.read_bytes()
    ]
    assert leaks == [], f"the metadata password is written in clear text to: {leaks}"


def test_two_pipelines_run_concurrently_on_one_home_and_store(shared):
    """On a shared MySQL store the lock is per pipeline: different pipelines in one home do not wait for each other."""
    store = shared["store"]
    spans = {}
    for name in (PARCELS, OTHER):
        result, home = shared[name]
        assert result.code == 0, result.stdout + result.stderr  # --no-wait: neither was refused the lock
        assert "waiting:" not in result.stdout
        run_ids = mlmd_runs.run_ids(store, name)
        assert len(run_ids) == 1
        executions = mlmd_runs.node_executions(store, name, run_ids[0])
        assert all(e.state == "complete" for e in executions.values())
        spans[name] = (min(e.started_ms for e in executions.values()), max(e.finished_ms for e in executions.values()))
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1  # the two runs overlapped in time
    assert sorted(p.name for p in shared[PARCELS][1].glob("run-*.lock")) == [f"run-{PARCELS}.lock", f"run-{OTHER}.lock"]
