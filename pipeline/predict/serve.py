"""`tfx-e2e predict`: load a pushed model and serve raw CSV / JSON-lines rows through its `serving_default`.

The model describes its own input: the `tf.io.parse_example` spec inside `serving_default` (column names, types,
fixed or variable length) is read from saved_model.pb (components/atomic_pusher/signature.py), so no schema,
config or Transform output is needed to turn raw rows into the serialized tf.Examples the model takes. Columns the
model does not parse — the label, the label function's inputs, excluded features — are not sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from components.atomic_pusher import layout
from components.atomic_pusher import signature as sig
from pipeline.config.schema import ConfigError
from pipeline.data.csv_format import DataError
from pipeline.predict.examples import to_example
from pipeline.predict.rows import read_rows
from trainer_module.serving_contract import INPUT_KEY, SERVING_SIGNATURE

BATCH_SIZE = 1024


@dataclass
class Predictions:
    model_dir: Path
    inputs: dict[str, sig.InputFeature]
    ignored_columns: list[str]
    outputs: dict[str, np.ndarray]  # output name -> array with one entry per row
    rows: int


# ------------------------------------------------------------------------------------------------ the model


def _versions(base: Path) -> list[Path]:
    """Version directories holding a SavedModel, lowest first (`.tmp-*` pushes in progress are not versions)."""
    return [Path(v.path) for v in layout.numeric_versions(base, complete=True)]


def resolve_model(model: str, home: Path, config: Optional[str] = None) -> Path:
    """`latest` → the highest version under <home>/serving/<model name>; a version dir → itself; a model base
    dir → its highest version. ConfigError when there is nothing to load."""
    if model == "latest":
        from pipeline.config.loader import load_config

        cfg = load_config(config)
        base = home / "serving" / cfg.model_name
        versions = _versions(base)
        if not versions:
            raise ConfigError(
                f"no pushed model yet in {base}: run `tfx-e2e run --home {home}` (a blessed run pushes one), or "
                "pass --model DIR"
            )
        return versions[-1]
    path = Path(model).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"--model {model}: no such directory (give a pushed version directory, a model base "
                          "directory or `latest`)")
    if (path / "saved_model.pb").is_file():
        return path
    versions = _versions(path)
    if not versions:
        raise ConfigError(f"--model {model}: neither a SavedModel (no saved_model.pb) nor a model base directory "
                          "with numeric version directories")
    return versions[-1]


def input_features(model_dir: Path) -> dict[str, sig.InputFeature]:
    try:
        return sig.serving_input_features(str(model_dir))
    except sig.SignatureError as err:
        raise ConfigError(f"cannot tell which columns the model reads: {err}") from None


def predict(model: str, input_path: Path, home: Path, config: Optional[str] = None) -> Predictions:
    """Resolves the model, converts the rows and calls serving_default in batches."""
    model_dir = resolve_model(model, home, config)
    features = input_features(model_dir)
    input_path = Path(input_path).expanduser()
    columns, rows = read_rows(input_path)
    absent = [n for n, f in features.items() if n not in columns and (f.kind != "dense" or f.required)]
    if absent:
        raise DataError(
            f"{input_path}: missing column(s) the model reads: {', '.join(absent)} (found: {', '.join(columns)})"
        )
    examples = [to_example(row, features, input_path) for row in rows]

    import tensorflow as tf

    from trainer_module.custom_ops import register_for

    try:
        register_for(str(model_dir))  # a gbt model's forest needs TF-DF's ops
        serve = tf.saved_model.load(str(model_dir)).signatures[SERVING_SIGNATURE]
    except Exception as err:  # pylint: disable=broad-except
        raise ConfigError(f"{model_dir}: cannot load the model's {SERVING_SIGNATURE}: {type(err).__name__}: "
                          f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}") from None
    chunks: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(examples), BATCH_SIZE):
        batch = tf.constant(examples[start : start + BATCH_SIZE], dtype=tf.string)
        try:
            outputs = serve(**{INPUT_KEY: batch})
        except tf.errors.InvalidArgumentError as err:
            raise DataError(f"{input_path}: the model rejected rows {start + 1}-{start + len(batch)}: "
                            f"{err.message.strip().splitlines()[0]}") from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{model_dir}: its {SERVING_SIGNATURE} does not take serialized tf.Examples as "
                              f"`examples`: {err}") from None
        for name, value in outputs.items():
            chunks.setdefault(name, []).append(value.numpy())
    return Predictions(
        model_dir=model_dir,
        inputs=features,
        ignored_columns=[c for c in columns if c not in features],
        outputs={name: np.concatenate(parts) for name, parts in sorted(chunks.items())},
        rows=len(rows),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def as_records(result: Predictions) -> list[dict[str, Any]]:
    """One object per input row: {"row": n, <output>: the row's value(s), ...}, as serving_default returns them."""
    return [
        {"row": i + 1, **{name: _jsonable(np.asarray(values[i]).tolist()) for name, values in result.outputs.items()}}
        for i in range(result.rows)
    ]
