"""tuner_fn, the entry point of TFX's Tuner (`trainer_module.tuning.tuner_fn`): a KerasTuner random search over the
model family's hyperparameters (trainer_module.tuning_space), each trial trained by the Trainer's own code
(trainer_module.run.prepare / fit) and scored on the eval split with the task's main metric (as `model.family: auto`
scores its candidates: binary AUC, multiclass accuracy, regression R² in the label's units). The first trial is the
configured model; the search stops after `trials` trials or `max_seconds`, whichever comes first (a network's fit is
cut at the deadline and scored as it stands). TFX's Tuner executor writes the best values, which the Trainer reads
as fn_args.hyperparameters.
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Optional

from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer_module import auto_family
from trainer_module import tuning_space

OBJECTIVE = "score"  # the trial's metric name in KerasTuner's records: the task's main metric on the eval split


def space_for(custom: Mapping[str, Any], candidates: tuple[str, ...]) -> dict[str, Any]:
    """The configured search space (custom["tuning"]["search_space"]) or the family's default one."""
    family = custom.get("model", {}).get("family", "dnn")
    configured = (custom.get("tuning") or {}).get("search_space") or {}
    if family != auto_family.AUTO:
        return dict(configured) or tuning_space.default_space(family)
    default = tuning_space.default_space(family, candidates)
    return {f: dict(configured.get(f) or default[f]) for f in candidates}


def make_oracle(hp: Any, trials: int, deadline: float, seed: Optional[int]) -> Any:
    """A random search over `hp` whose first trial is the values `hp` defaults to (the configured model) and which
    stops after `trials` trials or at `deadline` (time.time()), whichever comes first."""
    import keras_tuner

    stopped = keras_tuner.engine.trial.TrialStatus.STOPPED

    class DeadlineOracle(keras_tuner.oracles.RandomSearchOracle):
        def populate_space(self, trial_id: str) -> dict:
            if time.time() >= deadline:
                logging.info("tuning: max_seconds reached; no more trials")
                return {"status": stopped, "values": None}
            if not self.trials:  # the first trial: the configured model
                return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING, "values": self.hyperparameters.values}
            return super().populate_space(trial_id)

    return DeadlineOracle(objective=keras_tuner.Objective(OBJECTIVE, "max"), max_trials=trials, hyperparameters=hp,
                          seed=seed, tune_new_entries=False, allow_new_entries=False)


def build_tuner(fn_args: FnArgs) -> Any:
    """The KerasTuner tuner (not yet searched) for this pipeline's tuning config."""
    import keras_tuner

    from trainer_module import models, patches, run

    custom = dict(fn_args.custom_config or {})
    tuning = custom.get("tuning") or {}
    family = custom.get("model", {}).get("family", "dnn")
    seed = custom.get("training", {}).get("seed")
    deadline = time.time() + float(tuning.get("max_seconds", 600))
    patches.apply()
    prepared = run.prepare(fn_args, custom, family)
    candidates = auto_family.candidates(prepared.spec)[0] if family == auto_family.AUTO else ()
    space = space_for(custom, candidates)
    hp = keras_tuner.HyperParameters()
    if candidates:
        hp.Choice(tuning_space.FAMILY, list(candidates), default=candidates[0])
        for candidate in candidates:
            with hp.conditional_scope(tuning_space.FAMILY, [candidate]):
                current = auto_family.for_family(custom, candidate)["model"]["hparams"]
                tuning_space.register(hp, space[candidate], {**models.module(candidate).DEFAULTS, **current},
                                      prefix=f"{candidate}.")
    else:
        current = custom.get("model", {}).get("hparams", {})
        tuning_space.register(hp, space, {**models.module(family).DEFAULTS, **current})

    class FamilyTuner(keras_tuner.engine.base_tuner.BaseTuner):
        """Trains the family with a trial's values through the Trainer's code and returns its eval score."""

        def run_trial(self, trial: Any, **_: Any) -> dict:
            picked, values = tuning_space.best_hparams({"values": dict(trial.hyperparameters.values)})
            trial_family = picked or family
            trial_custom = tuning_space.with_hparams(custom, trial_family, values)
            where = run.Destinations(*(os.path.join(fn_args.working_dir, "trials", trial.trial_id, d)
                                       for d in ("logs", "model")))
            started = time.time()
            if seed is not None:  # every trial starts from the same seed: trial 0 is the configured model's training
                import tensorflow as tf

                tf.keras.utils.set_random_seed(int(seed))
            built = prepared.fit(fn_args, where, trial_family, trial_custom, (auto_family.deadline_callback(deadline),))[0]
            score = auto_family.family_score(built.model, prepared.eval_ds, prepared.spec, prepared.label.scaling,
                                             trial_family)
            logging.info("tuning: trial %s %s %s -> %s %.4f (%.1f s)", trial.trial_id, trial_family, values,
                         auto_family.METRIC[prepared.spec.task], score, time.time() - started)
            return {OBJECTIVE: score}

        def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:  # nothing to keep per trial
            return None

    oracle = make_oracle(hp, int(tuning.get("trials", 8)), deadline, seed)
    return FamilyTuner(oracle=oracle, directory=fn_args.working_dir, project_name="tuning", overwrite=True)


def tuner_fn(fn_args: FnArgs) -> Any:
    """TFX's Tuner entry point: the tuner and (no) fit arguments; every trial reads the data prepared once."""
    from tfx.components.tuner.component import TunerFnResult

    return TunerFnResult(tuner=build_tuner(fn_args), fit_kwargs={})
