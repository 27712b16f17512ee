"""pipeline/logs.py: passwords never reach a log or terminal (redact, RedactingFilter), and captured() sends this
process's and its children's output to the log file, then gives the terminal back."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ml_metadata.proto import metadata_store_pb2

from pipeline.logs import RedactingFilter, captured, log_path, quiet_stderr, redact

PASSWORDS = ["s3cr3t", "pa ss", 'qu"ote', "back\\slash", "p@ss:w/rd", "ünïcode"]


def _mysql(password: str) -> metadata_store_pb2.ConnectionConfig:
    return metadata_store_pb2.ConnectionConfig(mysql=metadata_store_pb2.MySQLDatabaseConfig(
        host="db.internal", port=3306, database="mlmd", user="tfx", password=password))


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_connection_config_tfx_logs_loses_its_password(password):
    # What LocalDagRunner logs at INFO: "Using connection config:\n %s" and the whole deployment config.
    config = _mysql(password)
    for text in (f"Using connection config:\n {config.mysql}", f"metadata_connection_config {{\n{config}}}"):
        cleaned = redact(text)
        assert [line.strip() for line in cleaned.splitlines() if "password" in line] == ['password: "***"'], cleaned
        assert "host: \"db.internal\"" in cleaned and "user: \"tfx\"" in cleaned and "port: 3306" in cleaned


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mysql://tfx:s3cr3t@db.internal:3306/mlmd", "mysql://tfx:***@db.internal:3306/mlmd"),
        ("--metadata mysql://tfx:p@ss@db:3306/mlmd ok", "--metadata mysql://tfx:***@db:3306/mlmd ok"),
        ("mysql://tfx:p%40ss%2F@db/mlmd", "mysql://tfx:***@db/mlmd"),
        ("mysql://:s3cr3t@db/mlmd", "mysql://:***@db/mlmd"),
        ("two: mysql://a:x1@h1/d and mysql://b:x2@h2/d", "two: mysql://a:***@h1/d and mysql://b:***@h2/d"),
        ('{"password": "s3cr3t", "user": "tfx"}', '{"password": "***", "user": "tfx"}'),
        ("{'password': 's3cr3t', 'user': 'tfx'}", "{'password': \"***\", 'user': 'tfx'}"),
        ("mysql --password=s3cr3t --user=tfx", 'mysql --password="***" --user=tfx'),
        ("PASSWORD = s3cr3t", 'PASSWORD = "***"'),
    ],
)
def test_uris_and_password_fields_lose_the_password(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mysql://tfx@db.internal:3306/mlmd",  # no password
        "http://localhost:8080/path@v1",
        "sqlite:/home/me/.tfx-e2e/metadata.sqlite",
        "Component Trainer is finished.",
        "password_hash_algorithm is sha256",
    ],
)
def test_text_without_a_password_is_unchanged(text):
    assert redact(text) == text


def test_redaction_is_idempotent():
    once = redact("mysql://tfx:s3cr3t@db/mlmd password: \"x\"")
    assert redact(once) == once


def test_the_filter_redacts_formatted_records_and_leaves_others_alone():
    flt = RedactingFilter()
    secret = logging.LogRecord("absl", logging.INFO, __file__, 1, "Using connection config:\n %s",
                               (_mysql("s3cr3t").mysql,), None)
    assert flt.filter(secret) is True  # redacts, never drops
    assert "s3cr3t" not in secret.getMessage() and 'password: "***"' in secret.getMessage()
    plain = logging.LogRecord("absl", logging.INFO, __file__, 1, "Component %s is running.", ("Trainer",), None)
    assert flt.filter(plain) is True
    assert (plain.msg, plain.args) == ("Component %s is running.", ("Trainer",))  # progress records keep their args


def _fd_identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


CAPTURE = """
import os, subprocess, sys
from pathlib import Path
from pipeline.logs import captured
print("before", flush=True)
with captured(Path(sys.argv[1])):
    print("python stdout")  # not flushed: captured() flushes on the way out
    print("python stderr", file=sys.stderr)
    os.write(1, b"fd 1\\n")
    os.write(2, b"fd 2\\n")
    subprocess.run([sys.executable, "-c", "import sys; print('child out'); print('child err', file=sys.stderr)"])
print("after", flush=True)
print("after on stderr", file=sys.stderr, flush=True)
"""


def test_captured_sends_this_process_and_its_children_to_the_log_then_gives_the_terminal_back(tmp_path):
    log = tmp_path / "logs" / "run.log"  # the directory is created
    proc = subprocess.run([sys.executable, "-c", CAPTURE, str(log)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("before\nafter\n", "after on stderr\n")
    text = log.read_text()
    for line in ("python stdout", "python stderr", "fd 1", "fd 2", "child out", "child err"):
        assert line in text.splitlines()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # logs hold paths and configuration: owner only


def test_captured_appends_and_restores_after_an_error(tmp_path):
    log = tmp_path / "run.log"
    log.write_text("earlier\n")
    before = _fd_identity(1), _fd_identity(2)
    with pytest.raises(RuntimeError):
        with captured(log):
            os.write(2, b"traceback goes here\n")
            raise RuntimeError("boom")
    assert (_fd_identity(1), _fd_identity(2)) == before
    assert log.read_text() == "earlier\ntraceback goes here\n"


def test_captured_none_leaves_the_terminal_alone(capfd):
    with captured(None):
        os.write(1, b"to the terminal\n")
    assert capfd.readouterr().out == "to the terminal\n"


def test_quiet_stderr_silences_fd_2_only_while_inside(capfd):
    with quiet_stderr():
        os.write(2, b"mysql client noise\n")
        os.write(1, b"kept\n")
    os.write(2, b"after\n")
    out, err = capfd.readouterr()
    assert (out, err) == ("kept\n", "after\n")


def test_log_files_are_named_by_command_and_time(tmp_path):
    first, second = log_path(tmp_path, "run"), log_path(tmp_path, "run")
    assert first.parent == tmp_path and first.name.startswith("run-") and first.suffix == ".log"
    assert first != second  # microseconds in the name: two commands never share a file


def test_to_stderr_waits_until_another_threads_quiet_window_ends(capfd):
    import sys
    import threading

    from pipeline.logs import to_stderr
    from tests.support import stderr_silenced_on_another_thread

    def write():
        with to_stderr():
            sys.stderr.write("an access log line\n")

    writer = threading.Thread(target=write)
    with stderr_silenced_on_another_thread():
        writer.start()
        writer.join(0.5)
        assert writer.is_alive()  # waiting, not writing into /dev/null
    writer.join(30)
    assert capfd.readouterr().err == "an access log line\n"
