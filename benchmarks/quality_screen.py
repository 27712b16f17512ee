"""A fast screen of dnn hyperparameters for the quality benchmark: no pipeline, the same model code and fit regimen.

    python -m benchmarks.quality_screen DATASET[,DATASET...] ['{"hparam": value}'] ['{"seed": 1, "fit_kw": {...}}']
    python -m benchmarks.quality_screen --hgb DATASET[,DATASET...]

For a dataset of benchmarks/quality_datasets.py: its train rows split at random like the pipeline splits them (2/3
train for a config with split_buckets, as the taxi config's 2:1, else 80 %), a pandas copy of Transform's features
(mean-filled z-scores, top-1000 vocabulary ids with 10 OOV buckets, quantile buckets), the regression target scaled
by trainer_module.label_stats.choose_scaling, the model from trainer_module.models.dnn.build, and the Trainer's fit
(train_steps over epochs, early stopping on val_loss restoring the best weights); scored on the held-out rows with
the benchmark's metric. Seconds per dataset instead of minutes per pipeline run, so a small difference can be
checked over several seeds before a full `benchmarks.quality_bench` run. For a log-scaled target it also prints the
score with Duan's smearing correction (predictions × mean exp(residual) on the eval rows). `--hgb`: the benchmark's
HistGradientBoosting refitted on a random share of its train rows as large as the pipeline's train split (3 draws):
how much of a gap the pipeline's smaller train split explains.
"""

from __future__ import annotations

import json
import os
import sys
import zlib

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import quality_bench as qb  # noqa: E402
from benchmarks import quality_datasets as qd  # noqa: E402
from trainer_module import label_stats, models  # noqa: E402
from trainer_module.features import InputFeature, ModelSpec  # noqa: E402


def _numbers(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column.replace("", np.nan), errors="coerce").to_numpy(float)


def features(ds: qd.Dataset, seed: int = 0) -> tuple[dict, list[InputFeature], np.ndarray]:
    """{column: (train values, test values)}, the model inputs, and the mask of the pipeline-like train part."""
    config = ds.config.get("features") or {}
    declared, buckets = set(config.get("categorical") or ()), dict(config.get("bucketize") or {})
    part = np.random.default_rng(seed).random(len(ds.train)) < (2 / 3 if ds.config.get("split_buckets") else 0.8)
    columns, inputs = {}, []
    for c in ds.features:
        train, test = ds.train[c], ds.test[c]
        text = train.dtype == object and np.isnan(_numbers(train)).mean() > 0.5
        if c in declared or text:
            vocabulary = {v: i for i, v in enumerate(train.astype(str)[part].value_counts().index[:1000])}

            def ids(s: pd.Series, vocabulary=vocabulary) -> np.ndarray:
                return np.array([vocabulary.get(v, len(vocabulary) + zlib.crc32(v.encode()) % 10)
                                 for v in s.astype(str)], dtype=np.int64)

            columns[c] = (ids(train), ids(test))
            inputs.append(InputFeature(c, "categorical", len(vocabulary) + 10))
            continue
        a, b = _numbers(train.astype(str)) if train.dtype == object else train.to_numpy(float), \
            _numbers(test.astype(str)) if test.dtype == object else test.to_numpy(float)
        mean = np.nanmean(a[part])
        filled_a, filled_b = np.where(np.isnan(a), mean, a), np.where(np.isnan(b), mean, b)
        if c in buckets:
            edges = np.nanquantile(a[part], np.linspace(0, 1, buckets[c] + 1)[1:-1])
            columns[c] = (np.searchsorted(edges, filled_a, side="right").astype(np.int64),
                          np.searchsorted(edges, filled_b, side="right").astype(np.int64))
            inputs.append(InputFeature(c, "categorical", buckets[c]))
            continue
        mu, sd = filled_a[part].mean(), filled_a[part].std() or 1.0
        columns[c] = (((filled_a - mu) / sd).astype("float32"), ((filled_b - mu) / sd).astype("float32"))
        inputs.append(InputFeature(c, "numeric"))
    return columns, inputs, part


def run(name: str, hparams: dict, seed: int = 42, fit_kw: dict | None = None) -> dict:
    """The dnn's score on the dataset's held-out rows (and the smeared score for a log-scaled target)."""
    ds = qd.build(name)
    columns, inputs, part = features(ds)
    training = ds.config.get("training") or {}
    steps, epochs = int(training.get("train_steps", 1000)), int(training.get("epochs", 5))
    target, scaling, classes = ds.y_train.astype(float), None, None
    if ds.task == "regression":
        scaling, _ = label_stats.choose_scaling(target[part])
        target = scaling.forward(target).numpy()
    elif ds.task == "multiclass":
        classes = sorted(set(ds.y_train))
        target = np.array([classes.index(v) for v in ds.y_train], dtype=float)
    tf.keras.utils.set_random_seed(seed)
    spec = ModelSpec(tuple(inputs), ds.task, num_classes=len(classes) if classes else 2,
                     extra={"train_steps": steps})
    model = models.build("dnn", spec, hparams)
    rows = {k: v[0].reshape(-1, 1) for k, v in columns.items()}
    train = tf.data.Dataset.from_tensor_slices(({k: v[part] for k, v in rows.items()}, target[part].reshape(-1, 1)))
    evaluation = ({k: v[~part] for k, v in rows.items()}, target[~part].reshape(-1, 1))
    fit_kw = dict(fit_kw or {})
    if "class_weight" in fit_kw:  # JSON keys are strings
        fit_kw["class_weight"] = {int(k): float(v) for k, v in fit_kw["class_weight"].items()}
    history = model.fit(train.shuffle(20_000, seed=seed).repeat().batch(128), epochs=epochs,
                        steps_per_epoch=max(1, steps // epochs), validation_data=evaluation, verbose=0,
                        callbacks=[tf.keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)], **fit_kw)
    out = model.predict({k: v[1].reshape(-1, 1) for k, v in columns.items()}, verbose=0, batch_size=4096)
    result = {"dataset": name, "epochs": len(history.history["loss"]), "hparams": hparams, "seed": seed}
    if ds.task == "binary":
        result["value"] = qb.metric(ds.task, ds.y_test, out[:, 0])
    elif ds.task == "multiclass":
        result["value"] = qb.metric(ds.task, ds.y_test, np.array(classes)[out.argmax(axis=1)])
    else:
        predictions = scaling.inverse(out[:, 0]).numpy()
        result["value"] = qb.metric(ds.task, ds.y_test, predictions)
        if scaling.kind == "log1p_zscore":
            residual = (evaluation[1][:, 0] - model.predict(evaluation[0], verbose=0, batch_size=4096)[:, 0])
            factor = float(np.mean(np.exp(residual * scaling.scale)))
            result["smeared"] = qb.metric(ds.task, ds.y_test, (predictions + 1) * factor - 1)
    return result


def hgb_on_train_share(name: str, draws: int = 3) -> dict:
    """HistGradientBoosting (quality_bench.hist_gbt) fitted on `draws` random pipeline-sized shares of the rows."""
    import tempfile
    from pathlib import Path

    work = Path(tempfile.mkdtemp(prefix=f"quality-screen-{name}-"))
    ds, record = qb.baselines(name, work, [])
    train, test, cats = qb.sklearn_frames(ds, work / "data" / "train.csv", work / "test.csv")
    share = 2 / 3 if ds.config.get("split_buckets") else 0.8
    values = []
    for seed in range(draws):
        rows = np.random.default_rng(seed).random(len(train)) < share
        model = qb.hist_gbt(ds.task, cats, train[rows]).fit(train[rows], ds.y_train[rows])
        scores = model.predict_proba(test)[:, 1] if ds.task == "binary" else model.predict(test)
        values.append(round(qb.metric(ds.task, ds.y_test, scores), 4))
    return {"dataset": name, "all_rows": record["hgb"]["value"], "share": round(share, 3), "values": values}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    if argv[0] == "--hgb":
        for name in argv[1].split(","):
            print(json.dumps(hgb_on_train_share(name)), flush=True)
        return 0
    hparams = json.loads(argv[1]) if len(argv) > 1 else {}
    options = json.loads(argv[2]) if len(argv) > 2 else {}
    for name in argv[0].split(","):
        print(json.dumps(run(name, hparams, **options)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
