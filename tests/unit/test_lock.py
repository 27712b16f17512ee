"""pipeline/local/lock.py: one run at a time per lock file, across processes and threads; who holds it; waiting or
refusing (--no-wait)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.local.lock import LockBusy, lock_path, run_lock

HOLD = """
import sys
from pathlib import Path
from pipeline.local.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # hold until the test says so
"""


@pytest.fixture()
def held_by_another_process(tmp_path):
    """A second process holding the lock until the fixture ends; yields (lock path, its pid)."""
    path = tmp_path / "home" / "run.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout.readline().strip() == "held"
        yield path, proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_the_home_or_the_pipeline_is_locked(tmp_path):
    assert lock_path(tmp_path, "taxi", shared_store=False) == tmp_path / "run.lock"  # SQLite: one writer per home
    assert lock_path(tmp_path, "taxi", shared_store=True) == tmp_path / "run-taxi.lock"  # MySQL: per pipeline


def test_no_wait_names_the_holder_and_the_way_out(held_by_another_process):
    path, pid = held_by_another_process
    with pytest.raises(LockBusy) as busy:
        with run_lock(path, wait=False):
            pytest.fail("entered a lock another process holds")
    message = str(busy.value)
    assert message.startswith(f"run by pid {pid} since ")
    assert f"holds {path}; wait for it to finish or run without --no-wait" in message


def test_waiting_tells_once_then_enters_when_the_holder_ends(tmp_path):
    path = tmp_path / "run.lock"
    told, held, entered, release = [], threading.Event(), threading.Event(), threading.Event()

    def holder():
        with run_lock(path):
            held.set()
            release.wait(10)

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(10)

    def waiter():
        with run_lock(path, on_wait=told.append, poll=0.05):
            entered.set()

    second = threading.Thread(target=waiter)
    second.start()
    time.sleep(0.5)
    assert not entered.is_set()  # still waiting
    release.set()
    first.join(10)
    second.join(10)
    assert entered.is_set()
    assert len(told) == 1 and told[0].startswith(f"run by pid {os.getpid()} since ")


def test_the_holder_text_is_written_while_held_and_cleared_after(tmp_path):
    path = tmp_path / "deep" / "dir" / "run.lock"  # parents are created
    with run_lock(path):
        text = path.read_text()
        assert text.startswith(f"run by pid {os.getpid()} since ")
    assert path.read_text() == ""
    with run_lock(path, wait=False):  # released: free again
        pass


def test_an_empty_holder_text_still_reads_as_a_run(held_by_another_process):
    path, _ = held_by_another_process
    path.write_text("")  # e.g. the holder has only just taken the lock
    with pytest.raises(LockBusy, match=r"^another run holds "):
        with run_lock(path, wait=False):
            pass


def test_a_failing_run_releases_the_lock(tmp_path):
    path = tmp_path / "run.lock"
    with pytest.raises(RuntimeError, match="component failed"):
        with run_lock(path):
            raise RuntimeError("component failed")
    with run_lock(path, wait=False):
        pass
