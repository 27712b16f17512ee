"""The environment a container task's process gets here in place of the image's: this venv first on PATH and the
`ENV` lines of the image's Dockerfile."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Mapping

from pipeline.paths import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "kubeflow" / "Dockerfile"


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
