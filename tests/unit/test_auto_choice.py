"""model.family auto on later runs (pipeline.metadata.auto_choice): the choice of the newest run whose Trainer had the
same config is found in a real ML Metadata store (the reuse note itself aside); a changed config, a failed Trainer
or a run that did not choose finds nothing."""

from __future__ import annotations

from pathlib import Path

from pipeline.dag import node_ids
from pipeline.metadata.auto_choice import comparable, previous_choice
from tests.unit.mlmd_runs import New, Store
from trainer_module import training_summary

CONFIG = {"code_fingerprint": "abc", "model": {"family": "auto", "hparams": {}, "auto_max_seconds": 600,
                                              "hparams_by_family": {"gbt": {"num_trees": 50}}},
          "training": {"seed": 42, "categorical": ("a", "b")}}
SCORES = {"dnn": 0.91, "gbt": 0.94}


def _trainer_run(store: Store, root: Path, run_id: str, custom_config: dict, auto: dict | None,
                 state: str = "complete") -> None:
    model_run = root / run_id / "model_run"
    model_run.mkdir(parents=True)
    training_summary.write(str(model_run), {"model_family": "gbt", **({"auto": auto} if auto else {})})
    run = store.run("taxi", run_id)
    outputs = {} if state == "failed" else {"model_run": [New("ModelRun", str(model_run))]}
    run.node(node_ids.TRAINER, state, outputs=outputs, properties={"custom_config": custom_config})


def test_the_newest_run_with_the_same_config_gives_its_choice_and_names_the_run_that_scored(tmp_path):
    store = Store(tmp_path / "m.sqlite")
    _trainer_run(store, tmp_path, "r1", CONFIG, {"chosen": "gbt", "metric": "auc", "scores": SCORES})
    found = previous_choice(store.store, "taxi", CONFIG)
    assert found == {"family": "gbt", "run": "r1", "metric": "auc", "scores": SCORES}
    # r2 reused r1's choice: its config carries the reuse note; the run that scored is still r1.
    reusing = {**CONFIG, "model": {**CONFIG["model"], "auto_reuse": found}}
    _trainer_run(store, tmp_path, "r2", reusing, {"chosen": "gbt", "metric": "auc", "scores": SCORES,
                                                  "reused_from": "r1"})
    assert previous_choice(store.store, "taxi", CONFIG)["run"] == "r1"
    assert previous_choice(store.store, "other", CONFIG) is None


def test_a_changed_config_a_failed_trainer_or_a_run_without_a_choice_gives_nothing(tmp_path):
    store = Store(tmp_path / "m.sqlite")
    _trainer_run(store, tmp_path, "r1", CONFIG, {"chosen": "gbt", "metric": "auc", "scores": SCORES})
    changed = {**CONFIG, "model": {**CONFIG["model"], "hparams_by_family": {"gbt": {"num_trees": 51}}}}
    assert previous_choice(store.store, "taxi", changed) is None
    other_code = {**CONFIG, "code_fingerprint": "def"}
    assert previous_choice(store.store, "taxi", other_code) is None
    fresh = Store(tmp_path / "n.sqlite")
    _trainer_run(fresh, tmp_path / "n", "f1", CONFIG, {"chosen": "gbt", "metric": "auc", "scores": SCORES}, "failed")
    _trainer_run(fresh, tmp_path / "n", "f2", CONFIG, None)
    assert previous_choice(fresh.store, "taxi", CONFIG) is None


def test_configs_compare_as_ml_metadata_holds_them():
    assert comparable(CONFIG) == comparable('{"code_fingerprint": "abc", "model": {"family": "auto", "hparams": {}, '
                                            '"auto_max_seconds": 600, "hparams_by_family": {"gbt": {"num_trees": 50}}, '
                                            '"auto_reuse": {"family": "dnn"}}, '
                                            '"training": {"seed": 42, "categorical": ["a", "b"]}}')
    assert comparable("not json") is None and comparable(None) is None
