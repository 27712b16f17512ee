"""components/proto_io.py reads TFX/TFMA/TensorFlow protos without importing TensorFlow, by building their message
classes from the installed `*_pb2.py` sources (checked against TFMA 0.47.1, TensorFlow 2.16.2, tensorflow-serving-api
2.16.1 and protobuf 3.20.3 generated code). These tests parse the same files with the packages' own classes and compare:
they fail loudly when an upgrade changes the generated code's layout or the messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import proto_io

EVALUATION = Path(__file__).parent / "testdata" / "evaluation"

CLASSES = [
    ("tensorflow_model_analysis.proto.metrics_for_slice_pb2", "tensorflow_model_analysis.MetricsForSlice"),
    ("tensorflow_model_analysis.proto.metrics_for_slice_pb2", "tensorflow_model_analysis.PlotsForSlice"),
    ("tensorflow_model_analysis.proto.validation_result_pb2", "tensorflow_model_analysis.ValidationResult"),
    ("tensorflow.core.protobuf.saved_model_pb2", "tensorflow.SavedModel"),
    ("tensorflow_serving.apis.prediction_log_pb2", "tensorflow.serving.PredictionLog"),
]


@pytest.mark.parametrize("module, name", CLASSES)
def test_every_message_class_used_matches_the_packages_own(module, name):
    import importlib

    own = importlib.import_module(module)
    ours = proto_io.message_class(module, name)
    theirs = own.DESCRIPTOR.message_types_by_name[name.rsplit(".", 1)[1]]
    assert ours.DESCRIPTOR.full_name == theirs.full_name
    assert [f.name for f in ours.DESCRIPTOR.fields] == [f.name for f in theirs.fields]
    assert [f.number for f in ours.DESCRIPTOR.fields] == [f.number for f in theirs.fields]


def test_tfma_results_parse_as_tfma_reads_them():
    import tensorflow_model_analysis as tfma

    ours = proto_io.tfma_records(str(EVALUATION), "metrics", "MetricsForSlice")
    theirs = list(tfma.load_metrics(str(EVALUATION)))
    assert ours and len(ours) == len(theirs)
    assert [m.SerializeToString(deterministic=True) for m in ours] == [
        m.SerializeToString(deterministic=True) for m in theirs]
    validation = proto_io.tfma_records(str(EVALUATION), "validations", "ValidationResult",
                                       "tensorflow_model_analysis.proto.validation_result_pb2")
    assert [v.SerializeToString(deterministic=True) for v in validation] == [
        tfma.load_validation_result(str(EVALUATION)).SerializeToString(deterministic=True)]


def test_reading_a_run_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from components import proto_io; "
            f"proto_io.tfma_records({str(EVALUATION)!r}, 'metrics', 'MetricsForSlice'); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
