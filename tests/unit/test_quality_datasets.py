"""The quality benchmark's datasets (benchmarks/quality_datasets.py): shapes, seeds, disjoint held-out rows, the
label structure each builder's docstring claims, and configs that pass `tfx-e2e run`'s pre-flight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks import quality_datasets as qd
from benchmarks.quality_bench import write_inputs
from pipeline.config.loader import load_config
from pipeline.data.preflight import check_data

NAMES = list(qd.BUILDERS)
SOURCE_ROWS = {"taxi": 15_002, "taxi_fare": 15_001, "digits": 1_797, "breast_cancer": 569, "wine": 178,
               "diabetes": 442, "shop": 20_000, "claims": 10_000, "fraud": 20_000}
LABEL = {"digits": "digit", "breast_cancer": "malignant", "wine": "cultivar", "diabetes": "progression",
         "shop": "purchased", "claims": "amount", "fraud": "is_fraud", "taxi_fare": "fare"}


@pytest.fixture(scope="module")
def built() -> dict[str, qd.Dataset]:
    return {name: qd.build(name) for name in NAMES}


def test_there_are_at_least_eight_datasets_of_every_task():
    assert len(NAMES) >= 8 and set(SOURCE_ROWS) == set(NAMES)
    tasks = [qd.build(n).task for n in ("taxi", "taxi_fare", "digits")]
    assert tasks == ["binary", "regression", "multiclass"]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_a_disjoint_held_out_split(built, name):
    ds = built[name]
    assert len(ds.train) + len(ds.test) == SOURCE_ROWS[name]
    expected_test = qd.TAXI_TEST_ROWS if name.startswith("taxi") else round(SOURCE_ROWS[name] * qd.TEST_FRACTION)
    assert abs(len(ds.test) - expected_test) <= 1
    assert list(ds.train.columns) == list(ds.test.columns)
    assert len(ds.y_train) == len(ds.train) and len(ds.y_test) == len(ds.test)
    # Rows keep their source row numbers: no row is in both parts, and every row is in one.
    assert not set(ds.train.index) & set(ds.test.index)
    assert len(set(ds.train.index) | set(ds.test.index)) == SOURCE_ROWS[name]
    assert set(ds.features) <= set(ds.train.columns)
    if name in LABEL:
        assert LABEL[name] not in ds.features
        assert np.array_equal(ds.train[LABEL[name]].to_numpy(dtype=float), ds.y_train.astype(float))
        assert np.array_equal(ds.test[LABEL[name]].to_numpy(dtype=float), ds.y_test.astype(float))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_data(built, name):
    again = qd.build(name)
    pd.testing.assert_frame_equal(again.train, built[name].train)
    pd.testing.assert_frame_equal(again.test, built[name].test)
    assert np.array_equal(again.y_test, built[name].y_test)


@pytest.mark.parametrize("name", ["taxi", "wine", "shop", "claims", "fraud"])
def test_another_seed_other_rows(built, name):
    other = qd.BUILDERS[name](seed=1)
    assert set(other.test.index) != set(built[name].test.index)


@pytest.mark.parametrize("name", NAMES)
def test_each_config_passes_the_run_preflight(built, name, tmp_path):
    """The written config loads and the pre-flight of `tfx-e2e run` accepts the train CSV (no TensorFlow needed)."""
    _, test_csv, config_path = write_inputs(built[name], tmp_path)
    cfg = load_config(config_path)
    assert (cfg.name, cfg.task) == (name, built[name].task)
    check_data(cfg)
    written = pd.read_csv(test_csv, dtype=str, keep_default_na=False)
    assert written.shape == built[name].test.shape
    # Whole-number columns are written as "57", never "57.0" (SchemaGen would read FLOAT), gaps as empty cells.
    ints = [c for c, t in built[name].test.dtypes.items() if pd.api.types.is_integer_dtype(t)]
    assert not [c for c in ints if written[c].str.contains(".", regex=False).any()]


def test_taxi_is_the_bundled_config_and_label(built):
    ds = built["taxi"]
    full = qd.taxi_frame()
    tips = pd.to_numeric(full["tips"].replace("", np.nan)).fillna(0)
    fare = pd.to_numeric(full["fare"].replace("", np.nan)).fillna(0)
    assert np.array_equal(ds.y_test, (tips > 0.2 * fare).astype(int).to_numpy()[ds.test.index])
    assert ds.config == qd.taxi_config()
    assert "fare" in ds.features and not {"tips", "trip_start_timestamp"} & set(ds.features)
    pd.testing.assert_frame_equal(ds.test, full.loc[ds.test.index])  # every cell's text as shipped


def test_taxi_fare_leaves_out_the_tip_and_the_data_error(built):
    ds = built["taxi_fare"]
    assert not {"tips", "fare", "trip_start_timestamp"} & set(ds.features)
    assert ds.config["task"] == "regression" and ds.config["label"] == {"column": "fare"}
    assert "evaluation" not in ds.config  # the taxi AUC gates do not apply: default gates
    assert max(ds.y_train.max(), ds.y_test.max()) <= qd.MAX_FARE


@pytest.mark.parametrize("name,classes", [("digits", 10), ("wine", 3)])
def test_multiclass_sets_have_every_class_in_both_parts(built, name, classes):
    ds = built[name]
    counts = pd.Series(ds.y_train).value_counts()
    assert len(counts) == classes and counts.min() >= 5  # the pre-flight needs 5 rows per class
    assert set(ds.y_test) == set(ds.y_train)


def test_digits_are_64_integer_pixels(built):
    ds = built["digits"]
    pixels = ds.train[list(ds.features)]
    assert pixels.shape[1] == 64 and all(pd.api.types.is_integer_dtype(t) for t in pixels.dtypes)
    assert pixels.to_numpy().min() == 0 and pixels.to_numpy().max() == 16


def test_shop_product_ids_missing_values_and_age_curve(built):
    ds = built["shop"]
    frame = pd.concat([ds.train, ds.test])
    assert frame["product_id"].nunique() > 1_500  # high cardinality
    assert 30 <= frame["city"].nunique() <= 60
    for column in ("price", "age"):
        assert 0.08 < frame[column].isna().mean() < 0.12
    assert 0.25 < frame["purchased"].mean() < 0.35
    # Each product has its own effect: per-product purchase rates spread far more than binomial noise would.
    by_product = frame.groupby("product_id")["purchased"].agg(["mean", "size"])
    busy = by_product[by_product["size"] >= 30]
    p = frame["purchased"].mean()
    assert busy["mean"].var() > 3 * (p * (1 - p) / busy["size"]).mean()
    # Inverted U in age: the middle buys more often than the young and the old.
    rate = frame.groupby(pd.cut(frame["age"], [17, 25, 50, 90]), observed=True)["purchased"].mean()
    assert rate.iloc[1] > rate.iloc[0] and rate.iloc[1] > rate.iloc[2]


def test_claims_are_skewed_with_the_sport_young_interaction(built):
    ds = built["claims"]
    frame = pd.concat([ds.train, ds.test])
    amount = frame["amount"]
    assert (amount > 0).all() and amount.skew() > 2
    assert 0.03 < frame["annual_km"].isna().mean() < 0.07
    young_sport = (frame["vehicle_type"] == "sport") & (frame["driver_age"] < 25)
    old_sport = (frame["vehicle_type"] == "sport") & frame["driver_age"].between(35, 65)
    assert np.log(amount[young_sport]).mean() - np.log(amount[old_sport]).mean() > 0.6


def test_fraud_is_rare_and_follows_its_rules(built):
    ds = built["fraud"]
    frame = pd.concat([ds.train, ds.test])
    y = frame["is_fraud"]
    assert 0.015 < y.mean() < 0.025
    assert abs(ds.y_train.mean() - ds.y_test.mean()) < 0.002  # stratified
    night = frame["hour"] < 6
    assert y[night].mean() > 2 * y[~night].mean()
    cnp_foreign = (frame["foreign"] == 1) & (frame["card_present"] == 0)
    assert y[cnp_foreign].mean() > 3 * y[~cnp_foreign].mean()
    assert ds.config["features"]["categorical"] == ["hour"]
