"""A container task's command as a process on this machine: this project's venv first on PATH (where the image
would provide `python`), the project root as working directory (the image's WORKDIR), output to the task's log."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Mapping, Optional

from kubeflow.local.task_env import environment, image_env  # noqa: F401 (image_env: part of this module's API)
from pipeline.paths import PROJECT_ROOT

_ERROR = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)|[\w.]+\.(\w+Error|\w+Exception))\b.*")


def run_process(argv: list[str], log: Path, extra_env: Mapping[str, str], pool=None, upcoming: int = 0) -> int:
    """Runs to the end; stdout and stderr appended to `log`; the exit code. With a WarmPool (kubeflow/local/warm.py),
    a `python -m MODULE` command runs in a process that has already imported TensorFlow and TFX, and the pool warms
    spares for at most `upcoming` later commands."""
    from kubeflow.local.warm import warm_module

    with open(log, "a") as out:
        out.write("$ " + " ".join(a if len(a) < 300 else a[:300] + "...(cut here)" for a in argv) + "\n")
        out.flush()
        module = warm_module(argv[:3], extra_env) if pool is not None else None
        if module is not None:
            code = pool.run(module, argv[3:], log, upcoming)
            if code is not None:
                return code
            out.write("# the warm process had stopped: running the command in a new process\n")
            out.flush()
        try:
            return subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                  env=environment(extra_env), check=False).returncode
        except OSError as err:  # the command itself is missing
            out.write(f"{type(err).__name__}: {err}\n")
            return 127


def last_error_line(log: Path) -> Optional[str]:
    """The last line of the log that names an exception (a traceback's last line), else None."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if _ERROR.match(line.strip()):
            return line.strip()[:500]
    return None
