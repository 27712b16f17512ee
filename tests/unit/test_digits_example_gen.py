"""DigitsExampleGen: the executor's files, splits and artifact properties, the component's API, and the digits schema."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

from components.digits_example_gen import DigitsExampleGen
from components.digits_example_gen import executor as digits_executor

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "digits" / "schema.pbtxt"
FILE_NAME = "data_tfrecord-00000-of-00001.gz"
N_DIGITS = 1797


def _run(uri: Path, **exec_properties):
    from tfx.types import standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = str(uri)
    digits_executor.Executor().Do({}, {"examples": [examples]}, exec_properties)
    return examples


def _read(path: Path) -> list[tuple[list[float], list[int]]]:
    import tensorflow as tf

    rows = []
    for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        rows.append(
            (
                list(example.features.feature["pixels"].float_list.value),
                list(example.features.feature["label"].int64_list.value),
            )
        )
    return rows


def _schema():
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    return text_format.Parse(SCHEMA_PATH.read_text(), schema_pb2.Schema())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One seed-0, 20 % run shared by the read-only tests: (artifact, {split: rows})."""
    uri = tmp_path_factory.mktemp("digits") / "examples"
    examples = _run(uri, eval_percent=20, seed=0)
    return examples, {split: _read(uri / f"Split-{split}" / FILE_NAME) for split in ("train", "eval")}


def test_writes_train_and_eval_files_where_tfx_readers_look(written):
    from tfx.components.util import examples_utils
    from tfx.types import artifact_utils

    examples, _ = written
    assert artifact_utils.decode_split_names(examples.split_names) == ["train", "eval"]
    for split in ("train", "eval"):
        split_dir = Path(examples.uri) / f"Split-{split}"
        assert sorted(p.name for p in split_dir.iterdir()) == [FILE_NAME]
        # The pattern Transform/StatisticsGen/Trainer glob must reach our file.
        [pattern] = examples_utils.get_split_file_patterns([examples], split)
        assert pattern == str(split_dir / "*")


def test_artifact_carries_example_gen_properties(written):
    from tfx.components.util import examples_utils

    examples, _ = written
    assert examples.get_int_custom_property("span") == 0
    assert examples.get_int_custom_property("version") == 0
    assert examples.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert examples.get_string_custom_property("file_format") == "tfrecords_gzip"
    assert examples_utils.get_payload_format_string(examples) == "FORMAT_TF_EXAMPLE"
    assert examples_utils.get_file_format(examples) == "tfrecords_gzip"
    assert (examples.span, examples.version) == (0, 0)


def test_split_is_complete_stratified_and_about_eval_percent(written):
    _, rows = written
    assert len(rows["train"]) + len(rows["eval"]) == N_DIGITS
    assert abs(len(rows["eval"]) / N_DIGITS - 0.20) <= 0.01
    train_counts = collections.Counter(label[0] for _, label in rows["train"])
    eval_counts = collections.Counter(label[0] for _, label in rows["eval"])
    assert set(train_counts) == set(eval_counts) == set(range(10))
    for cls in range(10):
        share = eval_counts[cls] / (eval_counts[cls] + train_counts[cls])
        assert abs(share - 0.20) <= 0.01, (cls, share)


@pytest.mark.parametrize("eval_percent", [1, 90])
def test_every_class_is_in_both_splits_at_the_extremes(tmp_path, eval_percent):
    examples = _run(tmp_path / "out", eval_percent=eval_percent, seed=0)
    rows = {split: _read(Path(examples.uri, f"Split-{split}", FILE_NAME)) for split in ("train", "eval")}
    for split_rows in rows.values():
        assert {label[0] for _, label in split_rows} == set(range(10))
    assert abs(len(rows["eval"]) / N_DIGITS - eval_percent / 100) <= 0.01


def test_no_digit_is_in_both_splits_and_none_is_lost(written):
    from sklearn.datasets import load_digits

    _, rows = written
    key = lambda pixels, label: (tuple(pixels), label[0])  # noqa: E731
    written_keys = collections.Counter(key(p, lab) for split in rows.values() for p, lab in split)
    digits = load_digits()
    expected = collections.Counter(
        (tuple(img.astype(np.float32).ravel().tolist()), int(y)) for img, y in zip(digits.images, digits.target)
    )
    assert written_keys == expected


def test_pixels_and_labels_are_well_formed(written):
    _, rows = written
    for split_rows in rows.values():
        for pixels, label in split_rows:
            assert len(pixels) == 64
            assert all(0.0 <= v <= 16.0 for v in pixels)
            assert len(label) == 1 and 0 <= label[0] <= 9


def test_same_seed_gives_identical_bytes_and_another_seed_another_split(tmp_path):
    a = _run(tmp_path / "a", eval_percent=20, seed=7)
    b = _run(tmp_path / "b", eval_percent=20, seed=7)
    c = _run(tmp_path / "c", eval_percent=20, seed=8)
    for split in ("train", "eval"):
        a_bytes, b_bytes, c_bytes = (Path(x.uri, f"Split-{split}", FILE_NAME).read_bytes() for x in (a, b, c))
        assert a_bytes == b_bytes
        assert a_bytes != c_bytes
    eval_a = {tuple(p) for p, _ in _read(Path(a.uri, "Split-eval", FILE_NAME))}
    eval_c = {tuple(p) for p, _ in _read(Path(c.uri, "Split-eval", FILE_NAME))}
    assert eval_a != eval_c  # a different set of rows, not only a different order


@pytest.mark.parametrize("bad", [0, 95, -5, 20.0, "20", True])
def test_rejects_bad_eval_percent_before_writing_anything(tmp_path, bad):
    with pytest.raises(ValueError, match=r"eval_percent=.*invalid; pass an int from 1 to 90"):
        _run(tmp_path / "out", eval_percent=bad, seed=0)
    assert not (tmp_path / "out").exists()


def test_rejects_negative_seed(tmp_path):
    with pytest.raises(ValueError, match=r"seed=-1 is invalid; pass a non-negative int"):
        _run(tmp_path / "out", eval_percent=20, seed=-1)


def test_train_statistics_validate_against_curated_schema(written, tmp_path):
    import tensorflow_data_validation as tfdv

    examples, _ = written
    # The .gz suffix is what tells TFDV's reader the records are gzip-compressed.
    stats = tfdv.generate_statistics_from_tfrecord(
        data_location=str(Path(examples.uri, "Split-train", "*.gz")),
        output_path=str(tmp_path / "stats.tfrecord"),
    )
    [dataset] = stats.datasets
    assert dataset.num_examples == len(written[1]["train"])
    anomalies = tfdv.validate_statistics(stats, _schema())
    assert dict(anomalies.anomaly_info) == {}


def test_schema_catches_malformed_digits(tmp_path):
    import tensorflow as tf
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    # Guards against a schema that passes everything: 63 pixels, one of them 17, and label 12.
    bad = tf.train.Example(
        features=tf.train.Features(
            feature={
                "pixels": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0] * 62 + [17.0])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[12])),
            }
        )
    )
    with tf.io.TFRecordWriter(str(tmp_path / "bad.gz"), options="GZIP") as writer:
        writer.write(bad.SerializeToString())
    stats = tfdv.generate_statistics_from_tfrecord(
        data_location=str(tmp_path / "bad.gz"), output_path=str(tmp_path / "stats.tfrecord")
    )
    anomalies = tfdv.validate_statistics(stats, _schema())
    reasons = {
        name: {anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason}
        for name, info in anomalies.anomaly_info.items()
    }
    assert reasons == {"pixels": {"INVALID_FEATURE_SHAPE", "FLOAT_TYPE_BIG_FLOAT"}, "label": {"INT_TYPE_BIG_INT"}}


def test_schema_yields_dense_feature_spec_for_transform():
    import tensorflow as tf
    from tensorflow_transform.tf_metadata import schema_utils

    spec = schema_utils.schema_as_feature_spec(_schema()).feature_spec
    assert spec == {
        "pixels": tf.io.FixedLenFeature([64], tf.float32),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }


def test_component_declares_examples_output_and_exec_properties():
    from tfx.types import standard_artifacts

    component = DigitsExampleGen(eval_percent=20)
    assert list(component.outputs) == ["examples"]
    assert component.outputs["examples"].type is standard_artifacts.Examples
    assert component.exec_properties == {"eval_percent": 20, "seed": 0}
    assert component.inputs == {}
    assert component.executor_spec.executor_class is digits_executor.Executor
