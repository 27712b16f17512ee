"""How the default pipeline scales with data: the taxi pipeline on F × the shipped rows, F in --factors.

First an untimed 1x warm-up run (--no-warmup skips it: a machine's first run pays for cold caches). Then for each
factor: generate the data (benchmarks/datagen.py: factor 1 is the shipped file itself), run `tfx-e2e run`
with the default config in a fresh home under a resource monitor (Beam mode auto: multi_processing from 100 MB of
input), and read back

- wall seconds, CPU utilisation (busy cores / machine cores) and peak RSS of the whole run (process tree);
- per component (from MLMD): seconds, and over the component's time window the average busy cores and peak RSS;
- Transform rows/s (all rows / Transform seconds; Transform analyses the train split and writes the transform
  graph; it does not materialize transformed examples: the Trainer applies the graph as it reads), Trainer
  examples/s (training_summary.json: steps × global batch / fit seconds; the Trainer runs a fixed number of steps,
  so its time does not grow with the data);
- the reference transform (benchmarks/reference_transform.py: the same analysis and transformed examples as a
  single-process pandas/numpy pass) on the same files, under the same monitor;
- normalised cost per row against the smallest factor (1): cost ratio = wall(F) / (F × wall(1)), 1.0 = linear,
  below 1 = fixed costs amortised; the same for each component's seconds.

Generated data, homes and reference outputs are deleted after their numbers are read unless --keep; the logs stay
in the work directory. Results: benchmarks/results/scale.json.

    python -m benchmarks.scale --factors 1,10,100 [--work DIR] [--keep] [--seed 0] [--no-warmup]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Optional, Sequence

import psutil

from benchmarks import datagen
from benchmarks.common import (
    PYTHON,
    REPO,
    CommandResult,
    component_seconds,
    fresh_dir,
    machine,
    run_monitored,
    tfx_e2e,
    write_json,
)

# Components whose numbers are reported per row of input (the others run on fixed-size inputs: schema, model).
DATA_COMPONENTS = ("CsvExampleGen", "StatisticsGen", "Transform", "Evaluator")


def _training_summary(home: Path) -> Optional[dict]:
    """The Trainer's training_summary.json (trainer_module/training_summary.py writes it to the model_run dir)."""
    found = sorted(glob.glob(str(home / "pipeline_root" / "Trainer" / "model_run" / "*" / "training_summary.json")))
    return json.loads(Path(found[-1]).read_text()) if found else None


def _beam_mode(home: Path) -> Optional[str]:
    """The DirectRunner mode the run used (auto: multi_processing from 100 MB), from the TFX log in its home."""
    for log in sorted((home / "logs").glob("*.log")):
        with log.open(errors="replace") as f:
            for line in f:
                found = re.search(r"--direct_running_mode=(\w+)", line)
                if found:
                    return found.group(1)
    return None


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (every process, every core) since boot."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0) - getattr(t, "guest", 0.0) - getattr(
        t, "guest_nice", 0.0)


def _monitored(argv: list[str], log: Path) -> tuple[CommandResult, dict]:
    """run_monitored, plus how busy the rest of the machine was meanwhile (other processes compete for the cores:
    a result measured next to them is slower than on an idle machine)."""
    load_before = os.getloadavg()[0]
    busy = _busy_seconds()
    result = run_monitored(argv, log, cwd=REPO)
    other = max(0.0, _busy_seconds() - busy - result.cpu_seconds)
    return result, {
        "load_average_1min_before": round(load_before, 2),
        "other_processes_cores": round(other / result.wall_seconds, 2) if result.wall_seconds else None,
    }


def _log_tail(path: str, lines: int = 15) -> list[str]:
    try:
        return Path(path).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _pipeline(data_dir: Path, home: Path, log: Path, rows: int) -> dict:
    """One `tfx-e2e run` in a fresh home, monitored; the numbers read from its MLMD store and Trainer summary."""
    from pipeline.paths import Home

    result, machine_load = _monitored(tfx_e2e("run", "--data", str(data_dir), "--home", str(home)), log)
    out: dict = {"run": {**result.summary(), **machine_load}, "beam_mode": _beam_mode(home)}
    if result.returncode != 0:
        out["error"] = _log_tail(result.log_path)
        for tfx_log in (home / "logs").glob("*.log"):  # the home may be deleted: keep its TFX log next to ours
            shutil.copy(tfx_log, log.with_name(f"{log.stem}.tfx-{tfx_log.name}"))
        return out
    components = {}
    for node_id, c in component_seconds(Home(home).metadata).items():
        components[node_id] = {
            "seconds": c["seconds"],
            "state": c["state"],
            **result.window(c["start"], c["end"]),
        }
    out["components"] = components
    transform = components.get("Transform", {}).get("seconds")
    out["transform_rows_per_second"] = round(rows / transform, 1) if transform else None
    summary = _training_summary(home)
    trainer = components.get("Trainer", {}).get("seconds")
    if summary:
        examples = summary["steps"] * summary["global_batch_size"]
        out["trainer"] = {
            "examples_per_second_fit": summary.get("examples_per_second"),  # model.fit only
            "examples_per_second_component": round(examples / trainer, 1) if trainer else None,
            "examples_trained": examples,
            "steps": summary["steps"],
            "epochs_run": summary.get("epochs_run"),
            "global_batch_size": summary["global_batch_size"],
            "strategy": summary.get("strategy"),
            "fit_and_export_seconds": summary.get("wall_seconds"),
        }
    return out


def _reference(data_dir: Path, out_dir: Path, log: Path) -> dict:
    """benchmarks.reference_transform in its own process under the same monitor (for its CPU and RSS)."""
    result_file = out_dir.with_suffix(".json")
    argv = [PYTHON, "-m", "benchmarks.reference_transform", "--data", str(data_dir), "--out", str(out_dir),
            "--json", str(result_file)]
    result, machine_load = _monitored(argv, log)
    out: dict = {"process": {**result.summary(), **machine_load}}
    if result.returncode != 0 or not result_file.exists():
        out["error"] = _log_tail(result.log_path)
        return out
    out.update(json.loads(result_file.read_text()))
    for key in ("features", "vocabulary_sizes"):
        out.pop(key, None)
    return out


def _cost_ratios(runs: dict[int, dict]) -> None:
    """Adds per-row cost ratios against the smallest factor: seconds(F) / ((F / F0) × seconds(F0))."""
    ok = {f: r for f, r in runs.items() if "components" in r["pipeline"]}
    if not ok:
        return
    base_factor = min(ok)
    base = ok[base_factor]
    for factor, r in ok.items():
        scale = factor / base_factor

        def ratio(now: Optional[float], then: Optional[float]) -> Optional[float]:
            return round(now / (scale * then), 3) if now and then else None

        r["cost_ratio"] = {
            "base_factor": base_factor,
            "wall": ratio(r["pipeline"]["run"]["wall_seconds"], base["pipeline"]["run"]["wall_seconds"]),
            "cpu": ratio(r["pipeline"]["run"]["cpu_seconds"], base["pipeline"]["run"]["cpu_seconds"]),
            "components": {
                node: ratio(c["seconds"], base["pipeline"]["components"].get(node, {}).get("seconds"))
                for node, c in r["pipeline"]["components"].items()
                if node in DATA_COMPONENTS
            },
            "reference_transform": ratio(r["reference_transform"].get("seconds"),
                                         base["reference_transform"].get("seconds")),
        }


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


def run(
    factors: Sequence[int] = (1, 10, 100),
    work: Optional[Path] = None,
    keep: bool = False,
    seed: int = 0,
    warmup: bool = True,
) -> dict:
    """Runs every factor in order (smallest first); returns and writes benchmarks/results/scale.json."""
    work = Path(work) if work else fresh_dir("scale")
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[int, dict] = {}
    started = time.time()
    warmup_seconds = None
    if warmup:
        # One untimed 1x run first: the first pipeline run on a machine pays for cold file caches (imports,
        # the venv's .pyc files), which would otherwise inflate the smallest factor and so every cost ratio.
        print("[scale] warm-up: one 1x run (not reported)", flush=True)
        data_dir, home = work / "data-warmup", work / "home-warmup"
        datagen.generate(1, data_dir, seed=seed)
        warm = run_monitored(tfx_e2e("run", "--data", str(data_dir), "--home", str(home)),
                             work / "run-warmup.log", cwd=REPO)
        warmup_seconds = round(warm.wall_seconds, 2)
        _remove(data_dir, home)
        if warm.returncode != 0:
            raise RuntimeError(f"the warm-up run failed (exit {warm.returncode}); see {warm.log_path}")
    for factor in sorted(set(factors)):
        data_dir, home = work / f"data-{factor}x", work / f"home-{factor}x"
        ref_out = work / f"reference-{factor}x"
        for path in (data_dir, home, ref_out):
            if path.exists():
                raise FileExistsError(f"{path} exists; use a fresh --work directory")
        print(f"[scale] {factor}x: generating data", flush=True)
        data = datagen.generate(factor, data_dir, seed=seed)
        print(f"[scale] {factor}x: {data['rows']} rows, {data['bytes'] / 2**20:.1f} MB; running the pipeline",
              flush=True)
        pipeline = _pipeline(data_dir, home, work / f"run-{factor}x.log", data["rows"])
        print(f"[scale] {factor}x: pipeline {pipeline['run']['wall_seconds']} s (exit {pipeline['run']['returncode']})"
              "; reference transform", flush=True)
        reference = _reference(data_dir, ref_out, work / f"reference-{factor}x.log")
        entry = {"data": data, "pipeline": pipeline, "reference_transform": reference}
        transform = pipeline.get("components", {}).get("Transform", {}).get("seconds")
        if transform and reference.get("seconds"):
            entry["transform_vs_reference"] = round(transform / reference["seconds"], 1)
        runs[factor] = entry
        print(f"[scale] {factor}x: reference {reference.get('seconds')} s", flush=True)
        if not keep:
            _remove(data_dir, home, ref_out, ref_out.with_suffix(".json"))
    _cost_ratios(runs)
    result = {
        "machine": machine(),
        "factors": sorted(runs),
        "seed": seed,
        "work": str(work),
        "kept": keep,
        "total_seconds": round(time.time() - started, 1),
        "warmup_seconds": warmup_seconds,
        "runs": {str(f): r for f, r in runs.items()},
        "notes": [
            "factor 1 is the shipped taxi CSV; factor F > 1 is F × 15,002 resampled, jittered rows (datagen.py)",
            "cost_ratio = seconds(F) / ((F / base) × seconds(base)): 1.0 linear, < 1 fixed costs amortised",
            "transform_rows_per_second counts every row (Transform analyses the train split; no transformed copy is written: the Trainer applies the transform graph as it reads)",
            "the Trainer runs a fixed number of steps: its time does not follow the data size",
            "transform_vs_reference = Transform seconds / reference transform seconds (TF import not counted)",
            "other_processes_cores: average cores other processes kept busy during a measurement (> 0.2 on this "
            "2-core machine: the numbers are slower than on an idle machine)",
        ],
    }
    path = write_json("scale", result)
    print(f"[scale] wrote {path}", flush=True)
    return result


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", default="1,10,100", help="comma-separated data factors (default 1,10,100)")
    parser.add_argument("--work", type=Path, help="work directory for data, homes and logs (default: a fresh temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data, homes and reference outputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed 1x warm-up run")
    args = parser.parse_args(argv)
    factors = [int(f) for f in args.factors.split(",") if f.strip()]
    run(factors, args.work, keep=args.keep, seed=args.seed, warmup=not args.no_warmup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
