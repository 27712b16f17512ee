"""A second, different CSV (written here) runs from a config file alone: no module file, no curated schema."""

from __future__ import annotations

import random

import numpy as np

from pipeline.dag import node_ids
from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from trainer_module import serving_contract as contract

CLASSES = ["small", "medium", "large"]


def write_synthetic(data_dir, rows=900, seed=1):
    """Three classes of parcels, separable by weight and volume, plus a noisy string and an int column."""
    rng = random.Random(seed)
    table = []
    for _ in range(rows):
        k = rng.randrange(3)
        weight = rng.gauss([1.0, 5.0, 12.0][k], 1.0)
        volume = rng.gauss([3.0, 20.0, 60.0][k], 4.0)
        carrier = rng.choice(["dhl", "ups", "post"])
        floor = "" if rng.random() < 0.1 else str(rng.randrange(10))  # some missing ints
        table.append([f"{weight:.3f}", f"{volume:.2f}", carrier, floor, CLASSES[k]])
    return support.write_csv(data_dir, ["weight_kg", "volume_l", "carrier", "floor", "size_class"], table,
                             name="parcels.csv")


CONFIG = """
name: parcels
data: {data}
task: multiclass
label: {{column: size_class}}
features:
  categorical: [floor]
training: {{train_steps: 150, eval_steps: 4, batch_size: 32, epochs: 3}}
evaluation:
  thresholds: {{sparse_categorical_accuracy: {{lower: 0.8}}}}
serving_model_name: parcels
"""


def test_second_csv_runs_with_inferred_schema(tmp_path):
    import tensorflow as tf

    data_dir = tmp_path / "parcels"
    write_synthetic(data_dir)
    config = tmp_path / "parcels.yaml"
    config.write_text(CONFIG.format(data=data_dir))
    home = tmp_path / "home"

    # Multi-processing Beam: Transform's workers are separate processes that must get Keras 2 and our code too.
    result = support.cli(["run", "--config", config, "--home", home, "--beam-mode", "multi_processing"])
    assert result.code == 0, result.stdout + result.stderr

    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_id = mlmd_runs.run_ids(store, "parcels")[0]
    executions = mlmd_runs.node_executions(store, "parcels", run_id)
    assert node_ids.SCHEMA_GEN in executions and node_ids.IMPORT_SCHEMA_GEN not in executions
    assert all(e.state == "complete" for e in executions.values())
    assert executions[node_ids.EVALUATOR].outputs["blessing"][0].properties["blessed"] == 1

    versions = support.pushed_versions(home / "serving" / "parcels")
    assert len(versions) == 1
    model = tf.saved_model.load(str(versions[0]))
    rows = support.read_csv_rows(data_dir / "parcels.csv", 200)
    # Types as CsvExampleGen infers them: floats, a string, an int column; the label column is left out.
    examples = []
    for row in rows:
        feature = {
            "weight_kg": tf.train.Feature(float_list=tf.train.FloatList(value=[float(row["weight_kg"])])),
            "volume_l": tf.train.Feature(float_list=tf.train.FloatList(value=[float(row["volume_l"])])),
            "carrier": tf.train.Feature(bytes_list=tf.train.BytesList(value=[row["carrier"].encode()])),
            "floor": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(row["floor"])] if row["floor"] else [])),
        }
        examples.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    serve = model.signatures[contract.SERVING_SIGNATURE]
    probabilities = serve(**{contract.INPUT_KEY: tf.constant(examples)})[contract.PROBABILITIES].numpy()
    assert probabilities.shape == (200, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)

    # Class ids follow the label vocabulary Transform wrote; map them back and check the model learned.
    transform_graph = executions[node_ids.TRANSFORM].outputs["transform_graph"][0].uri
    import tensorflow_transform as tft

    vocabulary = [v.decode() for v in tft.TFTransformOutput(transform_graph).vocabulary_by_name("label_vocabulary")]
    predicted = [vocabulary[i] for i in probabilities.argmax(axis=1)]
    accuracy = np.mean([p == r["size_class"] for p, r in zip(predicted, rows)])
    assert accuracy > 0.8


def test_schema_infer_bootstraps_a_schema(tmp_path):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    data_dir = tmp_path / "parcels"
    write_synthetic(data_dir, rows=200)
    out = tmp_path / "schemas" / "parcels" / "schema.pbtxt"
    result = support.cli(["schema", "infer", "--data", data_dir, "--out", out])
    assert result.code == 0, result.stdout + result.stderr
    schema = text_format.Parse(out.read_text(), schema_pb2.Schema())
    types = {f.name: f.type for f in schema.feature}
    assert types == {
        "weight_kg": schema_pb2.FLOAT, "volume_l": schema_pb2.FLOAT, "carrier": schema_pb2.BYTES,
        "floor": schema_pb2.INT, "size_class": schema_pb2.BYTES,
    }
    floor = next(f for f in schema.feature if f.name == "floor")
    assert not floor.value_count.HasField("min")  # a column with empty cells may have zero values


def test_schema_infer_on_missing_dir_is_a_clear_error(tmp_path):
    result = support.cli(["schema", "infer", "--data", tmp_path / "nope", "--out", tmp_path / "s.pbtxt"])
    assert result.code == 2 and "nope does not exist" in result.stderr and "Traceback" not in result.stderr
