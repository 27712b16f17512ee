"""Warm processes for container tasks whose command is `python -m MODULE`: each is started (and imports TensorFlow,
Beam and TFX) while earlier tasks run, then given one task. A task whose command is anything else, whose `python`
is not this venv's or that sets its own environment, runs as a cold process (task_process.run_process).

None is started before a task needs a process (a run whose tasks all come from the cache starts none), and never
more spares than the container tasks still to come: each spare costs seconds of CPU importing TensorFlow, and one
that gets no task is killed at the end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Mapping, Optional

from kubeflow.local.task_env import environment
from pipeline.paths import PROJECT_ROOT


def warm_module(command: list[str], extra_env: Mapping[str, str]) -> Optional[str]:
    """The MODULE of `python -m MODULE` when a warm process can stand in for the command, else None."""
    if extra_env or len(command) != 3 or command[1] != "-m":
        return None
    found = shutil.which(command[0], path=environment({})["PATH"])
    if found is None or Path(found).resolve() != Path(sys.executable).resolve():
        return None
    return command[2]


class WarmPool:
    """`run()` hands a task to a warm process (or a new one), then keeps up to `size` spares warming, as many as the
    caller says tasks may still come."""

    def __init__(self, size: int, spool: Path):
        self.size, self.spool = size, spool
        self._spare: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._count = 0
        spool.mkdir(parents=True, exist_ok=True)

    @property
    def started(self) -> int:
        """How many processes this pool has started."""
        return self._count

    def _start(self) -> subprocess.Popen:
        self._count += 1
        warm_log = open(self.spool / f"warm-{os.getpid()}-{self._count}.log", "w")  # import-time noise
        with warm_log:
            return subprocess.Popen([sys.executable, "-m", "kubeflow.local.warm_worker"], stdin=subprocess.PIPE,
                                    stdout=warm_log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                    env=environment({}), text=True)

    def run(self, module: str, args: list[str], log: Path, upcoming: int) -> Optional[int]:
        """The task's exit code, or None when the warm process had died (the caller runs the command cold).
        `upcoming`: how many more tasks may need a process after this one (cache hits among them or not)."""
        with self._lock:
            process = self._spare.pop(0) if self._spare else self._start()
            while len(self._spare) < min(self.size, upcoming):
                self._spare.append(self._start())
        task = {"module": module, "args": args, "cwd": str(PROJECT_ROOT), "log": str(log)}
        try:
            if process.poll() is not None:
                return None
            process.stdin.write(json.dumps(task) + "\n")
            process.stdin.close()
        except (BrokenPipeError, OSError):
            process.kill()
            return None
        return process.wait()

    def close(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, []
        for process in spare:  # they have only imported libraries: nothing to lose
            process.kill()
            process.wait()
        for path in self.spool.glob(f"warm-{os.getpid()}-*.log"):
            path.unlink(missing_ok=True)
