"""Permutation importance: how much a model's eval metric drops when one raw column's values are shuffled.

The rows are serialized tf.Examples. Each row's feature entries are cut out of its bytes once (one `features` map
entry each, as the wire holds it; a record of an unusual shape is parsed and re-serialized instead), so a row with
column c taken from another row is the other entries joined with that row's c entry: no proto parsing or
serialization per shuffle. A row that lacks c (a missing value) gives an empty entry, so missing values move with
the shuffle too. Pure numpy and protobuf: the executor supplies the
model as a function from serialized examples to one output array.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

# The metric of each task and whether higher is better; importance = drop of the metric in the better direction.
METRICS = {
    "binary": ("auc", True),
    "multiclass": ("accuracy", True),
    "regression": ("r2", True),
    "reconstruction": ("reconstruction_error", False),
}
BATCH = 8192  # rows per serving call (all repeats of a column at the default 2,000 rows × 3)


@dataclass(frozen=True)
class FeatureScore:
    name: str
    importance: float  # baseline metric − mean metric over the shuffles (in the better direction)
    std: float  # standard deviation of that drop over the repeats


@dataclass
class Result:
    metric: str
    higher_is_better: bool
    baseline: float
    rows: int
    repeats: int
    seed: int
    features: list[FeatureScore] = field(default_factory=list)  # most important first
    note: str = ""  # why there are no importances, when there are none

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: Mapping) -> "Result":
        features = [FeatureScore(**f) for f in record.get("features", [])]
        return cls(**{**record, "features": features})


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(payload: bytes) -> bytes:
    """Field number 1, wire type 2 (length-delimited): how Example.features, the Features.feature map's entries
    and an entry's key are all written."""
    return b"\x0a" + _varint(len(payload)) + payload


def map_entry(name: str, feature: bytes) -> bytes:
    """One entry of Features.feature (map<string, Feature>): key = field 1, value = field 2."""
    key = name.encode()
    return _field(b"\x0a" + _varint(len(key)) + key + b"\x12" + _varint(len(feature)) + feature)


def example_bytes(entries: Iterable[bytes]) -> bytes:
    """A serialized tf.train.Example from its map entries (in any order: a map's order carries no meaning)."""
    return _field(b"".join(entries))


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _entries_on_the_wire(record: bytes) -> dict[str, bytes] | None:
    """{feature name: its map-entry field, as the record holds it}, read from the bytes without parsing the
    Features; None when the record has another shape than the one tf.Example writers produce (then it is parsed)."""
    out: dict[str, bytes] = {}
    pos, end = 0, len(record)
    try:
        while pos < end:  # Example: field 1 (features), possibly split into several occurrences
            if record[pos] != 0x0A:
                return None
            size, pos = _read_varint(record, pos + 1)
            stop = pos + size
            while pos < stop:  # Features: repeated field 1, map entries
                start = pos
                if record[pos] != 0x0A:
                    return None
                size, pos = _read_varint(record, pos + 1)
                entry_end = pos + size
                if record[pos] != 0x0A:  # the entry's key first, as every writer puts it
                    return None
                key_size, key_at = _read_varint(record, pos + 1)
                out[record[key_at:key_at + key_size].decode()] = record[start:entry_end]
                pos = entry_end
            if pos != stop:
                return None
    except (IndexError, UnicodeDecodeError):
        return None
    return out


class Table:
    """Rows as per-column map-entry bytes, for the columns the model parses (the others are dropped)."""

    def __init__(self, serialized: Sequence[bytes], columns: Sequence[str]):
        self.columns = list(columns)
        self.entries: dict[str, list[bytes]] = {c: [] for c in self.columns}
        for record in serialized:
            entries = _entries_on_the_wire(record)
            if entries is None:
                from tensorflow.core.example import example_pb2

                features = example_pb2.Example.FromString(record).features.feature
                entries = {c: map_entry(c, features[c].SerializeToString()) for c in self.columns if c in features}
            for c in self.columns:
                self.entries[c].append(entries.get(c, b""))
        self.rows = len(serialized)

    def examples(self) -> list[bytes]:
        return [example_bytes(self.entries[c][i] for c in self.columns) for i in range(self.rows)]

    def others(self, column: str) -> list[bytes]:
        """Each row's entries except `column`, joined (shared by every shuffle of that column)."""
        rest = [self.entries[c] for c in self.columns if c != column]
        return [b"".join(col[i] for col in rest) for i in range(self.rows)]

    def shuffled(self, others: list[bytes], column: str, order: np.ndarray) -> list[bytes]:
        values = self.entries[column]
        return [_field(others[i] + values[j]) for i, j in enumerate(order.tolist())]


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC (Mann–Whitney U with average ranks for ties)."""
    labels = labels.astype(bool)
    positives = int(labels.sum())
    negatives = labels.size - positives
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    ranks = (upper - (counts - 1) / 2.0)[inverse]
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def score(task: str, outputs: np.ndarray, labels: np.ndarray) -> float:
    """The task's metric (METRICS) of one output array against the labels."""
    if task == "binary":
        return auc(labels.reshape(-1), outputs.reshape(-1))
    if task == "multiclass":
        return float(np.mean(np.argmax(outputs.reshape(len(labels), -1), axis=1) == labels.reshape(-1)))
    if task == "regression":
        y, p = labels.reshape(-1).astype(np.float64), outputs.reshape(-1).astype(np.float64)
        total = float(np.sum((y - y.mean()) ** 2))
        return 1.0 - float(np.sum((y - p) ** 2)) / total if total > 0 else 0.0
    if task == "reconstruction":
        return float(np.mean(outputs))
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(METRICS)}")


def usable(task: str, labels: np.ndarray) -> str:
    """'' when the metric is defined on these labels, else why it is not."""
    if task == "binary" and len(np.unique(labels.reshape(-1))) < 2:
        return "the eval rows hold one class only: AUC is undefined"
    if task == "regression" and len(labels) and float(np.std(labels)) == 0.0:
        return "the eval rows' labels are all equal: R² is undefined"
    return ""


def _column_rng(seed: int, column: str) -> np.random.Generator:
    """One generator per column: a column's shuffles do not depend on which other columns exist."""
    return np.random.default_rng([seed, zlib.crc32(column.encode())])


def importance(
    predict: Callable[[list[bytes]], np.ndarray],
    table: Table,
    labels: np.ndarray,
    task: str,
    repeats: int,
    seed: int,
) -> Result:
    """Baseline metric, then per column the mean and std over `repeats` seeded shuffles of the metric's drop."""
    metric, higher = METRICS[task]
    sign = 1.0 if higher else -1.0

    def outputs(batch: list[bytes]) -> np.ndarray:
        return np.concatenate([predict(batch[i:i + BATCH]) for i in range(0, len(batch), BATCH)])

    baseline = score(task, outputs(table.examples()), labels)
    scores = []
    for column in table.columns:
        values = table.entries[column]
        if len(set(values)) <= 1:  # a constant (or always missing) column: shuffling changes nothing
            scores.append(FeatureScore(column, 0.0, 0.0))
            continue
        rng, others = _column_rng(seed, column), table.others(column)
        # Every repeat of one column in as few serving calls as BATCH allows, then scored repeat by repeat.
        batch = [row for _ in range(repeats) for row in table.shuffled(others, column, rng.permutation(table.rows))]
        predicted = outputs(batch)
        drops = [sign * (baseline - score(task, predicted[r * table.rows:(r + 1) * table.rows], labels))
                 for r in range(repeats)]
        scores.append(FeatureScore(column, float(np.mean(drops)), float(np.std(drops))))
    scores.sort(key=lambda f: (-f.importance, f.name))
    return Result(metric, higher, float(baseline), table.rows, repeats, seed, scores)
