"""The FeatureImportance artifact type: its own MLMD type, so importance results are found by type, not by path."""

from __future__ import annotations

from tfx.types.artifact import Artifact

from components.feature_importance.properties import ARTIFACT_TYPE


class FeatureImportance(Artifact):
    """importance.json (permutation.Result) with the metric, the baseline and the top features as properties."""

    TYPE_NAME = ARTIFACT_TYPE
