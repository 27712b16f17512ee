"""`tfx-e2e run`'s live progress on a terminal (cli.render.progress and cli.render.run.Progress): the running
component's line rewritten in place, the Trainer's epoch/step/loss from its progress file, the final lines; and the
plain one-line-per-event output when the stream is not a terminal."""

from __future__ import annotations

import io
import os
import threading
import time

from cli.render import progress as live
from cli.render import run as run_view
from pipeline.dag import node_ids
from pipeline.local.runner import NodeEvent
from trainer_module.progress import PROGRESS_ENV, Reporter


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def screen(raw: str) -> list[str]:
    """What a terminal shows after `raw`: `\\r` returns to the line's start, `ESC[K` erases to its end."""
    lines, line, col = [], [], 0
    i = 0
    while i < len(raw):
        if raw.startswith(live.CLEAR, i):
            line, col, i = [], 0, i + len(live.CLEAR)
            continue
        ch = raw[i]
        if ch == "\n":
            lines.append("".join(line))
            line, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    if line:
        lines.append("".join(line))
    return lines


def _live(clock: Clock, training_file=None, columns: int = 120) -> tuple[FakeTTY, run_view.Progress]:
    out = FakeTTY()
    progress = run_view.Progress(out, live=True, training_file=training_file)
    # A fixed clock and terminal width; an interval so long the redraw thread never ticks during the test.
    progress._live.clock, progress._live._columns, progress._live.interval = clock, columns, 3600
    return out, progress


def test_the_running_line_is_rewritten_in_place_and_replaced_by_the_finished_line():
    clock = Clock()
    out, progress = _live(clock)
    with progress:
        progress(NodeEvent("Transform", "start"))
        clock.now += 1.5
        progress._live.draw()
        assert out.getvalue().endswith(live.CLEAR + "  Transform                        running     1.5 s")
        assert screen(out.getvalue()) == ["  Transform                        running     1.5 s"]
        clock.now += 1.6
        progress(NodeEvent("Transform", "finish", state="ran", seconds=3.1))
        progress(NodeEvent("Trainer", "start"))
    raw = out.getvalue()
    assert "\n" not in raw.split("ran ")[0], "the running line is rewritten, never pushed up the screen"
    assert "started" not in raw
    assert raw.count("running     0.0 s") == 2 and "running     1.5 s" in raw
    # The live line is gone at the end; only the finished line stays.
    assert screen(raw) == ["  Transform                        ran         3.1 s"]
    assert raw.endswith(live.CLEAR)


def test_the_trainer_line_shows_epoch_step_and_loss_and_each_finished_epoch_stays(tmp_path):
    clock = Clock()
    record_file = tmp_path / "progress-1.json"
    out, progress = _live(clock, record_file)
    reporter = Reporter(str(record_file), interval=0.0)
    with progress:
        progress(NodeEvent(node_ids.TRAINER, "start"))
        reporter.begin(epochs=5, steps=60)
        reporter.epoch_begin(0)
        reporter.batch(23, 0.41234)
        clock.now += 12.3
        progress._live.draw()
        shown = screen(out.getvalue())
        assert shown == ["  Trainer                          running    12.3 s  epoch 1/5 "
                         "[#########--------------] 24/60 loss 0.4123"]
        reporter.validating()
        progress._live.draw()
        assert screen(out.getvalue())[-1].endswith("] 60/60 loss 0.4123 validating")
        reporter.epoch_end(0, {"loss": 0.4, "val_loss": 0.39})
        reporter.epoch_begin(1)
        reporter.batch(2, 0.35)
        progress._live.draw()
        progress._live.draw()  # a second redraw does not repeat the finished epoch
        assert screen(out.getvalue()) == [
            "    epoch 1/5  loss 0.4000  val_loss 0.3900  0.0 s",
            "  Trainer                          running    12.3 s  epoch 2/5 "
            "[#----------------------] 3/60 loss 0.3500",
        ]
        reporter.epoch_end(1, {"loss": 0.3})  # finished between two redraws: shown when the Trainer finishes
        reporter.done()
        progress._live.draw()
        assert screen(out.getvalue())[-1].endswith("running    12.3 s  fit done after epoch 2/5; exporting the model")
        progress(NodeEvent(node_ids.TRAINER, "finish", state="ran", seconds=14.0))
    assert screen(out.getvalue()) == [
        "    epoch 1/5  loss 0.4000  val_loss 0.3900  0.0 s",
        "    epoch 2/5  loss 0.3000  0.0 s",
        "  Trainer                          ran        14.0 s",
    ]


def test_the_live_line_fits_the_terminal():
    clock = Clock()
    out, progress = _live(clock, columns=40)
    with progress:
        progress(NodeEvent("StatisticsGen", "start"))
        assert all(len(line) <= 39 for line in screen(out.getvalue()))
    assert live.training_text({"epoch": 1, "epochs": 2, "step": 1, "steps": 2, "loss": None}, 40, 60).startswith(
        "epoch 1/2 [####----] 1/2 loss -")  # the bar shrinks to its minimum, never below


def test_a_failed_node_and_a_run_without_a_trainer_file_still_end_cleanly(tmp_path):
    clock = Clock()
    out, progress = _live(clock, tmp_path / "never-written.json")
    with progress:
        progress(NodeEvent(node_ids.TRAINER, "start"))
        progress._live.draw()  # no record yet: the node line alone
        assert screen(out.getvalue()) == ["  Trainer                          running     0.0 s"]
        progress(NodeEvent(node_ids.TRAINER, "fail", state="failed", seconds=2.0))
    assert screen(out.getvalue()) == ["  Trainer                          failed      2.0 s"]


def test_the_redraw_thread_updates_the_elapsed_time_and_stops_on_close():
    out = FakeTTY()
    progress = run_view.Progress(out, live=True)
    progress._live.interval = 0.02
    progress(NodeEvent("Evaluator", "start"))
    time.sleep(0.3)
    progress.close()
    assert out.getvalue().count("  Evaluator                        running") >= 4
    assert not any(t.name == "tfx-e2e-progress" and t.is_alive() for t in threading.enumerate())
    assert screen(out.getvalue()) == []


def test_not_a_terminal_keeps_one_line_per_event_byte_for_byte(tmp_path):
    out = io.StringIO()
    with run_view.Progress(out) as progress:
        progress(NodeEvent("Transform", "start"))
        progress(NodeEvent("Transform", "finish", state="cached", seconds=0.25))
    assert out.getvalue() == ("  Transform                        started\n"
                              "  Transform                        cached      0.2 s\n")


def test_the_training_channel_names_a_file_in_the_environment_and_removes_it(tmp_path, monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    state = tmp_path / "state"
    with live.training_channel(state) as path:
        assert os.environ[PROGRESS_ENV] == str(path) and path.parent == state and state.is_dir()
        assert path.name == f"progress-{os.getpid()}.json"
        path.write_text("{}")
    assert PROGRESS_ENV not in os.environ and not path.exists()
    with live.training_channel(tmp_path / "off", enabled=False) as path:
        assert path is None and PROGRESS_ENV not in os.environ
    assert not (tmp_path / "off").exists()
