"""What the report's section builders share: a run's output artifact by node and key, and a failure in one line."""

from __future__ import annotations

from typing import Optional

from pipeline.metadata.runs import Artifact, NodeExecution


def output(executions: dict[str, NodeExecution], node: str, key: str) -> Optional[Artifact]:
    """The first artifact `node` wrote under `key` in this run, or None."""
    e = executions.get(node)
    items = e.outputs.get(key, []) if e else []
    return items[0] if items else None


def problem(err: BaseException) -> str:
    """What could not be read, in one line: a missing file by its path (deleted since the run?)."""
    if isinstance(err, FileNotFoundError) and err.filename:
        return f"{err.filename} is missing (deleted since the run?)"
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:400]
