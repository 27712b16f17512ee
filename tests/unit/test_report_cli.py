"""`tfx-e2e report`: writes <home>/reports/<run id>.html (or --out) and prints its path; an unknown run, an empty
or missing store, an unreachable MySQL server or a bad --out is one line on stderr and exit 2."""

from __future__ import annotations

import socket

import pytest

from cli.main import main
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.unit.report_store import build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("cli"))


def test_writes_the_default_path_and_prints_it(built, capfd):
    assert main(["report", "slice_failed", "--home", str(built.home)]) == 0
    path = built.home / "reports" / "slice_failed.html"
    assert capfd.readouterr().out == f"{path}\n"
    doc = path.read_text()
    assert '<section id="evaluation">' in doc and '<section id="lineage">' not in doc


def test_latest_is_the_newest_run_and_out_is_honoured(built, tmp_path, capfd):
    out = tmp_path / "a" / "b" / "run:with:colons.html"
    assert main(["report", "--home", str(built.home), "--out", str(out)]) == 0
    assert capfd.readouterr().out == f"{out}\n"
    assert "broken" in out.read_text()  # the newest run of the store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_input_is_one_line_and_exit_2(built, tmp_path):
    unknown = support.one_line_error(support.cli(["report", "nope", "--home", built.home]))
    assert "no run 'nope'" in unknown
    missing = support.one_line_error(support.cli(["report", "--home", tmp_path / "nothing"]))
    assert "no metadata store at" in missing
    empty_home = tmp_path / "empty"
    empty_home.mkdir()
    open_store(sqlite_config(empty_home / "metadata.sqlite"))
    assert "no pipeline runs yet" in support.one_line_error(support.cli(["report", "--home", empty_home]))
    mysql = f"mysql://u:secret@127.0.0.1:{_free_port()}/db"
    line = support.one_line_error(support.cli(["report", "--home", tmp_path, "--metadata", mysql]))
    assert "cannot open the metadata store at 127.0.0.1" in line and "secret" not in line
    directory = support.one_line_error(support.cli(["report", "--home", built.home, "--out", tmp_path]))
    assert "is a directory" in directory
