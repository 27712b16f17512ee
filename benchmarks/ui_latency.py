"""`tfx-e2e ui` page latency on a store with 50 runs (issue #13's target: p50 ≤ 300 ms).

    python -m benchmarks.ui_latency [--runs 50] [--requests 200] [--work DIR]

Builds a real SQLite MLMD store the way tests/unit/mlmd_runs.py records TFX runs (one taxi run after another, each
with StatisticsGen statistics, an Evaluator evaluation and a Trainer training_summary.json on disk), starts the real
command (`tfx-e2e ui --home DIR --port 0`) in its own process, and times sequential GETs of `/` and of the newest
run's page from this process. The first request of each page is reported apart (the first run page waits for
the readers' imports, TensorFlow's among them); the rest give p50/p90/max. Writes benchmarks/results/ui_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from benchmarks.common import REPO, fresh_dir, machine, median, tfx_e2e, write_json
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.tfx_outputs import eval_config, write_evaluation, write_statistics
from trainer_module import training_summary


def build_home(home: Path, runs: int) -> list[str]:
    """`runs` taxi runs (each with statistics, an evaluation and a training summary); their ids, oldest first."""
    builder = Store(home / "metadata.sqlite")
    root = home / "pipeline_root"
    stats = write_statistics(root / "statistics", {
        split: (rows, {"fare": {"mean": 11.0, "std_dev": 3.0, "missing": 2},
                       "trip_miles": {"mean": 3.2, "std_dev": 1.1, "missing": 0},
                       "payment_type": {"unique": 5, "missing": 0},
                       "company": {"unique": 40, "missing": 12}})
        for split, rows in (("train", 10000), ("eval", 5000))})
    config = eval_config({"AUC": (0.5, -0.01)}, slices=("trip_start_hour",))
    ids = []
    for i in range(runs):
        run_id = f"2026-11-30T12:{i // 60:02d}:{i % 60:02d}.000000"
        slices = {"overall": {"auc": 0.90 + i / 1000, "example_count": 5000.0},
                  **{f"trip_start_hour={h}": {"auc": 0.85 + h / 100, "example_count": 200.0} for h in range(6)}}
        evaluation = write_evaluation(root / "evaluation" / str(i), slices, config)
        run = taxi_run(builder, root, run_id, statistics=stats, evaluation=evaluation, pushed_version=str(i + 1))
        model_run = builder.store.get_artifacts_by_id(run.outputs["Trainer"]["model_run"])[0].uri
        history = {"loss": [0.6 - 0.05 * e for e in range(5)], "val_loss": [0.62 - 0.04 * e for e in range(5)],
                   "auc": [0.8 + 0.02 * e for e in range(5)], "val_auc": [0.79 + 0.02 * e for e in range(5)]}
        training_summary.write(model_run, training_summary.build(
            strategy="default", reason="one CPU", replicas=1, workers=1, global_batch_size=64, mixed_precision=None,
            steps_per_execution=1, model_family="wide_deep", warm_start=False, warm_start_reason="first run",
            seed=42, history=history, steps_per_epoch=100, fit_seconds=12.0, wall_seconds=15.0, inputs=["fare"]))
        ids.append(run_id)
    return ids


def timed_get(url: str) -> float:
    """Seconds of one GET; the response must be 200."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        assert response.status == 200, (url, response.status)
    return time.perf_counter() - started


def stats(first: float, times: list[float]) -> dict:
    ordered = sorted(times)
    return {"first_ms": round(first * 1000, 1), "p50_ms": round(median(times) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1), "requests": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--work", type=Path, default=None, help="where to build the home (default: a fresh tmp dir)")
    args = parser.parse_args()
    home = fresh_dir("ui-latency", args.work)
    started = time.perf_counter()
    ids = build_home(home, args.runs)
    print(f"built {len(ids)} runs in {time.perf_counter() - started:.1f} s under {home}", flush=True)
    server = subprocess.Popen(tfx_e2e("ui", "--home", str(home), "--port", "0"), cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        url = re.match(r"serving (\S+) ", line).group(1)
        pages = {"runs_list": url, "run_page": url + f"run/{quote(ids[-1], safe='')}"}
        # The first request of each page, in the order a user clicks: the server is still importing the readers
        # (its warm-up thread builds the newest run's page at start); then the timed requests, one page at a time.
        first = {name: timed_get(page) for name, page in pages.items()}
        results = {}
        for name, page in pages.items():
            results[name] = stats(first[name], [timed_get(page) for _ in range(args.requests)])
            print(f"{name}: {json.dumps(results[name])}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = write_json("ui_latency", {"runs": args.runs, "pages": results, "machine": machine(),
                                    "load_average": os.getloadavg(), "target_p50_ms": 300})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
