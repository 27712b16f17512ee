"""components/feature_importance: permutation importance through a real SavedModel's serving_default, the
wire-level shuffling of tf.Examples, the metrics, and the `importance` config section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from components.feature_importance import permutation
from components.feature_importance import properties as P
from components.feature_importance.executor import Executor, validate_parameters
from trainer_module import serving_contract as contract

N_EVAL = 400


def save_model(model_dir: Path) -> None:
    """P(y=1) = sigmoid(6·x): `x` decides, `noise` and `city` are parsed but never used."""
    import tensorflow as tf

    serving_spec = {"x": tf.io.FixedLenFeature([1], tf.float32, default_value=[0.0]),
                    "noise": tf.io.FixedLenFeature([1], tf.float32, default_value=[0.0]),
                    "city": tf.io.VarLenFeature(tf.string)}
    raw_spec = {**serving_spec, "y": tf.io.VarLenFeature(tf.int64)}

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(6.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=contract.INPUT_KEY)])
        def serve(self, examples):
            raw = tf.io.parse_example(examples, serving_spec)
            return {contract.PROBABILITIES: tf.sigmoid(self.w * raw["x"])}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=contract.INPUT_KEY)])
        def transform(self, examples):
            raw = tf.io.parse_example(examples, raw_spec)
            rows = tf.shape(examples, out_type=tf.int64)[0]
            y = tf.sparse.to_dense(tf.sparse.reset_shape(raw["y"], [rows, 1]), default_value=-1)
            return {"y_xf": tf.maximum(y, 0), "y__has_label_xf": tf.cast(y >= 0, tf.float32)}

    module = Tiny()
    tf.saved_model.save(module, str(model_dir), signatures={contract.SERVING_SIGNATURE: module.serve,
                                                            contract.TRANSFORM_SIGNATURE: module.transform})


def example(x, noise: float, city: str, y) -> bytes:
    import tensorflow as tf

    ex = tf.train.Example()
    if x is not None:
        ex.features.feature["x"].float_list.value.append(x)
    ex.features.feature["noise"].float_list.value.append(noise)
    ex.features.feature["city"].bytes_list.value.append(city.encode())
    if y is not None:
        ex.features.feature["y"].int64_list.value.append(y)
    return ex.SerializeToString()


def eval_rows(n: int = N_EVAL) -> list[bytes]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        x = float(rng.normal())
        y = int(x + 0.3 * rng.normal() > 0)
        rows.append(example(None if i % 10 == 0 else x, float(rng.normal()), f"c{i % 4}",
                            None if i % 25 == 0 else y))  # some values and some labels missing
    return rows


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils, standard_artifacts

    tmp = tmp_path_factory.mktemp("importance")
    model = standard_artifacts.Model()
    model.uri = str(tmp / "model")
    save_model(tmp / "model" / "Format-Serving")
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    for split, rows in (("train", eval_rows(5)), ("eval", eval_rows())):
        split_dir = tmp / "examples" / f"Split-{split}"
        split_dir.mkdir(parents=True)
        with tf.io.TFRecordWriter(str(split_dir / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
            for row in rows:
                writer.write(row)
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    return tmp, model, examples


def run(artifacts, name: str, **props):
    from components.feature_importance.artifact import FeatureImportance

    tmp, model, examples = artifacts
    output = FeatureImportance()
    output.uri = str(tmp / name)
    params = {P.TASK_KEY: "binary", P.LABEL_KEY: "y_xf", P.WEIGHT_KEY: "y__has_label_xf", P.MAX_ROWS_KEY: 2000,
              P.REPEATS_KEY: 3, P.SEED_KEY: 0, **props}
    Executor().Do({P.MODEL_KEY: [model], P.EXAMPLES_KEY: [examples]}, {P.IMPORTANCE_KEY: [output]}, params)
    return output, json.loads((tmp / name / P.IMPORTANCE_FILE).read_text())


def test_the_deciding_column_ranks_first_and_unused_ones_score_zero(artifacts):
    output, record = run(artifacts, "a")
    by_name = {f["name"]: f for f in record["features"]}
    assert set(by_name) == {"x", "noise", "city"}  # the columns serving_default parses; never the label
    assert record["features"][0]["name"] == "x"
    assert by_name["x"]["importance"] > 0.2 and by_name["x"]["std"] >= 0
    assert by_name["noise"]["importance"] == 0.0 and by_name["city"]["importance"] == 0.0
    assert record["metric"] == "auc" and 0.8 < record["baseline"] <= 1.0
    assert record["rows"] == N_EVAL - N_EVAL // 25  # rows without a label weigh 0: left out
    assert output.get_string_custom_property(P.METRIC_PROPERTY) == "auc"
    assert output.get_int_custom_property(P.ROWS_PROPERTY) == record["rows"]
    top = json.loads(output.get_string_custom_property(P.TOP_FEATURES_PROPERTY))
    assert top[0][0] == "x" and len(top) == 3


def test_the_same_seed_gives_the_same_table_and_rows_are_limited(artifacts):
    _, first = run(artifacts, "b1", **{P.SEED_KEY: 5})
    _, again = run(artifacts, "b2", **{P.SEED_KEY: 5})
    _, other = run(artifacts, "b3", **{P.SEED_KEY: 6})
    assert first == again
    assert first["features"][0]["importance"] != other["features"][0]["importance"]
    _, few = run(artifacts, "b4", **{P.MAX_ROWS_KEY: 50, P.REPEATS_KEY: 1})
    assert few["rows"] == 50 - 2 and few["repeats"] == 1  # rows 0 and 25 have no label


def test_bad_parameters_and_inputs_fail_with_the_key(artifacts):
    with pytest.raises(ValueError, match="`task` is 'ranking'"):
        validate_parameters("ranking", 10, 1, 0)
    with pytest.raises(ValueError, match="`repeats` is 0"):
        validate_parameters("binary", 10, 0, 0)
    with pytest.raises(ValueError, match="`max_rows` is True"):
        validate_parameters("binary", True, 1, 0)
    with pytest.raises(ValueError, match="transform_features returns no 'label_xf'"):
        run(artifacts, "c1", **{P.LABEL_KEY: "label_xf"})
    tmp, model, examples = artifacts
    with pytest.raises(ValueError, match="exactly one `model` input"):
        Executor().Do({P.MODEL_KEY: [], P.EXAMPLES_KEY: [examples]}, {P.IMPORTANCE_KEY: []},
                      {P.TASK_KEY: "binary", P.MAX_ROWS_KEY: 10, P.REPEATS_KEY: 1, P.SEED_KEY: 0})


def test_a_shuffled_row_is_the_wire_form_of_the_same_example_with_another_rows_value():
    import tensorflow as tf

    rows = eval_rows(30)
    table = permutation.Table(rows, ["x", "noise", "city"])
    for original, rebuilt in zip(rows, table.examples()):
        want = tf.train.Example.FromString(original)
        if "y" in want.features.feature:
            del want.features.feature["y"]  # not a column the model parses
        assert tf.train.Example.FromString(rebuilt) == want
    order = np.roll(np.arange(30), 1)
    shuffled = table.shuffled(table.others("x"), "x", order)
    for i, j in enumerate(order):
        got = tf.train.Example.FromString(shuffled[i]).features.feature
        source = tf.train.Example.FromString(rows[j]).features.feature
        assert ("x" in got) == ("x" in source)  # a missing value moves with the shuffle
        if "x" in got:
            assert got["x"] == source["x"]
        assert got["noise"] == tf.train.Example.FromString(rows[i]).features.feature["noise"]


def test_metrics():
    assert permutation.auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert permutation.auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5  # ties count half
    assert permutation.score("multiclass", np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), np.array([0, 1, 1])) == 2 / 3
    assert permutation.score("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 1.0
    assert permutation.score("regression", np.array([2.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    assert permutation.score("reconstruction", np.array([0.5, 1.5]), np.zeros(2)) == 1.0
    assert permutation.usable("binary", np.array([1, 1])) and not permutation.usable("binary", np.array([0, 1]))


def test_reconstruction_importance_is_the_rise_of_the_error():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    rows = []
    for _ in range(60):  # `z` is `x` plus a little noise: an autoencoder reconstructs one from the other
        x = float(rng.normal())
        ex = tf.train.Example()
        ex.features.feature["x"].float_list.value.append(x)
        ex.features.feature["z"].float_list.value.append(x + 0.05 * float(rng.normal()))
        ex.features.feature["city"].bytes_list.value.append(b"c%d" % rng.integers(3))
        rows.append(ex.SerializeToString())
    spec = {c: tf.io.FixedLenFeature([1], tf.float32) for c in ("x", "z")}

    def predict(batch):  # a per-row reconstruction error: how far z is from x
        parsed = tf.io.parse_example(batch, spec)
        return ((parsed["x"] - parsed["z"]).numpy() ** 2).reshape(-1)

    result = permutation.importance(predict, permutation.Table(rows, ["city", "x", "z"]), np.zeros(60),
                                    "reconstruction", repeats=2, seed=0)
    scores = {f.name: f.importance for f in result.features}
    assert result.metric == "reconstruction_error" and not result.higher_is_better
    assert scores["x"] > 1.0 and scores["z"] > 1.0 and scores["city"] == 0.0  # the error rises by ~2 (variance)


def test_the_importance_section_of_a_config():
    from pipeline.config.loader import load_config
    from pipeline.config.schema import ConfigError

    cfg = load_config("taxi")
    assert (cfg.importance.enabled, cfg.importance.max_rows, cfg.importance.repeats) == (True, 2000, 3)
    assert load_config("taxi", {"importance.enabled": False}).importance.enabled is False
    assert load_config("taxi", {"importance.repeats": 5, "importance.seed": 9}).importance.repeats == 5
    for key, value, words in (("importance.repeats", 0, "importance.repeats: expected an integer from 1"),
                              ("importance.max_rows", "all", "importance.max_rows: expected an integer from 10"),
                              ("importance.enabled", "yes", "importance.enabled: expected true or false"),
                              ("importance.rows", 5, "unknown key 'rows'")):
        with pytest.raises(ConfigError, match=words):
            load_config("taxi", {key: value})


def table_of(*features, metric: str = "auc"):
    from pipeline.metadata.importance import Feature, ImportanceTable

    return ImportanceTable(metric, metric != "reconstruction_error", 0.9, 1800, 3, 0,
                           [Feature(name, value, 0.01) for name, value in features])


def test_the_summary_line_compare_rows_and_rank_correlation():
    from pipeline.metadata import importance

    a = table_of(("fare", 0.2), ("miles", 0.1), ("hour", 0.05), ("day", 0.01), ("month", 0.0), ("tract", -0.001))
    b = table_of(("miles", 0.3), ("fare", 0.2), ("hour", 0.04), ("month", 0.02), ("day", 0.0), ("tract", 0.0))
    assert importance.summary_line(a) == ("fare 0.2, miles 0.1, hour 0.05, day 0.01, month 0  "
                                          "(auc drop when shuffled, 1800 eval rows × 3)")
    assert importance.side_by_side(a, b)[0] == ("miles", "2/1", 0.1, 0.3)
    assert importance.rank_correlation(a, a) == 1.0
    assert importance.rank_correlation(a, b) == pytest.approx(1 - 6 * (1 + 1 + 0 + 1 + 1 + 0) / (6 * 35))
    worse = table_of(("x", 1.0), metric="reconstruction_error")
    assert "(reconstruction_error rise when shuffled" in importance.summary_line(worse)


def test_the_report_section_draws_one_bar_per_feature_and_escapes_names():
    from pipeline.report import render_importance

    hostile = '<img src=x onerror="window.__pwned=1">'
    out = render_importance.render(table_of((hostile, 0.1), ("b", 0.0)))
    assert "<img" not in out and "&lt;img src=x" in out
    assert out.count('<rect class="bar"') == 2 and 'data-chart="bar"' in out
    empty = table_of()
    empty.note = "the eval rows hold one class only: AUC is undefined"
    assert "one class only" in render_importance.render(empty) and "<svg" not in render_importance.render(empty)


def test_entries_are_cut_from_the_wire_and_odd_records_are_parsed_instead():
    import tensorflow as tf

    rows = eval_rows(20)
    wire = permutation._entries_on_the_wire(rows[3])
    assert set(wire) == {"x", "noise", "city", "y"}
    parsed = tf.train.Example.FromString(rows[3]).features.feature
    assert permutation.example_bytes([wire["x"]]) == tf.train.Example(
        features=tf.train.Features(feature={"x": parsed["x"]})).SerializeToString()
    odd = rows[3] + b"\x12\x00"  # an unknown field after the features: valid proto, not the usual shape
    assert permutation._entries_on_the_wire(odd) is None
    table = permutation.Table([odd, rows[4]], ["x", "city"])
    want = tf.train.Example.FromString(rows[3])
    del want.features.feature["noise"], want.features.feature["y"]
    assert tf.train.Example.FromString(table.examples()[0]) == want
