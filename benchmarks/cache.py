"""Cache: an unchanged rerun's wall time as a fraction of the cold run's (default taxi config, fresh home).

Three runs of `tfx-e2e run` into one new home, each under the resource monitor:
  cold        everything executes;
  unchanged   the same command again: config, code, data and metadata are unchanged, so the CLI answers from
              the last run's record (pipeline/local/up_to_date.py) without starting TFX;
  always_run  the same command with --always-run: TFX compiles the pipeline, checks every component's cache
              in MLMD, records a new run, and re-uses every output (nothing re-executes).
Target: unchanged ≤ 10 % of cold. Both fractions are reported. The home is kept for the serving benchmark when
`keep_home` is set (its pushed model). Results: benchmarks/results/cache.json.

    python -m benchmarks.cache [--work DIR] [--keep-home]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Optional

from benchmarks.common import component_seconds, fresh_dir, machine, run_monitored, tfx_e2e, write_json

TARGET_FRACTION = 0.10


def _states(home: Path) -> dict[str, str]:
    return {node: c["state"] for node, c in component_seconds(home / "metadata.sqlite", "taxi").items()}


def run(work: Optional[Path] = None, keep_home: bool = False) -> dict:
    work = work or fresh_dir("cache")
    work.mkdir(parents=True, exist_ok=True)
    home = fresh_dir("home", work)
    runs = {}
    for name, extra in (("cold", []), ("unchanged", []), ("always_run", ["--always-run"])):
        result = run_monitored(tfx_e2e("run", "--home", str(home), *extra), work / f"{name}.log")
        if result.returncode != 0:
            raise RuntimeError(f"{name} run failed (exit {result.returncode}); see {result.log_path}")
        text = Path(result.log_path).read_text(errors="replace")
        runs[name] = {
            **result.summary(),
            "answered_without_tfx": "unchanged  config, code, data and metadata" in text,
        }
        if name != "unchanged":
            runs[name]["component_states"] = _states(home)
    cold = runs["cold"]["wall_seconds"]
    data = {
        "benchmark": "cache",
        "machine": machine(),
        "home": str(home),
        "runs": runs,
        "unchanged_fraction_of_cold": round(runs["unchanged"]["wall_seconds"] / cold, 4),
        "always_run_fraction_of_cold": round(runs["always_run"]["wall_seconds"] / cold, 4),
        "target": {
            "statement": f"unchanged rerun <= {TARGET_FRACTION:.0%} of the cold run",
            "met": runs["unchanged"]["wall_seconds"] <= TARGET_FRACTION * cold,
        },
    }
    data["path"] = str(write_json("cache", data))
    if not keep_home:
        shutil.rmtree(home, ignore_errors=True)
    return data


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cache", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--keep-home", action="store_true", help="keep the home (its pushed model) afterwards")
    args = parser.parse_args(argv)
    data = run(args.work, args.keep_home)
    r = data["runs"]
    print(f"cold {r['cold']['wall_seconds']} s; unchanged {r['unchanged']['wall_seconds']} s "
          f"({data['unchanged_fraction_of_cold']:.1%}); --always-run {r['always_run']['wall_seconds']} s "
          f"({data['always_run_fraction_of_cold']:.1%}); target met: {data['target']['met']}")
    print(f"wrote {data['path']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
