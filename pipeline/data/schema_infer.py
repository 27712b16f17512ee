"""`tfx-e2e schema infer`: bootstrap a schema.pbtxt for a new CSV dataset with TensorFlow Data Validation."""

from __future__ import annotations

from pathlib import Path

from pipeline.data.csv_format import csv_files


def infer_schema(data_dir: Path, out: Path) -> Path:
    """Computes statistics over every CSV in `data_dir`, infers a schema and writes it as text proto."""
    import tensorflow_data_validation as tfdv

    files = csv_files(data_dir)
    stats = tfdv.generate_statistics_from_csv(data_location=str(data_dir / "*.csv") if len(files) > 1 else str(files[0]))
    schema = tfdv.infer_schema(stats, infer_feature_shape=False)
    for feature in schema.feature:
        if feature.presence.min_fraction < 1.0:
            # CsvExampleGen writes an empty cell as a feature with no values (not as an absent feature), so a
            # column that can be missing must allow zero values.
            feature.value_count.ClearField("min")
    out.parent.mkdir(parents=True, exist_ok=True)
    tfdv.write_schema_text(schema, str(out))
    return out
