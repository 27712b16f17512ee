"""Routing TFX, TensorFlow and Beam output (Python and C++, this process and its children) to a log file."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
import sys
import threading
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
    # Owner-only: logs hold paths and configuration of the user's runs.
    with os.fdopen(os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab", buffering=0) as sink:
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


# Held while quiet_stderr() points the process's fd 2 at /dev/null, and by to_stderr(): a thread's own stderr line
# (the UI server's access log, a request's traceback) never lands in another thread's silenced window.
STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silences file descriptor 2 (C++ libraries such as MLMD's MySQL client log there directly). The descriptor is
    the process's: write from other threads with to_stderr(), which waits until it is restored."""
    with STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)


@contextlib.contextmanager
def to_stderr() -> Iterator[None]:
    """Write to sys.stderr inside: not while another thread's quiet_stderr() silences it; flushed on leaving."""
    with STDERR_LOCK:
        try:
            yield
        finally:
            sys.stderr.flush()


# A password field (text-format proto as TFX logs the MySQL config, JSON, a Python dict, `password=...`) up to the
# end of its quoted value (escaped quotes included) or of the word; or the password of a URI's user info, which ends
# at the netloc's last "@" (urlparse's rule, so a password holding "@" is removed whole).
_SECRET = re.compile(
    r"""(password["']?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)"""
    r"""|(://[^:/?#\s]*:)[^/?#\s]*@""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Removes passwords (MySQL connection configs, URIs) from text meant for logs and terminals."""
    return _SECRET.sub(lambda m: f"{m.group(1)}\"***\"" if m.group(1) else f"{m.group(3)}***@", text)


class RedactingFilter(logging.Filter):
    """TFX logs the whole metadata connection config (with the MySQL password) at INFO level: redact it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
