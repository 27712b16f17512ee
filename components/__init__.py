"""Custom TFX components, one sub-package each: component.py (the spec) and executor.py (all the I/O).

Also the home of our custom artifact types by their KFP v2 name: the Kubeflow/Vertex container entrypoint imports a
custom artifact type by its schema title, which must read `<module>.<Class>` with a module name without dots, so
`components.FeatureImportance` is importable from here (loaded on first use: `import components` loads no TFX).
"""

__all__ = ["FeatureImportance"]


def __getattr__(name: str):
    if name == "FeatureImportance":
        from components.feature_importance.artifact import FeatureImportance

        return FeatureImportance
    raise AttributeError(name)
