"""AnomaliesGate: its executor on hand-built ExampleValidator outputs, and its place in the pipeline DAG."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import artifact_utils, standard_artifacts

from components.anomalies_gate import AnomaliesGate
from components.anomalies_gate.executor import AnomaliesFoundError, Executor
from components.anomalies_gate.schema_diff import SCHEMA_DIFF_FILE

UNEXPECTED = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
DROPPED = anomalies_pb2.AnomalyInfo.FEATURE_TYPE_NOT_PRESENT


def _info(kind: int, short: str, description: str) -> anomalies_pb2.AnomalyInfo:
    info = anomalies_pb2.AnomalyInfo(description=description, short_description=short,
                                     severity=anomalies_pb2.AnomalyInfo.ERROR)
    info.reason.add(type=kind, short_description=short, description=description)
    return info


def anomalies_artifact(root: Path, per_split: dict[str, dict[str, anomalies_pb2.AnomalyInfo]]):
    """An ExampleAnomalies artifact as ExampleValidator writes it: Split-<name>/SchemaDiff.pb per split."""
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(list(per_split))
    for split, infos in per_split.items():
        anomalies = anomalies_pb2.Anomalies()
        for feature, info in infos.items():
            anomalies.anomaly_info[feature].CopyFrom(info)
        (root / f"Split-{split}").mkdir(parents=True)
        (root / f"Split-{split}" / SCHEMA_DIFF_FILE).write_bytes(anomalies.SerializeToString())
    return artifact


def run_gate(artifact, allow=0):
    Executor().Do({"anomalies": [artifact]}, {}, {"allow_anomalies": allow})


PAYMENT = _info(UNEXPECTED, "Unexpected string values",
                "Examples contain values missing from the schema: Bitcoin (~30%), Dogecoin (~3%).")
COMPANY = _info(UNEXPECTED, "Unexpected string values", "Examples contain values missing from the schema: X (<1%).")
TRACT = _info(DROPPED, "Column dropped", "The feature was not present in any examples.")


def test_no_anomalies_passes(tmp_path):
    run_gate(anomalies_artifact(tmp_path, {"train": {}, "eval": {}}))


def test_anomalies_fail_with_a_report_whose_last_line_is_the_summary(tmp_path):
    artifact = anomalies_artifact(tmp_path, {"train": {"payment_type": PAYMENT, "pickup_census_tract": TRACT},
                                             "eval": {"payment_type": PAYMENT, "company": COMPANY}})
    with pytest.raises(AnomaliesFoundError) as caught:
        run_gate(artifact)
    lines = str(caught.value).splitlines()
    report, summary = "\n".join(lines[:-1]), lines[-1]
    assert lines[0] == f"ExampleValidator found anomalies against the schema (anomalies artifact: {tmp_path}):"
    # Per split and feature: the anomaly type (short description and enum) and the description.
    assert "  split eval, feature company: Unexpected string values [ENUM_TYPE_UNEXPECTED_STRING_VALUES]" in lines
    assert "  split train, feature pickup_census_tract: Column dropped [FEATURE_TYPE_NOT_PRESENT]" in lines
    assert "      Examples contain values missing from the schema: Bitcoin (~30%), Dogecoin (~3%)." in lines
    assert report.count("feature payment_type") == 2
    # The one line a terminal shows (cli/render/run.py prints the last line of the message).
    assert summary == (
        "ExampleValidator found 4 anomalies: company (Unexpected string values; split eval); "
        "payment_type (Unexpected string values; splits eval, train); "
        "pickup_census_tract (Column dropped; split train); "
        f"see {tmp_path}; fix the data or schema, or re-run with --allow-anomalies to continue anyway"
    )


def test_the_summary_stays_short_with_many_features(tmp_path):
    artifact = anomalies_artifact(tmp_path, {"train": {f"f{i}": COMPANY for i in range(9)}})
    with pytest.raises(AnomaliesFoundError) as caught:
        run_gate(artifact)
    summary = str(caught.value).splitlines()[-1]
    assert summary.startswith("ExampleValidator found 9 anomalies: f0 (Unexpected string values; split train); ")
    assert "f3 (" in summary and "f4 (" not in summary and "; and 5 more; see " in summary
    assert len(str(caught.value).splitlines()) == 1 + 2 * 9 + 2  # all nine are in the report


def test_dataset_level_anomalies_count(tmp_path):
    artifact = anomalies_artifact(tmp_path, {"train": {}})
    anomalies = anomalies_pb2.Anomalies()
    anomalies.dataset_anomaly_info.CopyFrom(
        _info(anomalies_pb2.AnomalyInfo.DATASET_LOW_NUM_EXAMPLES, "Low num examples", "Only 3 examples."))
    (tmp_path / "Split-train" / SCHEMA_DIFF_FILE).write_bytes(anomalies.SerializeToString())
    with pytest.raises(AnomaliesFoundError, match=r"<dataset> \(Low num examples; split train\)"):
        run_gate(artifact)


def test_allow_anomalies_passes_and_logs_the_report(tmp_path, caplog):
    artifact = anomalies_artifact(tmp_path, {"eval": {"payment_type": PAYMENT}})
    with caplog.at_level(logging.WARNING):
        run_gate(artifact, allow=1)
    warning = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "--allow-anomalies given, continuing despite" in warning
    assert "split eval, feature payment_type: Unexpected string values" in warning and str(tmp_path) in warning


def test_a_missing_schema_diff_fails_closed(tmp_path):
    artifact = anomalies_artifact(tmp_path, {"train": {}, "eval": {}})
    (tmp_path / "Split-eval" / SCHEMA_DIFF_FILE).unlink()
    with pytest.raises(AnomaliesFoundError, match="SchemaDiff.pb is missing \\(split eval\\)"):
        run_gate(artifact)


def test_splits_are_found_from_the_directories_when_the_artifact_does_not_name_them(tmp_path):
    artifact = anomalies_artifact(tmp_path, {"eval": {"payment_type": PAYMENT}})
    artifact.split_names = ""
    with pytest.raises(AnomaliesFoundError, match="payment_type"):
        run_gate(artifact)


def test_the_pipeline_orders_transform_after_the_gate():
    from tfx.dsl.compiler import compiler

    from pipeline.config.loader import load_config
    from pipeline.dag.factory import create_pipeline
    from pipeline.dag.targets import LocalTarget, Locations

    where = Locations(data="/tmp/data", pipeline_root="/tmp/root", serving_dir="/tmp/serving")
    for allow in (False, True):
        target = LocalTarget(allow_anomalies=allow)
        ir = compiler.Compiler().compile(create_pipeline(load_config("taxi"), where, target))
        nodes = [n.pipeline_node for n in ir.nodes]
        order = [n.node_info.id for n in nodes]
        assert order.index("ExampleValidator") < order.index("AnomaliesGate") < order.index("Transform")
        transform = next(n for n in nodes if n.node_info.id == "Transform")
        assert "AnomaliesGate" in transform.upstream_nodes  # a task dependency: LocalDagRunner runs nodes in order
        gate = next(n for n in nodes if n.node_info.id == "AnomaliesGate")
        assert gate.parameters.parameters["allow_anomalies"].field_value.int_value == int(allow)


def test_the_component_takes_the_anomalies_channel():
    from tfx.types import channel

    anomalies = channel.Channel(type=standard_artifacts.ExampleAnomalies)
    gate = AnomaliesGate(anomalies=anomalies, allow_anomalies=True)
    assert gate.exec_properties["allow_anomalies"] == 1 and gate.outputs == {}
    assert gate.id == "AnomaliesGate"


def test_kubeflow_v2_compiles_the_gate_as_a_dependency_of_transform(tmp_path):
    import json

    from kubeflow.compile import CompileOptions, compile_pipeline
    from kubeflow.validate import validate
    from pipeline.config.loader import load_config

    options = CompileOptions(target="kubeflow", out=tmp_path / "job.json", image="registry/tfx-e2e:1",
                             pipeline_root="gs://b/root", data="gs://b/data", serving_dir="gs://b/serving")
    path = compile_pipeline(load_config("taxi"), options)
    report = validate(path, "kubeflow")
    assert report.ok, report.errors
    spec = json.loads(path.read_text())["pipelineSpec"]
    tasks = spec["root"]["dag"]["tasks"]
    assert "AnomaliesGate" in tasks["Transform"]["dependentTasks"]
    assert tasks["AnomaliesGate"]["inputs"]["artifacts"]["anomalies"]["taskOutputArtifact"] == {
        "outputArtifactKey": "anomalies", "producerTask": "ExampleValidator"}
    args = spec["deploymentSpec"]["executors"]["AnomaliesGate_executor"]["container"]["args"]
    assert args[args.index("--executor_class_path") + 1] == "components.anomalies_gate.executor.Executor"
