"""The DirectRunner's arguments for a local run, and the input size above which Beam's multi-processing mode pays;
TensorFlow-free, so that kubeflow/ (compile, the local runner of compiled files) can use them cheaply."""

from __future__ import annotations

import os
from pathlib import Path

# Above this much input, Beam's multi-processing mode pays for its process start-up and pickling (measured:
# in-memory is faster on the 15k-row taxi CSV).
MULTI_PROCESSING_BYTES = 100 * 1024 * 1024


def data_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())


# Before every Beam component, TFX (tfx.utils.dependency_utils.make_beam_dependency_flags, called by
# BaseBeamExecutor) copies the whole installed tfx package to a temp dir and builds an sdist of it for remote Beam
# workers to install (~2 s per component, and a copy of tfx left in /tmp), unless the Beam arguments already name
# the workers' dependencies (--extra_packages, --setup_file, --requirements_file or --sdk_container_image). The
# DirectRunner's workers are this interpreter or child processes of it, installed from the project's
# requirements.lock: this argument says so, and the DirectRunner never reads it (only runners that stage
# dependencies do). A relative path: TFX hashes the Beam arguments into the components' cache keys, which must not
# depend on where the project is checked out.
DEPENDENCIES_ARG = "--requirements_file=requirements.lock"


def beam_args(mode: str, data_dir: Path) -> list[str]:
    """DirectRunner arguments: in-process for small inputs, one process per core for large ones."""
    if mode == "auto":
        mode = "multi_processing" if data_bytes(data_dir) >= MULTI_PROCESSING_BYTES else "in_memory"
    if mode == "in_memory":
        return ["--direct_running_mode=in_memory", "--direct_num_workers=1", DEPENDENCIES_ARG]
    if mode == "multi_processing":
        return ["--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count() or 1}",
                DEPENDENCIES_ARG]
    raise ValueError(f"unknown Beam mode {mode!r}; use auto, in_memory or multi_processing")
