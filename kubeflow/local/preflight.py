"""Checks made before any task runs: every executor class a container task names exists in this project or its venv
(found on disk, without importing TensorFlow), and no task needs a Google Cloud service this machine cannot reach."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any, Optional

from kubeflow.local.errors import LocalRunError
from kubeflow.local import beam_mode
from kubeflow.local.spec import CONTAINER, CompiledJob, apply_params
from pipeline.paths import PROJECT_ROOT

# Executors that call Google Cloud services instead of doing the work in their container.
CLOUD_ONLY = {
    "tfx.extensions.google_cloud_ai_platform.": "calls Vertex AI (--vertex-training / --vertex-endpoint)",
    "tfx.extensions.google_cloud_big_query.": "reads from BigQuery",
}
RECOMPILE = "compile without --vertex-training, --vertex-endpoint and --beam-runner dataflow to run it on this machine"


def _module_file(module: str) -> Optional[Path]:
    parts = module.split(".")
    for base in [PROJECT_ROOT] + [Path(p) for p in sys.path if p]:
        candidate = base.joinpath(*parts)
        for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if path.is_file():
                return path
    return None


def _defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[-1]) == name
                                                                   for a in node.names):
            return True
    return False


def check_executor_class(task: str, class_path: str) -> None:
    module, _, name = class_path.rpartition(".")
    where = f"task {task} names executor class {class_path!r}"
    path = _module_file(module) if module else None
    if path is None:
        raise LocalRunError(f"{where}, but no module {module or class_path!r} is installed here (looked in the project "
                            "and the venv); correct the class path or compile the pipeline again.")
    if not _defines(path, name):
        raise LocalRunError(f"{where}, but {path} defines no {name!r}; correct the class path or compile again.")


def check(job: CompiledJob) -> None:
    for name in job.order:
        task = job.tasks[name]
        if task.kind != CONTAINER:
            continue
        args = list(task.executor.container.args) + list(task.executor.container.command)
        for prefix, why in CLOUD_ONLY.items():
            if task.executor_class.startswith(prefix):
                raise LocalRunError(f"task {name} cannot run on this machine: its executor {task.executor_class} {why}; "
                                    f"{RECOMPILE}. Multi-worker training on Vertex (--replica-count with "
                                    "--vertex-training) is not supported locally.")
        if any(a.startswith("--runner=") and "Dataflow" in a for a in args):
            raise LocalRunError(f"task {name} cannot run on this machine: its Beam pipeline runs on Dataflow; {RECOMPILE}.")
        if task.executor_class:
            check_executor_class(name, task.executor_class)


def check_options(job: CompiledJob, options: Any) -> dict[str, str]:
    """The flags' mistakes (LocalOptions) and the executors' problems, found before anything is written; applies
    --param to the job and returns each overridden parameter's source."""
    sources = apply_params(job, options.params)
    unknown = [t for t in options.only if t not in job.tasks]
    if unknown:
        raise LocalRunError(f"--only {' '.join(unknown)}: no such task; the tasks are {', '.join(job.order)}.")
    if options.parallel < 1:
        raise LocalRunError(f"--parallel must be 1 or more, got {options.parallel}.")
    if options.beam_mode not in beam_mode.MODES:
        raise LocalRunError(f"--beam-mode must be one of {', '.join(beam_mode.MODES)}, got {options.beam_mode!r}.")
    check(job)
    return sources
