"""Runs create_pipeline(cfg) on this machine: LocalDagRunner, Beam DirectRunner, SQLite MLMD under one home dir."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from absl import logging as absl_logging
from ml_metadata.proto import metadata_store_pb2
from tfx.orchestration import metadata as tfx_metadata

from pipeline.local import patches
from pipeline.config.schema import PipelineConfig
from pipeline.metadata import runs as mlmd_runs
from pipeline.paths import Home
from pipeline.logs import RedactingFilter
from pipeline.metadata.store import open_store
from pipeline.dag.factory import create_pipeline
from pipeline.dag.targets import LocalTarget, Locations

# The DirectRunner's arguments (shared with kubeflow/, which must not import this module's TFX runner).
from pipeline.local.beam import DEPENDENCIES_ARG, MULTI_PROCESSING_BYTES, beam_args, data_bytes  # noqa: E402,F401


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
    # The pipeline's shape as built ({"nodes": [ids], "edges": [[upstream, node], ...]}): the report draws the nodes a
    # failed run never started from it.
    dag: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def node_state(execution: Optional[mlmd_runs.NodeExecution]) -> str:
    """ran | cached | the MLMD state of a node that did neither (failed, canceled, ...)."""
    if execution is None:
        return "ran"  # system nodes (the resolver) record no execution of their own
    return {"cached": "cached", "complete": "ran"}.get(execution.state, execution.state)


class NodeProgress:
    """Node start/finish notices → NodeEvents, timed, with the finished node's state read by `execution_of`."""

    def __init__(
        self,
        on_event: Callable[[NodeEvent], None],
        execution_of: Callable[[str], Optional[mlmd_runs.NodeExecution]],
        clock: Callable[[], float] = time.time,
    ):
        self._on_event, self._execution_of, self._clock = on_event, execution_of, clock
        self._started_at: dict[str, float] = {}
        self.current: list[str] = []  # nodes started and not finished, in start order

    def start(self, node_id: str) -> None:
        self._started_at[node_id] = self._clock()
        self.current.append(node_id)
        self._on_event(NodeEvent(node_id, "start"))

    def finish(self, node_id: str) -> None:
        self.current.remove(node_id)
        state = node_state(self._execution_of(node_id))
        self._on_event(NodeEvent(node_id, "finish", state, self._clock() - self._started_at[node_id]))

    def fail(self) -> Optional[str]:
        """The run stopped: the node that was running failed (None when no node was running)."""
        if not self.current:
            return None
        node_id = self.current[-1]
        self._on_event(NodeEvent(node_id, "fail", "failed", self._clock() - self._started_at[node_id]))
        return node_id


def dag_shape(tfx_pipeline) -> dict:
    """{"nodes": node ids in the pipeline's order, "edges": [[upstream id, node id], ...]}."""
    nodes = [c.id for c in tfx_pipeline.components]
    edges = sorted([u.id, c.id] for c in tfx_pipeline.components for u in c.upstream_nodes)
    return {"nodes": nodes, "edges": edges}


def _auto_choice(cfg: PipelineConfig, connection: metadata_store_pb2.ConnectionConfig) -> Optional[dict]:
    """model.family auto (the Tuner picks the family itself when tuning): an earlier run's choice for this config."""
    if cfg.model.family != "auto" or cfg.tuning.enabled:
        return None
    from pipeline.dag.model_nodes import trainer_custom_config
    from pipeline.metadata.auto_choice import previous_choice

    return previous_choice(open_store(connection), cfg.name, trainer_custom_config(cfg))


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
    patches.apply()
    home.root.mkdir(parents=True, exist_ok=True)
    # TFX is loaded here anyway: its own config for the home's store (store.py builds the same for fast readers).
    connection = connection or tfx_metadata.sqlite_metadata_connection_config(str(home.metadata.resolve()))
    where = Locations(
        data=str(cfg.data_dir),
        pipeline_root=str(home.pipeline_root.resolve()),
        serving_dir=str(home.serving.resolve()),
    )
    target = LocalTarget(
        metadata_connection_config=connection,
        enable_cache=enable_cache,
        beam_pipeline_args=beam_args(beam_mode, cfg.data_dir),
        allow_anomalies=allow_anomalies,
        auto_choice=_auto_choice(cfg, connection) if enable_cache else None,  # --no-cache: score the candidates
    )
    tfx_pipeline = create_pipeline(cfg, where, target)
    run_id = patches.new_run_id()
    ir = patches.compile_ir(tfx_pipeline, run_id)
    result = RunResult(run_id=run_id, pipeline_name=cfg.name, home=home, connection=connection,
                       dag=dag_shape(tfx_pipeline))

    progress = NodeProgress(
        on_event, lambda node_id: mlmd_runs.node_executions(open_store(connection), cfg.name, run_id).get(node_id)
    )
    handler = patches.ProgressHandler(progress.start, progress.finish)
    redacting = RedactingFilter()
    absl_logger = logging.getLogger(patches.ABSL_LOGGER)
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.addFilter(redacting)
    absl_logger.addHandler(handler)
    try:
        try:
            patches.run_ir(ir)
        except BaseException as err:  # a component failed or the user interrupted: report, keep the store
            result.error = err
            result.failed_node = progress.fail()
            if isinstance(err, KeyboardInterrupt):
                raise
            absl_logging.exception("pipeline run %s failed", run_id)
    finally:
        absl_logger.removeHandler(handler)
        absl_logger.removeFilter(redacting)
    result.executions = mlmd_runs.node_executions(open_store(connection), cfg.name, run_id)
    if result.ok and not result.executions:
        raise patches.UpstreamChanged(
            "run-id", f"the run succeeded but ML Metadata holds no execution of run {run_id}: the bound id was not used"
        )
    result.wall_seconds = time.time() - started
    return result
