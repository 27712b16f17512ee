"""Every private TFX internal the local runner relies on, fenced: checked by apply(), tested against upstream.

Checked against tfx 1.16.0, the version requirements.lock pins;
tests/unit/test_patches_local.py fails when those versions or the internals below change. apply() checks every
internal before the first run and raises UpstreamChanged (naming the patch and what changed) rather than run with
a patch that silently does nothing or the wrong thing. No public API gives the same result for any of them:

1. Progress events from LocalDagRunner's log records. LocalDagRunner.run_with_ir logs "Component %s is running."
   and "Component %s is finished." around each node and offers no callback or listener; ProgressHandler turns
   those records (absl logger, INFO) into start/finish callbacks.

2. The run id. LocalDagRunner.run(pipeline) picks the run id itself (datetime.now().isoformat()) and neither takes
   nor returns it, and TFX's RunOptions carry no run id. To read the run's executions from ML Metadata while it
   runs, `compile_ir` compiles the pipeline and binds the run-id runtime parameter to an id we choose, and
   `run_ir` hands the IR to `LocalDagRunner.run_with_ir` (public name, but excluded from TFX's documentation),
   whose own substitution leaves an already-bound parameter alone. `run()` only adds, before compiling, pip
   dependencies of components that declare them (`_resolve_pip_dependencies`); no component here declares any.

No longer patched: TFX's ephemeral-sdist step (pipeline.local.runner's Beam arguments name the workers'
requirements, and TFX's make_beam_dependency_flags then skips it; see runner.DEPENDENCIES_ARG), and Beam's state-cache
weighing (`statecache.get_deep_size`, replaced until 2026-11-30: since Transform stopped materializing it runs ~200
times per taxi run, 0.8 s in all, so the private patch was removed; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import datetime
import inspect
import logging
from typing import Any, Callable

CHECKED_AGAINST = {"tfx": "1.16.0"}

# LocalDagRunner.run_with_ir's log templates (tfx 1.16.0, tfx/orchestration/local/local_dag_runner.py).
RUNNING = "Component %s is running."
FINISHED = "Component %s is finished."
ABSL_LOGGER = "absl"  # absl.logging writes through this standard-library logger


class UpstreamChanged(RuntimeError):
    """A fenced internal of TFX is not what the patch was written against."""

    def __init__(self, patch: str, what: str):
        versions = ", ".join(f"{name} {version}" for name, version in CHECKED_AGAINST.items())
        super().__init__(
            f"pipeline.local.patches [{patch}]: {what}. The patch was checked against {versions}; "
            f"re-check it against the installed versions (tests/unit/test_patches_local.py)."
        )


# --- 1. Progress events from LocalDagRunner's log records --------------------------------------------------------


class ProgressHandler(logging.Handler):
    """Turns LocalDagRunner's "Component X is running/finished." records into on_start/on_finish(node_id) calls."""

    def __init__(self, on_start: Callable[[str], None], on_finish: Callable[[str], None]):
        super().__init__(level=logging.INFO)
        self._on_start, self._on_finish = on_start, on_finish

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == RUNNING and record.args:
            self._on_start(str(record.args[0]))
        elif record.msg == FINISHED and record.args:
            self._on_finish(str(record.args[0]))


def check_progress_records() -> None:
    """LocalDagRunner.run_with_ir still logs both templates, in that order, through absl."""
    from tfx.orchestration.local import local_dag_runner

    try:
        source = inspect.getsource(local_dag_runner.LocalDagRunner.run_with_ir)
    except (OSError, TypeError) as err:
        raise UpstreamChanged("progress", f"cannot read LocalDagRunner.run_with_ir's source ({err})") from None
    for template in (RUNNING, FINISHED):
        if f"logging.info('{template}', node_id)" not in source:
            raise UpstreamChanged("progress", f"LocalDagRunner.run_with_ir no longer logs {template!r} per node")
    if source.index(RUNNING) > source.index(FINISHED):
        raise UpstreamChanged("progress", "LocalDagRunner.run_with_ir logs 'finished' before 'running'")
    from absl import logging as absl_logging

    if local_dag_runner.logging is not absl_logging or absl_logging.get_absl_logger().name != ABSL_LOGGER:
        raise UpstreamChanged("progress", f"local_dag_runner no longer logs through absl's {ABSL_LOGGER!r} logger")


# --- 2. The run id ------------------------------------------------------------------------------------------------


def new_run_id() -> str:
    """The same format LocalDagRunner.run_with_ir uses when it picks the id itself."""
    return datetime.datetime.now().isoformat()


def compile_ir(tfx_pipeline: Any, run_id: str) -> Any:
    """The pipeline's IR with the run-id runtime parameter bound to `run_id`."""
    from tfx.dsl.compiler import compiler
    from tfx.dsl.compiler import constants
    from tfx.orchestration.portable import runtime_parameter_utils

    ir = compiler.Compiler().compile(tfx_pipeline)
    runtime_parameter_utils.substitute_runtime_parameter(ir, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id})
    return ir


def run_ir(ir: Any) -> None:
    """Runs a compiled pipeline on this machine, node after node (raises what a failing component raised)."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    LocalDagRunner().run_with_ir(ir)


def check_run_with_ir() -> None:
    """run_with_ir(pipeline, run_options=None) exists, and its own run-id substitution goes through the function
    that leaves an already-bound parameter alone."""
    from tfx.dsl.compiler import constants
    from tfx.orchestration.local import local_dag_runner
    from tfx.orchestration.portable import runtime_parameter_utils

    method = getattr(local_dag_runner.LocalDagRunner, "run_with_ir", None)
    if method is None:
        raise UpstreamChanged("run-id", "LocalDagRunner has no run_with_ir")
    parameters = list(inspect.signature(method).parameters)
    if parameters[:3] != ["self", "pipeline", "run_options"]:
        raise UpstreamChanged("run-id", f"LocalDagRunner.run_with_ir takes {parameters}, not (pipeline, run_options)")
    if not hasattr(runtime_parameter_utils, "substitute_runtime_parameter") or not hasattr(
        constants, "PIPELINE_RUN_ID_PARAMETER_NAME"
    ):
        raise UpstreamChanged("run-id", "TFX no longer binds the run id with substitute_runtime_parameter")
    try:
        source = inspect.getsource(method)
    except (OSError, TypeError) as err:
        raise UpstreamChanged("run-id", f"cannot read LocalDagRunner.run_with_ir's source ({err})") from None
    if "runtime_parameter_utils.substitute_runtime_parameter(" not in source:
        raise UpstreamChanged("run-id", "LocalDagRunner.run_with_ir no longer binds the run id as a runtime parameter")


# --- apply --------------------------------------------------------------------------------------------------------

_applied = False


def apply() -> None:
    """Checks every fenced internal before the first run (idempotent); raises UpstreamChanged when one changed."""
    global _applied
    if _applied:
        return
    check_progress_records()
    check_run_with_ir()
    _applied = True
