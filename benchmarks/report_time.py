"""`tfx-e2e report` wall time on a full taxi run (issue #13's target: ≤ 2 s) and the report's size.

    python -m benchmarks.report_time [--home DIR] [--repeats 5]

Without --home it first runs the default taxi pipeline into a fresh home (about 45 s). Each repeat is the whole
command in a new process (`tfx-e2e report latest --home H --out FILE`), as a user runs it. Writes
benchmarks/results/report_time.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from benchmarks.common import fresh_dir, machine, median, tfx_e2e, write_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home holding a finished taxi run (default: run one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    home = args.home
    if home is None:
        home = fresh_dir("report-time") / "home"
        subprocess.run(tfx_e2e("run", "--home", str(home)), check=True, stdout=subprocess.DEVNULL)
    out = home / "bench-report.html"
    seconds = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        subprocess.run(tfx_e2e("report", "latest", "--home", str(home), "--out", str(out)), check=True,
                       stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - started)
    result = {
        "machine": machine(),
        "load_average": list(os.getloadavg()),
        "seconds": [round(s, 3) for s in seconds],
        "median_seconds": round(median(seconds), 3),
        "bytes": out.stat().st_size,
        "target_seconds": 2.0,
        "met": median(seconds) <= 2.0,
    }
    print(f"tfx-e2e report: median {result['median_seconds']} s over {args.repeats}, {result['bytes']:,} bytes")
    print(f"wrote {write_json('report_time', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
