"""Every benchmark of issue #7, one after the other, then benchmarks/RESULTS.md from their JSON.

    python -m benchmarks [--pairs 3] [--factors 1,10,100] [--only side_by_side,cache,serving,scale,report_time,ui_latency,submit_local,quality] [--work DIR]

(`make bench` runs it with the defaults.) Each benchmark runs in its own interpreter so that none inherits another's
TensorFlow state; the machine should be otherwise idle: every number is a wall-clock measurement.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import PYTHON, REPO, fresh_dir, machine

ALL = ("side_by_side", "cache", "serving", "scale", "report_time", "ui_latency", "submit_local", "quality")


def _step(name: str, argv: list[str]) -> float:
    print(f"== {name}: {' '.join(argv)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", *argv], cwd=REPO)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"benchmark {name} failed (exit {done.returncode}) after {seconds:.0f} s")
    print(f"== {name}: done in {seconds:.0f} s", flush=True)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="official/ours pairs for the side-by-side (≥ 3)")
    parser.add_argument("--factors", default="1,10,100", help="data factors for the scale benchmark")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of {', '.join(ALL)}")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory (default: a new temp dir)")
    args = parser.parse_args(argv)
    only = [b for b in args.only.split(",") if b]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(ALL)}")
    work = args.work or fresh_dir("all")
    work.mkdir(parents=True, exist_ok=True)
    print(f"benchmarks in {work} on {json.dumps(machine())}", flush=True)
    seconds = {}
    if "side_by_side" in only:
        seconds["side_by_side"] = _step("side_by_side", ["benchmarks.side_by_side", "--pairs", str(args.pairs),
                                                         "--work", str(work / "side_by_side")])
    cache_work = work / "cache"
    if "cache" in only or "serving" in only:
        seconds["cache"] = _step("cache", ["benchmarks.cache", "--work", str(cache_work), "--keep-home"])
    homes = sorted(cache_work.glob("tfx-e2e-bench-home-*"))
    if "serving" in only:
        seconds["serving"] = _step("serving", ["benchmarks.serving", "--home", str(homes[-1])])
    if "report_time" in only:
        seconds["report_time"] = _step("report_time", ["benchmarks.report_time"]
                                       + (["--home", str(homes[-1])] if homes else []))
    shutil.rmtree(cache_work, ignore_errors=True)
    if "ui_latency" in only:
        seconds["ui_latency"] = _step("ui_latency", ["benchmarks.ui_latency"])
    if "submit_local" in only:
        seconds["submit_local"] = _step("submit_local", ["benchmarks.submit_local", "--work", str(work / "submit_local")])
    if "quality" in only:
        seconds["quality"] = _step("quality", ["benchmarks.quality_bench", "--work", str(work / "quality")])
    if "scale" in only:
        seconds["scale"] = _step("scale", ["benchmarks.scale", "--factors", args.factors, "--work", str(work / "scale")])
    (REPO / "benchmarks" / "results").mkdir(exist_ok=True)
    (REPO / "benchmarks" / "results" / "durations.json").write_text(json.dumps(seconds, indent=2) + "\n")
    _step("report", ["benchmarks.report"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
