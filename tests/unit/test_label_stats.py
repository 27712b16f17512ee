"""trainer_module/label_stats.py: class counts and names, the naive model, a regression target's scaling."""

from __future__ import annotations

import numpy as np
import pytest

from trainer_module import features as F
from trainer_module import label_stats as L


class _Output:
    """A TFTransformOutput's vocabulary_by_name over fixed vocabularies (as Transform writes them)."""

    def __init__(self, **vocabularies):
        self.vocabularies = vocabularies

    def vocabulary_by_name(self, name):
        return [v.encode() for v in self.vocabularies[name]]


def test_class_counts_and_the_naive_model():
    output = _Output(**{F.LABEL_COUNTS: ["700 0", "300 1"]})
    counts = L.class_counts(output)
    assert counts == {0: 700, 1: 300}
    naive = L.naive_classifier(counts, ["No", "Yes"])
    assert naive == {"rows": 1000, "majority_class": "No", "majority_rate": 0.7,
                     "class_counts": {"No": 700, "Yes": 300}}


def test_class_names_follow_the_ids():
    binary = F.LabelSpec(key="y", task="binary", column="y")
    # Transform's raw-value vocabulary, most frequent first, several spellings of a class.
    output = _Output(**{F.LABEL_VOCABULARY: ["no", "Yes", "yes", "No"]})
    assert L.class_names(output, binary, 2, string_label=True) == ["no", "Yes"]
    chosen = F.LabelSpec(key="y", task="binary", column="y", positive="no")
    assert L.class_names(output, chosen, 2, string_label=True) == ["Yes", "no"]
    multiclass = F.LabelSpec(key="s", task="multiclass", column="s")
    assert L.class_names(_Output(**{F.LABEL_VOCABULARY: ["b", "a", "c"]}), multiclass, 3, True) == ["b", "a", "c"]
    assert L.class_names(None, multiclass, 3, string_label=False) == ["0", "1", "2"]


def test_a_skewed_positive_target_is_trained_in_log_space_and_served_in_its_units():
    import tensorflow as tf

    prices = np.random.default_rng(0).lognormal(12, 0.7, 5000)
    scaling, why = L.choose_scaling(prices)
    assert scaling.kind == "log1p_zscore" and "skew" in why
    z = scaling.forward(tf.constant(prices, tf.float32)).numpy()
    assert abs(z.mean()) < 1e-3 and abs(z.std() - 1) < 1e-3
    np.testing.assert_allclose(scaling.inverse(tf.constant(z)).numpy(), prices, rtol=1e-3)


@pytest.mark.parametrize("values", [
    np.random.default_rng(1).normal(5, 2, 1000),  # symmetric
    np.random.default_rng(2).lognormal(0, 1, 1000) - 1.5,  # skewed but not positive
])
def test_other_targets_get_a_plain_z_score(values):
    import tensorflow as tf

    scaling, _ = L.choose_scaling(values)
    assert scaling.kind == "zscore"
    assert scaling.center == pytest.approx(values.mean()) and scaling.scale == pytest.approx(values.std())
    np.testing.assert_allclose(scaling.inverse(scaling.forward(tf.constant(values, tf.float32))).numpy(), values,
                               rtol=1e-4, atol=1e-4)


def test_a_constant_target_does_not_divide_by_zero():
    scaling, _ = L.choose_scaling(np.full(10, 3.0))
    assert scaling.scale == 1.0


def test_labels_of_keeps_rows_with_a_label_only():
    batches = [(np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 0.0])), (np.array([4.0]), np.array([1.0]))]
    np.testing.assert_array_equal(L.labels_of(batches), [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="no rows with a label"):
        L.labels_of([(np.array([1.0]), np.array([0.0]))])
    with pytest.raises(ValueError, match="NaN or infinite"):
        L.labels_of([(np.array([np.nan]), np.array([1.0]))])


def test_smearing_turns_the_log_space_median_into_the_mean():
    """A model that predicts the conditional median in log space (the best it can do with squared error there)
    underestimates the mean; Duan's smearing factor from the eval residuals restores it (weight-0 rows ignored)."""
    import dataclasses

    import tensorflow as tf

    rng = np.random.default_rng(3)
    amounts = rng.lognormal(7, 1.0, 20000)
    scaling, _ = L.choose_scaling(amounts)
    z = scaling.forward(tf.constant(amounts, tf.float32)).numpy()
    median_z = np.full_like(z, np.median(z))
    model = lambda x, training=False: x["median"]  # noqa: E731
    weights = np.ones_like(z)
    weights[:100] = 0.0
    z_batches = z.copy()
    z_batches[:100] = 1e6  # unlabelled rows hold anything; their weight is 0
    batches = [({"median": median_z[i:i + 1000]}, z_batches[i:i + 1000], weights[i:i + 1000])
               for i in range(0, z.size, 1000)]
    factor = L.smearing_factor(model, batches, scaling)
    assert factor == pytest.approx(np.exp(0.5), rel=0.03)  # E[exp(e)] for e ~ N(0, 1)
    plain = scaling.inverse(tf.constant(median_z)).numpy()
    smeared = dataclasses.replace(scaling, smearing=factor).inverse(tf.constant(median_z)).numpy()
    assert plain.mean() < 0.7 * amounts.mean()
    assert smeared.mean() == pytest.approx(amounts.mean(), rel=0.05)
    assert L.scaling_record(dataclasses.replace(scaling, smearing=factor), "why")["smearing"] == factor
