"""Model quality vs gradient-boosted trees (issue #15): tfx-e2e's pushed model, HistGradientBoosting, a linear model.

    python -m benchmarks.quality_bench [--only NAME,...] [--set KEY=VALUE ...] [--work DIR] [--tag TAG] [--keep-homes]

For each dataset of benchmarks/quality_datasets.py, one split for everyone: the train rows become the CSV directory
of a `tfx-e2e run` (config written here, `--set` flags passed to every run) in a fresh home; its pushed model (the
Trainer's model when nothing was pushed, and the record says so) is scored on the held-out rows through
`serving_default` with the project's predict library (raw CSV rows in, as a user's). scikit-learn's
HistGradientBoosting (default settings, categorical features declared) and a logistic / ridge baseline fit on the
same train rows, read from the same CSV. Metric: AUC (binary), accuracy (multiclass), R² (regression). Writes
benchmarks/results/quality.json (quality-TAG.json with --tag) and prints the table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from benchmarks import quality_datasets as qd
from benchmarks.common import fresh_dir, machine, read_json, run_monitored, tfx_e2e, write_json
from pipeline.config.loader import load_config
from pipeline.config.schema import ConfigError

# task -> (metric, tolerance): tfx-e2e is within target when its value ≥ HistGradientBoosting's − tolerance.
TARGETS = {"binary": ("auc", 0.005), "multiclass": ("accuracy", 0.01), "regression": ("r2", 0.01)}
# The pipeline's own eval-split metric for the task, as the run summary prints it.
PIPELINE_METRIC = {"binary": "auc", "multiclass": "sparse_categorical_accuracy", "regression": "r_squared"}
MAX_CATEGORIES = 255  # HistGradientBoosting's limit for a categorical feature (its max_bins)


def write_inputs(ds: qd.Dataset, work: Path) -> tuple[Path, Path, Path]:
    """The pipeline's CSV directory, the held-out CSV and the run's config YAML, under work/."""
    data, test_csv, config_path = work / "data", work / "test.csv", work / "config.yaml"
    data.mkdir(parents=True, exist_ok=True)
    ds.train.to_csv(data / "train.csv", index=False)
    ds.test.to_csv(test_csv, index=False)
    config = {**qd.config_copy(ds), "name": ds.name, "data": str(data), "serving_model_name": ds.name}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return data / "train.csv", test_csv, config_path


def parse_sets(sets: list[str]) -> dict[str, Any]:
    """--set KEY=VALUE flags as the CLI reads them (the value as YAML)."""
    pairs = [text.partition("=") for text in sets]
    bad = [a + b + c for a, b, c in pairs if not b or not a.strip()]
    if bad:
        raise SystemExit(f"--set expects KEY=VALUE, got {bad[0]!r}")
    return {key.strip(): yaml.safe_load(value) for key, _, value in pairs}


def run_pipeline(ds: qd.Dataset, config_path: Path, home: Path, sets: list[str], log: Path) -> dict:
    """`tfx-e2e run` into a fresh home: its summary (blessed, pushed, the eval metric) and how long it took."""
    argv = tfx_e2e("run", "--config", str(config_path), "--home", str(home), *[a for s in sets for a in ("--set", s)])
    result = run_monitored(argv, log)
    text = log.read_text(errors="replace")

    def _summary_value(pattern: str) -> Optional[str]:
        return (re.findall(pattern, text, flags=re.MULTILINE) or [None])[-1]

    pushed = _summary_value(r"^pushed\s+(\S+)")
    eval_metric = _summary_value(rf"^\s+{PIPELINE_METRIC[ds.task]}\s+(-?[\d.]+(?:e-?\d+)?)\s")
    pipeline_s = _summary_value(r"^pipeline\s+\S+\s+\(([\d.]+) s\)")
    return {"returncode": result.returncode, "seconds": round(result.wall_seconds, 2),
            "pipeline_seconds": float(pipeline_s) if pipeline_s else None, "cpu_seconds": round(result.cpu_seconds, 2),
            "blessed": {"yes": True, "no": False}.get(_summary_value(r"^blessed\s+(\w+)") or ""),
            "pushed": pushed if pushed and pushed != "nothing" else None,
            "pipeline_eval_metric": float(eval_metric) if eval_metric else None, "log": str(log),
            "error": None if result.returncode == 0 else (text.strip().splitlines() or ["(no output)"])[-1]}


def model_to_score(home: Path, pushed: Optional[str]) -> tuple[Optional[Path], str]:
    """The pushed version; else the newest Trainer model's serving directory (not blessed, so nothing was pushed)."""
    if pushed and Path(pushed).is_dir():
        return Path(pushed), "pushed"
    trained = sorted(home.glob("**/Trainer/model/*/Format-Serving"), key=lambda p: p.stat().st_mtime)
    return (trained[-1], "trainer (not pushed)") if trained else (None, "none")


def tfx_scores(task: str, outputs: dict[str, np.ndarray]) -> np.ndarray:
    """serving_default's outputs → the score the metric needs: P(positive), the predicted class name, the prediction."""
    if task == "binary":
        return np.asarray(outputs["probabilities"], dtype=float)[:, 0]  # [n, 1]: P(positive)
    if task == "multiclass":
        classes, best = np.asarray(outputs["classes"]), np.asarray(outputs["probabilities"]).argmax(axis=1)
        return np.array([c.decode() if isinstance(c, bytes) else str(c) for c in classes[np.arange(len(best)), best]])
    return np.asarray(outputs["predictions"], dtype=float).reshape(-1)


def metric(task: str, y: np.ndarray, scores: np.ndarray) -> float:
    if task == "multiclass":  # class names as strings: the served `classes` are strings for integer ids too
        return float(accuracy_score(np.asarray(y).astype(str), np.asarray(scores).astype(str)))
    return float((roc_auc_score if task == "binary" else r2_score)(y, scores))


def score_tfx(ds: qd.Dataset, model_dir: Path, test_csv: Path, home: Path) -> np.ndarray:
    """The model's scores of the held-out rows, through `serving_default` (pipeline.predict, as `tfx-e2e predict`)."""
    from pipeline.predict.serve import predict

    result = predict(str(model_dir), test_csv, home)
    if result.rows != len(ds.y_test):
        raise RuntimeError(f"{ds.name}: predict returned {result.rows} rows for {len(ds.y_test)} test rows")
    return tfx_scores(ds.task, result.outputs)


def gap_se(task: str, y: np.ndarray, tfx: np.ndarray, hgb: np.ndarray, draws: int = 200) -> float:
    """Standard error of tfx-e2e − HGB over seeded paired bootstrap resamples of the test rows: the gap's noise."""
    rng, diffs = np.random.default_rng(0), []
    for rows in (rng.integers(0, len(y), len(y)) for _ in range(draws)):
        if task != "binary" or 0 < y[rows].sum() < len(rows):  # AUC needs both classes
            diffs.append(metric(task, y[rows], tfx[rows]) - metric(task, y[rows], hgb[rows]))
    return round(float(np.std(diffs)), 6)


def _category(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an integer id read as float because its column has gaps: "5", never "5.0"
    return np.nan if pd.isna(value) else str(value)


def sklearn_frames(ds: qd.Dataset, train_csv: Path, test_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Train and test features as pandas reads the same CSV files; categorical = string columns + declared ids."""
    train, test = pd.read_csv(train_csv), pd.read_csv(test_csv)
    declared = set((ds.config.get("features") or {}).get("categorical") or ())
    cats = [c for c in ds.features if c in declared or train[c].dtype == object]
    for frame in (train, test):
        for c in cats:
            frame[c] = frame[c].map(_category).astype(object)
    return train[list(ds.features)], test[list(ds.features)], cats


def hist_gbt(task: str, cats: list[str], train: pd.DataFrame) -> Any:
    """HistGradientBoosting, default settings, categorical features declared (ordinal codes, unknown → missing).

    HistGradientBoosting takes at most 255 categories per feature: a column with more keeps its 254 most frequent
    values and one "infrequent" category (OrdinalEncoder's max_categories, scikit-learn's own way); the record
    lists such columns. (Measured on shop: 0.707 AUC this way, 0.683 with the ordinal code as a plain number.)"""
    encode = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                                       encoded_missing_value=np.nan,
                                                       max_categories=MAX_CATEGORIES), cats)],
                               remainder="passthrough", verbose_feature_names_out=False)
    mask = [True] * len(cats) + [False] * (train.shape[1] - len(cats))  # the encoder puts the categories first
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return Pipeline([("encode", encode), ("model", cls(categorical_features=mask or None, random_state=0))])


def linear(task: str, cats: list[str], train: pd.DataFrame) -> Any:
    """LogisticRegression(max_iter=1000) / Ridge() on one-hot categories + median-imputed, standardised numbers."""
    nums = [c for c in train.columns if c not in cats]
    encode = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), nums),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), cats),
    ])
    model = Ridge() if task == "regression" else LogisticRegression(max_iter=1000)
    return Pipeline([("encode", encode), ("model", model)])


def fit_score(ds: qd.Dataset, model: Any, train: pd.DataFrame, test: pd.DataFrame, repeats: int = 2) -> dict:
    """Fit + predict `repeats` times (seeded: the same model each time); seconds = the fastest, as OpenMP's
    start-up and a busy machine can stretch one fit of a few hundred rows to seconds."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.fit(train, ds.y_train)
        scores = model.predict_proba(test)[:, 1] if ds.task == "binary" else model.predict(test)
        seconds.append(time.perf_counter() - started)
    return {"value": round(metric(ds.task, ds.y_test, scores), 6), "seconds": round(min(seconds), 2),
            "seconds_each": [round(x, 2) for x in seconds], "_scores": scores}  # _scores: not written


def baselines(name: str, work: Path, sets: list[str]) -> tuple[qd.Dataset, dict]:
    """The dataset's files under work/ (its config checked with the --set flags: a ConfigError stops the benchmark
    before any run) and the scikit-learn models' scores, before any TensorFlow loads in this process: after a
    SavedModel has run here, TensorFlow's thread pools slow HistGradientBoosting's OpenMP 4-100×."""
    ds = qd.build(name)
    work.mkdir(parents=True, exist_ok=True)
    train_csv, test_csv, config_path = write_inputs(ds, work)
    family = load_config(config_path, parse_sets(sets)).model.family
    train, test, cats = sklearn_frames(ds, train_csv, test_csv)
    metric_name, tolerance = TARGETS[ds.task]
    record = {
        "about": ds.about, "task": ds.task, "family": family, "metric": metric_name, "tolerance": tolerance,
        "rows": {"train": len(ds.train), "test": len(ds.test)}, "features": len(ds.features),
        "categorical": cats, "hgb_grouped_infrequent": [c for c in cats if train[c].nunique() > MAX_CATEGORIES],
        "hgb": fit_score(ds, hist_gbt(ds.task, cats, train), train, test),
        "linear": fit_score(ds, linear(ds.task, cats, train), train, test),
    }
    print(f"== {name}: {metric_name} HGB {_f(record['hgb']['value'])} ({record['hgb']['seconds']:.1f} s), "
          f"linear {_f(record['linear']['value'])} ({record['linear']['seconds']:.1f} s)", flush=True)
    return ds, record


def with_pipeline(ds: qd.Dataset, record: dict, work: Path, sets: list[str], keep_home: bool) -> dict:
    """tfx-e2e's run on the dataset's files under work/, its model scored on the test rows; the gap to HGB."""
    config_path, test_csv, home = work / "config.yaml", work / "test.csv", work / "home"
    print(f"== {ds.name}: tfx-e2e run ({len(ds.train):,} train rows, {ds.task}, {record['family']})", flush=True)
    tfx = run_pipeline(ds, config_path, home, sets, work / "run.log")
    model_dir, scored = model_to_score(home, tfx["pushed"])
    tfx.update(value=None, scored_model=scored)
    hgb_scores, _ = record["hgb"].pop("_scores"), record["linear"].pop("_scores")
    started, gap, se = time.perf_counter(), None, None
    try:  # a model that cannot serve the held-out rows is a result to record, not the end of the benchmark
        if model_dir is not None:
            scores = score_tfx(ds, model_dir, test_csv, home)
            tfx["value"] = round(metric(ds.task, ds.y_test, scores), 6)
            gap, se = round(tfx["value"] - record["hgb"]["value"], 6), gap_se(ds.task, ds.y_test, scores, hgb_scores)
    except Exception as err:  # pylint: disable=broad-except
        tfx["error"] = f"scoring {model_dir}: {type(err).__name__}: {err}"
    tfx["score_seconds"] = round(time.perf_counter() - started, 2)
    if not keep_home:
        shutil.rmtree(home, ignore_errors=True)
    record.update(tfx=tfx, gap=gap, gap_se=se, within_target=gap is not None and gap >= -record["tolerance"],
                  measured=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print(f"   {record['metric']}: tfx-e2e {_f(tfx['value'])} ({scored}, {tfx['seconds']:.0f} s), HGB "
          f"{_f(record['hgb']['value'])}; gap {_f(gap)} ± {_f(se)}" + (f"\n   {tfx['error']}" if tfx["error"] else ""),
          flush=True)
    return record


def _f(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.4f}"


def table(results: dict[str, dict]) -> list[str]:
    head = ["dataset", "task", "rows train/test", "metric", "tfx-e2e", "HGB", "linear", "gap ± se", "within",
            "tfx-e2e s", "HGB s", "linear s", "blessed"]
    rows = [[name, r["task"], f"{r['rows']['train']:,} / {r['rows']['test']:,}", r["metric"], _f(r["tfx"]["value"]),
             _f(r["hgb"]["value"]), _f(r["linear"]["value"]),
             "–" if r["gap"] is None else f"{r['gap']:+.4f} ± {r.get('gap_se') or 0:.4f}",
             "yes" if r["within_target"] else "no", f"{r['tfx']['seconds']:.0f}", f"{r['hgb']['seconds']:.1f}",
             f"{r['linear']['seconds']:.1f}", {True: "yes", False: "no", None: "–"}[r["tfx"]["blessed"]]]
            for name, r in results.items()]
    return ["| " + " | ".join(row) + " |" for row in [head, ["---"] * len(head), *rows]]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(qd.BUILDERS), help=f"a subset of {','.join(qd.BUILDERS)}")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to every `tfx-e2e run` (e.g. --set model.family=gbt); repeatable")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory (default: a new temp dir)")
    parser.add_argument("--tag", default=None, help="write benchmarks/results/quality-TAG.json (a variant)")
    parser.add_argument("--keep-homes", action="store_true", help="keep each run's tfx-e2e home under --work")
    args = parser.parse_args(argv)
    only = [n for n in args.only.split(",") if n]
    if set(only) - set(qd.BUILDERS):
        parser.error(f"unknown dataset(s) {sorted(set(only) - set(qd.BUILDERS))}; choose from {', '.join(qd.BUILDERS)}")
    if args.tag and not re.fullmatch(r"[\w.-]+", args.tag):
        parser.error("--tag: letters, digits, '.', '-' and '_' only")
    work = args.work or fresh_dir("quality")
    print(f"quality benchmark in {work}", flush=True)
    started = time.perf_counter()
    try:
        prepared = {name: baselines(name, work / name, args.sets) for name in only}
    except ConfigError as err:
        parser.error(str(err))
    results = {name: with_pipeline(ds, record, work / name, args.sets, args.keep_homes)
               for name, (ds, record) in prepared.items()}
    name = f"quality-{args.tag}" if args.tag else "quality"
    out = merged(name, {
        "machine": machine(), "load_average": list(os.getloadavg()), "sets": args.sets, "tag": args.tag,
        "targets": {task: {"metric": m, "tolerance": t} for task, (m, t) in TARGETS.items()},
        "seconds": round(time.perf_counter() - started, 1), "work": str(work), "datasets": results,
    })
    print("\n".join(["", *table(out["datasets"]), ""]))
    print(f"wrote {write_json(name, out)}")
    return 0


def merged(name: str, out: dict) -> dict:
    """A subset run (--only) replaces its datasets in the results file when that file's runs had the same --set
    flags, and keeps the others (each dataset records when it was measured); else the file starts over."""
    old = read_json(name)
    if old and old.get("sets") == out["sets"]:
        datasets = {**old["datasets"], **out["datasets"]}
        out["datasets"] = {n: datasets[n] for n in [*qd.BUILDERS, *datasets] if n in datasets}
    out["order"] = list(out["datasets"])  # the file's keys are sorted; this is the builders' order
    out["all_within_target"] = all(r["within_target"] for r in out["datasets"].values())
    return out


if __name__ == "__main__":
    raise SystemExit(main())
