"""The practical limit for our Transform: the same analysis and transformation as a plain pandas/numpy pass.

Computes what trainer_module/preprocessing.py computes for the taxi config (pipeline/configs/taxi.yaml) and writes
the same transformed features as our Transform's transformed_examples — gzipped TFRecords of tf.train.Example, one
record per row, the same feature names and dtypes:

- numeric (fare, trip_miles, trip_seconds) → float: missing filled with the column mean, then z-score
  ((x - mean) / std of the filled column, as tft.scale_to_z_score on the mean-filled tensor);
- bucketized (pickup/dropoff latitude/longitude, 10 buckets) → int64: mean-filled, then the bucket among the 9
  deciles (tft.bucketize; exact quantiles here where tft computes approximate ones);
- categorical (company, payment_type and the configured integer columns) → int64: a missing value is its own
  category ("" / -1), vocabulary ordered by frequency then value descending (as tft.vocabulary, which leaves ""
  out: a missing string gets an OOV id), top_k 1000, an unseen value one of 10 hashed OOV ids after the vocabulary;
- label big_tipper_xf → int64: tips > 0.2 × fare.

Fair, not clever: vectorised pandas/numpy for reading, analysing and transforming, tf.train.Example serialisation
through the protobuf API (one message reused, its values set per row) and tf.io.TFRecordWriter (GZIP), one process.
Differences from Transform: it analyses every row (Transform analyses the train split, 2/3 of the rows), and it
writes the transformed examples (one file), which Transform no longer does (the Trainer applies the transform graph
as it reads): both in the reference's disfavour; its read+analyze phases alone are the like-for-like part. It reads only the columns it
needs (trip_start_timestamp is excluded by the config). TensorFlow's import is timed apart ("setup") and not counted.

    python -m benchmarks.reference_transform --data DIR --out DIR
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

# The taxi config's feature plan (trainer_module.features.plan_features on schemas/taxi/schema.pbtxt + taxi.yaml).
NUMERIC = ("fare", "trip_miles", "trip_seconds")
BUCKETIZED = {"dropoff_latitude": 10, "dropoff_longitude": 10, "pickup_latitude": 10, "pickup_longitude": 10}
CATEGORICAL_STRINGS = ("company", "payment_type")
CATEGORICAL_INTS = (
    "dropoff_census_tract",
    "dropoff_community_area",
    "pickup_census_tract",
    "pickup_community_area",
    "trip_start_day",
    "trip_start_hour",
    "trip_start_month",
)
LABEL = "big_tipper"
LABEL_INPUTS = ("tips", "fare")
BIG_TIP_FRACTION = 0.2
TOP_K = 1000
OOV_BUCKETS = 10
SUFFIX = "_xf"
WRITE_CHUNK = 100_000  # rows converted to Python lists at a time while writing

COLUMNS = sorted({*NUMERIC, *BUCKETIZED, *CATEGORICAL_STRINGS, *CATEGORICAL_INTS, *LABEL_INPUTS})
DTYPES = {
    **{c: np.float64 for c in COLUMNS},  # integers too: an empty cell is NaN (float64 holds the tract ids exactly)
    **{c: object for c in CATEGORICAL_STRINGS},
}


def read(data_dir: Path) -> pd.DataFrame:
    """Every CSV file of data_dir (as CsvExampleGen reads them), the needed columns only."""
    files = sorted(p for p in Path(data_dir).iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"no files in {data_dir}")
    frames = [pd.read_csv(f, usecols=COLUMNS, dtype=DTYPES, keep_default_na=False, na_values=[""]) for f in files]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _vocabulary(keys: pd.Series) -> list:
    """Values by frequency, ties by their string (bytes) descending, top_k: tft.vocabulary's order. Like tft, the
    empty string and strings with a line break are left out (a missing string category so gets an OOV id)."""
    counts = keys.value_counts(sort=False)
    order = sorted(zip(counts.to_numpy().tolist(), counts.index.tolist()), key=lambda cv: (cv[0], str(cv[1]).encode()),
                   reverse=True)
    order = [(c, v) for c, v in order if not (isinstance(v, str) and (v == "" or "\n" in v or "\r" in v))]
    return [value for _, value in order[:TOP_K]]


def _category_keys(df: pd.DataFrame, column: str) -> pd.Series:
    if column in CATEGORICAL_STRINGS:
        return df[column].fillna("")
    return df[column].fillna(-1).astype(np.int64)


def analyze(df: pd.DataFrame) -> dict:
    """Full-pass statistics: means and standard deviations, decile boundaries, vocabularies."""
    stats: dict = {"numeric": {}, "buckets": {}, "vocabularies": {}}
    for column in NUMERIC:
        values = df[column].to_numpy(dtype=np.float32)
        mean = float(np.nanmean(values, dtype=np.float64))
        filled = np.where(np.isnan(values), np.float32(mean), values)
        stats["numeric"][column] = (mean, float(filled.std(dtype=np.float64)))
    for column, buckets in BUCKETIZED.items():
        values = df[column].to_numpy(dtype=np.float32)
        mean = np.float32(np.nanmean(values, dtype=np.float64))
        filled = np.where(np.isnan(values), mean, values)
        boundaries = np.quantile(filled, np.arange(1, buckets) / buckets).astype(np.float32)
        stats["buckets"][column] = (mean, np.unique(boundaries))
    for column in (*CATEGORICAL_STRINGS, *CATEGORICAL_INTS):
        stats["vocabularies"][column] = _vocabulary(_category_keys(df, column))
    return stats


def _oov(values: np.ndarray, vocab_size: int) -> np.ndarray:
    """OOV ids of values not in the vocabulary: vocab_size + FarmHash64(string) % OOV_BUCKETS, as tft's lookup
    table (hashed once per distinct value)."""
    import tensorflow as tf

    unique, inverse = np.unique(np.array([str(v) for v in values], dtype=object), return_inverse=True)
    buckets = tf.strings.to_hash_bucket_fast(list(unique), OOV_BUCKETS).numpy().astype(np.int64)
    return vocab_size + buckets[inverse]


def transform(df: pd.DataFrame, stats: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """({float feature: float32 array}, {int feature: int64 array}) for every row."""
    floats: dict[str, np.ndarray] = {}
    ints: dict[str, np.ndarray] = {}
    for column, (mean, std) in stats["numeric"].items():
        values = df[column].to_numpy(dtype=np.float32)
        filled = np.where(np.isnan(values), np.float32(mean), values)
        centred = filled - np.float32(mean)
        floats[column + SUFFIX] = (centred / np.float32(std) if std > 0 else centred).astype(np.float32)
    for column, (mean, boundaries) in stats["buckets"].items():
        values = df[column].to_numpy(dtype=np.float32)
        filled = np.where(np.isnan(values), mean, values)
        ints[column + SUFFIX] = np.searchsorted(boundaries, filled, side="right").astype(np.int64)
    for column, vocabulary in stats["vocabularies"].items():
        keys = _category_keys(df, column)
        ids = pd.Index(vocabulary).get_indexer(keys).astype(np.int64)
        unseen = ids < 0
        if unseen.any():
            ids[unseen] = _oov(keys.to_numpy()[unseen], len(vocabulary))
        ints[column + SUFFIX] = ids
    tips = df["tips"].fillna(0).to_numpy(dtype=np.float32)
    fare = df["fare"].fillna(0).to_numpy(dtype=np.float32)
    ints[LABEL + SUFFIX] = (tips > fare * np.float32(BIG_TIP_FRACTION)).astype(np.int64)
    return floats, ints


def write(floats: dict[str, np.ndarray], ints: dict[str, np.ndarray], out_dir: Path) -> Path:
    """One gzipped TFRecord file of tf.train.Example, one record per row."""
    import tensorflow as tf
    from tensorflow.core.example import example_pb2

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "transformed_examples-00000-of-00001.gz"
    example = example_pb2.Example()
    feature = example.features.feature
    names = sorted(floats) + sorted(ints)
    slots = []
    for name in sorted(floats):
        slot = feature[name].float_list.value
        slot.append(0.0)
        slots.append(slot)
    for name in sorted(ints):
        slot = feature[name].int64_list.value
        slot.append(0)
        slots.append(slot)
    arrays = [floats.get(n, ints.get(n)) for n in names]
    rows = len(arrays[0])
    serialize = example.SerializeToString
    # deterministic: map entries in key order, so the same rows always give the same bytes (the C++ protobuf
    # otherwise orders the feature map by hash, and the gzipped size varies from run to run by ~6 %).
    with tf.io.TFRecordWriter(str(path), options=tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for start in range(0, rows, WRITE_CHUNK):
            columns = [a[start : start + WRITE_CHUNK].tolist() for a in arrays]
            for row in zip(*columns):
                for slot, value in zip(slots, row):
                    slot[0] = value
                writer.write(serialize(deterministic=True))
    return path


def run(data_dir: Path, out_dir: Path) -> dict:
    """Reads, analyses, transforms and writes; returns rows, seconds (the four phases) and their split."""
    t = time.perf_counter()
    import tensorflow as tf  # noqa: F401  (setup, not counted: Transform's workers have it imported too)

    setup = time.perf_counter() - t
    phases = {}
    t = time.perf_counter()
    df = read(Path(data_dir))
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = analyze(df)
    phases["analyze"] = time.perf_counter() - t
    t = time.perf_counter()
    floats, ints = transform(df, stats)
    phases["transform"] = time.perf_counter() - t
    rows = len(df)
    del df
    t = time.perf_counter()
    path = write(floats, ints, Path(out_dir))
    phases["write"] = time.perf_counter() - t
    seconds = sum(phases.values())
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds, 1) if seconds else None,
        "phases": {k: round(v, 2) for k, v in phases.items()},
        "setup_seconds": round(setup, 2),
        "output_bytes": path.stat().st_size,
        "features": {"float": sorted(floats), "int64": sorted(ints)},
        "vocabulary_sizes": {k: len(v) for k, v in stats["vocabularies"].items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reference_transform",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory of taxi CSV files")
    parser.add_argument("--out", type=Path, required=True, help="where the gzipped TFRecords go")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args.data, args.out)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
