"""Where things are: the project root, the default home, and the layout of a home directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = Path(".tfx-e2e")  # relative to the working directory; --home moves it
SQLITE_FILE = "metadata.sqlite"


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

    @property
    def state(self) -> Path:
        """Records kept between runs (the last successful run per pipeline)."""
        return self.root / "state"
