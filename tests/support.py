"""Helpers shared by the tests: sample data, CSV files, running the real CLI and checking its one-line errors, tree
digests, reading MLMD and pushed models."""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from pipeline.config.schema import TAXI_PACKAGE_DATA, resolve_data_dir

ROOT = Path(__file__).resolve().parent.parent


def taxi_sample(out_dir: Path, rows: int, seed: int = 0) -> Path:
    """Writes `rows` rows drawn at random (fixed seed) from the shipped taxi CSV; empty cells stay empty."""
    import random

    source = resolve_data_dir(TAXI_PACKAGE_DATA) / "data.csv"
    with source.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        body = list(reader)
    picked = random.Random(seed).sample(body, rows)
    write_csv(out_dir, header, picked)
    return out_dir


def write_csv(directory: Path, header: Sequence[str], rows: Sequence[Sequence[str]], name: str = "data.csv") -> Path:
    """`directory`/`name` (directory created) with a header row and `rows`; returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / name).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return directory / name


def tree_digest(root: Path, with_dirs: bool = False) -> dict[str, str]:
    """sha256 of every file below root, by relative path; with_dirs: directories too (as "dir"), so that a new
    empty directory also counts as a change."""
    return {str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() or (with_dirs and p.is_dir())}


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def cli(args: Sequence[str], timeout: int = 900, cwd: Path = ROOT, file_permissions_apply: bool = False) -> CliResult:
    """Runs `python -m cli ARGS` in a fresh process, as a user would.

    file_permissions_apply: the process obeys file modes even when the tests run as root (see obey_file_modes), so
    that a chmod-ed directory or file is really unwritable or unreadable to it."""
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        preexec_fn=obey_file_modes() if file_permissions_apply else None,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def start_cli(args: Sequence[str], cwd: Path = ROOT) -> subprocess.Popen:
    """`python -m cli ARGS` started in a fresh process with its output captured; `finished()` waits for it. For runs
    that must overlap another."""
    return subprocess.Popen([sys.executable, "-m", "cli", *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finished(proc: subprocess.Popen, timeout: int = 900) -> CliResult:
    """The CliResult of a process from start_cli(), once it has exited."""
    out, err = proc.communicate(timeout=timeout)
    return CliResult(proc.returncode, out, err)


ERROR_PREFIX = "tfx-e2e: error: "
# For runs whose tests look at something else: leaves the FeatureImportance node (a few seconds a taxi run) out.
NO_IMPORTANCE = ["--set", "importance.enabled=false"]


def one_line_error(result: CliResult) -> str:
    """The single stderr line of a user mistake: exit 2, `tfx-e2e: error: ...`, no traceback. Returns the line."""
    assert result.code == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return lines[0]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's sub-command parsers by name ({} for a leaf command)."""
    # argparse has no public way to list sub-parsers; _actions has been its layout since Python 3.2.
    for action in parser._actions:  # pylint: disable=protected-access
        if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
            return dict(action.choices)
    return {}


def command_tree(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
                 ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(command words, parser) for every command and sub-command of the tfx-e2e parser, depth first:
    ("run",), ..., ("schema",), ("schema", "infer")."""
    for name, child in subcommands(parser).items():
        yield (*words, name), child
        yield from command_tree(child, (*words, name))


# linux/capability.h and linux/prctl.h
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
PR_CAPBSET_DROP = 24


def obey_file_modes() -> Optional[Callable[[], None]]:
    """A preexec_fn that makes a root child process obey file modes as any user does; None when not root.

    Root reads and writes files whatever their mode (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so chmod alone makes
    nothing unwritable in CI, which runs as root. The child drops both capabilities from its bounding set before
    exec; a root process gets exactly its bounding set at exec, so the new interpreter runs as uid 0 without them:
    still the owner of the root-owned checkout and venv (it can run them), but refused where the mode says no.
    It fails loudly (SubprocessError) where the kernel refuses the drop."""
    if os.geteuid() != 0:
        return None

    def drop() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), f"prctl(PR_CAPBSET_DROP, {cap}) failed")

    return drop


def read_csv_rows(path: Path, limit: int) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [row for _, row in zip(range(limit), csv.DictReader(f))]


def serialized_examples(rows: list[dict[str, str]], schema_path: Path | None, drop: Sequence[str] = ()) -> list[bytes]:
    """tf.Examples as CsvExampleGen would write them (types from the schema when given); `drop` columns omitted."""
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2
    from google.protobuf import text_format

    kinds: dict[str, int] = {}
    if schema_path:
        schema = text_format.Parse(Path(schema_path).read_text(), schema_pb2.Schema())
        kinds = {f.name: f.type for f in schema.feature}
    out = []
    for row in rows:
        feature = {}
        for name, value in row.items():
            if name in drop:
                continue
            kind = kinds.get(name)
            if value == "":
                values: list = []
            elif kind == schema_pb2.INT:
                values = [int(float(value))]
            elif kind == schema_pb2.FLOAT:
                values = [float(value)]
            else:
                values = [value.encode()]
            if kind == schema_pb2.INT:
                feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
            elif kind == schema_pb2.FLOAT:
                feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
            else:
                feature[name] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        out.append(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return out


def pushed_versions(serving_dir: Path) -> list[Path]:
    """The numeric version directories under a model's serving dir, lowest first (the Pusher's own listing)."""
    from components.atomic_pusher.layout import numeric_versions

    return [Path(v.path) for v in numeric_versions(serving_dir)]


@contextlib.contextmanager
def stderr_silenced_on_another_thread() -> Iterator[None]:
    """Inside the block, another thread holds pipeline.logs.quiet_stderr() (fd 2 at /dev/null), as the UI's
    store-opening threads do; it lets go when the block ends."""
    from pipeline.logs import quiet_stderr

    silenced, release = threading.Event(), threading.Event()

    def hold():
        with quiet_stderr():
            silenced.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert silenced.wait(60), "quiet_stderr() was never entered"
        yield
    finally:
        release.set()
        holder.join(60)
