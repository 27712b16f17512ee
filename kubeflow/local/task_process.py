"""A container task's command as a process on this machine: this project's venv first on PATH (where the image
would provide `python`), the project root as working directory (the image's WORKDIR), output to the task's log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional

from pipeline.paths import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "kubeflow" / "Dockerfile"
_ERROR = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)|[\w.]+\.(\w+Error|\w+Exception))\b.*")


def image_env(dockerfile: Path = DOCKERFILE) -> dict[str, str]:
    """The `ENV NAME=VALUE` lines of the image's Dockerfile: the process here gets them as the container would."""
    found = {}
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def environment(extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TFX_E2E_PROGRESS", None)  # a task's own progress lines would go to its log, not the terminal
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    env.update(image_env())
    env.update(extra)
    return env


def run_process(argv: list[str], log: Path, extra_env: Mapping[str, str], pool=None) -> int:
    """Runs to the end; stdout and stderr appended to `log`; the exit code. With a WarmPool (kubeflow/local/warm.py),
    a `python -m MODULE` command runs in a process that has already imported TensorFlow and TFX."""
    from kubeflow.local.warm import warm_module

    with open(log, "a") as out:
        out.write("$ " + " ".join(a if len(a) < 300 else a[:300] + "...(cut here)" for a in argv) + "\n")
        out.flush()
        module = warm_module(argv[:3], extra_env) if pool is not None else None
        if module is not None:
            code = pool.run(module, argv[3:], log)
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
