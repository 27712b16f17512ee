"""`tfx-e2e submit FILE --target local`: execute a compiled PipelineJob on this machine as KFP's v2 backend would.
Tasks run in dependency order (independent ones in parallel with `parallel` > 1); a container task's `command` and
placeholder-substituted `args` run as a process with this project's venv on PATH in place of the image; resolvers
and importers run here against the workdir's ML Metadata record, which also holds the cache."""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from kubeflow.local import executor_input as ei
from kubeflow.local import beam_mode, preflight, resolver
from kubeflow.local.errors import LocalRunError
from kubeflow.local.executor_input import Artifact, TaskOutputs
from kubeflow.local.mirror import GcsMirror
from kubeflow.local.spec import CONTAINER, IMPORTER, CompiledJob, Task, apply_params  # noqa: F401 (re-exported)
from kubeflow.local.store import CACHED, COMPLETE, FAILED, LocalStore, cache_key
from kubeflow.local.task_process import last_error_line, run_process
from kubeflow.local.warm import WarmPool
from pipeline.paths import PROJECT_ROOT

RAN, FROM_CACHE, FAILED_STATE, NOT_RUN = "ran", "cached", "failed", "not run"


@dataclass(frozen=True)
class LocalOptions:
    workdir: Path
    gcs_mirror: Optional[Path] = None
    params: Mapping[str, str] = field(default_factory=dict)
    only: tuple[str, ...] = ()
    no_cache: bool = False
    parallel: int = 1
    beam_mode: str = "auto"  # kubeflow/local/beam_mode.py
    warm: bool = True  # python -m tasks start in processes that imported TensorFlow/TFX ahead (kubeflow/local/warm.py)


@dataclass
class TaskResult:
    name: str
    state: str  # RAN | FROM_CACHE | FAILED_STATE | NOT_RUN
    seconds: float = 0.0
    kind: str = CONTAINER
    detail: str = ""  # cached: the job it came from; resolver: what it found; failed: the last error line
    log: Optional[Path] = None


@dataclass
class LocalResult:
    job_id: str
    job: CompiledJob
    workdir: Path
    mirror: GcsMirror
    results: list[TaskResult]
    outputs: dict[str, TaskOutputs]
    mappings: list[tuple[str, str, str]]  # (cloud location, local path, where it came from)
    beam_note: str
    seconds: float

    @property
    def failed(self) -> Optional[TaskResult]:
        return next((r for r in self.results if r.state == FAILED_STATE), None)


def new_job_id(job: CompiledJob, store_dir: Path) -> str:
    """`<pipeline>-<YYYYmmddHHMMSS>` as Vertex names jobs; a suffix when a job of that second exists already."""
    base = "".join(c if c.isalnum() or c == "-" else "-" for c in job.pipeline_name.lower()).strip("-")
    stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
    candidate, n = f"{base}-{stamp}", 1
    while (store_dir / "jobs" / candidate).exists():
        n += 1
        candidate = f"{base}-{stamp}-{n}"
    (store_dir / "jobs" / candidate).mkdir(parents=True)
    return candidate


class LocalRun:
    """One execution of a compiled job; `run()` returns its LocalResult (a failed task is a result, not an error)."""

    def __init__(self, job: CompiledJob, options: LocalOptions, emit: Callable[[str], None]):
        self.job, self.options, self.emit = job, options, emit
        self.workdir = Path(options.workdir).resolve()
        self.mirror = GcsMirror(options.gcs_mirror or self.workdir / "gcs")
        self.sources = preflight.check_options(job, options)
        local_parameters = {k: self.mirror.local(v) if isinstance(v, str) else v for k, v in job.parameters.items()}
        self.running_mode, self.beam_note = beam_mode.choose(options.beam_mode, local_parameters)
        self.job_id = new_job_id(job, self.workdir)
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        about = {"file": str(job.path.resolve()), "parameters": job.parameters, "sdk": job.sdk_version}
        self.store = LocalStore(self.workdir / "metadata.sqlite", job.pipeline_name, self.job_id, about)
        self.outputs: dict[str, TaskOutputs] = {}
        self.results: dict[str, TaskResult] = {}
        self._print = threading.Lock()
        self.pool: Optional[WarmPool] = None
        self.containers_to_come = 0  # container tasks not handed to a thread yet (the warm pool's bound)

    # -- what the summary shows of the cloud locations ------------------------------------------------------------
    def mappings(self) -> list[tuple[str, str, str]]:
        found: dict[str, str] = {}
        if self.job.pipeline_root:
            found[self.job.pipeline_root.rstrip("/")] = "pipeline root"
        for name, value in self.job.parameters.items():
            for uri in self.mirror.locations_in(json.dumps(value)):
                found.setdefault(uri, f"parameter {name}")
        for name in self.job.order:
            for key, spec in self.job.tasks[name].spec.inputs.parameters.items():
                if spec.WhichOneof("kind") == "runtime_value":
                    for uri in self.mirror.locations_in(str(spec.runtime_value)):
                        found.setdefault(uri, f"{name}: {key}")
        return [(uri, self.mirror.local(uri), why) for uri, why in found.items()]

    # -- one task -----------------------------------------------------------------------------------------------
    def _inputs(self, task: Task) -> dict[str, list[Artifact]]:
        return {key: list(self.outputs[spec.task_output_artifact.producer_task].artifacts.get(
                    spec.task_output_artifact.output_artifact_key, []))
                for key, spec in task.spec.inputs.artifacts.items()}

    def _say(self, line: str) -> None:
        with self._print:
            self.emit(line)

    def _done(self, result: TaskResult) -> TaskResult:
        detail = f"  ({result.detail})" if result.detail else ""
        self._say(f"{result.state:<8} {result.name}  {result.seconds:.1f} s{detail}")
        self.results[result.name] = result
        return result

    def _in_process(self, task: Task) -> TaskResult:
        start = time.monotonic()
        inputs = self._inputs(task)
        parameters = ei.input_parameters(self.job, task, self.outputs)
        if task.kind == IMPORTER:
            outputs, reused = resolver.import_artifact(task, parameters, self.store, self.mirror)
            detail = ("reused " if reused else "imported ") + ", ".join(a.uri for arts in outputs.values() for a in arts)
        else:
            outputs, evaluated = resolver.resolve(task, inputs, self.store)
            reused = True
            found = [a.name for arts in outputs.values() for a in arts]
            detail = "found " + (", ".join(found) if found else "nothing")
            (self.logs / f"{task.name}.log").write_text(
                "".join(f"query {key}: {text}\nfound {[a.name for a in outputs[key]]}\n" for key, text in evaluated.items()))
        stored = self.store.record(task.name, task.kind, COMPLETE, "", inputs, outputs, parameters,
                                   time.monotonic() - start, reuse=reused)
        self.outputs[task.name] = TaskOutputs(stored, {})
        return self._done(TaskResult(task.name, RAN, time.monotonic() - start, task.kind, detail))

    def _container(self, task: Task) -> TaskResult:
        start = time.monotonic()
        inputs = self._inputs(task)
        parameters = ei.input_parameters(self.job, task, self.outputs)
        log = self.logs / f"{task.name}.log"
        context = {".pipeline_job_name": self.job_id, ".pipeline_job_resource_name": f"local/pipelineJobs/{self.job_id}",
                   ".pipeline_job_uuid": self.job_id, ".pipeline_task_name": task.name,
                   ".pipeline_task_uuid": f"{self.job_id}-{task.name}", ".pipeline_root": self.job.pipeline_root,
                   ".pipeline_job_create_time_utc": datetime.datetime.utcnow().isoformat() + "Z",
                   ".pipeline_job_schedule_time_utc": ""}
        context = {k: self.mirror.localize_text(v) for k, v in context.items()}
        document = ei.build(self.job, self.job_id, task, parameters, inputs)
        local = json.loads(self.mirror.localize_text(json.dumps(document)))
        container = task.executor.container
        env = {e.name: self.mirror.localize_text(e.value) for e in container.env}
        log.write_text(f"# {task.name} of job {self.job_id}: the image {container.image} is not used; "
                       f"the command runs with {Path(sys.executable).parent} on PATH, in {PROJECT_ROOT}\n")
        self._say(f"started  {task.name}")
        if container.lifecycle.HasField("pre_cache_check"):
            check = container.lifecycle.pre_cache_check
            argv = list(check.command) + [ei.substitute(a, local, context, f"task {task.name}")
                                          for a in beam_mode.rewrite(list(check.args), self.running_mode)]
            code = run_process(argv, log, env, self.pool, upcoming=1)  # its own command may follow (or be cached)
            if code != 0:
                return self._failed(task, start, log, f"its pre-cache check (driver) exited with {code}")
            driver = ei.read_output(Path(local["outputs"]["outputFile"]))
            for key, value in driver.get("parameterValues", {}).items():
                parameters[key] = json.loads(self.mirror.cloudify_text(json.dumps(value)))
                local["inputs"]["parameterValues"][key] = value
                local["inputs"]["parameters"][key] = ei._legacy_value(value)  # noqa: SLF001 - same module family
        args = beam_mode.rewrite(list(container.args), self.running_mode)
        key = cache_key(task, parameters, inputs, args)
        use_cache = task.spec.caching_options.enable_cache and not self.options.no_cache
        must_cache = bool(self.options.only) and task.name not in self.options.only
        if (use_cache or must_cache) and task.name not in self.options.only:
            hit = self.store.cached(key)
            if hit is not None:
                job, outputs = hit
                self.store.record(task.name, CONTAINER, CACHED, key, inputs, outputs, parameters, 0.0, reuse=True)
                self.outputs[task.name] = TaskOutputs(outputs, {})
                return self._done(TaskResult(task.name, FROM_CACHE, time.monotonic() - start, CONTAINER, f"from {job}"))
            if must_cache:
                raise LocalRunError(
                    f"--only {' '.join(self.options.only)}: task {task.name} runs before it and has no cached result "
                    "for these inputs; run the whole pipeline once first.")
        argv = list(container.command) + [ei.substitute(a, local, context, f"task {task.name}") for a in args]
        code = run_process(argv, log, env, self.pool, upcoming=self.containers_to_come)
        if code != 0:
            return self._failed(task, start, log, f"exited with {code}")
        produced = ei.read_output(Path(local["outputs"]["outputFile"]))
        produced = json.loads(self.mirror.cloudify_text(json.dumps(produced)))
        outputs = ei.merge_outputs(document, produced)
        stored = self.store.record(task.name, CONTAINER, COMPLETE, key, inputs, outputs, parameters,
                                   time.monotonic() - start)
        self.outputs[task.name] = TaskOutputs(stored, dict(produced.get("parameterValues", {})))
        return self._done(TaskResult(task.name, RAN, time.monotonic() - start, CONTAINER, "", log))

    def _failed(self, task: Task, start: float, log: Path, why: str) -> TaskResult:
        self.store.record(task.name, CONTAINER, FAILED, "", {}, {}, {}, time.monotonic() - start, reuse=True)
        line = last_error_line(log) or why
        return self._done(TaskResult(task.name, FAILED_STATE, time.monotonic() - start, CONTAINER, line, log))

    # -- the DAG ------------------------------------------------------------------------------------------------
    def run(self) -> LocalResult:
        start = time.monotonic()
        pending = list(self.job.order)
        running: dict[concurrent.futures.Future, str] = {}
        skipped_after_only = self._after_only()
        self.containers_to_come = sum(self.job.tasks[n].kind == CONTAINER and n not in skipped_after_only
                                      for n in pending)
        self.pool = WarmPool(self.options.parallel + 1, self.workdir / "logs" / ".warm") if self.options.warm else None
        try:
            self._walk(pending, running, skipped_after_only)
        finally:
            if self.pool is not None:
                self.pool.close()
        for name in pending:
            if name not in self.results:
                self.results[name] = TaskResult(name, NOT_RUN, kind=self.job.tasks[name].kind)
        return LocalResult(self.job_id, self.job, self.workdir, self.mirror,
                           [self.results[n] for n in self.job.order], self.outputs, self.mappings(),
                           self.beam_note, time.monotonic() - start)

    def _walk(self, pending: list[str], running: dict, skipped_after_only: set[str]) -> None:
        failed = False
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.options.parallel) as pool:
            while True:
                ready = [n for n in pending if all(u in self.results and self.results[u].state in (RAN, FROM_CACHE)
                                                   for u in self.job.tasks[n].upstream)]
                name = next((n for n in ready if self.job.tasks[n].kind != CONTAINER
                             or len(running) < self.options.parallel), None) if not failed else None
                if name is not None:  # dependency order; readiness is looked at again after each start
                    pending.remove(name)
                    task = self.job.tasks[name]
                    if name in skipped_after_only:
                        self.results[name] = TaskResult(name, NOT_RUN, kind=task.kind, detail="after --only")
                    elif task.kind == CONTAINER:
                        self.containers_to_come -= 1
                        running[pool.submit(self._container, task)] = name
                    else:
                        self._in_process(task)
                    continue
                if not running:
                    break
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    failed = future.result().state == FAILED_STATE or failed

    def _after_only(self) -> set[str]:
        """With --only, the tasks downstream of the named ones are not run."""
        if not self.options.only:
            return set()
        after: set[str] = set()
        for name in self.job.order:
            upstream = set(self.job.tasks[name].upstream)
            if name not in self.options.only and upstream & (set(self.options.only) | after):
                after.add(name)
        return after


def run_local(path: Path, options: LocalOptions, emit: Callable[[str], None], header: str = "") -> LocalResult:
    """Loads and checks the file, then runs it; one run per workdir at a time (its store is SQLite): a second one
    waits for the first and says so."""
    from kubeflow.local.spec import load
    from pipeline.local.lock import run_lock

    job = load(Path(path))
    preflight.check_options(job, options)  # a mistake writes nothing, not even the workdir
    if header:
        emit(header)
    workdir = Path(options.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with run_lock(workdir / "run.lock", on_wait=lambda holder: emit(f"waiting: {holder} holds {workdir}")):
        return LocalRun(job, options, emit).run()
