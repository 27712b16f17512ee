"""cli/checks.py (the up-front path checks) and cli/logfile.py (where a command's log goes), in process.

Unwritable and unreadable paths need a process that obeys file modes even as root: those cases run as
subprocesses in test_cli_errors.py."""

from __future__ import annotations

import os

import pytest

from cli import checks, logfile
from cli.errors import UsageError
from pipeline.paths import DEFAULT_HOME, Home
from tests import support


def test_home_exists_or_can_be_created_and_nothing_is_left(tmp_path):
    assert checks.home(tmp_path) == Home(tmp_path.resolve())
    new = tmp_path / "a" / "b"
    assert checks.home(new) == Home(new.resolve())
    assert not (tmp_path / "a").exists()  # checked, not created
    assert os.listdir(tmp_path) == []  # the write probe is gone


def test_home_defaults_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert checks.home(None).root == tmp_path.resolve() / DEFAULT_HOME
    assert os.listdir(tmp_path) == []


def test_home_that_is_a_file_or_under_one(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(UsageError, match=r"--home .*/f is a file, not a directory; pass a --home directory"):
        checks.home(file)
    with pytest.raises(UsageError, match=r"--home .*/f/h cannot be created: .*/f is a file, not a directory"):
        checks.home(file / "h")


def test_input_file(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("a\n1\n")
    assert checks.input_file(path, "--input", "give a CSV") == path
    with pytest.raises(UsageError, match=r"^--input .*/nope.csv: no such file; give a CSV\.$"):
        checks.input_file(tmp_path / "nope.csv", "--input", "give a CSV")
    with pytest.raises(UsageError, match=r"^.*: is a directory, not a file; give a CSV\.$"):
        checks.input_file(tmp_path, "", "give a CSV")


def test_config_file_resolves_bundled_names_and_paths(tmp_path):
    from pipeline.config.loader import CONFIG_DIR
    from pipeline.config.schema import ConfigError

    assert checks.config_file(None) == CONFIG_DIR / "taxi.yaml"
    assert checks.config_file("digits") == CONFIG_DIR / "digits.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("name: mine\n")
    assert checks.config_file(str(own)) == own.resolve()
    with pytest.raises(ConfigError, match="does not exist"):
        checks.config_file(str(tmp_path / "nope.yaml"))


def test_output_file(tmp_path):
    assert checks.output_file(tmp_path / "new" / "s.pbtxt", "--out") == (tmp_path / "new" / "s.pbtxt").resolve()
    assert os.listdir(tmp_path) == []
    existing = tmp_path / "job.json"
    existing.write_text("{}")
    checks.output_file(existing, "--out")
    assert existing.read_text() == "{}"  # checked for writing, not truncated
    with pytest.raises(UsageError, match="is a directory; give the path of a file to write"):
        checks.output_file(tmp_path, "--out")
    with pytest.raises(UsageError, match=r"cannot be written: .*/job.json is a file, not a directory"):
        checks.output_file(existing / "x.json", "--out")


def test_a_quiet_command_leaves_no_log_behind(tmp_path):
    home = Home(tmp_path / "home")
    log = logfile.new(home, "schema infer")
    assert log.parent == tmp_path / "home" / "logs" and log.name.startswith("schema-infer-") and log.suffix == ".log"
    with logfile.capture(log):
        pass
    assert not (tmp_path / "home").exists()  # created for the log, removed with it


def test_a_command_log_keeps_what_was_written_to_fd_1_and_2(tmp_path):
    home = Home(tmp_path)
    log = logfile.new(home, "runs")
    with logfile.capture(log):
        os.write(1, b"from C++ on stdout\n")
        os.write(2, b"from C++ on stderr\n")
    assert log.read_text() == "from C++ on stdout\nfrom C++ on stderr\n"
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_an_error_inside_the_capture_still_restores_the_terminal_and_cleans_up(tmp_path, capfd):
    home = Home(tmp_path / "home")
    with pytest.raises(UsageError):
        with logfile.capture(logfile.new(home, "show")):
            raise UsageError("no run")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"
    assert not (tmp_path / "home").exists()


def test_no_log_file_means_no_capture(capfd):
    with logfile.capture(None):
        os.write(1, b"shown\n")
    assert capfd.readouterr().out == "shown\n"
