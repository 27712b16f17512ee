"""Chooses the tf.distribute strategy for training and says why; tells the chief worker (which writes) apart."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")
# training.mixed_precision / --mixed-precision → the Keras policy it sets (outputs stay float32; TPUs default to bf16).
MIXED_PRECISION_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


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


def is_chief(tf_config: Optional[str]) -> bool:
    """The chief writes the model and logs: the `chief` task, else worker 0, else a single process."""
    if not tf_config:
        return True
    config = json.loads(tf_config)
    task = config.get("task", {})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def _task_count(tf_config: Optional[str]) -> int:
    if not tf_config:
        return 0
    try:
        cluster = json.loads(tf_config).get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError(f"TF_CONFIG is not valid JSON: {tf_config[:200]!r}") from None
    return sum(len(v) for v in cluster.values() if isinstance(v, list))


def _tpu_resolver() -> Any:
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        resolver.master()  # raises when there is no TPU
        return resolver
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        return None


TPU_ENV_HINTS = ("TPU_NAME", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS", "TPU_WORKER_HOSTNAMES")


def create(requested: str = "auto", tpu_probe: Callable[[], Any] = _tpu_resolver) -> tuple[Any, Choice]:
    """Returns (strategy, choice). Multi-worker must be created before any other TensorFlow op in the process."""
    import tensorflow as tf  # here, not at import: the config and the CLI read STRATEGIES without TensorFlow

    tf_config = os.environ.get("TF_CONFIG")
    no_tpu_hint = not any(os.environ.get(k) for k in TPU_ENV_HINTS)
    if requested == "multi_worker" or (requested == "auto" and no_tpu_hint and _task_count(tf_config) > 1):
        # Listing devices (below) initializes TensorFlow's context, after which collectives can't be configured.
        choice = decide(requested, 0, tf_config, False)
        return tf.distribute.MultiWorkerMirroredStrategy(), choice
    resolver = tpu_probe() if requested in ("auto", "tpu") else None
    gpus = len(tf.config.list_logical_devices("GPU"))
    choice = decide(requested, gpus, tf_config, resolver is not None)
    if choice.name == "tpu":
        if resolver is None:
            raise RuntimeError("--strategy tpu was requested but no TPU was found by TPUClusterResolver")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver), choice
    if choice.name == "mirrored":
        # Without GPUs, mirror over the logical CPU devices when the CPU was split into several (how this is
        # exercised on machines without accelerators); MirroredStrategy's own default would use one CPU.
        cpus = tf.config.list_logical_devices("CPU")
        devices = None if gpus or len(cpus) < 2 else [d.name for d in cpus]
        return tf.distribute.MirroredStrategy(devices=devices), choice
    if choice.name == "one_device":
        device = "/gpu:0" if gpus else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device), choice
    return tf.distribute.get_strategy(), choice
