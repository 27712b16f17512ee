"""The pre-flight checks of the label column (pipeline/data/label_checks.py): real CSV files, minimal configs, the facts
and notes a good label gives, and the one-line DataError each bad label gives."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pytest

from pipeline.config.loader import load_config
from pipeline.data import csv_format
from pipeline.data import preflight as D
from pipeline.data.label_checks import LabelFacts
from tests import support

HINT = "set label.positive to choose another"


def config(tmp_path: Path, task: str, label: str = "{column: y}", extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"name: t\ndata: {tmp_path / 'data'}\ntask: {task}\nlabel: {label}\n{extra}")
    return path


def data(tmp_path: Path, labels: Sequence[str], name: str = "data.csv") -> Path:
    """A CSV of a numeric feature x and the label column y, one row per label."""
    return support.write_csv(tmp_path / "data", ["x", "y"], [[str(i), y] for i, y in enumerate(labels)], name)


def facts(tmp_path: Path, task: str, labels: Optional[Sequence[str]] = None, **kw) -> Optional[LabelFacts]:
    if labels is not None:
        data(tmp_path, labels)
    return D.check_data(load_config(config(tmp_path, task, **kw))).label


def error(tmp_path: Path, task: str, labels: Sequence[str], **kw) -> str:
    with pytest.raises(D.DataError) as caught:
        facts(tmp_path, task, labels, **kw)
    message = str(caught.value)
    assert "\n" not in message, message  # one line on the terminal
    return message


# ------------------------------------------------------------------------------------------------ binary


@pytest.mark.parametrize(
    "positive, negative, pair",
    [("Yes", "No", "yes/no"), ("TRUE", "false", "true/false"), ("y", "n", "y/n"),
     ("positive", "negative", "positive/negative"), (" YES ", "no", "yes/no")],
)
def test_a_known_pair_of_strings_infers_the_positive_class(tmp_path, positive, negative, pair):
    got = facts(tmp_path, "binary", [negative, positive] * 10 + [negative])
    assert (got.positive, got.negative, got.inferred) == (positive.strip(), negative, True)
    assert got.values == {negative: 11, positive.strip(): 10}  # stripped, most frequent first
    assert got.notes == [f"label 'y': {positive.strip()!r} is the positive class (inferred from the pair {pair}; "
                         f"{HINT})"]
    assert (got.rows, got.missing_rows) == (21, 0)


def test_a_known_pair_in_mixed_case_names_its_most_frequent_spelling(tmp_path):
    got = facts(tmp_path, "binary", ["yes", "Yes", "Yes", "No", "no"])
    assert (got.positive, got.negative, got.inferred) == ("Yes", "No", True)
    assert list(got.values.items()) == [("Yes", 2), ("yes", 1), ("No", 1), ("no", 1)]


@pytest.mark.parametrize("labels", [["0", "1", "1"], ["0.0", "1.0", "1"], [" 1", "0 ", "1"]])
def test_numbers_0_and_1_are_a_binary_label_without_a_positive_value(tmp_path, labels):
    got = facts(tmp_path, "binary", labels * 3)
    assert (got.positive, got.negative, got.inferred, got.notes) == (None, None, False, [])
    assert len(got.values) == 2  # "1" and "1.0" are one value, as CsvExampleGen reads the column as numbers


@pytest.mark.parametrize("labels", [["1", "2"], ["0", "1", "2"], ["0", "0.5", "1"], ["1", "1"]])
def test_other_numbers_are_no_binary_label(tmp_path, labels):
    message = error(tmp_path, "binary", labels * 3)
    assert f"{tmp_path / 'data' / 'data.csv'}: label 'y' is numeric with the values " in message
    assert "task: binary needs exactly the two values 0 and 1; use task: multiclass" in message
    assert "task: regression" in message and "label.fn" in message


def test_label_positive_names_the_positive_class(tmp_path):
    got = facts(tmp_path, "binary", ["good", "bad", "bad"], label='{column: y, positive: "good"}')
    assert (got.positive, got.negative, got.inferred) == ("good", "bad", False)
    assert got.notes == ["label 'y': 'good' is the positive class (label.positive), 'bad' the negative"]


def test_label_positive_may_pick_the_other_member_of_a_known_pair(tmp_path):
    got = facts(tmp_path, "binary", ["yes", "no"], label='{column: y, positive: "no"}')
    assert (got.positive, got.negative, got.inferred) == ("no", "yes", False)


def test_label_positive_that_is_not_a_value(tmp_path):
    message = error(tmp_path, "binary", ["good", "bad", "bad"], label='{column: y, positive: "great"}')
    assert message.startswith(f"{tmp_path / 'data' / 'data.csv'}: label.positive is 'great', which is not a value "
                              "of label 'y' (its values: 'bad' (2 rows), 'good' (1 row))")
    assert 'set label.positive: "bad" or "good"' in message and "case-sensitive" not in message


def test_label_positive_in_the_wrong_case_gets_a_hint(tmp_path):
    message = error(tmp_path, "binary", ["good", "bad"], label='{column: y, positive: "Good"}')
    assert "values are case-sensitive: did you mean \"good\"?" in message


def test_two_strings_that_are_no_known_pair_ask_for_label_positive(tmp_path):
    message = error(tmp_path, "binary", ["approved", "denied", "denied"])
    assert message == (
        f"{tmp_path / 'data' / 'data.csv'}: label 'y' has the two values 'denied' (2 rows), 'approved' (1 row), "
        "which are not a known pair (yes/no, true/false, y/n, 1/0, positive/negative); say which is the positive "
        'class in the config: label.positive: "denied" (or "approved"), in quotes.'
    )


def test_one_string_value_is_no_binary_label(tmp_path):
    message = error(tmp_path, "binary", ["yes"] * 4)
    assert "label 'y' has the one value 'yes' (4 rows) in 4 rows; task: binary needs rows of two classes" in message


def test_more_than_two_strings_suggest_multiclass(tmp_path):
    message = error(tmp_path, "binary", ["red", "green", "blue", "red"])
    assert "label 'y' has 3 values in 4 rows: 'red' (2 rows), 'green' (1 row), 'blue' (1 row); task: binary needs " \
           "exactly two: use task: multiclass" in message


def test_with_label_positive_spellings_that_differ_in_case_are_two_values(tmp_path):
    message = error(tmp_path, "binary", ["Yes", "yes", "No"], label='{column: y, positive: "Yes"}')
    assert "has 3 values" in message and "values differ only in case: make them the same" in message


# ------------------------------------------------------------------------------------------------ missing labels


def test_rows_without_a_label_are_counted_in_a_note(tmp_path):
    labels = ["yes", "no"] * 1000
    for i in range(0, 370, 10):
        labels[i] = "" if i % 20 else "  "  # empty, or spaces only
    got = facts(tmp_path, "binary", labels)
    assert (got.rows, got.missing_rows) == (2000, 37)
    assert got.notes[0] == ("label 'y': 37 of 2,000 rows have no value; they are left out of training and "
                            "evaluation")
    assert got.positive == "yes"


def test_every_row_without_a_label_is_an_error(tmp_path):
    message = error(tmp_path, "multiclass", ["", "", " "])
    assert message.startswith(f"{tmp_path / 'data' / 'data.csv'}: label column 'y' has no value in any of its 3 rows")
    assert "label.column" in message


def test_labels_are_counted_over_every_file(tmp_path):
    data(tmp_path, ["yes", "no", ""], name="a.csv")
    data(tmp_path, ["no", "", "yes", "yes"], name="b.csv")
    got = facts(tmp_path, "binary")
    assert (got.rows, got.missing_rows, got.values) == (7, 2, {"yes": 3, "no": 2})


def test_a_big_file_read_in_part_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_format, "MAX_CHECK_BYTES", 100)  # every test file is "big"
    monkeypatch.setattr(csv_format, "MAX_CHECK_ROWS", 50)
    got = facts(tmp_path, "binary", ["yes", "no", "", "no"] * 30)
    assert got.rows == 49  # the prefix's last row may be cut: dropped
    assert got.notes[0].startswith("label 'y': 12 of the first 49 rows have no value")


# ------------------------------------------------------------------------------------------------ multiclass


def test_multiclass_classes_and_counts(tmp_path):
    got = facts(tmp_path, "multiclass", ["setosa"] * 7 + ["virginica"] * 9 + ["versicolor"] * 5 + [""])
    assert got.values == {"virginica": 9, "setosa": 7, "versicolor": 5}
    assert (got.positive, got.missing_rows) == (None, 1)


def test_more_classes_than_the_limit_asks_about_regression(tmp_path):
    message = error(tmp_path, "multiclass", [f"{i * 1.37:.2f}" for i in range(101)] * 5)
    assert "label 'y' has 101 distinct values in 505 rows, more than the 100 classes task: multiclass allows; " \
           "did you mean task: regression?" in message


def test_one_class_is_no_multiclass_label(tmp_path):
    assert "task: multiclass needs at least two classes" in error(tmp_path, "multiclass", ["cat"] * 6)


def test_a_rare_class_is_named_with_its_count_and_why(tmp_path):
    message = error(tmp_path, "multiclass", ["a"] * 9 + ["b"] * 8 + ["c"] * 2 + ["d"])
    assert message.startswith(f"{tmp_path / 'data' / 'data.csv'}: label 'y' has too few rows of classes 'c' "
                              "(2 rows), 'd' (1 row) in 20 rows, fewer than 5 each;")
    assert "splits rows by a hash" in message and "eval split only" in message
    assert "merge it into another class or drop its rows" in message


@pytest.mark.parametrize("bad", ["-1", "2.5", "100", "nan"])
def test_numeric_classes_are_class_ids(tmp_path, bad):
    message = error(tmp_path, "multiclass", ["0", "1", bad] * 5)
    assert f"label 'y' is numeric, so its values are class ids, which must be whole numbers from 0 to 99; it has " \
           f"{bad} (5 rows) in 15 rows: use task: regression" in message


def test_numeric_classes_are_grouped_by_value(tmp_path):
    got = facts(tmp_path, "multiclass", ["1", "1.0", "2", "2.00"] * 3)
    assert got.values == {"1": 6, "2": 6}


# ------------------------------------------------------------------------------------------------ regression


def test_a_numeric_regression_label(tmp_path):
    got = facts(tmp_path, "regression", ["1.5", "2", "", "1e3", "-4", "2.0"])
    assert (got.rows, got.missing_rows, got.values) == (6, 1, {"2": 2, "1.5": 1, "1e3": 1, "-4": 1})
    assert got.notes == ["label 'y': 1 of 6 rows have no value; they are left out of training and evaluation"]


@pytest.mark.parametrize(
    "value, why",
    [("cheap", "'cheap' is not a number, but task: regression needs a numeric label; for a label of categories use "
               "task: multiclass (or task: binary for two of them)"),
     ("inf", "'inf' is not a finite number"), ("NaN", "'NaN' is not a finite number"),
     (" ", "' ' (spaces only) is not a number; leave the cell empty for a row without a label")],
)
def test_a_regression_label_that_is_not_a_number_names_the_first_bad_value(tmp_path, value, why):
    labels = ["1.5"] * 6
    labels[3], labels[5] = value, "x"
    message = error(tmp_path, "regression", labels)
    assert message.startswith(f"{tmp_path / 'data' / 'data.csv'}: row 4 (line 5), label 'y': {why}"), message


def test_a_constant_regression_label(tmp_path):
    assert "a regression label needs at least two different values" in error(tmp_path, "regression", ["3"] * 4)


# ------------------------------------------------------------------------------------------------ nothing to check


def test_a_label_fn_is_not_read(tmp_path):
    data(tmp_path, ["anything"] * 3)
    label = "{name: z, fn: trainer_module.labels.taxi_big_tipper, inputs: [x, y]}"
    assert facts(tmp_path, "binary", label=label) is None
    assert D.check_data(load_config("taxi")).label is None  # the taxi config computes its label


def test_the_label_check_runs_after_the_label_column_check(tmp_path):
    support.write_csv(tmp_path / "data", ["x", "z"], [["1", "maybe"]])
    with pytest.raises(D.DataError, match="label column 'y' is not in"):
        facts(tmp_path, "binary")


# ------------------------------------------------------------------------------------------------ the CLI


def test_run_with_a_bad_label_is_one_line_exit_2_and_writes_nothing(tmp_path):
    data(tmp_path, ["approved", "denied"] * 20)
    home = tmp_path / "home"
    home.mkdir()
    (home / "keep.txt").write_text("x")
    before = support.tree_digest(home, with_dirs=True)
    result = support.cli(["run", "--config", config(tmp_path, "binary"), "--home", home])
    line = support.one_line_error(result)  # exit 2, one `tfx-e2e: error: ` line, no traceback
    assert result.stdout == ""  # stopped before the run header
    assert "'approved' (20 rows), 'denied' (20 rows), which are not a known pair" in line
    assert 'label.positive: "approved"' in line
    assert support.tree_digest(home, with_dirs=True) == before  # no store, no log, no lock
    fresh = tmp_path / "fresh"
    assert support.cli(["run", "--config", config(tmp_path, "binary"), "--home", fresh]).code == 2
    assert not fresh.exists()
