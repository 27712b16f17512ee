"""AnomaliesGate: stops the run before Transform/Trainer when ExampleValidator found anomalies.

`AnomaliesGate` is imported on first use, so that `components.anomalies_gate.schema_diff` (the reader of
ExampleValidator's output, also used by the run summary) can be imported without loading TFX.
"""

__all__ = ["AnomaliesGate"]


def __getattr__(name: str):
    if name == "AnomaliesGate":
        from components.anomalies_gate.component import AnomaliesGate

        return AnomaliesGate
    raise AttributeError(name)
