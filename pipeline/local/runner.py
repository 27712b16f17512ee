"""Runs create_pipeline(cfg) on this machine: LocalDagRunner, Beam DirectRunner, SQLite MLMD under one home dir."""

from __future__ import annotations

import datetime
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from absl import logging as absl_logging
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.compiler import compiler
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.dsl.compiler import constants as compiler_constants
from tfx.orchestration.portable import runtime_parameter_utils

from pipeline.local import patches as beam_tuning
from pipeline.config.schema import PipelineConfig
from pipeline.metadata import runs as mlmd_runs
from pipeline.paths import Home
from pipeline.logs import RedactingFilter
from pipeline.metadata.store import open_store, sqlite_config
from pipeline.dag.factory import Locations, create_pipeline

# Above this much input, Beam's multi-processing mode pays for its process start-up and pickling (measured:
# in-memory is faster on the 15k-row taxi CSV).
MULTI_PROCESSING_BYTES = 100 * 1024 * 1024


def data_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())


def beam_args(mode: str, data_dir: Path) -> list[str]:
    """DirectRunner arguments: in-process for small inputs, one process per core for large ones."""
    if mode == "auto":
        mode = "multi_processing" if data_bytes(data_dir) >= MULTI_PROCESSING_BYTES else "in_memory"
    if mode == "in_memory":
        return ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    if mode == "multi_processing":
        return ["--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count() or 1}"]
    raise ValueError(f"unknown Beam mode {mode!r}; use auto, in_memory or multi_processing")


@dataclass
class NodeEvent:
    node_id: str
    phase: str  # "start" | "finish" | "fail"
    state: str = ""  # ran | cached | failed (finish/fail only)
    seconds: float = 0.0


@dataclass
class RunResult:
    run_id: str
    pipeline_name: str
    home: Home
    connection: metadata_store_pb2.ConnectionConfig
    executions: dict[str, mlmd_runs.NodeExecution] = field(default_factory=dict)
    failed_node: Optional[str] = None
    error: Optional[BaseException] = None
    wall_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class _ProgressHandler(logging.Handler):
    """Turns LocalDagRunner's "Component X is running/finished" log records into NodeEvents."""

    def __init__(self, on_start: Callable[[str], None], on_finish: Callable[[str], None]):
        super().__init__(level=logging.INFO)
        self._on_start, self._on_finish = on_start, on_finish

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Component %s is running." and record.args:
            self._on_start(str(record.args[0]))
        elif record.msg == "Component %s is finished." and record.args:
            self._on_finish(str(record.args[0]))


def new_run_id() -> str:
    # The same format LocalDagRunner uses when it picks the id itself.
    return datetime.datetime.now().isoformat()


def run(
    cfg: PipelineConfig,
    home: Home,
    *,
    enable_cache: bool = True,
    beam_mode: str = "auto",
    on_event: Callable[[NodeEvent], None] = lambda e: None,
    connection: Optional[metadata_store_pb2.ConnectionConfig] = None,
    allow_anomalies: bool = False,
) -> RunResult:
    """Runs the whole pipeline once; never raises for a component failure (see RunResult.error)."""
    started = time.time()
    beam_tuning.apply()
    home.root.mkdir(parents=True, exist_ok=True)
    connection = connection or sqlite_config(home.metadata.resolve())
    where = Locations(
        data=str(cfg.data_dir),
        pipeline_root=str(home.pipeline_root.resolve()),
        serving_dir=str(home.serving.resolve()),
    )
    tfx_pipeline = create_pipeline(
        cfg,
        where,
        enable_cache=enable_cache,
        beam_pipeline_args=beam_args(beam_mode, cfg.data_dir),
        metadata_connection_config=connection,
        allow_anomalies=allow_anomalies,
    )
    ir = compiler.Compiler().compile(tfx_pipeline)
    run_id = new_run_id()
    runtime_parameter_utils.substitute_runtime_parameter(
        ir, {compiler_constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id}
    )
    result = RunResult(run_id=run_id, pipeline_name=cfg.name, home=home, connection=connection)

    started_at: dict[str, float] = {}
    current: list[str] = []

    def node_state(node_id: str) -> str:
        execution = mlmd_runs.node_executions(open_store(connection), cfg.name, run_id).get(node_id)
        if execution is None:
            return "ran"  # system nodes (the resolver) record no execution of their own
        return {"cached": "cached", "complete": "ran"}.get(execution.state, execution.state)

    def on_start(node_id: str) -> None:
        started_at[node_id] = time.time()
        current.append(node_id)
        on_event(NodeEvent(node_id, "start"))

    def on_finish(node_id: str) -> None:
        current.remove(node_id)
        on_event(NodeEvent(node_id, "finish", node_state(node_id), time.time() - started_at[node_id]))

    handler = _ProgressHandler(on_start, on_finish)
    redacting = RedactingFilter()
    absl_logger = logging.getLogger("absl")
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.addFilter(redacting)
    absl_logger.addHandler(handler)
    try:
        try:
            LocalDagRunner().run_with_ir(ir)
        except BaseException as err:  # a component failed or the user interrupted: report, keep the store
            result.error = err
            if current:
                result.failed_node = current[-1]
                on_event(NodeEvent(current[-1], "fail", "failed", time.time() - started_at[current[-1]]))
            if isinstance(err, KeyboardInterrupt):
                raise
            absl_logging.exception("pipeline run %s failed", run_id)
    finally:
        absl_logger.removeHandler(handler)
        absl_logger.removeFilter(redacting)
    result.executions = mlmd_runs.node_executions(open_store(connection), cfg.name, run_id)
    result.wall_seconds = time.time() - started
    return result
