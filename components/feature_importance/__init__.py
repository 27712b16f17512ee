"""FeatureImportance: permutation importance of each raw feature on the eval split, through `serving_default`.

`FeatureImportanceComponent` is imported on first use, so that `components.feature_importance.properties` (the
artifact's file and property names, read by the metadata queries) can be imported without loading TFX.
"""

__all__ = ["FeatureImportanceComponent"]


def __getattr__(name: str):
    if name == "FeatureImportanceComponent":
        from components.feature_importance.component import FeatureImportanceComponent

        return FeatureImportanceComponent
    raise AttributeError(name)
