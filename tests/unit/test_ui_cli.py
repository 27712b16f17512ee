"""`tfx-e2e ui` as a user starts it: prints where it serves, serves, Ctrl-C exits 0; bad flags and an unreadable
store are one line and exit 2 before anything listens, and a missing home is not created."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request

from tests.support import ROOT, cli, one_line_error
from tests.unit.mlmd_runs import Store, taxi_run


def test_serves_until_ctrl_c_then_exits_0(tmp_path):
    builder = Store(tmp_path / "metadata.sqlite")
    taxi_run(builder, tmp_path, "r1")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "ui", "--home", str(tmp_path), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:(\d+)/) \(read-only; Ctrl-C stops\)\n", line)
        assert found, line + proc.stderr.read() if proc.poll() is not None else line
        assert int(found.group(2)) > 0
        with urllib.request.urlopen(found.group(1), timeout=60) as response:
            assert response.status == 200 and '<a href="/run/r1">r1</a>' in response.read().decode()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert code == 0, stderr
    assert "Traceback" not in stderr and '"GET / HTTP/1.1" 200' in stderr  # the access log goes to stderr


def test_missing_store_is_one_line_and_the_home_is_not_created(tmp_path):
    absent = tmp_path / "absent"
    line = one_line_error(cli(["ui", "--home", absent, "--port", "0"]))
    assert "no metadata store at" in line and str(absent) in line
    assert not absent.exists()


def test_unreachable_mysql_is_one_line():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = one_line_error(cli(["ui", "--metadata", f"mysql://u:secret@127.0.0.1:{port}/db", "--port", "0"]))
    assert "cannot open the metadata store" in line and "secret" not in line


def test_bad_port_and_busy_port_are_one_line(tmp_path):
    Store(tmp_path / "metadata.sqlite")
    assert "is not a port number" in one_line_error(cli(["ui", "--home", tmp_path, "--port", "70000"]))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        line = one_line_error(cli(["ui", "--home", tmp_path, "--port", str(busy.getsockname()[1])]))
    assert "cannot listen on 127.0.0.1:" in line and "0 picks a free one" in line
