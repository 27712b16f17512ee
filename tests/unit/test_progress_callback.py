"""The Trainer's progress channel (trainer_module.progress): the Keras callback in a real fit writes epoch, step and
loss to the file named by TFX_E2E_PROGRESS, only on the chief and only when the variable is set; batch updates are
throttled; the file is replaced atomically and a write failure never stops training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from pipeline.paths import PROJECT_ROOT
from trainer_module import progress, run
from trainer_module.strategy import Choice


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tiny_fit(callbacks: list, epochs: int = 3, steps: int = 4, strategy: object = None) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)).astype("float32"), rng.integers(0, 2, size=(64, 1)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).repeat()
    with (strategy or tf.distribute.get_strategy()).scope():
        model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
        model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(data, epochs=epochs, steps_per_epoch=steps, validation_data=data, validation_steps=2,
              callbacks=callbacks, verbose=0)


class LastBatchLoss(tf.keras.callbacks.Callback):
    """Placed before the progress callback: at an epoch's end the file still holds the epoch's last batch."""

    def __init__(self, path: str):
        super().__init__()
        self.path, self.pairs = path, []

    def on_epoch_end(self, epoch: int, logs: dict = None) -> None:
        self.pairs.append((progress.read(self.path)["loss"], float(logs["loss"])))


def every_batch(path: object) -> object:
    return progress._keras_class()(progress.Reporter(str(path), interval=0.0))


def test_a_fit_writes_epochs_steps_and_losses(tmp_path):
    path = tmp_path / "progress-1.json"
    callback = progress.callback(chief=True, environ={progress.PROGRESS_ENV: str(path)})
    tiny_fit([callback])
    record = json.loads(path.read_text())
    assert (record["epoch"], record["epochs"], record["step"], record["steps"]) == (3, 3, 4, 4)
    assert record["phase"] == "done" and isinstance(record["loss"], float) and record["updated"] > 0
    assert [done["epoch"] for done in record["finished"]] == [1, 2, 3]
    assert all(isinstance(done["loss"], float) and isinstance(done["val_loss"], float) for done in record["finished"])
    assert record["finished"][-1]["loss"] == record["loss"]
    assert os.listdir(tmp_path) == [path.name], "no temp file is left beside the record"
    assert progress.read(path) == record


def test_the_batch_loss_is_the_epoch_loss_so_far(tmp_path):
    path = tmp_path / "p.json"
    spy = LastBatchLoss(path)
    tiny_fit([spy, every_batch(path)])
    assert len(spy.pairs) == 3 and all(batch == pytest.approx(epoch, rel=1e-5) for batch, epoch in spy.pairs)


def test_under_mirrored_replicas_the_batch_loss_is_kept_as_keras_gives_it(tmp_path):
    # Two logical CPU devices (the only way to get two replicas here); MultiWorkerMirroredStrategy's summed
    # batch loss needs worker processes: a real `tfx-e2e run --strategy multi_worker` on a terminal shows it.
    # TensorFlow's devices are fixed when its runtime starts: a process of its own, reusing this module's helpers.
    script = textwrap.dedent("""
        import json, sys
        from tests.unit.test_progress_callback import LastBatchLoss, every_batch, tf, tiny_fit
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        spy = LastBatchLoss(sys.argv[1])
        tiny_fit([spy, every_batch(sys.argv[1])], epochs=2, strategy=strategy)
        print(json.dumps({"replicas": strategy.num_replicas_in_sync, "pairs": spy.pairs}))
        """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "p.json")], capture_output=True, text=True,
                          timeout=300, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and len(result["pairs"]) == 2
    assert all(batch == pytest.approx(epoch, rel=1e-5) for batch, epoch in result["pairs"]), result


def test_only_a_multi_worker_sum_is_divided():
    assert progress.summed_replicas("auto", multi_worker=True, replicas=4) == 4
    assert progress.summed_replicas("sum", multi_worker=True, replicas=2) == 2
    assert progress.summed_replicas("first", multi_worker=True, replicas=2) == 1
    assert progress.summed_replicas("auto", multi_worker=False, replicas=8) == 1


def test_without_the_variable_or_off_the_chief_there_is_no_callback(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    assert progress.callback() is None
    assert progress.callback(chief=False, environ={progress.PROGRESS_ENV: str(tmp_path / "p.json")}) is None
    training = {"early_stopping_patience": 2}
    plain = run.callbacks(training, Choice("default", "test"), str(tmp_path / "logs"), str(tmp_path))
    assert [type(c).__name__ for c in plain] == ["TensorBoard", "EarlyStopping"]
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / "p.json"))
    chief = run.callbacks(training, Choice("default", "test"), str(tmp_path / "logs"), str(tmp_path), chief=True)
    assert type(chief[-1]).__name__ == "ProgressCallback" and chief[-1].reporter.path == str(tmp_path / "p.json")
    worker = run.callbacks(training, Choice("multi_worker", "test"), str(tmp_path / "logs"), str(tmp_path),
                           chief=False)
    assert "ProgressCallback" not in [type(c).__name__ for c in worker]
    assert os.listdir(tmp_path) == [], "building callbacks writes nothing"


def test_batch_updates_are_throttled_epoch_boundaries_are_not(tmp_path):
    path, clock = tmp_path / "p.json", Clock()
    reporter = progress.Reporter(str(path), interval=0.2, clock=clock)
    reporter.begin(epochs=2, steps=100)
    reporter.epoch_begin(0)
    assert progress.read(path)["step"] == 0
    clock.now = 0.1
    assert not reporter.due()
    reporter.batch(4, 0.9)  # 0.1 s after the last write: skipped
    assert progress.read(path)["step"] == 0
    clock.now = 0.2
    reporter.batch(9, 0.8)
    assert (progress.read(path)["step"], progress.read(path)["loss"]) == (10, 0.8)
    clock.now = 0.3
    reporter.batch(14, 0.7)
    assert progress.read(path)["step"] == 10
    reporter.validating()  # always written, with the epoch's steps done
    assert (progress.read(path)["phase"], progress.read(path)["step"], progress.read(path)["loss"]) == (
        "validate", 100, 0.8)
    reporter.epoch_end(0, {"loss": 0.6})  # always written
    assert progress.read(path)["finished"] == [{"epoch": 1, "loss": 0.6, "val_loss": None, "seconds": 0.3}]
    assert progress.read(path)["step"] == 100


def test_an_unwritable_file_stops_reporting_not_training(tmp_path):
    path = tmp_path / "removed-dir" / "p.json"
    callback = progress.callback(chief=True, environ={progress.PROGRESS_ENV: str(path)})
    tiny_fit([callback], epochs=1, steps=2)
    assert callback.reporter.broken and not path.exists()
    assert progress.read(path) is None


def test_a_half_written_or_missing_record_reads_as_none(tmp_path):
    (tmp_path / "p.json").write_text('{"epoch": 1, "ste')
    assert progress.read(tmp_path / "p.json") is None
    assert progress.read(tmp_path / "missing.json") is None
