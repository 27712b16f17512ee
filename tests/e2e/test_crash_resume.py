"""SIGKILL during each heavy component, then the same command again: it completes from the cache, reusing nothing
the killed run half-wrote; concurrent runs on one home wait for (or refuse) the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError, open_store, sqlite_config
from tests import support
from trainer_module.serving_contract import SERVING_SIGNATURE

ORDER = ["CsvExampleGen", "ImportSchemaGen", "StatisticsGen", "Transform", "ExampleValidator", "Trainer",
         "Evaluator", "Pusher"]
KILL_AT = ["CsvExampleGen", "Transform", "Trainer", "Evaluator", "Pusher"]


def _args(data: Path, home: Path) -> list[str]:
    return ["run", "--data", data, "--home", home, "--train-steps", "60", "--eval-steps", "3",
            "--set", "evaluation.thresholds.auc.lower=0.5", "--set", "evaluation.thresholds.binary_accuracy.lower=0.5"]


def _start(args) -> subprocess.Popen:
    # Its own process group, so the kill also takes any Beam worker processes with it.
    return subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], cwd=support.ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _running(home: Path, node: str, known_runs: int):
    """The RUNNING execution of `node` in the newest run (beyond `known_runs`), or None."""
    try:
        store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
        run_ids = R.run_ids(store, "taxi")
        if len(run_ids) <= known_runs:
            return None
        execution = R.node_executions(store, "taxi", run_ids[-1]).get(node)
    except (MetadataError, Exception):  # the store may be mid-creation; poll again
        return None
    return execution if execution and execution.state == "running" else None


def _kill_during(args, home: Path, node: str, known_runs: int, timeout: float = 400) -> None:
    proc = _start(args)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if _running(home, node, known_runs):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}) before {node} could be caught running")
            time.sleep(0.05)
        pytest.fail(f"{node} never ran within {timeout} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def small_sample(taxi_sample):
    return taxi_sample  # the shared 3,000-row sample: it passes the anomalies gate


def test_kill_each_component_then_resume(small_sample, tmp_path):
    """A chain in one home: kill during CsvExampleGen; rerun, kill during Transform; ... ; then a run completes."""
    home = tmp_path / "home"
    args = _args(small_sample, home)
    killed: dict[str, R.NodeExecution] = {}
    finished: set[str] = set()  # nodes that completed in some earlier (killed) run
    for index, node in enumerate(KILL_AT):
        _kill_during(args, home, node, known_runs=index)
        store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
        run_ids = R.run_ids(store, "taxi")
        assert len(run_ids) == index + 1
        executions = R.node_executions(store, "taxi", run_ids[-1])
        killed[node] = executions[node]
        assert executions[node].state == "running"  # MLMD keeps the killed execution as not complete
        # What finished in an earlier, killed run is served from the cache in this one.
        for earlier in finished:
            assert executions[earlier].state == "cached", (node, earlier)
        finished |= {n for n, e in executions.items() if e.state in ("complete", "cached") and n in ORDER}

    final = support.cli(args)
    assert final.code == 0, final.stdout + final.stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_ids = R.run_ids(store, "taxi")
    executions = R.node_executions(store, "taxi", run_ids[-1])
    assert all(executions[n].state in ("cached", "complete") for n in ORDER)
    assert executions["Pusher"].state == "complete"  # the killed push is redone, not trusted
    for node, dead in killed.items():
        for key, artifacts in executions[node].outputs.items():
            # Nothing the killed execution started writing is used: outputs come from a finished execution.
            assert all(a.uri not in {d.uri for d in dead.outputs.get(key, [])} for a in artifacts), (node, key)
    versions = support.pushed_versions(home / "serving" / "taxi")
    assert len(versions) == 1
    leftovers = [p.name for p in (home / "serving" / "taxi").iterdir() if p not in versions]
    assert leftovers == [] or all(name.startswith(".") for name in leftovers)
    import tensorflow as tf

    assert SERVING_SIGNATURE in tf.saved_model.load(str(versions[0])).signatures


def test_a_second_run_on_the_same_home_waits_or_refuses(small_sample, tmp_path):
    home = tmp_path / "home"
    args = [*_args(small_sample, home), *support.NO_IMPORTANCE]
    first = _start(args)
    try:
        deadline = time.time() + 120
        while not (home / "run.lock").exists() or not (home / "run.lock").read_text().strip():
            assert time.time() < deadline and first.poll() is None, "the first run never took the lock"
            time.sleep(0.1)
        refused = support.cli([*args, "--no-wait"])
        assert refused.code == 2 and "holds" in refused.stderr and "run.lock" in refused.stderr
        # --always-run: the same command would otherwise find the first run's result unchanged and not run TFX.
        waiting = support.finished(support.start_cli([*args, "--always-run"]), timeout=600)
        assert first.wait(timeout=600) == 0
        assert waiting.code == 0, waiting.stdout + waiting.stderr
        assert "waiting: run by pid" in waiting.stdout
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    assert len(R.run_ids(store, "taxi")) == 2  # both ran, one after the other; the store is intact
