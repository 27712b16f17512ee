"""The Tuner's search space and search (trainer_module.tuning_space, trainer_module.tuning.make_oracle) and the
`tuning` config section: spaces are checked with errors naming the key, the first trial is the configured model,
the search stops at `trials` or the deadline, and the best values come back as the family's hparams."""

from __future__ import annotations

import time

import pytest

from pipeline.config.loader import from_dict
from pipeline.config.schema import ConfigError
from trainer_module import tuning_space

BASE = {"name": "t", "task": "binary", "label": {"column": "y"}, "data": "/tmp"}


def _cfg(**extra):
    return from_dict({**BASE, **extra})


def test_a_tuning_section_turns_the_tuner_on_and_enabled_false_turns_it_off():
    assert not _cfg().tuning.enabled
    on = _cfg(tuning={"trials": 3})
    assert on.tuning.enabled and on.tuning.trials == 3 and on.tuning.max_seconds == 600
    assert not _cfg(tuning={"trials": 3, "enabled": False}).tuning.enabled


@pytest.mark.parametrize("tuning, model, message", [
    ({"trials": 0}, {}, "tuning.trials: expected an integer ≥ 1"),
    ({"search_space": {"dropuot": [0.1]}}, {}, "dnn has no hyperparameter 'dropuot'; known:"),
    ({"search_space": {"dropout": []}}, {}, "tuning.search_space.dropout: an empty list"),
    ({"search_space": {"dropout": [0.1, "x"]}}, {}, "must all be numbers, all strings"),
    ({"search_space": {"learning_rate": {"min": 0.1, "max": 0.01}}}, {}, "min < max"),
    ({"search_space": {"learning_rate": {"min": 0, "max": 0.1, "sampling": "log"}}}, {}, "log sampling needs min > 0"),
    ({"search_space": {"learning_rate": {"low": 0.1}}}, {}, "a range is {min, max}"),
    ({"search_space": {"learning_rate": {"min": 1e-4, "max": 1e-2, "sampling": "log", "step": 0.5}}}, {},
     "with log sampling a factor > 1"),
    ({"search_space": {"dropout": {"min": 0.0, "max": 0.5, "step": 0}}}, {}, "step must be a number > 0"),
    ({"search_space": {"dropout": [0.1]}}, {"family": "auto"}, "one per candidate family (dnn, gbt)"),
    ({}, {"family": "autoencoder"}, "model.family autoencoder is not tuned"),
])
def test_bad_tuning_configs_are_refused_naming_the_key(tuning, model, message):
    with pytest.raises(ConfigError) as err:
        _cfg(tuning=tuning, model=model)
    assert message in str(err.value)


def test_multi_worker_training_cannot_be_tuned():
    with pytest.raises(ConfigError, match="strategy multi_worker cannot be tuned"):
        _cfg(tuning={}, training={"strategy": "multi_worker", "workers": 2})


def test_valid_spaces_load_for_a_family_and_per_family_for_auto():
    cfg = _cfg(tuning={"search_space": {"hidden_units": [[64], [128, 64]], "learning_rate": {"min": 1e-4, "max": 1e-2,
                                                                                              "sampling": "log"}}})
    assert cfg.tuning.search_space["hidden_units"] == [[64], [128, 64]]
    auto = _cfg(model={"family": "auto"}, tuning={"search_space": {"gbt": {"max_depth": [4, 8]}}})
    assert auto.tuning.search_space == {"gbt": {"max_depth": [4, 8]}}


def test_every_default_space_names_its_family_hyperparameters():
    from trainer_module.models import module

    for family, space in tuning_space.DEFAULT_SPACES.items():
        assert set(space) <= set(module(family).DEFAULTS), family
        for name, entry in space.items():
            assert tuning_space.check_entry(name, entry, family) == ""


def _hp(space, current, prefix=""):
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    tuning_space.register(hp, space, current, prefix)
    return hp


def test_register_defaults_to_the_configured_values_even_outside_the_listed_choices():
    hp = _hp({"hidden_units": [[64, 32], [256]], "dropout": [0.0, 0.3], "learning_rate": {"min": 1e-4, "max": 1e-2},
              "units": {"min": 8, "max": 64, "step": 8}}, {"hidden_units": [128, 64], "dropout": 0.3,
                                                           "learning_rate": 0.001, "units": 32})
    assert hp.values == {"hidden_units": "[128, 64]", "dropout": 0.3, "learning_rate": 0.001, "units": 32}
    assert tuning_space.best_hparams({"values": hp.values}) == (None, {"hidden_units": [128, 64], "dropout": 0.3,
                                                                       "learning_rate": 0.001, "units": 32})


def test_best_hparams_of_an_auto_search_keep_only_the_picked_family():
    family, values = tuning_space.best_hparams(
        {"space": [], "values": {"family": "gbt", "gbt.max_depth": 8, "dnn.dropout": 0.2, "gbt.shrinkage": 0.05}})
    assert (family, values) == ("gbt", {"max_depth": 8, "shrinkage": 0.05})
    assert tuning_space.best_hparams(None) == (None, {})


def test_with_hparams_puts_the_tuned_values_over_the_family_hparams():
    custom = {"model": {"family": "auto", "hparams": {},
                        "hparams_by_family": {"gbt": {"num_trees": 50, "max_depth": 4}}}, "training": {"seed": 1}}
    tuned = tuning_space.with_hparams(custom, "gbt", {"max_depth": 8})
    assert tuned["model"]["family"] == "gbt" and tuned["model"]["hparams"] == {"num_trees": 50, "max_depth": 8}
    assert tuned["training"] == {"seed": 1}


def _search(oracle, score, directory):
    """KerasTuner's own search loop over `oracle`, scoring each trial with `score(values)`: the values tried."""
    import keras_tuner

    seen = []

    class Scored(keras_tuner.engine.base_tuner.BaseTuner):
        def run_trial(self, trial, **_):
            seen.append(dict(trial.hyperparameters.values))
            return {"score": score(trial.hyperparameters.values)}

    Scored(oracle=oracle, directory=str(directory), project_name="p").search()
    return seen


def test_the_search_runs_the_configured_model_first_then_random_values_up_to_trials(tmp_path):
    from trainer_module.tuning import make_oracle

    hp = _hp({"dropout": [0.0, 0.1, 0.2, 0.3], "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"}},
             {"dropout": 0.1, "learning_rate": 0.001})
    oracle = make_oracle(hp, trials=5, deadline=time.time() + 600, seed=7)
    seen = _search(oracle, lambda v: -abs(v["learning_rate"] - 0.01), tmp_path)
    assert len(seen) == 5
    assert seen[0] == {"dropout": 0.1, "learning_rate": 0.001}
    assert all(1e-4 <= v["learning_rate"] <= 1e-1 and v["dropout"] in (0.0, 0.1, 0.2, 0.3) for v in seen)
    assert len({v["learning_rate"] for v in seen}) == 5
    best = oracle.get_best_trials(1)[0].hyperparameters.values
    assert best == max(seen, key=lambda v: -abs(v["learning_rate"] - 0.01))


def test_the_search_stops_at_the_deadline(tmp_path):
    from trainer_module.tuning import make_oracle

    hp = _hp({"dropout": [0.0, 0.1]}, {"dropout": 0.1})
    oracle = make_oracle(hp, trials=5, deadline=time.time() - 1, seed=7)
    assert _search(oracle, lambda v: 0.5, tmp_path) == []


def test_integer_and_float_ranges_sample_inside_their_bounds_linear_and_log():
    hp = _hp({"units": {"min": 8, "max": 512, "sampling": "log"}, "layers": {"min": 1, "max": 3},
              "num_trees": {"min": 100, "max": 500, "step": 100}, "dropout": {"min": 0.0, "max": 0.5, "step": 0.1}},
             {"units": 64, "layers": 2, "num_trees": 300, "dropout": 0.2})
    assert hp.values == {"units": 64, "layers": 2, "num_trees": 300, "dropout": 0.2}
    for name, allowed in (("units", range(8, 513)), ("layers", (1, 2, 3)), ("num_trees", (100, 200, 300, 400, 500))):
        declared = {h.name: h for h in hp.space}[name]
        samples = {declared.random_sample(seed) for seed in range(40)}
        assert samples <= set(allowed) and len(samples) > 1, (name, samples)
