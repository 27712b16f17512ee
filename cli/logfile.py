"""One rule for every command's TFX/TensorFlow/Beam output: <home>/logs/<command>-<timestamp>.log."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Optional

from pipeline.logs import captured, log_path
from pipeline.paths import Home


def new(home: Home, command: str) -> Path:
    """The log file of one invocation of `command` (`schema infer` → schema-infer-<timestamp>.log); not created."""
    return log_path(home.logs, command.replace(" ", "-"))


@contextlib.contextmanager
def capture(log_file: Optional[Path]) -> Iterator[None]:
    """File descriptors 1 and 2 go to `log_file` (no-op when None). A log that stayed empty is removed, with the
    logs directory and the home when this call created them: a quiet command leaves nothing behind."""
    if log_file is None:
        yield
        return
    created = [d for d in (log_file.parent.parent, log_file.parent) if not d.exists()]
    try:
        with captured(log_file):
            yield
    finally:
        if log_file.is_file() and log_file.stat().st_size == 0:
            log_file.unlink()
            for directory in reversed(created):
                with contextlib.suppress(OSError):  # not empty: something else wrote there meanwhile
                    directory.rmdir()
