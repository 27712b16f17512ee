"""trainer_module/strategy.is_chief: which worker of a cluster writes the model, logs and summary.

(strategy.decide/create are tested in test_labels_strategy_eval.py.)
"""

from __future__ import annotations

import json

import pytest

from trainer_module.strategy import is_chief


def _tf_config(cluster: dict, task_type: str, index: int) -> str:
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


WORKERS = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
WITH_CHIEF = {"chief": ["127.0.0.1:0"], "worker": ["127.0.0.1:1"]}


@pytest.mark.parametrize(
    "tf_config, chief",
    [
        (None, True),  # a single process
        ("", True),
        (_tf_config(WORKERS, "worker", 0), True),  # no chief task: worker 0 writes
        (_tf_config(WORKERS, "worker", 1), False),
        (_tf_config(WITH_CHIEF, "chief", 0), True),
        (_tf_config(WITH_CHIEF, "worker", 0), False),  # a chief exists: worker 0 is not it
        (_tf_config(WORKERS, "evaluator", 0), False),
    ],
)
def test_is_chief(tf_config, chief):
    assert is_chief(tf_config) is chief
