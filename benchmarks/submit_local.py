"""`tfx-e2e submit FILE --target local` on the taxi data next to `tfx-e2e run` (issue #14's target: ≤ 1.5× of it).

    python -m benchmarks.submit_local [--pairs 2] [--work DIR]

The default taxi config compiled for Vertex (gs:// roots) and run here with `--param data-root=<the bundled taxi
CSV>`, fresh workdir each time, alternating with `tfx-e2e run` into a fresh home on the same CSV; then, once each:
a rerun of the compiled file in the first workdir (ExampleGen to Trainer from the cache; the Evaluator and the Pusher
run again because the resolver now hands them a baseline), and a run with `--beam-mode as-compiled` (the Beam mode
the file asks for: multi-processing on every core). Writes benchmarks/results/submit_local.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from benchmarks.common import fresh_dir, machine, median, tfx_e2e, write_json


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    from pipeline.config.schema import TAXI_PACKAGE_DATA, resolve_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or fresh_dir("submit-local")
    work.mkdir(parents=True, exist_ok=True)
    data = str(resolve_data_dir(TAXI_PACKAGE_DATA))
    compiled = work / "taxi-vertex.json"
    subprocess.run(tfx_e2e("compile", "--target", "vertex", "--image", "bench/tfx-e2e:1", "--pipeline-root",
                           "gs://bench/root", "--data", "gs://bench/data/taxi", "--serving-dir", "gs://bench/serving",
                           "--out", str(compiled), "--home", str(work / "compile-home")),
                   check=True, stdout=subprocess.DEVNULL)

    def local(workdir: Path, *extra: str) -> float:
        return _timed(tfx_e2e("submit", str(compiled), "--target", "local", "--workdir", str(workdir),
                              "--param", f"data-root={data}", "--home", str(work / "submit-home"), *extra))

    run_s, local_s = [], []
    for i in range(args.pairs):
        run_s.append(_timed(tfx_e2e("run", "--home", str(work / f"run-home-{i}"))))
        local_s.append(local(work / f"workdir-{i}"))
        print(f"pair {i + 1}: run {run_s[-1]:.1f} s, submit --target local {local_s[-1]:.1f} s", flush=True)
    cached = local(work / "workdir-0")
    as_compiled = local(work / "workdir-as-compiled", "--beam-mode", "as-compiled")
    ratio = median(local_s) / median(run_s)
    result = {
        "machine": machine(),
        "load_average": list(os.getloadavg()),
        "run_seconds": [round(s, 2) for s in run_s],
        "local_seconds": [round(s, 2) for s in local_s],
        "median_run_seconds": round(median(run_s), 2),
        "median_local_seconds": round(median(local_s), 2),
        "ratio": round(ratio, 3),
        "cached_rerun_seconds": round(cached, 2),
        "as_compiled_beam_seconds": round(as_compiled, 2),
        "target_ratio": 1.5,
        "met": ratio <= 1.5,
    }
    print(f"submit --target local {result['median_local_seconds']} s vs run {result['median_run_seconds']} s: "
          f"{result['ratio']}×; cached rerun {result['cached_rerun_seconds']} s; Beam as compiled "
          f"{result['as_compiled_beam_seconds']} s")
    print(f"wrote {write_json('submit_local', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
