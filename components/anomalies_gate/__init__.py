"""AnomaliesGate: stops the run before Transform/Trainer when ExampleValidator found anomalies."""

from components.anomalies_gate.component import AnomaliesGate

__all__ = ["AnomaliesGate"]
