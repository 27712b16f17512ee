"""pipeline/local/patches.py: each fenced Beam/TFX internal is still what the patch was written against, the patched
weighing equals Beam's, and a one-node pipeline still reports progress and keeps the run id we bind.

These tests fail when apache-beam, objsize or tfx move: re-check the patches against the new versions, then update
CHECKED_AGAINST.
"""

# No `from __future__ import annotations`: TFX's @component reads the annotations of TouchNothing as types.
import importlib.metadata
import logging
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf
from apache_beam.runners.worker import statecache
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component

from pipeline.local import patches
from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.store import open_store, sqlite_config


def _upstream():
    """Beam's own get_deep_size, whether or not apply() has replaced it yet."""
    upstream = patches.beam_get_deep_size or statecache.get_deep_size
    assert upstream is not patches.get_deep_size
    return upstream


@pytest.mark.parametrize("dist", sorted(patches.CHECKED_AGAINST))
def test_installed_versions_are_the_ones_the_patches_were_checked_against(dist):
    assert importlib.metadata.version(dist) == patches.CHECKED_AGAINST[dist], (
        f"{dist} changed: re-check pipeline/local/patches.py against it, then update CHECKED_AGAINST"
    )


def test_beam_cache_weights_equal_beams_own():
    values = [
        {"a": list(range(1000)), "b": [tf, sys, np]},  # references to modules are not counted
        [1, 2, 3],
        "abc" * 100,
        {"t": tf.constant([1.0, 2.0])},
        np.arange(10_000, dtype=np.float64),
        (None, 1.5, b"bytes" * 50),
    ]
    for value in values:
        assert patches.get_deep_size(value) == _upstream()(value)


def test_beam_cache_weights_follow_newly_loaded_and_replaced_modules():
    first = types.ModuleType("tfx_e2e_test_module_a")
    first.big = list(range(5000))
    holder = {"m": first.__dict__}
    counted = patches.get_deep_size(holder)  # not loaded yet: its globals are counted
    assert counted > 5000
    sys.modules[first.__name__] = first
    try:
        # A module's globals dict is excluded as soon as the module is loaded, as in Beam's own function.
        assert patches.get_deep_size(holder) == _upstream()(holder) < 2000
        # One module removed and another loaded: the same count of modules, and still the right exclusions.
        second = types.ModuleType("tfx_e2e_test_module_b")
        second.big = list(range(5000))
        del sys.modules[first.__name__]
        sys.modules[second.__name__] = second
        both = {"a": first.__dict__, "b": second.__dict__}
        assert patches.get_deep_size(both) == _upstream()(both)
    finally:
        sys.modules.pop(first.__name__, None)
        sys.modules.pop("tfx_e2e_test_module_b", None)


def test_statecache_internals_are_present_and_checked():
    for name in patches.STATECACHE_PRIVATE_NAMES:
        assert callable(getattr(statecache, name)), name
    patches.check_statecache(_upstream())  # raises UpstreamChanged otherwise


def test_check_statecache_fails_loudly_when_beam_changes(monkeypatch):
    # Simulated upstream changes: each must stop the run with a message naming the patch, never pass silently.
    wrong = r"\[statecache\]: the cached weighing gives \d+ bytes where Beam's gives 8"
    with pytest.raises(patches.UpstreamChanged, match=wrong):
        patches.check_statecache(lambda *objs: 8)
    monkeypatch.delattr(statecache, "_filter_func")
    with pytest.raises(patches.UpstreamChanged, match=r"\[statecache\].*_filter_func.*apache-beam 2\.59\.0"):
        patches.check_statecache(_upstream())


def test_apply_installs_the_weighing_in_beam():
    patches.apply()
    patches.apply()  # idempotent
    assert statecache.get_deep_size is patches.get_deep_size


def _beam_dofn_specs():
    """Beam's own get_dofn_specs, whether or not apply() has replaced it yet."""
    from apache_beam.transforms import userstate

    upstream = patches.beam_get_dofn_specs or userstate.get_dofn_specs
    assert upstream is not patches.get_dofn_specs
    return upstream


def test_remembered_dofn_specs_equal_beams_and_are_fresh_sets():
    upstream = _beam_dofn_specs()
    plain, stateful, keeps, drops, mapped = patches._sample_dofns()
    assert patches._names(upstream(stateful)) == (("count",), ("ts-expiry",))
    assert patches._names(upstream(keeps)) == (("seen",), ()) and patches._names(upstream(drops)) == ((), ())
    for dofn in (plain, stateful, keeps, drops, mapped):
        first, second = patches.get_dofn_specs(dofn), patches.get_dofn_specs(dofn)
        assert patches._names(first) == patches._names(second) == patches._names(upstream(dofn))
        first[0].clear()  # a caller changing its answer does not change the next one
        assert patches._names(patches.get_dofn_specs(dofn)) == patches._names(upstream(dofn))
    # Two FlatMaps are one class (CallableWrapperDoFn); the bound method each holds keeps their answers apart.
    assert type(keeps) is type(drops) and patches._specs_key(keeps) != patches._specs_key(drops)


def test_dofn_specs_are_asked_of_beam_once_per_class(monkeypatch):
    calls = []
    upstream = _beam_dofn_specs()
    stateful = patches._sample_dofns()[1]  # (making the samples asks Beam too: before counting)
    again = type(stateful)()  # another instance of the same class
    monkeypatch.setattr(patches, "beam_get_dofn_specs", lambda dofn: calls.append(dofn) or upstream(dofn))
    monkeypatch.setattr(patches, "_specs", {})
    for dofn in (stateful, again, stateful):
        assert patches._names(patches.get_dofn_specs(dofn)) == (("count",), ("ts-expiry",))
    assert calls == [stateful]


def test_check_dofn_specs_fails_loudly_when_beam_changes(monkeypatch):
    from apache_beam.transforms import userstate

    monkeypatch.setattr(patches, "_specs", {})
    with pytest.raises(patches.UpstreamChanged, match=r"\[dofn-specs\]: the remembered specs of Stateful .* Beam's "
                                                     r"are \(\(\), \(\)\).*apache-beam 2\.59\.0"):
        patches.check_dofn_specs(lambda dofn: (set(), set()))  # Beam answering differently after the first time
    with pytest.raises(patches.UpstreamChanged, match=r"\[dofn-specs\]: userstate.get_dofn_specs takes \['fn'\]"):
        patches.check_dofn_specs(lambda fn: (set(), set()))
    monkeypatch.setattr(userstate, "is_stateful_dofn", lambda dofn: False)
    with pytest.raises(patches.UpstreamChanged, match=r"\[dofn-specs\]: userstate.is_stateful_dofn no longer call"):
        patches.check_dofn_specs(_beam_dofn_specs())


def test_apply_installs_the_remembered_dofn_specs_in_beam():
    from apache_beam.transforms import userstate

    patches.apply()
    assert userstate.get_dofn_specs is patches.get_dofn_specs
    assert patches.beam_get_dofn_specs.__module__ == "apache_beam.transforms.userstate"
    assert userstate.is_stateful_dofn(patches._sample_dofns()[1]) is True


def test_progress_templates_are_in_the_installed_tfx_source():
    from tfx.orchestration.local import local_dag_runner

    source = Path(local_dag_runner.__file__).read_text()
    assert f"logging.info('{patches.RUNNING}', node_id)" in source
    assert f"logging.info('{patches.FINISHED}', node_id)" in source
    patches.check_progress_records()


def test_progress_and_run_id_checks_fail_loudly_when_tfx_changes(monkeypatch):
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    def run_with_ir(self, pipeline, run_options=None):  # a TFX that no longer logs progress or binds the run id
        del pipeline, run_options

    monkeypatch.setattr(LocalDagRunner, "run_with_ir", run_with_ir)
    with pytest.raises(patches.UpstreamChanged, match=r"\[progress\]: .*'Component %s is running\.'"):
        patches.check_progress_records()
    with pytest.raises(patches.UpstreamChanged, match=r"\[run-id\]: .*no longer binds the run id"):
        patches.check_run_with_ir()

    def run_renamed(self, ir, options=None):
        del ir, options

    monkeypatch.setattr(LocalDagRunner, "run_with_ir", run_renamed)
    with pytest.raises(patches.UpstreamChanged, match=r"\[run-id\]: .*takes \['self', 'ir', 'options'\]"):
        patches.check_run_with_ir()


def test_progress_handler_turns_tfx_records_into_calls():
    calls = []
    handler = patches.ProgressHandler(lambda n: calls.append(("start", n)), lambda n: calls.append(("finish", n)))

    def record(msg, *args):
        return logging.LogRecord("absl", logging.INFO, __file__, 1, msg, args, None)

    for rec in (record(patches.RUNNING, "Trainer"), record("Component %s is skipped.", "X"),
                record("unrelated %s", "Trainer"), record(patches.FINISHED, "Trainer"), record(patches.RUNNING)):
        handler.handle(rec)
    assert calls == [("start", "Trainer"), ("finish", "Trainer")]


def test_run_with_ir_signature_and_run_id_binding_are_checked():
    patches.check_run_with_ir()


def test_new_run_ids_have_local_dag_runners_format():
    import datetime

    run_id = patches.new_run_id()
    assert datetime.datetime.fromisoformat(run_id)  # what LocalDagRunner itself would have chosen


@component
def TouchNothing(word: Parameter[str] = "hi") -> None:  # noqa: N802  (TFX names components like classes)
    """The smallest component: no inputs, no outputs, no Beam."""
    del word


def test_a_one_node_pipeline_reports_progress_and_keeps_our_run_id(tmp_path):
    from absl import logging as absl_logging
    from tfx.orchestration import pipeline as tfx_pipeline

    patches.apply()
    connection = sqlite_config(tmp_path / "metadata.sqlite")
    pipeline = tfx_pipeline.Pipeline(
        pipeline_name="one-node", pipeline_root=str(tmp_path / "root"), components=[TouchNothing()],
        metadata_connection_config=connection,
    )
    run_id = "run-id-chosen-by-tfx-e2e"
    ir = patches.compile_ir(pipeline, run_id)
    calls = []
    handler = patches.ProgressHandler(lambda n: calls.append(("start", n)), lambda n: calls.append(("finish", n)))
    absl_logger = logging.getLogger(patches.ABSL_LOGGER)
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.addHandler(handler)
    try:
        patches.run_ir(ir)
    finally:
        absl_logger.removeHandler(handler)
        absl_logging.set_verbosity(verbosity)
    assert calls == [("start", "TouchNothing"), ("finish", "TouchNothing")], "TFX no longer logs node progress"
    executions = mlmd_runs.node_executions(open_store(connection), "one-node", run_id)
    assert list(executions) == ["TouchNothing"], "the run was not recorded under the run id we bound"
    assert executions["TouchNothing"].state == "complete"
