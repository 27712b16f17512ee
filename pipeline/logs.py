"""Routing TFX, TensorFlow and Beam output (Python and C++, this process and its children) to a log file."""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
from pathlib import Path
from typing import Iterator, Optional


def log_path(logs_dir: Path, command: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return logs_dir / f"{command}-{stamp}.log"


@contextlib.contextmanager
def captured(log_file: Optional[Path]) -> Iterator[None]:
    """Points file descriptors 1 and 2 at `log_file` (no-op when None). Write user-facing output to a stream
    duplicated from stdout before entering (see cli.main)."""
    if log_file is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    saved_out, saved_err = os.dup(1), os.dup(2)
    with open(log_file, "ab", buffering=0) as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silences file descriptor 2 (C++ libraries such as MLMD's MySQL client log there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
