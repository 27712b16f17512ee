"""Where the UI reads: the store's connection (read-only, opened anew for every request) and the home, never written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ml_metadata.proto import metadata_store_pb2

from pipeline.metadata import store as S
from pipeline.paths import DEFAULT_HOME, Home
from pipeline.ui.router import Unavailable


@dataclass(frozen=True)
class Source:
    """The store to read and the home it belongs to (None with --metadata when the home does not exist)."""

    config: metadata_store_pb2.ConnectionConfig
    home: Optional[Path]

    def open(self) -> Any:
        """A fresh MetadataStore: nothing read is kept between requests, so a reload shows what a run wrote since.

        MLMD's Python store is one connection; a store per request also keeps the server's threads apart."""
        try:
            return S.open_store(self.config, attempts=1)
        except S.MetadataError as err:
            raise Unavailable(f"The metadata store cannot be read right now: {err}") from None


def source(home: Optional[Path], metadata: Optional[str]) -> Source:
    """--metadata URI (SQLite opened read-only), else <home>/metadata.sqlite read-only. Creates nothing: a missing
    home or store is a MetadataError here (check() raises it at start-up) or a 503 page later."""
    root = Path(home if home is not None else DEFAULT_HOME).expanduser().resolve()
    if metadata:
        config = S.connection_config(metadata, create=False)
    else:
        config = S.sqlite_config(Home(root).metadata, create=False)
    return Source(config, root if root.is_dir() else None)


def check(src: Source) -> None:
    """Opens the store once at start-up, so a wrong --home or an unreachable MySQL is one line and exit 2."""
    S.open_store(src.config)
