"""AnomaliesGate's component spec and component class (the executor does all the work)."""

from __future__ import annotations

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.anomalies_gate.executor import ALLOW_ANOMALIES_KEY, ANOMALIES_KEY, Executor


class AnomaliesGateSpec(ComponentSpec):
    """One input, ExampleValidator's `anomalies`; one parameter, `allow_anomalies` (0/1); no outputs."""

    PARAMETERS = {
        ALLOW_ANOMALIES_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
    }
    OUTPUTS = {}


class AnomaliesGate(base_component.BaseComponent):
    """Fails the run when ExampleValidator found anomalies, with a report naming each split, feature, anomaly type
    and description and the anomalies artifact URI. TFX 1.16's ExampleValidator only records anomalies; nothing
    downstream stops on them.

    The gate has no output: components that must not start on anomalous data are ordered after it with
    `add_upstream_node` (a task dependency, honoured by LocalDagRunner and compiled by KubeflowV2DagRunner into
    `dependentTasks`), so when the gate fails they never run.

    Usage:

        from components.anomalies_gate import AnomaliesGate

        gate = AnomaliesGate(anomalies=example_validator.outputs["anomalies"], allow_anomalies=False)
        transform.add_upstream_node(gate)

    `allow_anomalies=True` logs the report as a warning and lets the run continue.
    """

    SPEC_CLASS = AnomaliesGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(self, anomalies, allow_anomalies: bool = False):
        """anomalies: ExampleValidator's `anomalies` channel; allow_anomalies: report but do not stop."""
        spec = AnomaliesGateSpec(anomalies=anomalies, allow_anomalies=int(bool(allow_anomalies)))
        super().__init__(spec=spec)
