"""StatisticsGen's output read back: rows per split and summary statistics per feature."""

from __future__ import annotations

import os
from typing import Any

from components.anomalies_gate.schema_diff import split_dirs

# StatisticsGen writes one DatasetFeatureStatisticsList per split under this name
# (tfx.components.statistics_gen.stats_artifact_utils.BINARY_PB_BASENAME).
STATS_FILE = "FeatureStats.pb"


def load(statistics_uri: str) -> dict[str, Any]:
    """{split: DatasetFeatureStatistics, or None when the split's file holds no dataset}."""
    import tensorflow_data_validation as tfdv

    out = {}
    for split, path in split_dirs(statistics_uri).items():
        stats = tfdv.load_stats_binary(os.path.join(path, STATS_FILE))
        out[split] = stats.datasets[0] if stats.datasets else None
    return out


def rows(statistics_uri: str) -> dict[str, int]:
    """{split: number of examples}."""
    return {split: int(dataset.num_examples) if dataset else 0 for split, dataset in load(statistics_uri).items()}


def feature_stats(statistics_uri: str) -> dict[str, dict]:
    """{split: {"rows": n, "features": {name: {mean, std_dev, missing} or {unique, missing}}}}; splits without a
    dataset are left out."""
    out = {}
    for split, dataset in load(statistics_uri).items():
        if dataset is None:
            continue
        features = {}
        for f in dataset.features:
            name = f.path.step[0] if f.path.step else f.name
            kind = f.WhichOneof("stats")
            if kind == "num_stats":
                features[name] = {"mean": f.num_stats.mean, "std_dev": f.num_stats.std_dev,
                                  "missing": f.num_stats.common_stats.num_missing}
            elif kind == "string_stats":
                features[name] = {"unique": f.string_stats.unique, "missing": f.string_stats.common_stats.num_missing}
        out[split] = {"rows": int(dataset.num_examples), "features": features}
    return out
