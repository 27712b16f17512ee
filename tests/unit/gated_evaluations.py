"""What the gated Evaluator (components/gated_evaluator) records beyond TFX's Evaluator, added to runs built with
mlmd_runs: the `gates` property of the evaluation artifact, and a blessing without `blessed` (no threshold in force:
TFX's Evaluator does not validate). CASES: real TFMA outputs for each way a validation ends (see its README.md)."""

from __future__ import annotations

import json

from tests.unit.mlmd_runs import Run, Store
from tests.unit.tfx_outputs import TESTDATA

CASES = TESTDATA / "evaluation_cases"
GUESS = "a model that guesses has an AUC of 0.5"
MAJORITY = "the majority class '0' makes up 71.0% of the train split"
NOT_WORSE = "not worse than the latest blessed baseline"


def gate(metric: str, kind: str, lower=None, change=None, source="default", why="") -> dict:
    """One entry of the `gates` property: {metric, kind, lower, upper, change, source, why}."""
    return {"metric": metric, "kind": kind, "lower": lower, "upper": None, "change": change, "source": source,
            "why": why}


# The gates in force for a binary config that sets no threshold (the CASES' binary data: 71% majority class).
DEFAULT_BINARY_GATES = [
    gate("auc", "value", lower=0.5, why=GUESS),
    gate("binary_accuracy", "value", lower=0.71, why=MAJORITY),
    gate("auc", "change", change=0.0, why=NOT_WORSE),
    gate("binary_accuracy", "change", change=0.0, why=NOT_WORSE),
]


def _evaluator_artifact(b: Store, run: Run, key: str):
    [artifact] = b.store.get_artifacts_by_id(run.outputs["Evaluator"][key])
    return artifact


def record_gates(b: Store, run: Run, gates: list[dict]) -> None:
    """The gates in force, as the JSON string property of the run's evaluation artifact."""
    artifact = _evaluator_artifact(b, run, "evaluation")
    artifact.custom_properties["gates"].string_value = json.dumps(gates)
    b.store.put_artifacts([artifact])


def not_validated(b: Store, run: Run) -> None:
    """No threshold in force: the run's blessing has no `blessed` property."""
    artifact = _evaluator_artifact(b, run, "blessing")
    del artifact.custom_properties["blessed"]
    b.store.put_artifacts([artifact])
