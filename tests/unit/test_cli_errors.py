"""Every user mistake, for every command it applies to: one line on stderr (`tfx-e2e: error: ...`), exit 2, no
traceback, nothing written (the working directory, where the default home would go, and every path the test made
stay byte- and entry-identical). Each case runs `python -m cli` in a fresh process, as a user would.

"Unwritable" and "unreadable" are real: the files and directories are chmod-ed, and when the tests run as root
(as in CI, where root ignores file modes) the command runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH
(tests/support.obey_file_modes), so the kernel refuses it exactly as it refuses an ordinary user.
test_permissions_really_apply proves that the refusal happens, so these cases cannot pass vacuously."""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from pipeline.config.schema import TAXI_PACKAGE_DATA, resolve_data_dir
from tests import support


def _closed_port() -> int:
    """A loopback port nothing listens on: bound by the OS, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workspace:
    """A working directory holding a valid input of every kind, and the bad variants the cases name."""

    def __init__(self, root: Path):
        self.root = root
        self.cwd = root / "cwd"  # commands run here: the default home ./.tfx-e2e would appear here
        self.cwd.mkdir()
        with (resolve_data_dir(TAXI_PACKAGE_DATA) / "data.csv").open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows = [row for _, row in zip(range(30), reader)]
        self.data = support.write_csv(root / "data", header, rows).parent
        self.rows = support.write_csv(root / "rows", header, rows[:3], name="rows.csv")
        self.job = root / "job.json"
        self.job.write_text(json.dumps({"pipelineSpec": {}}))
        self.home = root / "home"
        self.home.mkdir()
        self.file = root / "a-file"
        self.file.write_text("not a directory\n")
        self.locked = root / "locked"  # a directory nobody may write in (see obey_file_modes)
        self.locked.mkdir()
        self.locked.chmod(0o555)
        self.secret = root / "secret.yaml"  # a file nobody may read
        self.secret.write_text("name: secret\n")
        self.secret.chmod(0o000)
        self.secret_data = root / "secret-data"  # a data directory with an unreadable CSV
        support.write_csv(self.secret_data, header, rows).chmod(0o000)
        self.secret_dir = root / "secret-dir"  # a data directory that cannot be listed
        support.write_csv(self.secret_dir, header, rows)
        self.secret_dir.chmod(0o000)
        self.missing = root / "missing"

    def snapshot(self) -> dict[str, str]:
        self.secret_dir.chmod(0o755)  # root's view of the whole tree (the command ran without it)
        try:
            return support.tree_digest(self.root, with_dirs=True)
        finally:
            self.secret_dir.chmod(0o000)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = Workspace(tmp_path_factory.mktemp("cli_errors"))
    yield workspace
    for path in (workspace.locked, workspace.secret_dir):
        path.chmod(0o755)  # let pytest remove it


# command -> its arguments with valid inputs (a mistake is then added or swapped in)
COMMANDS: dict[str, Callable[[Workspace], list]] = {
    "run": lambda w: ["run", "--data", w.data],
    "compile": lambda w: ["compile", "--target", "vertex", "--image", "img", "--pipeline-root", "gs://b/r",
                          "--serving-dir", "gs://b/s", "--data", "gs://b/d", "--out", w.root / "out" / "job.json"],
    "validate": lambda w: ["validate", w.job],
    "submit": lambda w: ["submit", w.job, "--target", "vertex", "--dry-run"],
    "runs": lambda w: ["runs"],
    "show": lambda w: ["show", "latest"],
    "artifacts": lambda w: ["artifacts"],
    "lineage": lambda w: ["lineage", "--pushed", "latest"],
    "compare": lambda w: ["compare", "a", "b"],
    "blessing": lambda w: ["blessing"],
    "predict": lambda w: ["predict", "--model", "latest", "--input", w.rows],
    "schema infer": lambda w: ["schema", "infer", "--data", w.data, "--out", w.root / "out" / "schema.pbtxt"],
}
WITH_METADATA = ["run", "runs", "show", "artifacts", "lineage", "compare", "blessing"]
WITH_CONFIG = ["run", "compile", "predict"]

# (case id, command, the mistake's arguments, text the line must hold, run obeying file modes)
Case = tuple[str, str, Callable[[Workspace], list], str, bool]
CASES: list[Case] = []
for _command in COMMANDS:
    CASES += [
        ("home is a file", _command, lambda w: ["--home", w.file], "is a file, not a directory", False),
        ("home under a file", _command, lambda w: ["--home", w.file / "home"], "is a file, not a directory", False),
        ("home unwritable", _command, lambda w: ["--home", w.locked], "cannot write in", True),
        ("home not creatable", _command, lambda w: ["--home", w.locked / "home"], "cannot be created", True),
    ]
for _command in WITH_CONFIG:
    CASES += [
        ("config missing", _command, lambda w: ["--config", w.missing / "c.yaml"], "does not exist", False),
        ("config unreadable", _command, lambda w: ["--config", w.secret], "cannot read it", True),
    ]
for _command in WITH_METADATA:
    CASES += [
        ("metadata malformed", _command, lambda w: ["--metadata", "mysql://u:hunter2@/nodb"], "is not understood", False),
        ("metadata unreachable", _command, lambda w: ["--metadata", f"mysql://u:hunter2@127.0.0.1:{_closed_port()}/db"],
         "cannot open the metadata store at 127.0.0.1:", False),
    ]
CASES += [
    ("data missing", "run", lambda w: ["--data", w.missing], "does not exist", False),
    ("data unreadable", "run", lambda w: ["--data", w.secret_data], "cannot read data.csv", True),
    ("data unlistable", "run", lambda w: ["--data", w.secret_dir], "cannot list it", True),
    ("data missing", "schema infer", lambda w: ["--data", w.missing], "does not exist", False),
    ("data unreadable", "schema infer", lambda w: ["--data", w.secret_data], "cannot read data.csv", True),
    ("data unlistable", "schema infer", lambda w: ["--data", w.secret_dir], "cannot list it", True),
    ("out unwritable", "schema infer", lambda w: ["--out", w.locked / "schema.pbtxt"], "cannot be written", True),
    ("out unwritable", "compile", lambda w: ["--out", w.locked / "job.json"], "cannot be written", True),
    ("input missing", "predict", lambda w: ["--input", w.missing / "rows.csv"], "rows.csv: no such file", False),
    ("input unreadable", "predict", lambda w: ["--input", w.secret], "cannot read it", True),
    ("input is a directory", "predict", lambda w: ["--input", w.data], "is a directory, not a file", False),
    ("no model in home", "predict", lambda w: ["--home", w.home], "no pushed model yet", False),
    ("no store in home", "runs", lambda w: ["--home", w.home], "no metadata store at", False),
]
for _command in ("validate", "submit"):
    CASES += [
        ("compiled JSON missing", _command, lambda w: [w.missing / "job.json"], "job.json: no such file", False),
        ("compiled JSON unreadable", _command, lambda w: [w.secret], "cannot read it", True),
    ]


def _argv(ws: Workspace, command: str, mistake: list) -> list:
    """The command's valid arguments with the mistake's flag (or positional file) swapped in."""
    argv = COMMANDS[command](ws)
    if mistake and str(mistake[0]).startswith("--") and mistake[0] in argv:
        i = argv.index(mistake[0])
        return argv[:i] + mistake + argv[i + 2:]
    if mistake and not str(mistake[0]).startswith("--"):
        return [argv[0], *mistake, *argv[2:]]  # validate / submit: the compiled JSON is the positional argument
    return argv + mistake


@pytest.mark.parametrize("case, command, mistake, expected, obey_modes", CASES,
                         ids=[f"{c[1]}: {c[0]}" for c in CASES])
def test_mistake_is_one_line_exit_2_and_writes_nothing(ws, case, command, mistake, expected, obey_modes):
    argv = _argv(ws, command, mistake(ws))
    before = ws.snapshot()
    result = support.cli(argv, timeout=120, cwd=ws.cwd, file_permissions_apply=obey_modes)
    line = support.one_line_error(result)
    assert expected in line, line
    assert result.stdout == "", result.stdout  # stopped before the first line of output
    assert "hunter2" not in line  # a password in --metadata never reaches the terminal
    assert ws.snapshot() == before  # no home, log, store, output file or probe left behind


def test_permissions_really_apply(ws):
    """The unwritable / unreadable cases above are real refusals, not something a root process shrugs off."""
    probe = ("import os, sys\n"
             "for attempt in (lambda: os.mkdir(sys.argv[1]), lambda: open(sys.argv[2], 'rb')):\n"
             "    try:\n"
             "        attempt()\n"
             "    except PermissionError:\n"
             "        continue\n"
             "    sys.exit('not refused')\n")
    proc = subprocess.run([sys.executable, "-c", probe, ws.locked / "x", ws.secret], capture_output=True, text=True,
                          preexec_fn=support.obey_file_modes())
    assert proc.returncode == 0, proc.stderr
    assert not (ws.locked / "x").exists()
    if os.geteuid() == 0:  # and without the capability drop, root would have been allowed: the drop is what counts
        allowed = subprocess.run([sys.executable, "-c", f"open({str(ws.secret)!r}, 'rb')"], capture_output=True)
        assert allowed.returncode == 0


# ------------------------------------------------------------------------------------------------ cli/errors.py


def test_one_line_joins_lines_and_hides_passwords_but_not_the_placeholder():
    from cli.errors import one_line

    err = ValueError("cannot open mysql://u:hunter2@db:3306/m\n  (is it running?)\n")
    assert one_line(err) == "tfx-e2e: error: cannot open mysql://u:***@db:3306/m (is it running?)"
    hint = ValueError("use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB.")
    assert one_line(hint) == "tfx-e2e: error: use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB."
    assert one_line(KeyError()) == "tfx-e2e: error: KeyError"


def test_user_errors_are_the_libraries_fixable_ones():
    from cli.errors import UsageError, user_errors
    from kubeflow.submit import SubmitError
    from pipeline.config.schema import ConfigError
    from pipeline.data.csv_format import DataError
    from pipeline.local.lock import LockBusy
    from pipeline.metadata.store import MetadataError

    assert set(user_errors()) == {UsageError, ConfigError, DataError, MetadataError, SubmitError, LockBusy}
    assert not issubclass(RuntimeError, user_errors()) and not issubclass(OSError, user_errors())


def test_main_reports_a_user_error_and_returns_2(tmp_path, capfd):
    from cli.errors import EXIT_USAGE
    from cli.main import main

    (tmp_path / "f").write_text("")
    assert main(["runs", "--home", str(tmp_path / "f")]) == EXIT_USAGE
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == f"tfx-e2e: error: --home {tmp_path / 'f'} is a file, not a directory; pass a --home " \
                           "directory you can write to (it is created if missing).\n"


def test_a_bug_is_not_dressed_up_as_a_user_error(monkeypatch):
    """Anything outside user_errors() keeps its traceback (exit 1 from Python): a bug must not read like a typo."""
    from cli import main as cli_main

    def broken(args, out):
        raise RuntimeError("a bug")

    parser = cli_main.build_parser()
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda argv: argparse.Namespace(handler=broken))
    with pytest.raises(RuntimeError, match="a bug"):
        cli_main.main(["runs"])
