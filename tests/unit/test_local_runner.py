"""pipeline/local/runner.py apart from a whole run: the Beam arguments (mode choice, and the dependency argument
that makes TFX skip its ephemeral sdist), the node progress events and node states.

(Whole runs: tests/e2e; the LocalDagRunner internals the runner relies on: test_patches_local.py.)
"""

from __future__ import annotations

import logging
import os
import tempfile

import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from pipeline.local import patches
from pipeline.local import runner
from pipeline.local.runner import NodeEvent, NodeProgress
from pipeline.metadata.runs import NodeExecution
from pipeline.paths import PROJECT_ROOT


@pytest.fixture()
def small_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "data.csv").write_text("a,b\n1,2\n")
    return data


@pytest.fixture()
def large_data(tmp_path):
    """A sparse file as large as the threshold: no disk space used."""
    data = tmp_path / "large"
    (data / "part").mkdir(parents=True)
    with open(data / "part" / "data.csv", "wb") as f:
        f.truncate(runner.MULTI_PROCESSING_BYTES)
    return data


def test_auto_runs_small_inputs_in_memory_and_large_ones_on_every_core(small_data, large_data):
    assert runner.beam_args("auto", small_data) == runner.beam_args("in_memory", small_data)
    assert runner.beam_args("auto", large_data) == runner.beam_args("multi_processing", large_data)
    assert runner.data_bytes(large_data) == runner.MULTI_PROCESSING_BYTES


def test_each_mode_names_its_direct_runner_settings(small_data):
    assert runner.beam_args("in_memory", small_data)[:2] == [
        "--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert runner.beam_args("multi_processing", small_data)[:2] == [
        "--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count() or 1}"]
    with pytest.raises(ValueError, match="unknown Beam mode 'dataflow'; use auto, in_memory or multi_processing"):
        runner.beam_args("dataflow", small_data)


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_every_mode_names_the_workers_requirements(small_data, mode):
    args = runner.beam_args(mode, small_data)
    assert runner.DEPENDENCIES_ARG in args
    # What it names exists: the lock file the environment (and so every DirectRunner worker) was installed from.
    assert (PROJECT_ROOT / runner.DEPENDENCIES_ARG.split("=", 1)[1]).is_file()


def test_tfx_skips_its_ephemeral_sdist_for_our_beam_args(small_data, monkeypatch):
    """TFX's public rule, unpatched: Beam args naming the dependencies are used as given, nothing is copied."""
    from tfx.utils import dependency_utils

    made = []
    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr(tempfile, "mkdtemp", lambda *a, **k: made.append(a) or real_mkdtemp(*a, **k))
    for mode in ("in_memory", "multi_processing"):
        args = runner.beam_args(mode, small_data)
        assert dependency_utils.make_beam_dependency_flags(args) == args
    assert made == []  # no copy of the tfx package was made
    assert not hasattr(dependency_utils.make_beam_dependency_flags, "__wrapped__")


def _no_op_beam_executor_class():
    from tfx.dsl.components.base import base_beam_executor

    class _NoOp(base_beam_executor.BaseBeamExecutor):
        def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802  (TFX's name)
            return None

    _NoOp.__qualname__ = "_NoOpBeamExecutor"  # TFX wants a module-level name
    return _NoOp


_NoOpBeamExecutor = _no_op_beam_executor_class()


def test_a_beam_executor_gets_our_args_without_an_extra_package(small_data, tmp_path):
    from tfx.dsl.components.base import base_beam_executor

    args = runner.beam_args("in_memory", small_data)
    executor_tmp = tmp_path / "executor_tmp"
    executor_tmp.mkdir()
    context = base_beam_executor.BaseBeamExecutor.Context(beam_pipeline_args=list(args), tmp_dir=str(executor_tmp))
    executor = _NoOpBeamExecutor(context=context)
    given = executor._beam_pipeline_args  # pylint: disable=protected-access  (what Beam will be given)
    assert given[: len(args)] == args  # then TFX's telemetry --labels
    assert not any(a.startswith("--extra_package") for a in given)
    assert list(executor_tmp.iterdir()) == []


def _execution(state: str) -> NodeExecution:
    return NodeExecution(node_id="Trainer", execution_id=7, state=state, started_ms=0, finished_ms=1, outputs={})


@pytest.mark.parametrize(
    "execution, state",
    [(None, "ran"), (_execution("complete"), "ran"), (_execution("cached"), "cached"),
     (_execution("failed"), "failed"), (_execution("canceled"), "canceled")],
)
def test_node_state(execution, state):
    assert runner.node_state(execution) == state


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_tfx_records_become_timed_node_events_with_their_state():
    events, clock = [], _Clock()
    executions = {"CsvExampleGen": _execution("cached"), "Trainer": _execution("complete")}
    progress = NodeProgress(events.append, executions.get, clock)
    handler = patches.ProgressHandler(progress.start, progress.finish)

    def log(template, node_id):
        handler.handle(logging.LogRecord("absl", logging.INFO, __file__, 1, template, (node_id,), None))

    log(patches.RUNNING, "CsvExampleGen")
    clock.now += 1.5
    log(patches.FINISHED, "CsvExampleGen")
    log(patches.RUNNING, "latest_blessed_model_resolver")
    log(patches.FINISHED, "latest_blessed_model_resolver")  # a system node: no execution of its own
    log(patches.RUNNING, "Trainer")
    clock.now += 10
    log(patches.FINISHED, "Trainer")
    assert events == [
        NodeEvent("CsvExampleGen", "start"),
        NodeEvent("CsvExampleGen", "finish", "cached", 1.5),
        NodeEvent("latest_blessed_model_resolver", "start"),
        NodeEvent("latest_blessed_model_resolver", "finish", "ran", 0.0),
        NodeEvent("Trainer", "start"),
        NodeEvent("Trainer", "finish", "ran", 10.0),
    ]
    assert progress.current == [] and progress.fail() is None and len(events) == 6


def test_a_failure_is_charged_to_the_running_node():
    events, clock = [], _Clock()
    progress = NodeProgress(events.append, {}.get, clock)
    progress.start("Transform")
    clock.now += 3
    assert progress.fail() == "Transform"
    assert events[-1] == NodeEvent("Transform", "fail", "failed", 3.0)


def test_the_recorded_dag_shape_is_the_pipelines(tmp_path):
    """The report draws a failed run's unstarted nodes from this shape (pipeline/report/model.py)."""
    from ml_metadata.proto import metadata_store_pb2

    from pipeline.config.loader import load_config
    from pipeline.dag import node_ids
    from pipeline.dag.factory import create_pipeline
    from pipeline.dag.targets import LocalTarget, Locations

    cfg = load_config("taxi")
    target = LocalTarget(metadata_connection_config=metadata_store_pb2.ConnectionConfig(), enable_cache=True,
                         beam_pipeline_args=[], allow_anomalies=False)
    where = Locations(data=str(cfg.data_dir), pipeline_root=str(tmp_path / "root"), serving_dir=str(tmp_path / "s"))
    shape = runner.dag_shape(create_pipeline(cfg, where, target))
    assert shape["nodes"][0] == node_ids.EXAMPLE_GEN and node_ids.PUSHER in shape["nodes"]
    assert [node_ids.TRAINER, node_ids.EVALUATOR] in shape["edges"]
    assert [node_ids.EVALUATOR, node_ids.PUSHER] in shape["edges"]
    assert all(a in shape["nodes"] and b in shape["nodes"] for a, b in shape["edges"])
