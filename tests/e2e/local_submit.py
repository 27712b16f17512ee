"""Helpers of the `tfx-e2e submit FILE --target local` end-to-end tests: compiling for the cloud (gs:// locations of
a bucket that is never reached), running a compiled file here and reading its per-task lines, its summary and the
workdir's ML Metadata record (kubeflow/local/store.py)."""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from tests import support

BUCKET = "tfx-e2e-test"
GS = f"gs://{BUCKET}"
IMAGE = "tfx-e2e:e2e-test"  # never pulled: the local runner runs the command with this venv instead
CLOUD = ["--image", IMAGE, "--pipeline-root", f"{GS}/root", "--serving-dir", f"{GS}/serving"]
TASK_LINE = re.compile(r"^(started|ran|cached|failed) +(\S+)(?:  ([\d.]+) s(?:  \((.*)\))?)?$")
SUMMARY_KEYS = ("job", "workdir", "location", "parameter", "beam", "tasks", "blessed", "pushed", "failed", "log",
                "not run")


def compile_all(jobs: dict[Path, Sequence], home: Path) -> None:
    """`tfx-e2e compile ... --out FILE` for every {FILE: extra args}, concurrently (each mostly imports TFX)."""
    def one(item):
        out, extra = item
        return out, support.cli(["compile", *extra, "--out", out, "--home", home])

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for out, result in pool.map(one, jobs.items()):
            assert result.code == 0, f"compile {out}: " + result.stdout + result.stderr
            assert out.is_file()


def tasks_by_kind(compiled: Path) -> dict[str, list[str]]:
    """{executor kind (container, resolver, importer): [task names]} read from the compiled file itself."""
    spec = json.loads(compiled.read_text())["pipelineSpec"]
    executors = spec["deploymentSpec"]["executors"]
    found: dict[str, list[str]] = {}
    for name, task in sorted(spec["root"]["dag"]["tasks"].items()):
        label = spec["components"][task["componentRef"]["name"]]["executorLabel"]
        [kind] = executors[label]
        found.setdefault(kind, []).append(name)
    return found


@dataclass
class LocalRun:
    result: support.CliResult
    lines: list[tuple[str, str]] = field(default_factory=list)  # (state, task) in printed order
    states: dict[str, str] = field(default_factory=dict)  # task -> its final state line (ran, cached, failed)
    details: dict[str, str] = field(default_factory=dict)  # task -> the (...) of its final line
    summary: dict[str, list[str]] = field(default_factory=dict)  # key -> the values of its summary lines

    @property
    def code(self) -> int:
        return self.result.code

    @property
    def job(self) -> str:
        return self.summary["job"][0].split()[0]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    def outcome(self, tasks: Sequence[str]) -> dict[str, tuple]:
        """{task: (its final state, its detail)}; (None, None) for a task that printed no final line."""
        return {t: (self.states.get(t), self.details.get(t)) for t in tasks}

    def first(self, state: str, task: str) -> int:
        """Where the line `state task` was printed (its index among the task lines)."""
        return self.lines.index((state, task))


def parse(result: support.CliResult) -> LocalRun:
    run = LocalRun(result)
    for line in result.stdout.splitlines():
        match = TASK_LINE.match(line)
        if match:
            state, task, _, detail = match.groups()
            run.lines.append((state, task))
            if state != "started":
                run.states[task] = state
                run.details[task] = detail or ""
            continue
        key = next((k for k in SUMMARY_KEYS if line.startswith(k + " ")), None)
        if key:
            run.summary.setdefault(key, []).append(line[len(key):].strip())
    return run


def submit_local(compiled: Path, workdir: Path, home: Path, *extra) -> LocalRun:
    """`tfx-e2e submit COMPILED --target local --workdir WORKDIR ...` in a fresh process."""
    return parse(support.cli(["submit", compiled, "--target", "local", "--workdir", workdir, "--home", home, *extra]))


# ------------------------------------------------------------------------------------- the workdir's ML Metadata

@dataclass
class TaskRecord:
    state: str  # COMPLETE | CACHED | FAILED (MLMD's execution state name)
    given: dict[str, list[str]]  # input key -> artifact names, as the execution records them (every key: an
    #   artifact given under two keys, model and baseline_model, has one INPUT event, under one of them)
    inputs: dict[str, list]  # key -> MLMD artifacts, by INPUT event
    outputs: dict[str, list]

    def output(self, key: str):
        [artifact] = self.outputs[key]
        return artifact


def job_record(workdir: Path, job: str) -> dict[str, TaskRecord]:
    """Every task execution recorded for one job of the workdir, by task name."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    from pipeline.metadata.store import open_store, sqlite_config

    store = open_store(sqlite_config(workdir / "metadata.sqlite", create=False))
    context = store.get_context_by_type_and_name("kfp_local.PipelineJob", job)
    assert context is not None, f"no job {job} in {workdir}"
    found: dict[str, TaskRecord] = {}
    for execution in store.get_executions_by_context(context.id):
        events = store.get_events_by_execution_ids([execution.id])
        artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
        given = json.loads(execution.custom_properties["inputs"].string_value)
        record = TaskRecord(pb.Execution.State.Name(execution.last_known_state), given, {}, {})
        for event in sorted(events, key=lambda e: (e.path.steps[0].key, e.path.steps[1].index)):
            side = record.inputs if event.type == pb.Event.INPUT else record.outputs
            side.setdefault(event.path.steps[0].key, []).append(artifacts[event.artifact_id])
        found[execution.custom_properties["task"].string_value] = record
    return found


def metadata(artifact) -> dict:
    """What the task wrote into the artifact's metadata (executor output), as the runner recorded it."""
    return json.loads(artifact.custom_properties["metadata"].string_value)


def local(workdir: Path, uri: str) -> Path:
    """Where the run put a gs:// location: <workdir>/gcs/BUCKET/PATH."""
    assert uri.startswith("gs://"), uri
    return workdir / "gcs" / uri[len("gs://"):]


def count_records(split_dir: Path) -> int:
    """Records in the gzipped TFRecord files of one ExampleGen split (TFRecord framing: length, crc, data, crc)."""
    total = 0
    for path in sorted(split_dir.iterdir()):
        with gzip.open(path, "rb") as f:
            while header := f.read(12):
                (length,) = struct.unpack("<Q", header[:8])
                f.seek(length + 4, 1)
                total += 1
    return total


def ancestors(compiled: Path, task: str) -> set[str]:
    """The tasks `task` depends on, directly or not, per the compiled file's dependentTasks."""
    tasks = json.loads(compiled.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
    found: set[str] = set()
    todo = list(tasks[task].get("dependentTasks", []))
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(tasks[name].get("dependentTasks", []))
    return found
