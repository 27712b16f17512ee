"""Chooses the tf.distribute strategy for training and says why."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import tensorflow as tf

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str


def decide(requested: str, gpus: int, tf_config: Optional[str], tpu_found: bool) -> Choice:
    """Pure decision (testable with a faked environment): which strategy, and why."""
    if requested not in STRATEGIES:
        raise ValueError(f"unknown strategy {requested!r}; choose one of {', '.join(STRATEGIES)}")
    if requested != "auto":
        return Choice(requested, f"requested --strategy {requested}")
    if tpu_found:
        return Choice("tpu", "a TPU cluster resolver found a TPU")
    tasks = _task_count(tf_config)
    if tasks > 1:
        return Choice("multi_worker", f"TF_CONFIG names {tasks} tasks")
    if gpus > 1:
        return Choice("mirrored", f"{gpus} GPUs visible")
    if gpus == 1:
        return Choice("one_device", "one GPU visible")
    return Choice("default", "no GPU, TPU or multi-worker cluster found")


def _task_count(tf_config: Optional[str]) -> int:
    if not tf_config:
        return 0
    try:
        cluster = json.loads(tf_config).get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError(f"TF_CONFIG is not valid JSON: {tf_config[:200]!r}") from None
    return sum(len(v) for v in cluster.values() if isinstance(v, list))


def _tpu_resolver() -> Any:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        resolver.master()  # raises when there is no TPU
        return resolver
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        return None


def create(requested: str = "auto", tpu_probe: Callable[[], Any] = _tpu_resolver) -> tuple[Any, Choice]:
    """Returns (strategy, choice). Multi-worker must be created before any other TensorFlow op in the process."""
    resolver = tpu_probe() if requested in ("auto", "tpu") else None
    gpus = len(tf.config.list_logical_devices("GPU"))
    choice = decide(requested, gpus, os.environ.get("TF_CONFIG"), resolver is not None)
    if choice.name == "tpu":
        if resolver is None:
            raise RuntimeError("--strategy tpu was requested but no TPU was found by TPUClusterResolver")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver), choice
    if choice.name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy(), choice
    if choice.name == "mirrored":
        return tf.distribute.MirroredStrategy(), choice
    if choice.name == "one_device":
        device = "/gpu:0" if gpus else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device), choice
    return tf.distribute.get_strategy(), choice
