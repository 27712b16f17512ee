"""Measured fixes for running TFX's Beam components on this machine (applied by pipeline.local_runner).

1. No ephemeral TFX package. Before every Beam-based component (ExampleGen, StatisticsGen, Transform, Evaluator)
   TFX's BaseBeamExecutor calls dependency_utils.make_beam_dependency_flags, which copies the whole installed tfx
   package to a new temp dir and runs `python setup.py sdist` on it, so that remote workers (Dataflow) can
   install it as --extra_package. The DirectRunner never installs it: its workers are this process or local
   processes of the same interpreter. That was ~2 s per component (8 s of the taxi run) and a full copy of tfx
   left in /tmp per component per run. Locally the Beam arguments are used as given.

2. State-cache weights without re-scanning sys.modules (below).

Beam 2.59's state cache (apache_beam.runners.worker.statecache) weighs every value it loads with
`objsize.get_deep_size`, which first collects the id of every loaded module's globals dict so that they are not
counted. With TensorFlow, TFX, TFT and TFMA loaded that is ~9,000 modules per call, and Transform and Evaluator
load side inputs thousands of times: py-spy put 20-25 % of Transform's time in that scan (benchmarks/RESULTS.md).
`get_deep_size` below computes the same size (same size, referents and filter functions, same module globals
excluded) but keeps the set of excluded ids between calls, rebuilding it only when the set of loaded modules
changes. It is applied in the process that runs the pipeline (in-memory Beam); Beam's multi-processing workers
are separate interpreters and keep Beam's own function.
"""

from __future__ import annotations

import sys
import threading



class _ExcludedIds(frozenset):
    """The shared exclude set; objsize only ever adds id(None) to it, which is already in."""

    def add(self, item: int) -> None:
        if item not in self:
            raise RuntimeError("objsize tried to extend the shared exclude set")


_lock = threading.Lock()
_excluded: frozenset = _ExcludedIds()
_modules_seen = -1
_applied = False


def _module_globals_ids() -> frozenset:
    global _excluded, _modules_seen
    with _lock:
        if len(sys.modules) != _modules_seen:
            ids = {id(None)}
            for module in list(sys.modules.values()):
                try:
                    ids.add(id(vars(module)))
                except TypeError:
                    pass
            _excluded, _modules_seen = _ExcludedIds(ids), len(sys.modules)
        return _excluded


def get_deep_size(*objs) -> int:
    import objsize
    from apache_beam.runners.worker import statecache

    return objsize.get_deep_size(
        *objs,
        exclude_set=_module_globals_ids(),
        exclude_modules_globals=False,
        get_size_func=statecache._size_func,
        get_referents_func=statecache._get_referents_func,
        filter_func=statecache._filter_func,
    )


def beam_args_as_given(beam_pipeline_args):
    """Replaces TFX's make_beam_dependency_flags for local runs: no ephemeral sdist (see the module docstring)."""
    return list(beam_pipeline_args)


def apply() -> None:
    """Installs both fixes (idempotent)."""
    global _applied
    if _applied:
        return
    from apache_beam.runners.worker import statecache
    from tfx.utils import dependency_utils

    statecache.get_deep_size = get_deep_size
    dependency_utils.make_beam_dependency_flags = beam_args_as_given
    _applied = True
