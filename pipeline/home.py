"""The home directory: everything a local run writes (metadata, artifacts, pushed models, logs) lives below it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.metadata.store import SQLITE_FILE

DEFAULT_HOME = Path(".tfx-e2e")


@dataclass(frozen=True)
class Home:
    """Everything a local run writes lives under one directory."""

    root: Path

    @property
    def metadata(self) -> Path:
        return self.root / SQLITE_FILE

    @property
    def pipeline_root(self) -> Path:
        return self.root / "pipeline_root"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def logs(self) -> Path:
        return self.root / "logs"
