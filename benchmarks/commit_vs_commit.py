"""`tfx-e2e run` of two commits side by side on this machine, alternating A B A B, with each component's CPU seconds.

    python -m benchmarks.commit_vs_commit --base e940fbb [--other HEAD] [--pairs 3] [--work DIR]

Each commit's tree is written with `git archive` into the work directory (the checkout is not touched) and run
with PYTHONPATH set to it, through its own `[project.scripts] tfx-e2e` entry point, with the default config and
a fresh --home. The machine's speed drifts from day to day and other work shares its cores, so absolute times
from different days do not compare (the per-component table of RESULTS.md section 1 is one day's); two commits
alternating on one machine do. Besides wall seconds, each run reports the CPU seconds of its process tree and,
per component, the wall and CPU seconds of the running process between TFX's "Component X is running." and
"... is finished." log records (time.process_time in the process: exact, not sampled, and far less sensitive to
other load than wall time). The load average before each run is recorded.

Writes benchmarks/results/commit_vs_commit.json; prints a table of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import PYTHON, REPO, env_with, machine, median, write_json

# Runs inside the measured process: records (component, start|end, wall, process CPU) from TFX's log records,
# then hands over to the tree's own CLI entry point. Writes the records as they come (the CLI may exit without
# interpreter teardown).
_HOOK = r'''
import json, logging, sys, time
out, entry = sys.argv[1], sys.argv[2]
sys.argv = ["tfx-e2e"] + sys.argv[3:]
records = [["process", "start", time.time(), time.process_time()]]
class Hook(logging.Handler):
    def emit(self, record):
        if record.msg in ("Component %s is running.", "Component %s is finished.") and record.args:
            kind = "start" if "running" in record.msg else "end"
            records.append([str(record.args[0]), kind, time.time(), time.process_time()])
            with open(out, "w") as f:
                json.dump(records, f)
logging.getLogger("absl").addHandler(Hook(level=logging.INFO))
module, _, function = entry.partition(":")
getattr(__import__(module, fromlist=[function]), function)()
'''


def checkout(commit: str, parent: Path) -> tuple[Path, str]:
    """(the commit's tree written under `parent`, its CLI entry point "module:function")."""
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", commit], check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = parent / f"tree-{sha}"
    if not tree.is_dir():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    match = re.search(r'^tfx-e2e\s*=\s*"([\w.]+:\w+)"', (tree / "pyproject.toml").read_text(), re.M)
    if not match:
        raise SystemExit(f"{commit}: pyproject.toml names no tfx-e2e entry point")
    return tree, match.group(1)


def components(records: list) -> dict[str, dict]:
    started, out = {}, {}
    for name, kind, wall, cpu in records[1:]:
        if kind == "start":
            started[name] = (wall, cpu)
        elif name in started:
            out[name] = {"wall": round(wall - started[name][0], 2), "cpu": round(cpu - started[name][1], 2)}
    return out


def run_once(label: str, tree: Path, entry: str, index: int, work: Path) -> dict:
    run_dir = Path(tempfile.mkdtemp(prefix=f"{label}-{index:02d}-", dir=work))
    (run_dir / "tmp").mkdir()
    records_file, hook = run_dir / "records.json", run_dir / "hook.py"
    hook.write_text(_HOOK)
    argv = [PYTHON, str(hook), str(records_file), entry, "run", "--home", str(run_dir / "home")]
    env = env_with(TF_USE_LEGACY_KERAS="1", PYTHONPATH=str(tree), TMPDIR=str(run_dir / "tmp"))
    load = os.getloadavg()
    started = time.perf_counter()
    with open(run_dir / "log", "wb") as log:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tree)
        _, status, usage = os.wait4(popen.pid, 0)
    wall = time.perf_counter() - started
    records = json.loads(records_file.read_text()) if records_file.exists() else []
    record = {
        "label": label, "index": index, "returncode": os.waitstatus_to_exitcode(status), "wall_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), "load_before": [round(x, 2) for x in load],
        "components": components(records), "dir": str(run_dir),
    }
    if len(records) > 1:
        record["before_first_component"] = {"wall": round(records[1][2] - records[0][2], 2),
                                            "cpu": round(records[1][3] - records[0][3], 2)}
    print(f"[{label} #{index}] rc={record['returncode']} wall={wall:.1f}s cpu={record['cpu_seconds']:.1f}s "
          f"load={load[0]:.2f}", flush=True)
    return record


def table(runs: list[dict], labels: list[str]) -> str:
    names = sorted({n for r in runs for n in r["components"]},
                   key=lambda n: -max(r["components"].get(n, {}).get("cpu", 0) for r in runs))
    head = "| | " + " | ".join(f"{label} wall s | {label} CPU s" for label in labels) + " |"
    lines = [head, "|---" * (1 + 2 * len(labels)) + "|"]

    def cell(label: str, pick) -> str:
        values = [v for r in runs if r["label"] == label and r["returncode"] == 0 for v in [pick(r)] if v is not None]
        return f"{median(values):.2f}" if values else "–"

    rows = [("whole run", lambda r: r["wall_seconds"], lambda r: r["cpu_seconds"]),
            ("before the first component", lambda r: r.get("before_first_component", {}).get("wall"),
             lambda r: r.get("before_first_component", {}).get("cpu"))]
    rows += [(n, lambda r, n=n: r["components"].get(n, {}).get("wall"),
              lambda r, n=n: r["components"].get(n, {}).get("cpu")) for n in names]
    for title, wall, cpu in rows:
        lines.append(f"| {title} | " + " | ".join(f"{cell(lb, wall)} | {cell(lb, cpu)}" for lb in labels) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit")
    parser.add_argument("--other", default="HEAD", help="the later commit (default HEAD)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="where trees and runs go (default: a temp dir)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="tfx-e2e-bench-commits-"))
    work.mkdir(parents=True, exist_ok=True)
    sides = [(commit, *checkout(commit, work)) for commit in (args.base, args.other)]
    runs = []
    for index in range(args.pairs):
        for label, tree, entry in sides:
            runs.append(run_once(label, tree, entry, index, work))
    labels = [label for label, _, _ in sides]
    print(table(runs, labels))
    path = write_json("commit_vs_commit", {"machine": machine(), "base": args.base, "other": args.other,
                                           "runs": runs, "table": table(runs, labels)})
    print(f"wrote {path}")
    return 0 if all(r["returncode"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
