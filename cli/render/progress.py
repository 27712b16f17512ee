"""`tfx-e2e run`'s live line on a terminal: the running component and its elapsed time, rewritten in place, and the
Trainer's epoch, step and loss read from the file the Trainer's progress callback writes (trainer_module.progress)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, TextIO

from pipeline.dag import node_ids


def number(value: Optional[float]) -> str:
    """A metric or loss as the run summary and the progress line print it (cli/render/run.py imports this module,
    not the reverse)."""
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.6g}"
from trainer_module.progress import PROGRESS_ENV, read

CLEAR = "\r\x1b[K"  # back to the line's start, erase to its end
BAR_MAX, BAR_MIN = 30, 8
DEFAULT_COLUMNS = 100  # a terminal that does not say its width (a pty without a size)


@contextlib.contextmanager
def training_channel(state_dir: Path, enabled: bool = True) -> Iterator[Optional[Path]]:
    """Names <state_dir>/progress-<pid>.json in PROGRESS_ENV for the Trainer (in this process or its workers) while
    the block runs; removes the file and restores the environment after. Yields None when not enabled."""
    if not enabled:
        yield None
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"progress-{os.getpid()}.json"
    before = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = before
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def node_line(node_id: str, seconds: float) -> str:
    """The running node, in the columns of the finished line (cli.render.run.Progress)."""
    return f"  {node_id:<32} {'running':<7} {seconds:7.1f} s"


def bar(done: int, total: int, width: int) -> str:
    filled = width if total <= 0 else min(width, width * max(0, done) // total)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def training_text(record: dict, columns: int, used: int) -> str:
    """`epoch 2/5 [#####-----] 24/60 loss 0.4123` (`validating` after it while fit evaluates), its bar fitted to
    the terminal once per epoch's size (the bar does not jump as the numbers after it grow); after fit: what is left."""
    epoch, epochs = record.get("epoch", 0), record.get("epochs", 0)
    if record.get("phase") == "done":
        return f"fit done after epoch {epoch}/{epochs}; exporting the model"
    head = f"epoch {epoch}/{epochs} "
    steps, step = int(record.get("steps") or 0), int(record.get("step") or 0)
    tail = f" {step}/{steps} loss {number(record.get('loss'))}"
    if record.get("phase") == "validate":
        tail += " validating"
    widest_tail = len(f" {steps}/{steps} loss -0.0000 validating")
    width = max(BAR_MIN, min(BAR_MAX, columns - 1 - used - len(head) - widest_tail - 2))  # 2: the brackets
    return head + bar(step, steps, width) + tail


def epoch_line(done: dict, epochs: int) -> str:
    """A finished epoch, kept on screen above the live line."""
    val = "" if done.get("val_loss") is None else f"  val_loss {number(done['val_loss'])}"
    return (f"    epoch {done['epoch']}/{epochs}  loss {number(done.get('loss'))}{val}"
            f"  {done.get('seconds', 0.0):.1f} s")


class LiveLine:
    """Redraws one line every `interval` seconds from a daemon thread while a node runs. The caller prints its
    permanent lines through `print_line` (under the same lock) so the two never interleave."""

    def __init__(self, out: TextIO, training_file: Optional[Path] = None, interval: float = 0.5,
                 clock: Callable[[], float] = time.monotonic, columns: Optional[int] = None):
        self.out, self.training_file, self.interval, self.clock = out, training_file, interval, clock
        self._columns = columns
        self._lock = threading.RLock()
        self._running: dict[str, float] = {}  # node id -> when it started (clock)
        self._epochs_shown = 0
        self._shown = False  # a live line is on screen
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def columns(self) -> int:
        """The terminal's width, asked of `out` itself: descriptor 1 points at the log file during a run."""
        if self._columns:
            return self._columns
        try:
            return os.get_terminal_size(self.out.fileno()).columns or DEFAULT_COLUMNS
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            return DEFAULT_COLUMNS

    def started(self, node_id: str) -> None:
        with self._lock:
            self._running[node_id] = self.clock()
            if node_id == node_ids.TRAINER:
                self._epochs_shown = 0
            self.draw()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="tfx-e2e-progress", daemon=True)
                self._thread.start()

    def stopped(self, node_id: str, line: str) -> None:
        """`node_id` finished or failed: its finished epochs (for the Trainer), then `line`, stay on screen."""
        with self._lock:
            if node_id == node_ids.TRAINER:
                self._show_epochs(self._record())
            self._running.pop(node_id, None)
            self.print_line(line)

    def print_line(self, line: str) -> None:
        with self._lock:
            self._erase()
            self.out.write(line + "\n")
            self.draw()

    def draw(self) -> None:
        """The latest started running node's line (plus the Trainer's epoch and step), cut to the terminal."""
        with self._lock:
            if not self._running:
                self._erase()
                return
            node_id, since = list(self._running.items())[-1]
            text = node_line(node_id, self.clock() - since)
            if len(self._running) > 1:
                text += f" (+{len(self._running) - 1} more)"
            if node_id == node_ids.TRAINER:
                record = self._record()
                self._show_epochs(record)
                if record is not None and record.get("epochs"):
                    text += "  " + training_text(record, self.columns(), len(text) + 2)
            self.out.write(CLEAR + text[: max(1, self.columns() - 1)])
            self.out.flush()
            self._shown = True

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self._running.clear()
            self._erase()

    def _record(self) -> Optional[dict]:
        return read(self.training_file) if self.training_file is not None else None

    def _show_epochs(self, record: Optional[dict]) -> None:
        finished = (record or {}).get("finished") or []
        for done in finished[self._epochs_shown:]:
            self._erase()
            self.out.write(epoch_line(done, record.get("epochs", 0)) + "\n")
        self._epochs_shown = max(self._epochs_shown, len(finished))

    def _erase(self) -> None:
        if self._shown:
            self.out.write(CLEAR)
            self.out.flush()
            self._shown = False

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.draw()
