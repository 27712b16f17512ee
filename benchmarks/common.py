"""Shared plumbing for the benchmarks: run a command under a resource monitor, read per-component seconds from MLMD.

Every benchmark runs real pipelines in fresh temporary homes and reports what it measured; nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import psutil

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
PYTHON = sys.executable
CORES = os.cpu_count() or 1


def tfx_e2e(*args: str) -> list[str]:
    """argv for our CLI in this interpreter (same venv as the benchmark)."""
    return [PYTHON, "-m", "cli", *args]


def fresh_dir(prefix: str, parent: Optional[Path] = None) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"tfx-e2e-bench-{prefix}-", dir=parent))


@dataclass
class Sample:
    t: float  # seconds since the command started
    cpu_percent: float  # whole process tree, 100 = one core busy
    rss_bytes: int  # whole process tree


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    wall_seconds: float
    cpu_seconds: float  # user + system of the whole tree, children included (from wait4 rusage)
    peak_rss_bytes: int  # largest sampled sum of RSS over the process tree
    started_at: float  # time.time() at start, to line samples up with MLMD timestamps
    log_path: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def cpu_utilisation(self) -> float:
        """Average busy cores over the run divided by the machine's cores (1.0 = every core busy all the time)."""
        return self.cpu_seconds / self.wall_seconds / CORES if self.wall_seconds else 0.0

    def window(self, start: float, end: float) -> dict:
        """Average CPU (in cores) and peak RSS of the samples between two epoch times (e.g. one component)."""
        inside = [s for s in self.samples if start <= self.started_at + s.t <= end]
        if not inside:
            return {"cores_busy": None, "peak_rss_mb": None, "samples": 0}
        return {
            "cores_busy": round(sum(s.cpu_percent for s in inside) / len(inside) / 100.0, 2),
            "peak_rss_mb": round(max(s.rss_bytes for s in inside) / 2**20, 1),
            "samples": len(inside),
        }

    def summary(self) -> dict:
        return {
            "wall_seconds": round(self.wall_seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "cpu_utilisation": round(self.cpu_utilisation, 3),
            "peak_rss_mb": round(self.peak_rss_bytes / 2**20, 1),
            "returncode": self.returncode,
            "log": self.log_path,
        }


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def run_monitored(
    argv: Sequence[str], log_path: Path, env: Optional[dict] = None, cwd: Optional[Path] = None, interval: float = 0.25
) -> CommandResult:
    """Runs argv to completion with stdout+stderr to log_path, sampling the process tree's CPU and RSS."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    peak = 0
    started = time.time()
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        root = psutil.Process(popen.pid)
        seen: dict[int, psutil.Process] = {}
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                cpu, rss = 0.0, 0
                for p in _tree(root):
                    p = seen.setdefault(p.pid, p)  # keep one Process per pid so cpu_percent has a previous reading
                    try:
                        cpu += p.cpu_percent(None)
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, rss)
                samples.append(Sample(round(time.perf_counter() - t0, 3), cpu, rss))
                stop.wait(interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        _, status, usage = os.wait4(popen.pid, 0)
        wall = time.perf_counter() - t0
        stop.set()
        thread.join()
        popen.returncode = os.waitstatus_to_exitcode(status)
    # psutil's first cpu_percent reading of a process is 0 by definition; drop the very first sample.
    return CommandResult(
        argv=list(argv),
        returncode=popen.returncode,
        wall_seconds=wall,
        # wait4's rusage covers the child and every descendant it waited for (Beam workers, trainer workers).
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=peak,
        started_at=started,
        log_path=str(log_path),
        samples=samples[1:],
    )


def component_seconds(metadata_path: Path, pipeline_name: Optional[str] = None) -> dict[str, dict]:
    """{node_id: {seconds, state, start, end}} of the newest run in an MLMD SQLite file (any TFX pipeline)."""
    from pipeline.metadata import runs
    from pipeline.metadata.store import open_store, sqlite_config

    store = open_store(sqlite_config(metadata_path, create=False))
    names = [pipeline_name] if pipeline_name else runs.pipeline_names(store)
    if len(names) != 1:
        raise ValueError(f"{metadata_path}: expected one pipeline, found {names}")
    run_ids = runs.run_ids(store, names[0])
    if not run_ids:
        raise ValueError(f"{metadata_path}: pipeline {names[0]} has no runs")
    newest = run_ids[-1]
    out = {}
    for node_id, e in runs.node_executions(store, names[0], newest).items():
        out[node_id] = {
            "seconds": round(e.seconds, 2),
            "state": e.state,
            "start": e.started_ms / 1000.0,
            "end": e.finished_ms / 1000.0,
        }
    return out


def env_with(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(extra)
    return env


def write_json(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_json(name: str) -> Optional[dict]:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    if not n:
        return float("nan")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def machine() -> dict:
    import platform

    return {
        "cores": CORES,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
