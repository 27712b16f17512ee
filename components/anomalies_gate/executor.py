"""AnomaliesGate's executor: reads ExampleValidator's SchemaDiff.pb of every split and fails the run on anomalies."""

from __future__ import annotations

from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from components.anomalies_gate.schema_diff import Finding, MissingSchemaDiffError, read_findings, split_dirs

ANOMALIES_KEY = "anomalies"
ALLOW_ANOMALIES_KEY = "allow_anomalies"
ALLOW_FLAG = "--allow-anomalies"
# How many features the one-line summary names before "and N more" (the full report lists them all).
SUMMARY_FEATURES = 4


class AnomaliesFoundError(RuntimeError):
    """ExampleValidator found anomalies and they were not allowed. The message is the full report; its last line
    is a one-line summary (what a terminal shows)."""


def split_uris(artifact: types.Artifact) -> Dict[str, str]:
    """split name -> directory, from the artifact's split_names, else from its Split-* directories."""
    names = artifact_utils.decode_split_names(artifact.split_names) if artifact.split_names else []
    if names:
        return {name: artifact_utils.get_split_uri([artifact], name) for name in names}
    return split_dirs(artifact.uri)


def gate_findings(artifact: types.Artifact) -> List[Finding]:
    """Every anomaly of every split. No splits, or a split without its SchemaDiff.pb, is an error: the gate fails
    closed."""
    splits = split_uris(artifact)
    if not splits:
        raise AnomaliesFoundError(
            f"AnomaliesGate: the anomalies artifact {artifact.uri} has no splits; cannot tell whether the data is "
            "valid, so the run stops here."
        )
    try:
        return read_findings(splits)
    except MissingSchemaDiffError as err:
        raise AnomaliesFoundError(
            f"AnomaliesGate: {err.path} is missing (split {err.split}); cannot tell whether the data is valid, "
            "so the run stops here."
        ) from None


def summary_line(findings: List[Finding], uri: str) -> str:
    """One line: how many, which features with their anomaly types and splits, where, and what to do."""
    by_feature: Dict[tuple[str, str], List[str]] = {}
    for f in findings:
        by_feature.setdefault((f.feature, f.kind), []).append(f.split)
    parts = [f"{feature} ({kind}; {'split' if len(s) == 1 else 'splits'} {', '.join(s)})"
             for (feature, kind), s in by_feature.items()]
    shown = parts[:SUMMARY_FEATURES]
    if len(parts) > SUMMARY_FEATURES:
        shown.append(f"and {len(parts) - SUMMARY_FEATURES} more")
    count = f"{len(findings)} {'anomaly' if len(findings) == 1 else 'anomalies'}"
    return (f"ExampleValidator found {count}: {'; '.join(shown)}; see {uri}; "
            f"fix the data or schema, or re-run with {ALLOW_FLAG} to continue anyway")


def report(findings: List[Finding], uri: str) -> str:
    """The full report: one block per anomaly, then the summary line (last)."""
    lines = [f"ExampleValidator found anomalies against the schema (anomalies artifact: {uri}):"]
    for f in findings:
        lines.append(f"  split {f.split}, feature {f.feature}: {f.kind} [{f.types}]")
        lines.append(f"      {' '.join(f.description.split())}")
    lines.append("The run stops here: Transform, Trainer, Evaluator and Pusher do not run.")
    lines.append(summary_line(findings, uri))
    return "\n".join(lines)


def _allowed(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class Executor(base_executor.BaseExecutor):
    """Passes when ExampleValidator found nothing (or `allow_anomalies` is set); otherwise raises
    AnomaliesFoundError with the report, which fails the component and stops the run."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        artifact = artifact_utils.get_single_instance(input_dict[ANOMALIES_KEY])
        findings = gate_findings(artifact)
        if not findings:
            logging.info("AnomaliesGate: no anomalies in %s; the run continues.", artifact.uri)
            return
        text = report(findings, artifact.uri)
        if _allowed(exec_properties.get(ALLOW_ANOMALIES_KEY, 0)):
            details = text.rsplit("\n", 1)[0]  # without the summary's "re-run with --allow-anomalies" advice
            logging.warning("AnomaliesGate: %s given, continuing despite:\n%s", ALLOW_FLAG, details)
            return
        logging.error("AnomaliesGate: stopping the run:\n%s", text)
        raise AnomaliesFoundError(text)
