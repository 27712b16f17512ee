"""Trainer executor that runs run_fn in N fresh worker processes with TF_CONFIG, and fails with a worker's error.

It is the tagged Trainer executor (components/tagged_trainer) with another way to train: the output Model gets
its `model_family` property whether one process trained it or N.

Why processes: MultiWorkerMirroredStrategy must be created before any other TensorFlow op runs in its process, and
the pipeline process has already run TensorFlow (Transform). Every worker, the chief (worker 0) too, therefore
starts fresh. On Kubeflow/Vertex the platform starts the workers and sets TF_CONFIG; this executor is local only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import path_utils

from components.tagged_trainer import executor as tagged_trainer

POLL_SECONDS = 0.5
LOG_TAIL_LINES = 25


def workers_requested(exec_properties: Dict[str, Any]) -> int:
    custom = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
    return int(custom.get("training", {}).get("workers", 1))


def free_ports(count: int) -> List[int]:
    """Ports the OS hands out now; all sockets stay open until every port is chosen, so they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: List[int], index: int) -> str:
    return json.dumps(
        {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
    )


def _tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no output)"


class Executor(tagged_trainer.Executor):
    """The tagged Trainer executor, but with training.workers > 1 the run_fn runs once per worker process."""

    def train(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        workers = workers_requested(exec_properties)
        if workers < 2:
            super().train(input_dict, output_dict, exec_properties)
            return
        work_dir = tempfile.mkdtemp(prefix="tfx-e2e-multiworker-", dir=self._get_tmp_dir())
        payload = os.path.join(work_dir, "payload.json")
        with open(payload, "w") as f:
            json.dump(
                {
                    "input_dict": artifact_utils.jsonify_artifact_dict(input_dict),
                    "output_dict": artifact_utils.jsonify_artifact_dict(output_dict),
                    "exec_properties": exec_properties,
                    "tmp_dir": self._get_tmp_dir(),
                },
                f,
            )
        ports = free_ports(workers)
        logging.info("starting %d training workers on 127.0.0.1 ports %s", workers, ports)
        procs, logs = [], []
        for index in range(workers):
            log_path = os.path.join(work_dir, f"worker-{index}.log")
            logs.append(log_path)
            env = {**os.environ, "TF_CONFIG": tf_config(ports, index)}
            with open(log_path, "w") as log:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "components.multiworker_trainer.worker", payload],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        try:
            self._wait(procs, logs)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        for index, log_path in enumerate(logs):
            logging.info("worker %d output:\n%s", index, _tail(log_path, 200))
        model_uri = artifact_utils.get_single_uri(output_dict[standard_component_specs.MODEL_KEY])
        if not fileio.exists(path_utils.serving_model_dir(model_uri)):
            raise RuntimeError(f"the chief worker exited without writing a model; see {logs[0]}")

    @staticmethod
    def _wait(procs: List[subprocess.Popen], logs: List[str]) -> None:
        """Returns when all workers succeed; raises with the first failed worker's output otherwise (the others
        would wait for it forever inside collective ops)."""
        while True:
            codes = [p.poll() for p in procs]
            for index, code in enumerate(codes):
                if code not in (None, 0):
                    raise RuntimeError(
                        f"training worker {index} of {len(procs)} failed with exit code {code}; "
                        f"its last output ({logs[index]}):\n{_tail(logs[index])}"
                    )
            if all(code == 0 for code in codes):
                return
            time.sleep(POLL_SECONDS)
