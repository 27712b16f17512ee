"""preprocessing_fn analysed and applied with tf.Transform's Beam implementation on a tiny in-memory dataset."""

from __future__ import annotations

import numpy as np
import pytest

from trainer_module import features as F


def _analyze_and_transform(rows, feature_spec, custom_config, tmp_path):
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from trainer_module.preprocessing import preprocessing_fn

    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(feature_spec))
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, custom_config)
        )
    return transformed


def _spec():
    import tensorflow as tf

    return {
        "price": tf.io.VarLenFeature(tf.float32),  # optional: may be missing
        "rooms": tf.io.FixedLenFeature([], tf.int64),
        "city": tf.io.VarLenFeature(tf.string),
        "lat": tf.io.FixedLenFeature([], tf.float32),
        "sold": tf.io.FixedLenFeature([], tf.int64),
    }


def _config(**features):
    return {
        "task": "binary",
        "label": {"key": "sold", "column": "sold", "fn": None, "inputs": []},
        "features": {"categorical": ["rooms"], "bucketize": {"lat": 2}, "top_k": 100, "oov_buckets": 1, **features},
    }


ROWS = [
    {"price": [1.0], "rooms": 1, "city": [b"paris"], "lat": 1.0, "sold": 1},
    {"price": [3.0], "rooms": 2, "city": [b"paris"], "lat": 2.0, "sold": 0},
    {"price": [], "rooms": 1, "city": [b"rome"], "lat": 3.0, "sold": 0},
    {"price": [5.0], "rooms": 3, "city": [], "lat": 4.0, "sold": 2},
]


def test_zscore_mean_imputation_vocabulary_buckets_and_label(tmp_path):
    out = _analyze_and_transform(ROWS, _spec(), _config(), tmp_path)
    assert set(out[0]) == {"price_xf", "rooms_xf", "city_xf", "lat_xf", "sold_xf", "sold__has_label_xf"}

    # price: mean of present values (1, 3, 5) = 3 fills the gap; z-score over (1, 3, 3, 5).
    values = np.array([1.0, 3.0, 3.0, 5.0])
    expected = (values - values.mean()) / values.std()
    np.testing.assert_allclose([r["price_xf"] for r in out], expected, rtol=1e-5)
    assert out[2]["price_xf"] == pytest.approx(0.0, abs=1e-6)  # the imputed row sits at the mean

    # city: vocabulary by frequency (paris=0), missing becomes its own category, all ids within vocab + OOV.
    city = [int(r["city_xf"]) for r in out]
    assert city[0] == city[1] == 0 and city[2] != 0 and city[3] not in (0, city[2])

    # rooms (a categorical int): most frequent value 1 gets id 0.
    assert int(out[0]["rooms_xf"]) == int(out[2]["rooms_xf"]) == 0

    # lat: 2 quantile buckets, lower half 0, upper half 1.
    assert [int(r["lat_xf"]) for r in out] == [0, 0, 1, 1]

    # binary label: non-zero → 1.
    assert [int(r["sold_xf"]) for r in out] == [1, 0, 0, 1]


def test_excluded_and_label_columns_are_not_features(tmp_path):
    out = _analyze_and_transform(ROWS, _spec(), _config(exclude=["city"]), tmp_path)
    assert "city_xf" not in out[0] and "sold_xf" in out[0]
    assert set(out[0]) == {"price_xf", "rooms_xf", "lat_xf", "sold_xf", "sold__has_label_xf"}


def test_taxi_label_function_inside_transform(tmp_path):
    import tensorflow as tf

    spec = {"tips": tf.io.VarLenFeature(tf.float32), "fare": tf.io.FixedLenFeature([], tf.float32)}
    rows = [{"tips": [3.0], "fare": 10.0}, {"tips": [1.0], "fare": 10.0}, {"tips": [], "fare": 10.0}]
    config = {
        "task": "binary",
        "label": {"key": "big_tipper", "column": None, "fn": "trainer_module.labels.taxi_big_tipper",
                  "inputs": ["tips", "fare"]},
        "features": {"exclude": ["tips"]},
    }
    out = _analyze_and_transform(rows, spec, config, tmp_path)
    assert [int(r["big_tipper_xf"]) for r in out] == [1, 0, 0]
    assert [float(r["big_tipper__has_label_xf"]) for r in out] == [1.0, 1.0, 1.0]  # a label.fn labels every row
    assert "fare_xf" in out[0] and "tips_xf" not in out[0]


def test_multiclass_string_label_gets_a_vocabulary(tmp_path):
    import tensorflow as tf

    spec = {"x": tf.io.FixedLenFeature([], tf.float32), "kind": tf.io.FixedLenFeature([], tf.string)}
    rows = [{"x": 1.0, "kind": b"b"}, {"x": 2.0, "kind": b"a"}, {"x": 3.0, "kind": b"b"}]
    config = {"task": "multiclass", "label": {"key": "kind", "column": "kind"}, "features": {}}
    out = _analyze_and_transform(rows, spec, config, tmp_path)
    assert [int(r["kind_xf"]) for r in out] == [0, 1, 0]  # most frequent class first


def _string_label(values, task="binary", positive=None, tmp_path=None):
    import tensorflow as tf

    spec = {"x": tf.io.FixedLenFeature([], tf.float32), "y": tf.io.VarLenFeature(tf.string)}
    rows = [{"x": float(i), "y": [v.encode()] if v is not None else []} for i, v in enumerate(values)]
    config = {"task": task, "label": {"key": "y", "column": "y", "positive": positive}, "features": {}}
    out = _analyze_and_transform(rows, spec, config, tmp_path)
    return [int(r["y_xf"]) for r in out], [float(r["y__has_label_xf"]) for r in out]


@pytest.mark.parametrize(
    "values, expected",
    [
        (["Yes", "no", "YES", "No"], [1, 0, 1, 0]),
        (["TRUE", "false", " true ", "False"], [1, 0, 1, 0]),
        (["y", "N", "Y", "n"], [1, 0, 1, 0]),
        (["positive", "Negative", "POSITIVE", "negative"], [1, 0, 1, 0]),
    ],
)
def test_binary_string_labels_in_known_spellings(values, expected, tmp_path):
    labels, weights = _string_label(values, tmp_path=tmp_path)
    assert labels == expected and weights == [1.0] * 4


def test_binary_string_label_with_a_configured_positive_value_and_missing_labels(tmp_path):
    labels, weights = _string_label(["good", "bad", None, "good", " "], positive="good", tmp_path=tmp_path)
    assert labels[:2] == [1, 0] and labels[3] == 1
    # No value, or only spaces: no label; the row weighs 0 in training and evaluation.
    assert weights == [1.0, 1.0, 0.0, 1.0, 0.0]


def test_binary_string_label_outside_the_known_pairs_weighs_zero(tmp_path):
    # The pre-flight stops such data locally; in a cloud run, where it does not run, the row is left out.
    _, weights = _string_label(["yes", "maybe", "no"], tmp_path=tmp_path)
    assert weights == [1.0, 0.0, 1.0]


def test_multiclass_missing_label_weighs_zero_and_is_no_class(tmp_path):
    labels, weights = _string_label(["b", None, "a", "b", "c"], task="multiclass", tmp_path=tmp_path)
    assert weights == [1.0, 0.0, 1.0, 1.0, 1.0]
    assert labels[0] == labels[3] == 0  # the most frequent class; "" never became a class of its own
    assert sorted({labels[2], labels[4]}) == [1, 2]


def test_regression_label_weight(tmp_path):
    import tensorflow as tf

    spec = {"x": tf.io.FixedLenFeature([], tf.float32), "price": tf.io.VarLenFeature(tf.float32)}
    rows = [{"x": 1.0, "price": [10.0]}, {"x": 2.0, "price": []}, {"x": 3.0, "price": [2.5]}]
    config = {"task": "regression", "label": {"key": "price", "column": "price"}, "features": {}}
    out = _analyze_and_transform(rows, spec, config, tmp_path)
    assert [float(r["price__has_label_xf"]) for r in out] == [1.0, 0.0, 1.0]
    assert [float(r["price_xf"]) for r in out] == [10.0, 0.0, 2.5]  # in the user's units (TFMA reads this one)


def test_plan_rejects_unknown_columns():
    with pytest.raises(ValueError, match=r"columns \['nope'\] named in the config are not in the schema"):
        F.plan_features({"a": F.FLOAT}, {"task": "binary", "label": {"key": "a", "column": "a"},
                                          "features": {"exclude": ["nope"]}})


def test_a_class_unseen_in_the_analysed_split_weighs_zero(tmp_path):
    """The vocabulary comes from the train split; an eval row of a class it lacks has no id the model could predict:
    it is left out (weight 0) instead of being scored as class 0."""
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from trainer_module.preprocessing import preprocessing_fn

    spec = {"x": tf.io.FixedLenFeature([], tf.float32), "kind": tf.io.VarLenFeature(tf.string)}
    config = {"task": "multiclass", "label": {"key": "kind", "column": "kind"}, "features": {}}
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    train = [{"x": 1.0, "kind": [b"a"]}, {"x": 2.0, "kind": [b"b"]}, {"x": 3.0, "kind": [b"a"]}]
    evaluation = [{"x": 1.0, "kind": [b"b"]}, {"x": 2.0, "kind": [b"zebra"]}, {"x": 3.0, "kind": [b" a"]}]
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        transform_fn = (train, metadata) | tft_beam.AnalyzeDataset(lambda inputs: preprocessing_fn(inputs, config))
        transformed, _ = ((evaluation, metadata), transform_fn) | tft_beam.TransformDataset()
    assert [int(r["kind_xf"]) for r in transformed] == [1, 0, 0]
    assert [float(r["kind__has_label_xf"]) for r in transformed] == [1.0, 0.0, 1.0]  # " a" is class a, stripped
