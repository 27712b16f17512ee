"""Opening an MLMD store: SQLite under a home directory (the default) or a MySQL/MariaDB URI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

SQLITE_FILE = "metadata.sqlite"


class MetadataError(ValueError):
    """The metadata store cannot be opened or does not hold what was asked for."""


def sqlite_config(path: Path, create: bool = True) -> metadata_store_pb2.ConnectionConfig:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        if create
        else metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    )
    return config


def connection_config(uri: str, create: bool = True) -> metadata_store_pb2.ConnectionConfig:
    """`sqlite:PATH` or `mysql://USER:PASSWORD@HOST:PORT/DB`."""
    if uri.startswith("sqlite:"):
        return sqlite_config(Path(uri[len("sqlite:"):]).expanduser().resolve(), create)
    parsed = urlparse(uri)
    if parsed.scheme != "mysql" or not parsed.hostname or not parsed.path.strip("/"):
        raise MetadataError(
            f"metadata URI {uri!r} is not understood; use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB."
        )
    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host = parsed.hostname
    config.mysql.port = parsed.port or 3306
    config.mysql.database = parsed.path.strip("/")
    config.mysql.user = unquote(parsed.username or "")
    config.mysql.password = unquote(parsed.password or "")
    return config


def open_store(config: metadata_store_pb2.ConnectionConfig, attempts: int = 5) -> mlmd.MetadataStore:
    if config.HasField("sqlite") and config.sqlite.connection_mode == metadata_store_pb2.SqliteMetadataSourceConfig.READONLY:
        if not Path(config.sqlite.filename_uri).is_file():
            raise MetadataError(f"no metadata store at {config.sqlite.filename_uri}; run a pipeline first.")
    import time

    from pipeline.logs import quiet_stderr

    for attempt in range(attempts):
        try:
            with quiet_stderr():  # MLMD's MySQL client prints its own multi-line complaint; ours below is the message
                return mlmd.MetadataStore(config)
        except Exception as err:  # MLMD raises several error types for an unreachable or broken store
            # Two processes creating MLMD's tables in a new database at once: the loser is told to retry.
            if "retry" in str(err).lower() and attempt < attempts - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            where = f"{config.mysql.host}:{config.mysql.port}/{config.mysql.database}" if config.HasField("mysql") else (
                config.sqlite.filename_uri)
            raise MetadataError(
                f"cannot open the metadata store at {where}: {str(err).splitlines()[0]} "
                "(is the database server running and reachable, and the user allowed in?)"
            ) from None
    raise AssertionError("unreachable")
