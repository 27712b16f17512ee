"""The test corpus generator (tests/corpus.py): files and shapes, missing cells, label spellings, determinism, and a
signal that scikit-learn can learn from the training rows."""

from __future__ import annotations

import numpy as np
import pytest

from tests import corpus
from trainer_module import label_values

SEEDS = (0, 1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """{(name, seed): (Dataset, header, train rows, holdout rows)} for every dataset and seed."""
    out = {}
    for seed in SEEDS:
        for name in corpus.GENERATORS:
            ds = corpus.generate(name, tmp_path_factory.mktemp(f"{name}{seed}"), seed=seed)
            header, train = corpus.read_table(ds.train_csv)
            holdout_header, holdout = corpus.read_table(ds.holdout_csv)
            assert holdout_header == header
            out[name, seed] = ds, header, train, holdout
    return out


def column(header, rows, name):
    return [row[header.index(name)] for row in rows]


def missing_fraction(header, rows, name):
    return sum(1 for v in column(header, rows, name) if v == "") / len(rows)


@pytest.mark.parametrize("name", sorted(corpus.GENERATORS))
def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(name, tmp_path):
    first = corpus.generate(name, tmp_path / "a", seed=7)
    again = corpus.generate(name, tmp_path / "b", seed=7)
    other = corpus.generate(name, tmp_path / "c", seed=8)
    assert first.train_csv.read_bytes() == again.train_csv.read_bytes()
    assert first.holdout_csv.read_bytes() == again.holdout_csv.read_bytes()
    assert first.holdout_labels == again.holdout_labels
    assert first.train_csv.read_bytes() != other.train_csv.read_bytes()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(corpus.GENERATORS))
def test_shapes_files_and_held_out_labels(generated, name, seed):
    ds, header, train, holdout = generated[name, seed]
    assert ds.name == name and ds.task in ("binary", "multiclass", "regression")
    # CsvExampleGen reads every entry of `data`: the training directory holds the one CSV, the holdout is outside.
    assert [p.name for p in ds.train_dir.iterdir()] == [corpus.TRAIN_FILE]
    assert ds.holdout_csv.parent != ds.train_dir
    assert 1500 <= len(train) <= 3000 and 300 <= len(holdout) <= 800
    assert all(len(row) == len(header) for row in train + holdout)
    assert ds.label in header and header[-1] == ds.label
    written = column(header, holdout, ds.label)
    assert len(ds.holdout_labels) == len(holdout) and "" not in written
    if ds.task == "regression":
        assert ds.holdout_labels == [float(v) for v in written]
    else:
        assert ds.holdout_labels == written
        assert set(written) == set(ds.classes)


@pytest.mark.parametrize("seed", SEEDS)
def test_churn_has_missing_cells_a_constant_and_an_empty_column_and_unlabelled_rows(generated, seed):
    ds, header, train, holdout = generated["churn", seed]
    for name in ("tenure_months", "monthly_charges", "contract"):
        assert 0.03 <= missing_fraction(header, train, name) <= 0.07, name
        assert 0.02 <= missing_fraction(header, holdout, name) <= 0.09, name
    assert missing_fraction(header, train, "support_calls") == 0
    assert all(float(v) >= 15 for v in column(header, train, "monthly_charges") if v)
    assert set(column(header, train, "contract")) == {"month-to-month", "one-year", "two-year", ""}
    assert set(column(header, train + holdout, "plan_version")) == {"2"}
    assert set(column(header, train + holdout, "notes")) == {""}
    assert 0.01 <= missing_fraction(header, train, "churned") <= 0.035
    assert set(column(header, train, "churned")) == {"Yes", "No", ""}
    assert ds.positive == "Yes"


@pytest.mark.parametrize("name, spelled, pair", [
    ("churn", {"Yes", "No"}, ("yes", "no")),
    ("leads", {"TRUE", "false"}, ("true", "false")),
])
def test_binary_labels_are_strings_of_a_known_pair_with_the_positive_value_first(generated, name, spelled, pair):
    for seed in SEEDS:
        ds, header, train, _ = generated[name, seed]
        values = set(column(header, train, ds.label)) - {""}
        assert values == spelled
        # The pipeline infers the positive value from these pairs (no `label.positive` in the test configs).
        assert label_values.known_pair(values) == pair
        assert label_values.is_positive(ds.positive, None) is True
        assert 0.2 <= ds.holdout_labels.count(ds.positive) / len(ds.holdout_labels) <= 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_flowers_is_a_string_multiclass_label_of_unequal_shares_with_missing_petal_lengths(generated, seed):
    ds, header, train, holdout = generated["flowers", seed]
    assert ds.classes == corpus.FLOWER_CLASSES
    labels = column(header, train, "species")
    shares = sorted(labels.count(c) / len(labels) for c in ds.classes)
    assert shares[-1] < 0.5 and shares[-1] - shares[0] > 0.15  # the majority share is a real bar, not 1/3
    assert 0.05 <= missing_fraction(header, train, "petal_length") <= 0.11
    assert all(missing_fraction(header, train + holdout, n) == 0 for n in header if n != "petal_length")


@pytest.mark.parametrize("seed", SEEDS)
def test_houses_price_is_positive_and_heavily_right_skewed(generated, seed):
    ds, header, train, _ = generated["houses", seed]
    price = np.array([float(v) for v in column(header, train, "price")])
    assert price.min() > 0
    skewness = np.mean((price - price.mean()) ** 3) / price.std() ** 3
    assert skewness > 2.0  # a log transform is the natural choice; a z-score alone is not
    assert np.mean(price) > 1.1 * np.median(price)
    assert len(set(column(header, train, "neighborhood"))) == len(corpus.NEIGHBORHOODS)


@pytest.mark.parametrize("name", sorted(corpus.GENERATORS))
def test_the_signal_is_learnable_from_the_training_rows(generated, name):
    ds, *_ = generated[name, 0]
    scores = corpus.hgb_baseline(ds)
    # Measured (seeds 0-2): churn AUC 0.77-0.80, leads AUC 0.76-0.80, flowers accuracy 0.94, houses R² 0.67-0.72.
    if ds.task == "binary":
        majority = max(ds.holdout_labels.count(c) for c in ds.classes) / len(ds.holdout_labels)
        assert scores["auc"] > 0.7 and scores["accuracy"] > majority
    elif ds.task == "multiclass":
        assert scores["accuracy"] > 0.85
    else:
        assert scores["r2"] > 0.55
