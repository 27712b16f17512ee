"""The FeatureImportance node in real runs (no runs of its own): the shared taxi home (run 0 cold, 1 cached rerun,
2 retrained with dropout 0.2, 3 Evaluator re-run) and the synthetic two-feature run (tests/conftest.py)."""

from __future__ import annotations

import json
import re

import pytest

from components.feature_importance import properties as P
from pipeline.dag import node_ids
from pipeline.metadata import importance
from pipeline.metadata import runs as R
from pipeline.metadata.store import open_store, sqlite_config
from tests import support

# Two seeded trainings of the taxi model (runs 0 and 2 differ in dropout only) must agree on what matters:
# the same three most important columns, and Spearman's rank correlation over every column at least this (measured
# 0.947 on runs 0 and 2: the top 4 agree in order; columns whose importance is within its noise, |x| < 0.003, swap).
MIN_RANK_CORRELATION = 0.8


@pytest.fixture(scope="module")
def taxi(taxi_runs):
    home, results, _ = taxi_runs
    for result in results:
        assert result.code == 0, result.stdout + result.stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    run_ids = R.run_ids(store, "taxi")
    executions = [R.node_executions(store, "taxi", run_id) for run_id in run_ids]
    return home, results, store, run_ids, executions


def test_importance_is_its_own_artifact_type_in_mlmd_and_cached_like_any_component(taxi):
    _, _, store, _, executions = taxi
    states = [e[node_ids.FEATURE_IMPORTANCE].state for e in executions]
    # Run 1 changed nothing: cached. Run 2 trained a new model, run 3's Evaluator re-ran: both re-measure.
    assert states == ["complete", "cached", "complete", "complete"]
    first = executions[0][node_ids.FEATURE_IMPORTANCE]
    [artifact] = first.outputs[P.IMPORTANCE_KEY]
    assert artifact.type == P.ARTIFACT_TYPE == "components.FeatureImportance"
    assert executions[1][node_ids.FEATURE_IMPORTANCE].outputs[P.IMPORTANCE_KEY][0].id == artifact.id  # reused
    assert artifact.properties[P.METRIC_PROPERTY] == "auc" and artifact.properties[P.REPEATS_PROPERTY] == 3
    table = importance.read(artifact.uri)
    assert table is not None and table.rows == artifact.properties[P.ROWS_PROPERTY] > 100
    top = json.loads(artifact.properties[P.TOP_FEATURES_PROPERTY])
    assert [name for name, _ in top] == [f.name for f in table.features[:5]]
    assert 0.5 < artifact.properties[P.BASELINE_PROPERTY] <= 1.0
    # Every raw column serving_default parses: never the label, tips (excluded: it makes the label) or the timestamp.
    names = {f.name for f in table.features}
    assert not names & {"tips", "big_tipper", "trip_start_timestamp"} and "trip_miles" in names and len(names) >= 10
    # It ran after the Evaluator and read the candidate model.
    assert first.inputs["model"][0].id == executions[0][node_ids.TRAINER].outputs["model"][0].id
    assert first.inputs["evaluation"][0].id == executions[0][node_ids.EVALUATOR].outputs["evaluation"][0].id


def test_the_run_summary_shows_the_top_five(taxi):
    _, results, _, _, executions = taxi
    table = importance.from_executions(executions[0])
    [line] = [ln for ln in results[0].stdout.splitlines() if ln.startswith("importance ")]
    match = re.fullmatch(r"importance\s+(.+)  \(auc drop when shuffled, (\d+) eval rows × 3\)", line)
    assert match, line
    assert [part.split(" ")[0] for part in match[1].split(", ")] == [f.name for f in table.features[:5]]
    assert int(match[2]) == table.rows
    assert line in results[1].stdout  # the cached rerun shows the same table


def test_compare_puts_the_two_tables_side_by_side_and_two_seeded_trainings_agree(taxi):
    home, _, _, run_ids, executions = taxi
    a, b = importance.from_executions(executions[0]), importance.from_executions(executions[2])
    result = support.cli(["compare", run_ids[0], run_ids[2], "--home", home, "--json"])
    assert result.code == 0, result.stdout + result.stderr
    diff = json.loads(result.stdout)
    assert diff["importance_metric"] == "auc drop when shuffled"
    rows = {d["name"]: d for d in diff["importance"]}
    assert set(rows) == {f.name for f in a.features} | {f.name for f in b.features}
    best = b.features[0]
    assert rows[best.name]["b"] == pytest.approx(best.importance) and rows[best.name]["where"].endswith("/1")
    text = support.cli(["compare", run_ids[0], run_ids[2], "--home", home])
    assert "importance (auc drop when shuffled):" in text.stdout and best.name in text.stdout
    # The stability the issue asks for (criterion measured: see MIN_RANK_CORRELATION).
    print("run 0:", [(f.name, round(f.importance, 4)) for f in a.features])
    print("run 2:", [(f.name, round(f.importance, 4)) for f in b.features])
    assert {f.name for f in a.features[:3]} == {f.name for f in b.features[:3]}
    assert importance.rank_correlation(a, b) >= MIN_RANK_CORRELATION


def test_the_two_informative_columns_rank_first(two_feature_run):
    from tests.conftest import TWO_FEATURE_INFORMATIVE

    store = open_store(sqlite_config(two_feature_run.home / "metadata.sqlite", create=False))
    [run_id] = R.run_ids(store, "two_feature")
    table = importance.from_executions(R.node_executions(store, "two_feature", run_id))
    assert table is not None and table.metric == "auc"
    assert {f.name for f in table.features[:2]} == set(TWO_FEATURE_INFORMATIVE), table.features
    # Each informative column matters far more than the strongest noise column.
    assert min(f.importance for f in table.features[:2]) > 5 * max(table.features[2].importance, 0.001)
