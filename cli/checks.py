"""Up-front checks of the paths a user names: each mistake is one UsageError, raised before anything is written."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Optional

from cli.errors import UsageError
from pipeline.paths import DEFAULT_HOME, Home

PROBE_PREFIX = ".write-check-"


def _stat(path: Path) -> Optional[os.stat_result]:
    """The path's stat, None when it does not exist; UsageError when it cannot be looked at."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file: the caller names it while looking for the nearest existing parent
    except OSError as err:
        raise UsageError(f"{path}: cannot look at it ({err.strerror}); check the permissions of its parents.") from None


def _nearest_existing(path: Path) -> tuple[Path, os.stat_result]:
    for parent in path.parents:
        found = _stat(parent)
        if found is not None:
            return parent, found
    raise AssertionError(f"no existing parent of {path}")  # the root directory always exists


def _cannot_write(directory: Path) -> Optional[str]:
    """None when a directory can be created in `directory` (a real probe, removed at once), else why not.

    A probe rather than os.access(): access() checks the real user id, not the effective one, and tells root yes
    whatever the mode bits; only trying tells what this process may do."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=PROBE_PREFIX, dir=directory))
    except OSError as err:
        return err.strerror or str(err)
    return None


def _cannot_create(path: Path) -> Optional[str]:
    """None when the absent `path` can be created (its nearest existing parent is a directory one can write in),
    else why not."""
    parent, parent_stat = _nearest_existing(path)
    if not stat.S_ISDIR(parent_stat.st_mode):
        return f"{parent} is a file, not a directory"
    why = _cannot_write(parent)
    return f"cannot write in {parent} ({why})" if why else None


def home(path: Optional[Path]) -> Home:
    """The home (--home, default ./.tfx-e2e): an existing directory to write in, or one that can be created."""
    shown = path if path is not None else f"./{DEFAULT_HOME}"
    root = Path(path if path is not None else DEFAULT_HOME).expanduser().resolve()
    todo = "pass a --home directory you can write to (it is created if missing)"
    found = _stat(root)
    if found is None:
        why = _cannot_create(root)
        if why:
            raise UsageError(f"--home {shown} cannot be created: {why}; {todo}.")
        return Home(root)
    if not stat.S_ISDIR(found.st_mode):
        raise UsageError(f"--home {shown} is a file, not a directory; {todo}.")
    why = _cannot_write(root)
    if why:
        raise UsageError(f"--home {shown}: cannot write in {root} ({why}); {todo}.")
    return Home(root)


def input_file(path: Path, flag: str, hint: str) -> Path:
    """A file the command reads: it exists, is a file and opens for reading. `hint` says what to give instead."""
    path = Path(path).expanduser()
    found = _stat(path)
    label = f"{flag} {path}" if flag else str(path)
    if found is None:
        raise UsageError(f"{label}: no such file; {hint}.")
    if stat.S_ISDIR(found.st_mode):
        raise UsageError(f"{label}: is a directory, not a file; {hint}.")
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise UsageError(f"{label}: cannot read it ({err.strerror}); make it readable or {hint}.") from None
    return path


def config_file(name_or_path: Optional[str]) -> Path:
    """--config: a bundled name or a YAML path (ConfigError from the loader when neither), readable."""
    from pipeline.config.loader import config_path

    path = config_path(name_or_path)
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise UsageError(f"--config {path}: cannot read it ({err.strerror}); make it readable or pass another "
                         "--config.") from None
    return path


def output_file(path: Path, flag: str) -> Path:
    """A file the command writes: not a directory, and its directory writable or creatable. Nothing is created."""
    path = Path(path).expanduser().resolve()
    found = _stat(path)
    if found is None:
        why = _cannot_create(path)
        if why:
            raise UsageError(f"{flag} {path} cannot be written: {why}; pass another {flag}.")
        return path
    if stat.S_ISDIR(found.st_mode):
        raise UsageError(f"{flag} {path} is a directory; give the path of a file to write.")
    try:
        os.close(os.open(path, os.O_WRONLY))  # no O_CREAT, no O_TRUNC: the file is left as it is
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot write it ({err.strerror}); pass another {flag}.") from None
    return path
