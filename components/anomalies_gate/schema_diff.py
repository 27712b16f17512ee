"""ExampleValidator's output read back: the Split-* directories of an artifact and the anomalies in each split's
SchemaDiff.pb, as Findings.

No TFX at import time: the run summary (pipeline/metadata/summary.py) reads a finished run's anomalies with it too.
Files are read through TFX's fileio (local paths and gs:// alike), imported when they are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Mapping

# ExampleValidator writes one Anomalies proto per split under this name (tfx.components.example_validator.executor).
SCHEMA_DIFF_FILE = "SchemaDiff.pb"
# A split's directory under an artifact's URI (tfx.types.artifact_utils.get_split_uri).
SPLIT_PREFIX = "Split-"
DATASET = "<dataset>"  # the feature name of a dataset-level anomaly


@dataclass(frozen=True)
class Finding:
    split: str
    feature: str  # DATASET for dataset-level anomalies
    kind: str  # the short description(s), e.g. "Unexpected string values"
    types: str  # the AnomalyInfo.Type enum name(s), e.g. ENUM_TYPE_UNEXPECTED_STRING_VALUES
    description: str  # as ExampleValidator wrote it


class MissingSchemaDiffError(FileNotFoundError):
    """A split of the anomalies artifact has no SchemaDiff.pb."""

    def __init__(self, split: str, path: str):
        super().__init__(f"{path} is missing (split {split})")
        self.split, self.path = split, path


def split_dirs(uri: str) -> dict[str, str]:
    """split name -> directory, from the Split-<name> directories under an artifact's URI ({} if it is no directory).
    Local directories are listed with os (no TFX import), others through TFX's fileio."""
    if "://" in uri:
        from tfx.dsl.io import fileio

        isdir, listdir = fileio.isdir, fileio.listdir
    else:
        isdir, listdir = os.path.isdir, os.listdir
    if not isdir(uri):
        return {}
    return {
        entry.rstrip("/")[len(SPLIT_PREFIX):]: os.path.join(uri, entry.rstrip("/"))
        for entry in sorted(listdir(uri))
        if entry.startswith(SPLIT_PREFIX)
    }


def _describe(info: Any) -> tuple[str, str]:
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    kinds = sorted({r.short_description for r in info.reason if r.short_description}) or [info.short_description]
    names = sorted({anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason})
    return ", ".join(k for k in kinds if k) or "anomaly", ", ".join(names)


def read_findings(splits: Mapping[str, str]) -> List[Finding]:
    """Every anomaly of every split (split name -> directory), by split then feature. Raises
    MissingSchemaDiffError for a split without its SchemaDiff.pb."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    findings = []
    for split, uri in sorted(splits.items()):
        path = os.path.join(uri, SCHEMA_DIFF_FILE)
        if "://" in path:
            from tfx.dsl.io import fileio

            exists, open_file = fileio.exists, fileio.open
        else:
            exists, open_file = os.path.exists, open
        if not exists(path):
            raise MissingSchemaDiffError(split, path)
        anomalies = anomalies_pb2.Anomalies()
        with open_file(path, "rb") as f:
            anomalies.ParseFromString(f.read())
        for feature, info in sorted(anomalies.anomaly_info.items()):
            findings.append(Finding(split, feature, *_describe(info), info.description))
        if anomalies.HasField("dataset_anomaly_info") and anomalies.dataset_anomaly_info.reason:
            info = anomalies.dataset_anomaly_info
            findings.append(Finding(split, DATASET, *_describe(info), info.description))
    return findings
