"""Taxi-like CSV data at F × the rows of the Chicago taxi CSV shipped in the tfx package, deterministically.

Factor 1 is the shipped file itself (a byte-for-byte copy), so a 1× benchmark run is the default run. Factor F > 1
resamples F × 15,002 rows with replacement (numpy Generator seeded with `seed`) and jitters the continuous columns:

- fare and tips: one multiplicative factor per row (shared, so the label tips > 0.2 × fare keeps its distribution),
  rounded to cents like the source;
- trip_miles: its own multiplicative factor, 2 decimals; trip_seconds (an INT column in the schema): its own factor,
  rounded to a whole second and written as an integer (a "300.0" would make CsvExampleGen infer FLOAT);
- pickup/dropoff latitude/longitude: a small additive offset (± JITTER_DEGREES, tens of metres), 9 decimals.

Everything else (categorical and integer columns: hours, days, months, timestamps, census tracts, community areas,
payment type, company) is kept as resampled, text unchanged, so every value stays inside the schema's domains. An
empty cell stays empty in every column (missing stays missing; jitter never produces NaN/Inf). The header and column
order are the source's. Rows are generated and written one file at a time (≤ MAX_ROWS_PER_FILE rows each), so
100× (1.5M rows) needs memory for one file's rows only; CsvExampleGen reads every file of the directory.

    python -m benchmarks.datagen --factor 10 --out DIR [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

MAX_ROWS_PER_FILE = 250_000
SOURCE_RELATIVE = Path("examples/chicago_taxi_pipeline/data/simple/data.csv")

# Multiplicative jitter: uniform in [1 - SCALE_JITTER, 1 + SCALE_JITTER]; additive jitter of coordinates in degrees.
SCALE_JITTER = 0.03
JITTER_DEGREES = 0.0005  # about 55 m of latitude

MONEY = ("fare", "tips")  # same factor per row
COORDINATES = ("pickup_latitude", "pickup_longitude", "dropoff_latitude", "dropoff_longitude")
MILES = "trip_miles"
SECONDS = "trip_seconds"


def source_csv() -> Path:
    """The taxi CSV inside the installed tfx package (found without importing tfx)."""
    spec = importlib.util.find_spec("tfx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the tfx package is not installed in this interpreter")
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_RELATIVE
    if not path.is_file():
        raise RuntimeError(f"{path} does not exist (tfx installed without its examples?)")
    return path


def _numeric(column: pd.Series) -> np.ndarray:
    """float64 values of a text column; an empty cell is NaN."""
    return pd.to_numeric(column.replace("", np.nan)).to_numpy(dtype=np.float64)


def _prepare(source: pd.DataFrame) -> dict[str, np.ndarray]:
    """The jittered columns of the source parsed once (NaN = empty cell)."""
    return {c: _numeric(source[c]) for c in (*MONEY, *COORDINATES, MILES, SECONDS)}


def _chunk(source: pd.DataFrame, parsed: dict[str, np.ndarray], rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """`rows` resampled and jittered rows, the source's columns in the source's order."""
    idx = rng.integers(0, len(source), size=rows)
    out = source.iloc[idx].reset_index(drop=True)  # text columns kept exactly as resampled
    # Draw the noise in a fixed order, whole arrays at a time, so a seed always gives the same data.
    money_scale = rng.uniform(1 - SCALE_JITTER, 1 + SCALE_JITTER, size=rows)
    miles_scale = rng.uniform(1 - SCALE_JITTER, 1 + SCALE_JITTER, size=rows)
    seconds_scale = rng.uniform(1 - SCALE_JITTER, 1 + SCALE_JITTER, size=rows)
    offsets = rng.uniform(-JITTER_DEGREES, JITTER_DEGREES, size=(len(COORDINATES), rows))

    for column in MONEY:
        # NaN stays NaN (written as an empty cell); the schema requires both, and the source has no empty ones.
        out[column] = np.round(parsed[column][idx] * money_scale, 2)
    out[MILES] = np.round(parsed[MILES][idx] * miles_scale, 2)
    seconds = np.round(parsed[SECONDS][idx] * seconds_scale)
    out[SECONDS] = pd.array(seconds, dtype="Int64")  # NaN → <NA> → empty cell; others written as integers
    for column, offset in zip(COORDINATES, offsets):
        out[column] = np.round(parsed[column][idx] + offset, 9)
    return out


def generate(factor: int, out_dir: Path, seed: int = 0) -> dict:
    """Writes factor × the shipped rows as CSV files into out_dir (created; must be empty). Returns what it wrote."""
    if factor < 1:
        raise ValueError(f"factor must be ≥ 1, got {factor}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise ValueError(f"{out_dir} is not empty; CsvExampleGen would read its other files too")
    started = time.perf_counter()
    src = source_csv()
    files: list[Path] = []
    if factor == 1:
        target = out_dir / "data.csv"
        shutil.copyfile(src, target)
        files.append(target)
        with src.open("rb") as f:
            rows = sum(1 for _ in f) - 1
    else:
        # dtype=str + keep_default_na=False: every cell keeps its exact text, an empty cell is "".
        source = pd.read_csv(src, dtype=str, keep_default_na=False)
        parsed = _prepare(source)
        rng = np.random.default_rng(seed)
        rows = factor * len(source)
        n_files = math.ceil(rows / MAX_ROWS_PER_FILE)
        width = max(3, len(str(n_files - 1)))
        base, extra = divmod(rows, n_files)
        for i in range(n_files):
            chunk = _chunk(source, parsed, base + (1 if i < extra else 0), rng)
            target = out_dir / f"data-{i:0{width}d}.csv"
            chunk.to_csv(target, index=False, na_rep="", lineterminator="\n")
            files.append(target)
            del chunk
    return {
        "factor": factor,
        "seed": seed,
        "rows": rows,
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "seconds": round(time.perf_counter() - started, 2),
        "out_dir": str(out_dir),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.datagen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=int, required=True, help="rows = factor × 15,002 (1 = the shipped file)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created; must be empty)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.factor, args.out, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
