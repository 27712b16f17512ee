"""Training progress for a watching terminal: a Keras callback writes epoch, step and loss to a small JSON file.

The channel is a file, not a pipe or a queue, because the Trainer runs in the CLI's process for a local run but in
worker processes for multi-worker training (components/multiworker_trainer), which inherit the environment: the CLI
names the file in PROGRESS_ENV, the chief's callback rewrites it atomically, the CLI's display thread reads it.
Without the variable (CI, pipes, Kubeflow, Vertex) the Trainer adds no callback and writes nothing.
This module imports TensorFlow only when it builds the callback: the CLI imports it for the name and the reader.
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

# The one name of the channel: `tfx-e2e run` sets it to <home>/state/progress-<pid>.json on a terminal.
PROGRESS_ENV = "TFX_E2E_PROGRESS"
# A batch updates the file at most this often (an epoch's start and end, validation and fit's end always do).
MIN_INTERVAL = 0.2


def read(path: Path) -> Optional[dict]:
    """The latest record, or None when there is none yet (or it cannot be read: progress is never worth an error)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


class Reporter:
    """Keeps the record and rewrites the file (temp file + os.replace, so a reader never sees half of it); batch
    updates are throttled to one per `interval` seconds of `clock`. Plain Python: the Keras callback drives it."""

    def __init__(self, path: str, interval: float = MIN_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.path, self.interval, self.clock = path, interval, clock
        self.record: dict[str, Any] = {"phase": "train", "epoch": 0, "epochs": 0, "step": 0, "steps": 0,
                                       "loss": None, "finished": []}
        self._last_write: Optional[float] = None
        self._epoch_started = 0.0
        self.broken = False  # the file could not be written once: stop trying, training goes on
        self.replicas = 1  # batch losses arrive summed over this many replicas (see summed_replicas)

    def begin(self, epochs: int, steps: int) -> None:
        self.record.update(epochs=int(epochs or 0), steps=int(steps or 0))

    def epoch_begin(self, epoch: int) -> None:
        self._epoch_started = self.clock()
        self.record.update(phase="train", epoch=epoch + 1, step=0, loss=None)
        self._write()

    def due(self) -> bool:
        """Whether a batch update would be written now (asked before the loss is read: reading it syncs the
        device)."""
        return not self.broken and (self._last_write is None or self.clock() - self._last_write >= self.interval)

    def batch(self, batch: int, loss: Any) -> None:
        if not self.due():
            return
        value = _number(loss)
        self.record.update(step=batch + 1, loss=None if value is None else value / self.replicas)
        self._write()

    def validating(self) -> None:
        """fit evaluates the epoch: its training steps are all done (the last ones may not have been written)."""
        self.record.update(phase="validate", step=self.record["steps"] or self.record["step"])
        self._write()

    def done(self) -> None:
        """fit returned (the Trainer goes on to export the model)."""
        self.record.update(phase="done")
        self._write()

    def epoch_end(self, epoch: int, logs: Mapping[str, Any]) -> None:
        done = {"epoch": epoch + 1, "loss": _number(logs.get("loss")), "val_loss": _number(logs.get("val_loss")),
                "seconds": round(self.clock() - self._epoch_started, 3)}
        self.record.update(phase="train", step=self.record["steps"] or self.record["step"], loss=done["loss"])
        self.record["finished"] = [*self.record["finished"], done]
        self._write()

    def _write(self) -> None:
        if self.broken:
            return
        self._last_write = self.clock()
        temp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(temp, "w") as f:
                json.dump({**self.record, "updated": time.time()}, f)
            os.replace(temp, self.path)
        except OSError:  # the CLI removed the directory or the disk is full: the display just stops updating
            self.broken = True


def _number(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def summed_replicas(reduction: str, multi_worker: bool, replicas: int) -> int:
    """How many replicas' losses a batch's logs add up. tf.keras reduces a batch's outputs with
    `model.distribute_reduction_method` ("auto" is "sum" except on TPUs); it sums only under a
    MultiWorkerMirroredStrategy in multi-worker mode (one worker's figure per replica: the batch loss shows
    `replicas` times too big), and hands other strategies' values on as they are. Epoch logs are the metrics' means.
    Dividing here is local to the chief: reading the loss metric instead would be a collective op the other workers
    never join."""
    if multi_worker and reduction in ("auto", "sum"):
        return max(1, int(replicas))
    return 1


@functools.lru_cache(maxsize=None)
def _keras_class() -> type:
    import tensorflow as tf  # here: importing this module (the CLI does) must not load TensorFlow

    class ProgressCallback(tf.keras.callbacks.Callback):
        """Feeds a Reporter from fit(): epochs and steps from fit's params, the running mean loss per batch."""

        def __init__(self, reporter: Reporter):
            super().__init__()
            self.reporter = reporter
            # Keras then hands batch logs over as tensors instead of syncing them to numpy after every batch for
            # this callback; the loss is read (one sync) only when the Reporter will write.
            self._supports_tf_logs = True

        def on_train_begin(self, logs: Any = None) -> None:
            self.reporter.begin(self.params.get("epochs") or 0, self.params.get("steps") or 0)
            strategy = self.model.distribute_strategy
            # tf_keras's own test (training._collective_all_reduce_multi_worker), private API included.
            multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
                getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
            )
            self.reporter.replicas = summed_replicas(
                self.model.distribute_reduction_method, multi_worker, strategy.num_replicas_in_sync
            )

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.reporter.epoch_begin(epoch)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if self.reporter.due():
                self.reporter.batch(batch, (logs or {}).get("loss"))

        def on_test_begin(self, logs: Any = None) -> None:
            self.reporter.validating()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.reporter.epoch_end(epoch, logs or {})

        def on_train_end(self, logs: Any = None) -> None:
            self.reporter.done()

    return ProgressCallback


def callback(chief: bool = True, environ: Mapping[str, str] = os.environ) -> Optional[Any]:
    """The Keras callback that reports to the file named by PROGRESS_ENV; None without the variable, or on a
    worker that is not the chief (one writer per file)."""
    path = environ.get(PROGRESS_ENV)
    if not path or not chief:
        return None
    return _keras_class()(Reporter(path))
