"""A run's feature importance read back from its FeatureImportance artifact (components/feature_importance): the
table, the summary's one line, the side-by-side rows of `tfx-e2e compare`, and a rank correlation of two tables."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from components import proto_io
from components.feature_importance.properties import IMPORTANCE_FILE, IMPORTANCE_KEY
from pipeline.dag import node_ids

TOP = 5  # features in the summary line


@dataclass(frozen=True)
class Feature:
    name: str
    importance: float
    std: float


@dataclass
class ImportanceTable:
    """importance.json of one run: every raw feature, most important first."""

    metric: str
    higher_is_better: bool
    baseline: float
    rows: int
    repeats: int
    seed: int
    features: list[Feature] = field(default_factory=list)
    note: str = ""
    uri: str = ""

    @property
    def drop_words(self) -> str:
        """What an importance measures, e.g. "auc drop when shuffled"."""
        return f"{self.metric} {'drop' if self.higher_is_better else 'rise'} when shuffled"

    def ranks(self) -> dict[str, int]:
        return {f.name: i + 1 for i, f in enumerate(self.features)}


def read(uri: str) -> Optional[ImportanceTable]:
    """The table in a FeatureImportance artifact's directory; None when it holds none (or an unreadable one)."""
    try:
        with proto_io.open_file(os.path.join(uri, IMPORTANCE_FILE), "r") as f:
            record = json.loads(f.read())
        features = [Feature(str(f["name"]), float(f["importance"]), float(f["std"])) for f in record["features"]]
        return ImportanceTable(str(record["metric"]), bool(record["higher_is_better"]), float(record["baseline"]),
                               int(record["rows"]), int(record["repeats"]), int(record["seed"]), features,
                               str(record.get("note") or ""), uri)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def from_executions(executions: Mapping[str, Any]) -> Optional[ImportanceTable]:
    """The table of a run's FeatureImportance node (pipeline.metadata.runs.NodeExecution per node id)."""
    execution = executions.get(node_ids.FEATURE_IMPORTANCE)
    artifacts = execution.outputs.get(IMPORTANCE_KEY, []) if execution else []
    return read(artifacts[0].uri) if artifacts else None


def _value(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def summary_line(table: ImportanceTable, top: int = TOP) -> str:
    """e.g. "trip_miles 0.081, fare 0.052, ... (auc drop when shuffled, 2000 eval rows × 3)"."""
    where = f"({table.drop_words}, {table.rows} eval rows × {table.repeats})"
    if not table.features:
        return f"none: {table.note or 'no features'} {where}"
    return ", ".join(f"{f.name} {_value(f.importance)}" for f in table.features[:top]) + f"  {where}"


def side_by_side(a: ImportanceTable, b: ImportanceTable) -> list[tuple[str, str, Optional[float], Optional[float]]]:
    """(feature, "rank A/rank B", importance in A, in B) for every feature of either, in B's order then A's."""
    ra, rb = a.ranks(), b.ranks()
    va = {f.name: f.importance for f in a.features}
    vb = {f.name: f.importance for f in b.features}
    names = [f.name for f in b.features] + [f.name for f in a.features if f.name not in vb]
    return [(n, f"{ra.get(n, '-')}/{rb.get(n, '-')}", va.get(n), vb.get(n)) for n in names]


def rank_correlation(a: ImportanceTable, b: ImportanceTable) -> float:
    """Spearman's rank correlation of the importances of the features both tables hold (nan with fewer than 2)."""
    common = sorted(set(f.name for f in a.features) & set(f.name for f in b.features))
    if len(common) < 2:
        return math.nan
    ra, rb = a.ranks(), b.ranks()
    order_a = sorted(common, key=lambda n: ra[n])
    order_b = sorted(common, key=lambda n: rb[n])
    xa = {n: i for i, n in enumerate(order_a)}
    xb = {n: i for i, n in enumerate(order_b)}
    n = len(common)
    d2 = sum((xa[c] - xb[c]) ** 2 for c in common)
    return 1.0 - 6.0 * d2 / (n * (n * n - 1))
