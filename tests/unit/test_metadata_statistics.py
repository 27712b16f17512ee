"""pipeline.metadata.statistics: StatisticsGen's FeatureStats.pb per split, read back as rows and feature stats."""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import statistics_pb2

from pipeline.metadata import statistics
from tests.unit.tfx_outputs import write_statistics

FEATURES = {"fare": {"mean": 11.5, "std_dev": 3.0, "missing": 2}, "company": {"unique": 7, "missing": 1}}


def test_rows_and_feature_statistics_per_split(tmp_path):
    uri = write_statistics(tmp_path, {"train": (120, FEATURES), "eval": (40, {})})
    assert statistics.rows(uri) == {"train": 120, "eval": 40}
    stats = statistics.feature_stats(uri)
    assert stats["train"] == {"rows": 120, "features": {"fare": {"mean": 11.5, "std_dev": 3.0, "missing": 2},
                                                        "company": {"unique": 7, "missing": 1}}}
    assert stats["eval"] == {"rows": 40, "features": {}}


def test_a_split_without_a_dataset_has_no_rows_and_no_statistics(tmp_path):
    uri = write_statistics(tmp_path, {"train": (10, FEATURES)})
    (tmp_path / "Split-eval").mkdir()
    (tmp_path / "Split-eval" / statistics.STATS_FILE).write_bytes(
        statistics_pb2.DatasetFeatureStatisticsList().SerializeToString())
    assert statistics.rows(uri) == {"train": 10, "eval": 0}
    assert set(statistics.feature_stats(uri)) == {"train"}


def test_a_missing_artifact_directory_has_no_splits(tmp_path):
    assert statistics.rows(str(tmp_path / "nowhere")) == {} and statistics.feature_stats(str(tmp_path / "x")) == {}
