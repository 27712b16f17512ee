"""pipeline.metadata.store: connection configs equal to TFX's own, URI parsing, and opening errors."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline.metadata.store import MetadataError, connection_config, open_store, sqlite_config


def test_configs_are_those_tfx_builds(tmp_path):
    """store.py builds them itself only to keep TensorFlow out of the inspect commands: any drift fails here."""
    from tfx.orchestration import metadata as tfx_metadata

    path = tmp_path / "metadata.sqlite"
    assert sqlite_config(path) == tfx_metadata.sqlite_metadata_connection_config(str(path))
    read_only = tfx_metadata.sqlite_metadata_connection_config(str(path))
    read_only.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    assert sqlite_config(path, create=False) == read_only
    assert connection_config(f"sqlite:{path}") == sqlite_config(path)
    assert connection_config("mysql://ml%40team:p%3Ass@db.example:3307/mlmd") == \
        tfx_metadata.mysql_metadata_connection_config("db.example", 3307, "mlmd", "ml@team", "p:ss")
    assert connection_config("mysql://u@db/mlmd").mysql.port == 3306


@pytest.mark.parametrize("uri", ["postgres://u:p@h/db", "mysql://u:p@h", "mysql:///db", "metadata.sqlite"])
def test_a_malformed_uri_is_a_metadata_error(uri):
    with pytest.raises(MetadataError, match="is not understood; use sqlite:PATH or mysql://"):
        connection_config(uri)


def test_reading_a_store_that_is_not_there_creates_nothing(tmp_path):
    where = tmp_path / "home" / "metadata.sqlite"
    with pytest.raises(MetadataError, match=f"no metadata store at {where}; run a pipeline first"):
        open_store(sqlite_config(where, create=False))
    assert not (tmp_path / "home").exists()
    store = open_store(sqlite_config(tmp_path / "new.sqlite"))
    assert store.get_contexts() == [] and (tmp_path / "new.sqlite").is_file()
    assert open_store(sqlite_config(tmp_path / "new.sqlite", create=False)).get_contexts() == []


def test_an_unreachable_mysql_store_is_one_line_without_the_password():
    with pytest.raises(MetadataError) as caught:
        open_store(connection_config("mysql://u:secret@127.0.0.1:9/db"))
    message = str(caught.value)
    assert message.startswith("cannot open the metadata store at 127.0.0.1:9/db: ") and "\n" not in message
    assert "secret" not in message
