"""The one setting the local runner may change in a container's arguments: the DirectRunner's running mode.

Compiled specs ask for `--direct_running_mode=multi_processing --direct_num_workers=0` (every core of a cloud
machine, for cloud-sized data). On this machine each Beam worker process imports TensorFlow first, which costs more
than it saves on small data. `auto` (the default) does what `tfx-e2e run` does: in-memory below
pipeline.local.beam.MULTI_PROCESSING_BYTES of local input, the compiled mode otherwise; `as-compiled` never
changes anything. The summary says which."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

AUTO, AS_COMPILED, IN_MEMORY, MULTI_PROCESSING = "auto", "as-compiled", "in_memory", "multi_processing"
MODES = (AUTO, AS_COMPILED, IN_MEMORY, MULTI_PROCESSING)


def _input_bytes(parameters: Mapping[str, Any]) -> int:
    total = 0
    for value in parameters.values():
        if isinstance(value, str) and value.startswith("/") and Path(value).is_dir():
            total += sum(p.stat().st_size for p in Path(value).rglob("*") if p.is_file())
    return total


def choose(mode: str, parameters: Mapping[str, Any]) -> tuple[Optional[str], str]:
    """(the running mode to use, or None to keep the compiled one; why, for the summary)."""
    from pipeline.local.beam import MULTI_PROCESSING_BYTES

    if mode == AS_COMPILED:
        return None, "as compiled (--beam-mode as-compiled)"
    if mode in (IN_MEMORY, MULTI_PROCESSING):
        return mode, f"--beam-mode {mode}"
    size = _input_bytes(parameters)
    limit = MULTI_PROCESSING_BYTES // (1024 * 1024)
    if size >= MULTI_PROCESSING_BYTES:
        return None, f"as compiled: the local input is {size / 1e6:.0f} MB, at least {limit} MB"
    what = f"{size / 1e6:.1f} MB of local input" if size else "no local input directory"
    return IN_MEMORY, (f"in_memory, as tfx-e2e run chooses for {what} (under {limit} MB); "
                       "--beam-mode as-compiled keeps the compiled mode")


def rewrite(args: list[str], running_mode: Optional[str]) -> list[str]:
    """The arguments with the DirectRunner's mode (and, for in_memory, one worker) replaced."""
    if running_mode is None or not any(a.startswith("--direct_running_mode=") for a in args):
        return list(args)
    out = []
    for arg in args:
        if arg.startswith("--direct_running_mode="):
            arg = f"--direct_running_mode={running_mode}"
        elif arg.startswith("--direct_num_workers=") and running_mode == IN_MEMORY:
            arg = "--direct_num_workers=1"
        out.append(arg)
    return out
