"""The rules a loaded config must follow beyond each key's type (loader.py checks types): allowed values, known
model families and strategies, metrics the task computes, and rules across keys. Each error names the key."""

from __future__ import annotations

from pipeline.config.evaluation import TASK_METRICS, Gates, objective_of
from pipeline.config import compression, pruning
from pipeline.config.schema import EXAMPLE_GENS, TASKS, ConfigError, PipelineConfig


def validate(cfg: PipelineConfig, where: str) -> None:
    """Raises ConfigError (prefixed with `where`, the config's name) for the first rule `cfg` breaks."""
    _check_name_and_task(cfg, where)
    _check_label(cfg, where)
    _check_data(cfg, where)
    _check_model_and_gates(cfg, where)
    _check_features(cfg, where)
    _check_training(cfg, where)
    _check_tuning(cfg, where)
    pruning.check(cfg, where)
    compression.check(cfg, where)


def _check_name_and_task(cfg: PipelineConfig, where: str) -> None:
    if not isinstance(cfg.name, str) or not cfg.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{where}: name must be letters, digits, - or _, got {cfg.name!r}.")
    if cfg.task not in TASKS:
        raise ConfigError(f"{where}: task must be one of {', '.join(TASKS)}, got {cfg.task!r}.")


def _check_label(cfg: PipelineConfig, where: str) -> None:
    label = cfg.label
    if bool(label.column) == bool(label.fn):
        raise ConfigError(f"{where}: label needs exactly one of 'column' or 'fn' (a dotted function path).")
    if label.fn and not label.inputs:
        raise ConfigError(f"{where}: label.fn needs label.inputs, the raw columns the function reads.")
    if label.fn and not label.name:
        raise ConfigError(f"{where}: label.fn needs label.name, what the computed label is called.")
    if label.positive is not None:
        if cfg.task != "binary" or not label.column:
            raise ConfigError(f"{where}: label.positive applies to task: binary with a label.column only.")
        if isinstance(label.positive, bool):
            raise ConfigError(
                f"{where}: label.positive is the boolean {label.positive} (YAML reads an unquoted yes/no/true/false/"
                "on/off as one); quote the value as your data writes it, e.g. positive: \"yes\"."
            )
        if not isinstance(label.positive, str) or not label.positive.strip():
            raise ConfigError(
                f"{where}: label.positive must be the label value that is the positive class, as written in the "
                f"data (e.g. positive: \"yes\"), got {label.positive!r}."
            )


def _check_data(cfg: PipelineConfig, where: str) -> None:
    if cfg.example_gen not in EXAMPLE_GENS:
        raise ConfigError(f"{where}: example_gen must be one of {', '.join(EXAMPLE_GENS)}, got {cfg.example_gen!r}.")
    if not 1 <= cfg.eval_split_percent <= 90:
        raise ConfigError(f"{where}: eval_split_percent must be between 1 and 90, got {cfg.eval_split_percent}.")
    if cfg.split_buckets is not None and cfg.example_gen != "csv":
        raise ConfigError(f"{where}: split_buckets applies to example_gen: csv only; use eval_split_percent.")


def _check_model_and_gates(cfg: PipelineConfig, where: str) -> None:
    """Known model families, and gates that name only metrics their family's objective computes."""
    from trainer_module.models import FAMILIES, FAMILY_CHOICES  # the registry of model builders

    if cfg.model.family not in FAMILY_CHOICES:
        raise ConfigError(f"{where}: model family {cfg.model.family!r} is unknown; known families: "
                          f"{', '.join(sorted(FAMILY_CHOICES))}.")
    if cfg.model.family == "auto" and cfg.model.hparams:
        raise ConfigError(f"{where}: model.family auto trains several families; give their hyperparameters per "
                          "family in model.hparams_by_family (e.g. {dnn: {dropout: 0.2}, gbt: {num_trees: 500}}), "
                          "not in model.hparams.")
    for family in cfg.model.hparams_by_family:
        if family not in FAMILIES:
            raise ConfigError(
                f"{where}: model family {family!r} is unknown; known families: {', '.join(sorted(FAMILIES))}."
            )
    gate_sets = {None: Gates(cfg.evaluation.thresholds, cfg.evaluation.change_thresholds), **cfg.evaluation.by_family}
    for family, gates in gate_sets.items():
        if family is not None and family not in FAMILIES:
            raise ConfigError(f"{where}: evaluation.by_family names unknown model family {family!r}.")
        objective = objective_of(cfg.task, family or cfg.model.family)
        if family is None and cfg.model.family in cfg.evaluation.by_family:
            continue  # the top-level gates are not used for this family
        metrics = TASK_METRICS[objective]
        for metric in [*gates.thresholds, *gates.change_thresholds]:
            if metric not in metrics:
                where_key = f"evaluation.by_family.{family}" if family else "evaluation"
                raise ConfigError(
                    f"{where}: {where_key} metric {metric!r} is not computed for {objective} "
                    f"(model family {family or cfg.model.family}); use one of {', '.join(metrics)}."
                )


def _check_features(cfg: PipelineConfig, where: str) -> None:
    overlap = set(cfg.features.categorical) & set(cfg.features.bucketize)
    if overlap:
        raise ConfigError(f"{where}: features {sorted(overlap)} are both categorical and bucketized; pick one.")


def _check_training(cfg: PipelineConfig, where: str) -> None:
    from trainer_module.strategy import STRATEGIES as strategies  # TensorFlow is imported only to create one

    if cfg.training.strategy not in strategies:
        raise ConfigError(
            f"{where}: training.strategy {cfg.training.strategy!r} is unknown; use one of {', '.join(strategies)}."
        )
    if cfg.training.workers > 1 and cfg.training.strategy != "multi_worker":
        raise ConfigError(
            f"{where}: training.workers {cfg.training.workers} needs training.strategy multi_worker "
            "(--strategy multi_worker --workers N)."
        )
    from trainer_module.strategy import MIXED_PRECISION_POLICIES

    if cfg.training.mixed_precision is not None and cfg.training.mixed_precision not in MIXED_PRECISION_POLICIES:
        raise ConfigError(
            f"{where}: training.mixed_precision must be {' or '.join(MIXED_PRECISION_POLICIES)} (or absent), "
            f"got {cfg.training.mixed_precision!r}."
        )


def _check_tuning(cfg: PipelineConfig, where: str) -> None:
    """A tunable family, a strategy trials can use, and a search space of the family's own hyperparameters."""
    from trainer_module import tuning_space
    from trainer_module.auto_family import AUTO, CANDIDATES

    tuning = cfg.tuning
    if not tuning.enabled:
        return
    family = cfg.model.family
    if family != AUTO and family not in tuning_space.DEFAULT_SPACES:
        raise ConfigError(f"{where}: tuning: model.family {family} is not tuned (trials are scored on the task's "
                          f"metric); tune one of {', '.join([*tuning_space.DEFAULT_SPACES, AUTO])}, or remove "
                          "the tuning section / --tune.")
    if cfg.training.strategy in ("multi_worker", "tpu"):
        raise ConfigError(f"{where}: tuning: trials train on this machine; training.strategy "
                          f"{cfg.training.strategy} cannot be tuned (use auto, default or mirrored).")
    spaces = {family: tuning.search_space} if family != AUTO else dict(tuning.search_space)
    for name, space in spaces.items():
        key = "tuning.search_space" + (f".{name}" if family == AUTO else "")
        if family == AUTO and name not in CANDIDATES:
            raise ConfigError(f"{where}: {key}: with model.family auto the search space is one per candidate "
                              f"family ({', '.join(CANDIDATES)}), e.g. {{dnn: {{dropout: [0.1, 0.2]}}}}.")
        if not isinstance(space, dict):
            raise ConfigError(f"{where}: {key}: expected a mapping of hyperparameter -> values or range.")
        known = _hparam_names(name) if space else ()
        for hparam, entry in space.items():
            if hparam not in known:
                raise ConfigError(f"{where}: {key}.{hparam}: {name} has no hyperparameter {hparam!r}; "
                                  f"known: {', '.join(sorted(known))}.")
            problem = tuning_space.check_entry(hparam, entry, f"{where}: {key}")
            if problem:
                raise ConfigError(problem)


def _hparam_names(family: str) -> tuple[str, ...]:
    from trainer_module.models import module  # imports TensorFlow: only when a search space is written

    return tuple(module(family).DEFAULTS)
