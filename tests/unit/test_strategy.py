"""trainer_module/strategy.py: the decision for every environment, the TPU branch, and which worker is the chief."""

from __future__ import annotations

import json

import pytest

from trainer_module import strategy
from trainer_module.strategy import is_chief


@pytest.mark.parametrize(
    "requested, gpus, tf_config, tpu, expected",
    [
        ("auto", 0, None, False, "default"),
        ("auto", 1, None, False, "one_device"),
        ("auto", 4, None, False, "mirrored"),
        ("auto", 0, json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}),
         False, "multi_worker"),
        ("auto", 8, None, True, "tpu"),
        ("mirrored", 0, None, False, "mirrored"),
    ],
)
def test_strategy_decision(requested, gpus, tf_config, tpu, expected):
    choice = strategy.decide(requested, gpus, tf_config, tpu)
    assert choice.name == expected and choice.reason


def test_strategy_rejects_unknown_and_bad_tf_config():
    with pytest.raises(ValueError, match="unknown strategy"):
        strategy.decide("quantum", 0, None, False)
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        strategy.decide("auto", 0, "{nope", False)


def test_tpu_requested_without_a_tpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no TPU was found"):
        strategy.create("tpu", tpu_probe=lambda: None)


def test_tpu_found_by_the_resolver_goes_down_the_tpu_path(monkeypatch):
    """A fake resolver: the TPU branch connects to the cluster and initializes the TPU system with it."""
    import tensorflow as tf

    calls = []
    fake = object()
    monkeypatch.setattr(tf.config, "experimental_connect_to_cluster", lambda r: calls.append(("connect", r)))
    monkeypatch.setattr(tf.tpu.experimental, "initialize_tpu_system", lambda r: calls.append(("init", r)))
    monkeypatch.setattr(tf.distribute, "TPUStrategy", lambda r: ("TPUStrategy", r))
    built, choice = strategy.create("auto", tpu_probe=lambda: fake)
    assert choice.name == "tpu" and built == ("TPUStrategy", fake)
    assert calls == [("connect", fake), ("init", fake)]


def test_multi_worker_is_created_before_tensorflow_lists_devices(monkeypatch):
    """MultiWorkerMirroredStrategy must come before anything initializes TensorFlow's context."""
    import tensorflow as tf

    order = []
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"index": 0}}))
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", lambda: order.append("mwms") or "MWMS")
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind: order.append("list") or [])
    built, choice = strategy.create("auto", tpu_probe=lambda: order.append("tpu-probe"))
    assert built == "MWMS" and choice.name == "multi_worker" and order == ["mwms"]


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
