"""A real, private MariaDB server for tests: its own datadir, socket and TCP port, started and stopped by pid.

    with MariaDB() as db:
        uri = db.uri(db.create_database("mlmd"))   # mysql://u:PASSWORD@127.0.0.1:PORT/mlmd

Nothing is read from or written to the system's MariaDB configuration (`--no-defaults` everywhere) and the system
service is never touched. The server runs as root when the tests do (`--user=root`), listens on 127.0.0.1 only, and
has one application user `u` (password `PASSWORD`), created for both `'u'@'localhost'` and `'u'@'%'`: a TCP
connection from 127.0.0.1 is matched as `localhost`, so both host forms are needed for `u` to log in over TCP and over
the socket alike.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

USER = "u"
PASSWORD = "tfx-e2e-pw"
INSTALL_HINT = (
    "mariadb-server is not installed: run `make mariadb` as root (Debian: apt-get install mariadb-server)"
)
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _find(*names: str) -> Optional[str]:
    """First of `names` on PATH or in the sbin/bin directories Debian installs MariaDB to (sbin may not be on PATH)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for folder in ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"):
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def server_binary() -> Optional[str]:
    return _find("mariadbd", "mysqld")


def installed() -> bool:
    return all((server_binary(), _find("mariadb-install-db", "mysql_install_db"), _find("mariadb", "mysql")))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> list[str]:
    """A command prefix that makes the kernel SIGTERM the server if the test process dies without cleaning up.

    `setpriv --pdeathsig` (util-linux) sets it and execs the server, so the pid stays the server's; no
    `preexec_fn`, which is unsafe once TensorFlow has started threads in the test process.
    """
    setpriv = _find("setpriv")
    if setpriv and "--pdeathsig" in subprocess.run([setpriv, "--help"], capture_output=True, text=True).stdout:
        return [setpriv, "--pdeathsig", "TERM", "--"]
    return []  # the fixture's try/finally still stops the server


class MariaDBError(RuntimeError):
    """The test server could not be installed, started or queried."""


class MariaDB:
    """One private `mariadbd` child process; `start()` / `stop()` or use it as a context manager."""

    def __init__(self, base_dir: Optional[Path] = None, startup_timeout: float = 60.0):
        self.startup_timeout = startup_timeout
        self._base_arg = base_dir
        self.base: Optional[Path] = None
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self.user = USER
        self.password = PASSWORD

    # ------------------------------------------------------------------------------------------- paths

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket_path(self) -> Path:
        return self.base / "mysqld.sock"

    @property
    def error_log(self) -> Path:
        return self.base / "err.log"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    # ------------------------------------------------------------------------------------------- life cycle

    def start(self) -> "MariaDB":
        if not installed():
            raise MariaDBError(INSTALL_HINT)
        # A short base path: a Unix socket path must stay under ~107 bytes.
        self.base = Path(tempfile.mkdtemp(prefix="mariadb-", dir=self._base_arg))
        try:
            self._install_db()
            self._spawn()
            self._wait_until_ready()
            self._create_user()
        except BaseException:
            self.stop()
            raise
        return self

    def _install_db(self) -> None:
        install = _find("mariadb-install-db", "mysql_install_db")
        cmd = [
            install, "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
            "--skip-test-db", "--skip-name-resolve",
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise MariaDBError(
                f"mariadb-install-db failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )

    def _spawn(self) -> None:
        self.port = free_port()
        cmd = [
            server_binary(),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket_path}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.base / 'mysqld.pid'}",
            f"--log-error={self.error_log}",
            # Throw-away data: no fsync per commit, small buffers.
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=32M",
            "--skip-log-bin",
            "--max-connections=200",
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        self.proc = subprocess.Popen(
            [*_die_with_parent(), *cmd], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no error log)"

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = ""
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise MariaDBError(f"mariadbd exited with {code} while starting; {self.error_log}:\n{self._log_tail()}")
            if self.socket_path.exists():
                done = self._client(["-e", "select 1"], check=False, timeout=10)
                if done.returncode == 0:
                    return
                last = done.stderr.strip()
            time.sleep(0.2)
        raise MariaDBError(
            f"mariadbd did not accept connections within {self.startup_timeout:.0f} s ({last or 'no socket yet'}); "
            f"{self.error_log}:\n{self._log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM by pid, wait, then SIGKILL; then remove the datadir. Safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            except ProcessLookupError:
                pass
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> "MariaDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------- SQL

    def _client(self, args: list[str], check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [_find("mariadb", "mysql"), "--no-defaults", f"--socket={self.socket_path}", "-uroot", "--batch", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise MariaDBError(f"mariadb client failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def sql(self, statements: str) -> str:
        """Runs SQL as root over the socket; returns the client's tab-separated output."""
        return self._client(["-e", statements]).stdout

    def _create_user(self) -> None:
        self.sql(
            f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';"
            f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';"
        )

    def create_database(self, name: str) -> str:
        """Creates database `name` (if missing) and grants the application user everything on it; returns `name`."""
        if not _NAME.match(name):
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        self.sql(
            f"CREATE DATABASE IF NOT EXISTS `{name}`;"
            f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{USER}'@'localhost';"
            f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{USER}'@'%';"
            "FLUSH PRIVILEGES;"
        )
        return name

    def uri(self, database: str) -> str:
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"
