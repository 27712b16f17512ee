"""The multi-worker executor's process handling, with real processes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from components.multiworker_trainer import executor as mw


def test_tf_config_names_every_worker_and_this_task():
    ports = mw.free_ports(3)
    assert len(set(ports)) == 3
    config = json.loads(mw.tf_config(ports, 1))
    assert config["cluster"]["worker"] == [f"127.0.0.1:{p}" for p in ports]
    assert config["task"] == {"type": "worker", "index": 1}


def test_workers_requested_reads_the_custom_config():
    assert mw.workers_requested({"custom_config": json.dumps({"training": {"workers": 3}})}) == 3
    assert mw.workers_requested({}) == 1


def test_first_failing_worker_raises_with_its_output(tmp_path):
    logs = [str(tmp_path / "w0.log"), str(tmp_path / "w1.log")]
    procs = []
    for code, log in zip(["import time; time.sleep(60)", "import sys; print('boom: bad shard'); sys.exit(3)"], logs):
        with open(log, "w") as f:
            procs.append(subprocess.Popen([sys.executable, "-c", code], stdout=f, stderr=subprocess.STDOUT))
    try:
        with pytest.raises(RuntimeError) as err:
            mw.Executor._wait(procs, logs)
        assert "training worker 1 of 2 failed with exit code 3" in str(err.value)
        assert "boom: bad shard" in str(err.value)
        assert procs[0].poll() is None  # still running: Do() kills the rest (its finally block)
    finally:
        for p in procs:
            p.kill()
            p.wait()
