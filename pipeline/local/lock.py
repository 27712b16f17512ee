"""One run at a time per home (SQLite) or per pipeline (shared MySQL store): an advisory file lock."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import time
from pathlib import Path
from typing import Callable, Iterator, Optional


class LockBusy(RuntimeError):
    """Another run holds the lock and the caller asked not to wait."""


def lock_path(home_root: Path, pipeline: str, shared_store: bool) -> Path:
    """SQLite allows one writer: the whole home is locked. A MySQL store takes concurrent writers, so only runs of
    the same pipeline (same artifacts, same serving dir) exclude each other."""
    return home_root / (f"run-{pipeline}.lock" if shared_store else "run.lock")


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another run"
    except OSError:
        return "another run"


@contextlib.contextmanager
def run_lock(
    path: Path, wait: bool = True, on_wait: Callable[[str], None] = lambda holder: None, poll: float = 1.0
) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        told: Optional[str] = None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(path)
                if not wait:
                    raise LockBusy(f"{holder} holds {path}; wait for it to finish or run without --no-wait") from None
                if told is None:
                    told = holder
                    on_wait(holder)
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"run by pid {os.getpid()} since {datetime.datetime.now().isoformat(timespec='seconds')}".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
