"""Opening an MLMD store: SQLite under a home directory (the default) or a MySQL/MariaDB URI.

The local runner, which has TFX loaded anyway, uses TFX's own `tfx.orchestration.metadata.
sqlite_metadata_connection_config` for the home's store. The configs built here are for the paths that run before
TFX loads (the inspect commands, the pre-run store check, the unchanged-rerun check, parsing --metadata URIs): they
are the ones TFX's `sqlite_metadata_connection_config` and `mysql_metadata_connection_config` build
(tests/unit/test_metadata_store.py compares them field by field, so the two cannot drift apart), plus a read-only
SQLite mode TFX does not offer. Importing that TFX module loads TensorFlow: 4-7 s and TensorFlow's start-up lines on
stderr for every `tfx-e2e runs/show/...`, which otherwise take 0.2 s; TFX's SQLite helper also creates the
database's directory, which opening a store read-only must not do.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from pipeline.logs import quiet_stderr, redact

MYSQL_DEFAULT_PORT = 3306


class MetadataError(ValueError):
    """The metadata store cannot be opened or does not hold what was asked for."""


def sqlite_config(path: Path, create: bool = True) -> metadata_store_pb2.ConnectionConfig:
    """TFX's SQLite config; read-only (and the file must exist) unless `create`."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    if not create:
        config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def mysql_config(host: str, port: int, database: str, user: str, password: str) -> metadata_store_pb2.ConnectionConfig:
    """TFX's MySQL config."""
    return metadata_store_pb2.ConnectionConfig(
        mysql=metadata_store_pb2.MySQLDatabaseConfig(host=host, port=port, database=database, user=user,
                                                     password=password))


def connection_config(uri: str, create: bool = True) -> metadata_store_pb2.ConnectionConfig:
    """`sqlite:PATH` or `mysql://USER:PASSWORD@HOST:PORT/DB`."""
    if uri.startswith("sqlite:"):
        return sqlite_config(Path(uri[len("sqlite:"):]).expanduser().resolve(), create)
    parsed = urlparse(uri)
    if parsed.scheme != "mysql" or not parsed.hostname or not parsed.path.strip("/"):
        raise MetadataError(
            f"metadata URI {redact(uri)!r} is not understood; use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB."
        )
    return mysql_config(parsed.hostname, parsed.port or MYSQL_DEFAULT_PORT, parsed.path.strip("/"),
                        unquote(parsed.username or ""), unquote(parsed.password or ""))


def _where(config: metadata_store_pb2.ConnectionConfig) -> str:
    if config.HasField("mysql"):
        return f"{config.mysql.host}:{config.mysql.port}/{config.mysql.database}"
    return config.sqlite.filename_uri


def _reason(err: Exception) -> str:
    """MLMD's first error line; its MySQL client reports a refused connection as "errno: , error: " (empty)."""
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if text.rstrip().endswith("errno: , error:"):
        return "the connection failed (no MySQL server answering there?)"
    return text


def open_store(config: metadata_store_pb2.ConnectionConfig, attempts: int = 5) -> mlmd.MetadataStore:
    if config.HasField("sqlite") and config.sqlite.connection_mode == metadata_store_pb2.SqliteMetadataSourceConfig.READONLY:
        if not Path(config.sqlite.filename_uri).is_file():
            raise MetadataError(f"no metadata store at {config.sqlite.filename_uri}; run a pipeline first.")
    for attempt in range(attempts):
        try:
            with quiet_stderr():  # MLMD's MySQL client prints its own multi-line complaint; ours below is the message
                return mlmd.MetadataStore(config)
        except Exception as err:  # MLMD raises several error types for an unreachable or broken store
            # Two processes creating MLMD's tables in a new database at once: the loser is told to retry.
            if "retry" in str(err).lower() and attempt < attempts - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            raise MetadataError(
                f"cannot open the metadata store at {_where(config)}: {_reason(err)} "
                "(is the database server running and reachable, and the user allowed in?)"
            ) from None
    raise AssertionError("unreachable")
