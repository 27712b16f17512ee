"""The default blessing gates and the record of every gate in force (plain Python: no TFX, no TensorFlow).

When a config sets no value threshold, a model must beat the naive model, computed by the Trainer from the train
split (trainer_module.label_stats, `naive_model.json` beside the model): binary AUC > 0.5 and accuracy >= the
majority-class rate; multiclass accuracy > the majority-class share; regression R² > 0 on the eval split (MSE below
the label's variance, i.e. better than predicting the mean). When it sets no change threshold, the model's main
metric must not be worse than the latest blessed baseline's (TFX applies change gates only when a baseline exists).
Autoencoders have no naive model: their gates come from the config only.

Every gate in force is recorded on the evaluation artifact as the custom property GATES_PROPERTY: a JSON list of
{metric, kind (value|change|compressed), lower, upper, change, source (default|config), why}, which `tfx-e2e blessing` and the
run summary read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional

GATES_PROPERTY = "gates"
# Makes TFMA's inclusive bounds strict: "AUC > 0.5" is lower bound 0.5 + STRICT.
STRICT = 1e-9

# TFMA metric names (pipeline/config/evaluation.py TASK_METRICS computes them): the value gates of each task, and
# the metric compared with the baseline by default.
VALUE_METRICS = {
    "binary": ("auc", "binary_accuracy"),
    "multiclass": ("sparse_categorical_accuracy",),
    "regression": ("r_squared",),
}
MAIN_METRIC = {"binary": "auc", "multiclass": "sparse_categorical_accuracy", "regression": "r_squared"}
# The compressed (TFLite) model's gate (compressed.py): its main metric may be at most the allowed drop worse than
# the full model's. Defaults per objective: AUC 0.005 and accuracy 0.01 (issue #16); R² 0.01 (a hundredth of the
# label's variance); an autoencoder's mean reconstruction error, whose scale is the data's, 5% relative.
COMPRESSED_METRICS = (*MAIN_METRIC.values(), "mean_reconstruction_error")
OBJECTIVE_OF_METRIC = {**{m: task for task, m in MAIN_METRIC.items()}, "mean_reconstruction_error": "reconstruction"}
LOWER_IS_BETTER = frozenset({"mean_reconstruction_error"})
DEFAULT_COMPRESSED_MAX_DROP = {"binary": 0.005, "multiclass": 0.01, "regression": 0.01, "reconstruction": 0.05}


@dataclass(frozen=True)
class Gate:
    metric: str
    kind: str  # value | change | compressed (the TFLite model against the full one: change = -allowed drop)
    source: str  # default | config
    why: str
    lower: Optional[float] = None
    upper: Optional[float] = None
    change: Optional[float] = None  # change gates: the allowed change in the better direction (0: not worse)
    higher_is_better: bool = True


def metric_name(class_name: str, config_json: str = "") -> str:
    """The name TFMA gives a metric: the `name` in its config, else its class in snake case (AUC → auc)."""
    if config_json:
        try:
            named = json.loads(config_json).get("name")
        except ValueError:
            named = None
        if named:
            return named
    return "auc" if class_name == "AUC" else re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _round_up(rate: float) -> float:
    """The rate rounded up to 6 decimals: a bound that prints as it is (and is never below the rate)."""
    return math.ceil(rate * 1e6 - 1e-6) / 1e6


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def default_value_gates(naive: Mapping[str, Any]) -> list[Gate]:
    """"Better than the naive model" for the naive model's task (trainer_module.label_stats record)."""
    task = naive.get("task")
    if task == "regression":
        return [Gate("r_squared", "value", "default", lower=STRICT,
                     why="R² 0 is what predicting the eval split's mean label scores (MSE = the label's variance)")]
    if task not in ("binary", "multiclass"):
        return []
    if not naive.get("rows"):
        return []  # no class counts: the Trainer was told the config sets its own value gates
    rate = float(naive.get("majority_rate") or 0.0)
    majority = naive.get("majority_class")
    rows = int(naive.get("rows") or 0)
    share = f"the majority class {majority!r} is {_pct(rate)} of the train split's {rows:,} labelled rows"
    if task == "binary":
        return [
            Gate("auc", "value", "default", lower=0.5 + STRICT, why="a model that ranks rows at random has AUC 0.5"),
            Gate("binary_accuracy", "value", "default", lower=_round_up(rate),
                 why=f"{share}: always predicting it scores that accuracy"),
        ]
    return [Gate("sparse_categorical_accuracy", "value", "default", lower=_round_up(rate) + STRICT,
                 why=f"{share}: always predicting it scores that accuracy")]


def default_change_gate(task: str) -> list[Gate]:
    metric = MAIN_METRIC.get(task)
    if metric is None:
        return []
    return [Gate(metric, "change", "default", change=0.0, why="not worse than the latest blessed baseline")]


def to_json(gates: list[Gate]) -> str:
    return json.dumps([asdict(g) for g in gates])


def from_json(text: Optional[str]) -> list[Gate]:
    """The gates recorded on an evaluation artifact; [] when it has none (evaluated before gates were recorded)."""
    if not text:
        return []
    return [Gate(**{k: v for k, v in item.items() if k in Gate.__dataclass_fields__}) for item in json.loads(text)]
