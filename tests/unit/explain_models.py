"""Small real exported models for the `tfx-e2e explain` tests: a tf.Transform output analysed by Beam in-process
(trainer_module.preprocessing), a model of trainer_module.models trained for a few epochs on it, exported with
trainer_module.export exactly as the Trainer does."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Optional

import numpy as np

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

TABULAR_CONFIG = {
    "task": "binary",
    "label": {"key": "sold", "column": "sold", "fn": None, "inputs": [], "counts": False},
    "features": {"categorical": ["rooms"], "bucketize": {"lat": 4}, "top_k": 100, "oov_buckets": 1},
    "model": {"family": "dnn"},
}
IMAGE_CONFIG = {
    "task": "multiclass",
    "label": {"key": "label", "column": "label", "fn": None, "inputs": [], "counts": False},
    "features": {},
    "model": {"family": "cnn"},
}
SIDE = 4  # 4×4 images: a real CNN, in seconds


def tabular_rows(n: int = 240, seed: int = 0) -> list[dict[str, Any]]:
    """price (optional float), x (float), rooms (categorical int), city (string), lat (bucketized) → sold."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        price, x = rng.normal(100, 20), rng.normal()
        rooms, city, lat = int(rng.integers(1, 4)), str(rng.choice(["paris", "rome", "oslo"])), rng.uniform(0, 10)
        sold = int((price - 100) / 20 + (city == "rome") * 1.5 + x * 0.5 + rng.normal(0, 0.3) > 0.3)
        rows.append({"price": [] if rng.random() < 0.1 else [float(price)], "x": float(x), "rooms": rooms,
                     "city": [city.encode()], "lat": float(lat), "sold": sold})
    return rows


def tabular_spec() -> dict[str, Any]:
    return {
        "price": tf.io.VarLenFeature(tf.float32),
        "x": tf.io.FixedLenFeature([], tf.float32),
        "rooms": tf.io.FixedLenFeature([], tf.int64),
        "city": tf.io.VarLenFeature(tf.string),
        "lat": tf.io.FixedLenFeature([], tf.float32),
        "sold": tf.io.FixedLenFeature([], tf.int64),
    }


def image_rows(n: int = 150, seed: int = 0) -> list[dict[str, Any]]:
    """4×4 images of three classes: a bright top row, a bright left column, or a bright centre (with noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = i % 3
        image = rng.uniform(0, 3, (SIDE, SIDE))
        if label == 0:
            image[0, :] += 12
        elif label == 1:
            image[:, 0] += 12
        else:
            image[1:3, 1:3] += 12
        rows.append({"pixels": image.ravel().astype(float).tolist(), "label": label})
    return rows


def image_spec() -> dict[str, Any]:
    return {"pixels": tf.io.FixedLenFeature([SIDE * SIDE], tf.float32), "label": tf.io.FixedLenFeature([], tf.int64)}


def serialize(row: dict[str, Any], spec: dict[str, Any]) -> bytes:
    feature = {}
    for name, value in row.items():
        values = value if isinstance(value, list) else [value]
        if spec[name].dtype == tf.string:
            feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif spec[name].dtype == tf.int64:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        else:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_transform(rows: list[dict[str, Any]], spec: dict[str, Any], config: dict[str, Any], out: Path) -> Any:
    """Analyses `rows` with preprocessing_fn (Beam, in-process) and returns the TFTransformOutput written to `out`."""
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from trainer_module.preprocessing import preprocessing_fn

    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(out.parent / "tft_tmp"), force_tf_compat_v1=False):
        data = pipeline | beam.Create(rows, reshuffle=False)
        transform_fn = (data, metadata) | tft_beam.AnalyzeDataset(lambda inputs: preprocessing_fn(inputs, config))
        _ = transform_fn | tft_beam.WriteTransformFn(str(out))
        _ = metadata | tft_beam.WriteMetadata(str(out / "metadata"), pipeline)  # raw metadata, as Transform
    return tft.TFTransformOutput(str(out))


def train_and_export(rows: list[dict[str, Any]], spec: dict[str, Any], config: dict[str, Any], root: Path,
                     hparams: Optional[dict[str, Any]] = None, explain: bool = True, epochs: int = 15,
                     tft_output: Any = None) -> Path:
    """Transform output → the config's model family trained on it → the SavedModel the Trainer would export.
    explain=False exports as the code before `tfx-e2e explain` did (no explanation functions). A given
    `tft_output` is reused (Beam's analysis is the slow part)."""
    from trainer_module import export, models
    from trainer_module import features as F

    tft_output = tft_output or write_transform(rows, spec, config, root / "transform")
    model_spec = F.model_spec(tft_output, config)
    model = models.build(config["model"]["family"], model_spec, hparams or {})
    layer = tft_output.transform_features_layer()
    transformed = layer(tf.io.parse_example(tf.constant([serialize(r, spec) for r in rows]), spec))
    label = F.label_spec(config).transformed_key
    inputs = {f.name: transformed[f.name] for f in model_spec.inputs}
    model.fit(inputs, transformed[label], epochs=epochs, batch_size=32, verbose=0)
    signatures = export.serving_signatures(model, tft_output, config, model_spec)
    if not explain:
        del model.explain_spec
    export.export(model, str(root / "model"), signatures)
    return root / "model"


def write_rows_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """The rows as a user's CSV: one cell per column, vectors as space-separated numbers, missing cells empty."""
    header = list(rows[0])
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            cells = []
            for name in header:
                value = row[name]
                if isinstance(value, list):
                    value = " ".join(v.decode() if isinstance(v, bytes) else repr(v) for v in value)
                cells.append(value)
            writer.writerow(cells)
    return path
