"""A seeded corpus of small tabular CSV datasets the repository does not ship, each with rows held out from training.

Every dataset is written as `<root>/train/data.csv` (the directory a config's `data` names: it holds nothing else,
since CsvExampleGen reads every entry of it) and `<root>/holdout.csv` (rows the pipeline never sees, label included,
none of them with an empty label). Labels come from a few features through a known formula plus noise, so a model
can learn them but not perfectly; feature cells are then blanked at random (missing completely at random).

  churn    binary, label "Yes"/"No"; ~5% missing cells in two numeric features and in a string feature, a constant
           column, an entirely empty column, ~2% training rows with an empty label
  leads    binary, label "TRUE"/"false" (the two values spelled in different case)
  flowers  multiclass, three species names of unequal shares, ~8% missing cells in a numeric feature
  houses   regression, a strictly positive, heavily right-skewed (lognormal) price; numeric and string features

Pure numpy: the same (name, seed) writes byte-identical files. `hgb_baseline` (scikit-learn, imported when called)
scores HistGradientBoosting on the same train → holdout split, for comparison with the pipeline's model.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

TRAIN_FILE = "data.csv"
HOLDOUT_FILE = "holdout.csv"


@dataclass
class Dataset:
    """Where a generated dataset is and what a config and a scorer need to know about it."""

    name: str  # also a sensible pipeline / model name
    task: str  # binary | multiclass | regression
    label: str  # the label column
    train_dir: Path  # the config's `data`: holds only TRAIN_FILE
    holdout_csv: Path  # held-out rows, label included
    holdout_labels: list  # the held-out labels in row order: strings (classification) or floats (regression)
    positive: Optional[str] = None  # binary: the label value that is the positive class
    classes: tuple[str, ...] = ()  # classification: every label value, as written

    @property
    def train_csv(self) -> Path:
        return self.train_dir / TRAIN_FILE


@dataclass
class _Table:
    """What a generator makes: columns (name -> cells as strings, "" = missing) and which rows are held out."""

    columns: dict[str, list[str]]
    label: str
    task: str
    holdout: int  # the last `holdout` rows are held out
    positive: Optional[str] = None
    classes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------------ cells


def _fmt(values: np.ndarray, spec: str) -> list[str]:
    return [format(v, spec) for v in values.tolist()]


def _blank(cells: list[str], rng: np.random.Generator, fraction: float, rows: Optional[int] = None) -> list[str]:
    """`cells` with about `fraction` of the first `rows` (default: all) emptied at random."""
    rows = len(cells) if rows is None else rows
    hit = rng.random(len(cells)) < fraction
    return ["" if hit[i] and i < rows else c for i, c in enumerate(cells)]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# ------------------------------------------------------------------------------------------------ the datasets


def churn(rng: np.random.Generator) -> _Table:
    """Customers leaving ("Yes") or staying ("No"): contract type, tenure, charges and support calls decide."""
    train, holdout = 2400, 600
    n = train + holdout
    tenure = rng.integers(0, 73, n)
    charges = np.clip(rng.normal(70.0, 25.0, n), 15.0, None)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.5, 0.3, 0.2])
    calls = rng.poisson(1.5, n)
    logit = (-1.2 + 1.8 * (contract == "month-to-month") - 0.8 * (contract == "two-year")
             - 0.045 * (tenure - 30) + 0.025 * (charges - 70) + 0.4 * (calls - 1.5))
    churned = rng.random(n) < _sigmoid(logit)
    label = ["Yes" if c else "No" for c in churned]
    columns = {
        "tenure_months": _blank(_fmt(tenure, "d"), rng, 0.05),
        "monthly_charges": _blank(_fmt(charges, ".2f"), rng, 0.05),
        "contract": _blank(contract.tolist(), rng, 0.05),
        "support_calls": _fmt(calls, "d"),
        "plan_version": ["2"] * n,  # constant
        "notes": [""] * n,  # entirely empty
        "churned": _blank(label, rng, 0.02, rows=train),  # empty labels in training rows only
    }
    return _Table(columns, "churned", "binary", holdout, positive="Yes", classes=("No", "Yes"))


def leads(rng: np.random.Generator) -> _Table:
    """Sales leads converting ("TRUE") or not ("false"): visits, time on site and the traffic source decide."""
    train, holdout = 1500, 500
    n = train + holdout
    visits = rng.poisson(3.0, n)
    minutes = rng.gamma(2.0, 3.0, n)
    source = rng.choice(["ad", "search", "referral", "direct"], n, p=[0.4, 0.3, 0.2, 0.1])
    logit = (-0.6 + 0.5 * (visits - 3) + 0.2 * (minutes - 6) + 1.5 * (source == "referral")
             - 0.8 * (source == "ad"))
    converted = rng.random(n) < _sigmoid(logit)
    columns = {
        "visits": _fmt(visits, "d"),
        "minutes_on_site": _fmt(minutes, ".2f"),
        "source": source.tolist(),
        "converted": ["TRUE" if c else "false" for c in converted],
    }
    return _Table(columns, "converted", "binary", holdout, positive="TRUE", classes=("TRUE", "false"))


FLOWER_CLASSES = ("setosa", "versicolor", "virginica")


def flowers(rng: np.random.Generator) -> _Table:
    """Three species (45% / 35% / 20% of rows) with overlapping measurements; petal length has empty cells."""
    train, holdout = 2400, 600
    n = train + holdout
    k = rng.choice(3, n, p=[0.45, 0.35, 0.20])
    means = np.array([[5.0, 3.4, 1.6, 0.3], [5.9, 2.8, 4.2, 1.3], [6.5, 3.0, 5.3, 1.9]])
    spread = np.array([0.45, 0.35, 0.7, 0.35])
    measures = means[k] + rng.normal(0.0, 1.0, (n, 4)) * spread
    habitat = rng.choice(["meadow", "forest", "shore"], n)
    columns = {
        "sepal_length": _fmt(measures[:, 0], ".2f"),
        "sepal_width": _fmt(measures[:, 1], ".2f"),
        "petal_length": _blank(_fmt(measures[:, 2], ".2f"), rng, 0.08),
        "petal_width": _fmt(measures[:, 3], ".2f"),
        "habitat": habitat.tolist(),
        "species": [FLOWER_CLASSES[i] for i in k],
    }
    return _Table(columns, "species", "multiclass", holdout, classes=FLOWER_CLASSES)


NEIGHBORHOODS = {"center": 0.55, "old_town": 0.35, "harbor": 0.2, "suburb": -0.1, "outskirts": -0.35, "airport": -0.5}


def houses(rng: np.random.Generator) -> _Table:
    """House prices: log(price) is linear in log(area), rooms, age and the neighborhood, plus noise (lognormal)."""
    train, holdout = 2400, 600
    n = train + holdout
    area = np.exp(rng.normal(np.log(95.0), 0.45, n))
    rooms = np.clip(np.round(area / 28.0 + rng.normal(0.0, 0.8, n)), 1, None).astype(int)
    age = rng.integers(0, 101, n)
    names = list(NEIGHBORHOODS)
    hood = rng.choice(names, n, p=[0.1, 0.1, 0.15, 0.35, 0.2, 0.1])
    effect = np.array([NEIGHBORHOODS[h] for h in hood])
    log_price = (12.2 + 0.9 * np.log(area / 95.0) + 0.05 * (rooms - 3) - 0.004 * (age - 50) + effect
                 + rng.normal(0.0, 0.3, n))
    columns = {
        "area_m2": _fmt(area, ".1f"),
        "rooms": _fmt(rooms, "d"),
        "age_years": _fmt(age, "d"),
        "neighborhood": hood.tolist(),
        "price": _fmt(np.exp(log_price), ".2f"),
    }
    return _Table(columns, "price", "regression", holdout)


GENERATORS: dict[str, Callable[[np.random.Generator], _Table]] = {
    "churn": churn, "leads": leads, "flowers": flowers, "houses": houses,
}


# ------------------------------------------------------------------------------------------------ writing


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate(name: str, root: Path, seed: int = 0) -> Dataset:
    """Writes dataset `name` under `root` (train/data.csv and holdout.csv) and describes it."""
    table = GENERATORS[name](np.random.default_rng(seed))
    header = list(table.columns)
    rows = [list(r) for r in zip(*table.columns.values())]
    cut = len(rows) - table.holdout
    root = Path(root)
    _write(root / "train" / TRAIN_FILE, header, rows[:cut])
    _write(root / HOLDOUT_FILE, header, rows[cut:])
    held = table.columns[table.label][cut:]
    return Dataset(
        name=name,
        task=table.task,
        label=table.label,
        train_dir=root / "train",
        holdout_csv=root / HOLDOUT_FILE,
        holdout_labels=[float(v) for v in held] if table.task == "regression" else list(held),
        positive=table.positive,
        classes=table.classes,
    )


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV written by `generate`."""
    with Path(path).open(newline="") as f:
        reader = csv.reader(f)
        return next(reader), [row for row in reader]


# ------------------------------------------------------------------------------------------------ a baseline


def _matrix(header: list[str], rows: list[list[str]], label: str, codes: dict[str, dict[str, int]]
            ) -> tuple[np.ndarray, list[bool]]:
    """Features as floats (NaN = missing; strings → codes learned on the training rows), which are categorical."""
    names = [h for h in header if h != label]
    data, categorical = [], []
    for name in names:
        cells = [row[header.index(name)] for row in rows]
        filled = [c for c in cells if c]
        numeric = name not in codes and all(_is_number(c) for c in filled)
        if numeric:
            data.append([float(c) if c else np.nan for c in cells])
        else:
            vocab = codes.setdefault(name, {v: i for i, v in enumerate(sorted(set(filled)))})
            data.append([float(vocab[c]) if c in vocab else np.nan for c in cells])
        categorical.append(not numeric)
    return np.array(data, dtype=float).T, categorical


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def hgb_baseline(dataset: Dataset, seed: int = 0) -> dict[str, Any]:
    """scikit-learn HistGradientBoosting trained on the training rows (empty labels dropped) and scored on the
    held-out rows: {"auc", "accuracy"} (binary), {"accuracy"} (multiclass) or {"r2"} (regression)."""
    from sklearn import metrics
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    header, train = read_table(dataset.train_csv)
    _, holdout = read_table(dataset.holdout_csv)
    at = header.index(dataset.label)
    train = [r for r in train if r[at]]
    codes: dict[str, dict[str, int]] = {}
    x_train, categorical = _matrix(header, train, dataset.label, codes)
    x_test, _ = _matrix(header, holdout, dataset.label, codes)
    if dataset.task == "regression":
        model = HistGradientBoostingRegressor(categorical_features=categorical, random_state=seed)
        model.fit(x_train, [float(r[at]) for r in train])
        return {"r2": float(metrics.r2_score(dataset.holdout_labels, model.predict(x_test)))}
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed)
    model.fit(x_train, [r[at] for r in train])
    predicted = model.predict(x_test)
    out = {"accuracy": float(metrics.accuracy_score(dataset.holdout_labels, predicted))}
    if dataset.task == "binary":
        scores = model.predict_proba(x_test)[:, list(model.classes_).index(dataset.positive)]
        out["auc"] = float(metrics.roc_auc_score([v == dataset.positive for v in dataset.holdout_labels], scores))
    return out
