"""Every private TFX and Beam internal the local runner relies on, fenced: checked by apply(), tested against upstream.

Checked against apache-beam 2.59.0 (with objsize 0.7.1) and tfx 1.16.0, the versions requirements.lock pins;
tests/unit/test_patches_local.py fails when those versions or the internals below change. apply() checks every
internal before the first run and raises UpstreamChanged (naming the patch and what changed) rather than run with
a patch that silently does nothing or the wrong thing. No public API gives the same result for any of them. The
module is longer than 300 lines because every fenced internal stays here, each beside the check that guards it:

1. Beam state-cache weights (replaces apache_beam.runners.worker.statecache.get_deep_size, process-wide).
   Beam weighs every value its state cache loads with `objsize.get_deep_size`, which first collects the id of
   every loaded module's globals dict so that they are not counted. With TensorFlow, TFX, TFT and TFMA loaded that
   is ~8,000 modules per call, and Transform and Evaluator load side inputs thousands of times: py-spy put 20-25 %
   of Transform's time in that scan (benchmarks/RESULTS.md). `get_deep_size` below computes the same size (Beam's
   own size, referents and filter functions, the same module globals excluded) but keeps the set of excluded ids
   between calls, rebuilding it only when the loaded modules change. It is installed in the process that runs
   the pipeline (in-memory Beam); Beam's multi-processing workers are separate interpreters and keep Beam's own.
   Beam offers no option to change the weighing (statecache has no hook; the weight only steers eviction).

2. Progress events from LocalDagRunner's log records. LocalDagRunner.run_with_ir logs "Component %s is running."
   and "Component %s is finished." around each node and offers no callback or listener; ProgressHandler turns
   those records (absl logger, INFO) into start/finish callbacks.

3. The run id. LocalDagRunner.run(pipeline) picks the run id itself (datetime.now().isoformat()) and neither takes
   nor returns it, and TFX's RunOptions carry no run id. To read the run's executions from ML Metadata while it
   runs, `compile_ir` compiles the pipeline and binds the run-id runtime parameter to an id we choose, and
   `run_ir` hands the IR to `LocalDagRunner.run_with_ir` (public name, but excluded from TFX's documentation),
   whose own substitution leaves an already-bound parameter alone. `run()` only adds, before compiling, pip
   dependencies of components that declare them (`_resolve_pip_dependencies`); no component here declares any.

4. Beam's DoFn state/timer specs, remembered (replaces apache_beam.transforms.userstate.get_dofn_specs,
   process-wide). Beam asks for a DoFn's state and timer specs each time it builds, translates or runs a ParDo,
   and every answer walks dir(dofn) and takes inspect.signature of each method: 7,520 calls and 7.5 CPU s in one
   taxi run on the 3,000-row sample, about a tenth of the run. The answer depends only on the methods, which
   come from the DoFn's class, except where an instance holds a bound method itself (Map(obj.method) wraps it in
   a CallableWrapperDoFn as `process`): `get_dofn_specs` below remembers Beam's answer per class and such
   instance methods, and hands out fresh sets. It is installed in the process that runs the pipeline; callers
   that imported the function by name (the old BundleBasedDirectRunner's transform_evaluator) keep Beam's.
   A DoFn class whose methods are replaced after its first use would get the answer for its old methods; no
   DoFn in Beam, TFX, TFT, TFDV or TFMA does that.

(TFX's ephemeral-sdist step needs no patch: pipeline.local.runner's Beam arguments name the workers' requirements,
and TFX's make_beam_dependency_flags then skips it; see beam.DEPENDENCIES_ARG.)
"""

from __future__ import annotations

import datetime
import inspect
import logging
import operator
import sys
import threading
import types
from typing import Any, Callable, Optional

CHECKED_AGAINST = {"apache-beam": "2.59.0", "objsize": "0.7.1", "tfx": "1.16.0"}

# LocalDagRunner.run_with_ir's log templates (tfx 1.16.0, tfx/orchestration/local/local_dag_runner.py).
RUNNING = "Component %s is running."
FINISHED = "Component %s is finished."
ABSL_LOGGER = "absl"  # absl.logging writes through this standard-library logger


class UpstreamChanged(RuntimeError):
    """A fenced internal of TFX or Beam is not what the patch was written against."""

    def __init__(self, patch: str, what: str):
        versions = ", ".join(f"{name} {version}" for name, version in CHECKED_AGAINST.items())
        super().__init__(
            f"pipeline.local.patches [{patch}]: {what}. The patch was checked against {versions}; "
            f"re-check it against the installed versions (tests/unit/test_patches_local.py)."
        )


# --- 1. Beam state-cache weights -------------------------------------------------------------------------------


class _ExcludedIds(frozenset):
    """The shared exclude set; objsize only ever adds id(None) to it, which is already in."""

    def add(self, item: int) -> None:
        if item not in self:
            raise UpstreamChanged("statecache", "objsize tried to extend the shared exclude set")


_lock = threading.Lock()
_excluded: frozenset = _ExcludedIds()
_modules_key: list = []  # the loaded modules the exclude set was built from, in sys.modules' order
_excluded_dicts: list = []  # keeps every excluded id's object alive (see _module_globals_ids)


def _loaded_modules_key() -> list:
    """The loaded modules in sys.modules' order: unequal to the last key whenever a module is added, removed or
    replaced under the same name. Comparing two such lists is one identity check per module, about half the cost of
    summing the modules' ids (the key this replaces). A key made of the count and the last
    entry missed a module replaced in the middle of sys.modules, leaving the freed globals dict's id in the exclude
    set, where a new object at that address was then not counted."""
    return list(sys.modules.values())


def _module_globals_ids() -> frozenset:
    global _excluded, _modules_key
    with _lock:
        key = _loaded_modules_key()
        if len(key) != len(_modules_key) or any(map(operator.is_not, key, _modules_key)):
            ids = {id(None)}
            # The dicts themselves are kept alive with the set: an entry of sys.modules that is not a module may
            # hand out a fresh dict from vars() each time, and once freed its id would be reused by new objects,
            # which would then weigh nothing.
            dicts = []
            for module in list(sys.modules.values()):
                try:
                    dicts.append(vars(module))
                except TypeError:
                    pass
            ids.update(id(d) for d in dicts)
            _excluded, _modules_key, _excluded_dicts[:] = _ExcludedIds(ids), key, dicts
        return _excluded


def get_deep_size(*objs: Any) -> int:
    """Beam's statecache.get_deep_size, with the module-globals exclude set kept between calls."""
    import objsize
    from apache_beam.runners.worker import statecache

    return objsize.get_deep_size(
        *objs,
        exclude_set=_module_globals_ids(),
        exclude_modules_globals=False,
        get_size_func=statecache._size_func,  # pylint: disable=protected-access
        get_referents_func=statecache._get_referents_func,  # pylint: disable=protected-access
        filter_func=statecache._filter_func,  # pylint: disable=protected-access
    )


STATECACHE_PRIVATE_NAMES = ("_size_func", "_get_referents_func", "_filter_func")
OBJSIZE_KEYWORDS = ("exclude_set", "exclude_modules_globals", "get_size_func", "get_referents_func", "filter_func")


def _sample_values() -> list:
    return [{"a": list(range(100)), "b": [sys, "text" * 10]}, (None, 1.5, b"bytes" * 20), [1, 2, 3]]


def check_statecache(upstream: Callable[..., int]) -> None:
    """The private names get_deep_size reads exist, objsize takes its keywords, and it weighs as `upstream` does."""
    import objsize
    from apache_beam.runners.worker import statecache

    missing = [name for name in STATECACHE_PRIVATE_NAMES if not callable(getattr(statecache, name, None))]
    if missing:
        raise UpstreamChanged("statecache", f"apache_beam.runners.worker.statecache no longer has {missing}")
    parameters = inspect.signature(objsize.get_deep_size).parameters
    absent = [name for name in OBJSIZE_KEYWORDS if name not in parameters]
    if absent:
        raise UpstreamChanged("statecache", f"objsize.get_deep_size no longer takes {absent}")
    callers = [
        name for name in ("get", "put") if "get_deep_size" in getattr(statecache.StateCache, name).__code__.co_names
    ]
    if callers != ["get", "put"]:
        raise UpstreamChanged(
            "statecache", f"StateCache.get/put no longer weigh values with the module's get_deep_size (only {callers})"
        )
    for value in _sample_values():
        ours, theirs = get_deep_size(value), upstream(value)
        if ours != theirs:
            raise UpstreamChanged(
                "statecache", f"the cached weighing gives {ours} bytes where Beam's gives {theirs} for {value!r:.60}"
            )


# --- 2. Progress events from LocalDagRunner's log records --------------------------------------------------------


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


# --- 3. The run id ------------------------------------------------------------------------------------------------


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


# --- 4. Beam's DoFn state/timer specs, remembered ---------------------------------------------------------------

_specs_lock = threading.Lock()
_specs: dict = {}  # (DoFn class, ((name, function) of instance-held bound methods)) → (state specs, timer specs)
beam_get_dofn_specs: Optional[Callable[[Any], tuple]] = None  # Beam's own function, once apply() has replaced it


def _specs_key(dofn: Any) -> Optional[tuple]:
    try:
        own = vars(dofn)
    except TypeError:  # no __dict__: nothing to key on but the class, which may not be all; do not remember
        return None
    held = tuple(sorted((name, value.__func__) for name, value in own.items() if isinstance(value, types.MethodType)))
    return type(dofn), held


def get_dofn_specs(dofn: Any) -> tuple:
    """Beam's userstate.get_dofn_specs, remembered per DoFn class (and instance-held bound methods)."""
    from apache_beam.transforms import userstate

    upstream = beam_get_dofn_specs or userstate.get_dofn_specs
    key = _specs_key(dofn)
    if key is None:
        return upstream(dofn)
    with _specs_lock:
        known = _specs.get(key)
    if known is None:
        state, timers = upstream(dofn)  # raises, as Beam does, for an invalid DoFn: nothing is remembered then
        known = (frozenset(state), frozenset(timers))
        with _specs_lock:
            _specs[key] = known
    return set(known[0]), set(known[1])


DOFN_SPECS_CALLERS = ("is_stateful_dofn", "validate_stateful_dofn")


def _sample_dofns() -> list:
    """DoFns whose specs differ: plain, with user state and a timer, FlatMaps over bound methods with and without
    state, a Map."""
    import apache_beam as beam
    from apache_beam.coders import VarIntCoder
    from apache_beam.transforms import userstate
    from apache_beam.transforms.timeutil import TimeDomain

    class Plain(beam.DoFn):
        def process(self, element):
            yield element

    class Stateful(beam.DoFn):
        COUNT = userstate.ReadModifyWriteStateSpec("count", VarIntCoder())
        EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

        def process(self, element, count=beam.DoFn.StateParam(COUNT), expiry=beam.DoFn.TimerParam(EXPIRY)):
            yield element

        @userstate.on_timer(EXPIRY)
        def expired(self, count=beam.DoFn.StateParam(COUNT)):
            return []

    class Holder:
        SEEN = userstate.BagStateSpec("seen", VarIntCoder())

        def keep(self, element, seen=beam.DoFn.StateParam(SEEN)):
            return [element]

        def drop(self, element):
            return []

    # FlatMap over a bound method: a CallableWrapperDoFn holding it as `process`; same class, other specs.
    return [Plain(), Stateful(), beam.FlatMap(Holder().keep).fn, beam.FlatMap(Holder().drop).fn, beam.Map(len).fn]


def _names(specs: tuple) -> tuple:
    return tuple(sorted(spec.name for spec in specs[0])), tuple(sorted(spec.name for spec in specs[1]))


def check_dofn_specs(upstream: Callable[[Any], tuple]) -> None:
    """Beam's callers still reach the function through the module, and the remembered answers equal Beam's."""
    from apache_beam.transforms import userstate

    parameters = list(inspect.signature(upstream).parameters)
    if parameters != ["dofn"]:
        raise UpstreamChanged("dofn-specs", f"userstate.get_dofn_specs takes {parameters}, not (dofn)")
    lost = [name for name in DOFN_SPECS_CALLERS
            if "get_dofn_specs" not in getattr(getattr(userstate, name, None), "__code__", types.SimpleNamespace(
                co_names=())).co_names]
    if lost:
        raise UpstreamChanged("dofn-specs", f"userstate.{'/'.join(lost)} no longer call get_dofn_specs")
    for dofn in _sample_dofns():
        for _ in range(2):  # the first answer is Beam's, the second the remembered one
            ours, theirs = _names(get_dofn_specs(dofn)), _names(upstream(dofn))
            if ours != theirs:
                raise UpstreamChanged("dofn-specs", f"the remembered specs of {type(dofn).__name__} are {ours} where "
                                      f"Beam's are {theirs}")


# --- apply --------------------------------------------------------------------------------------------------------

_applied = False
beam_get_deep_size: Optional[Callable[..., int]] = None  # Beam's own function, once apply() has replaced it


def apply() -> None:
    """Checks every fenced internal, then installs the state-cache weighing and the remembered DoFn specs
    (idempotent)."""
    global _applied, beam_get_deep_size, beam_get_dofn_specs
    if _applied:
        return
    from apache_beam.runners.worker import statecache

    upstream = getattr(statecache, "get_deep_size", None)
    if upstream is None:
        raise UpstreamChanged("statecache", "apache_beam.runners.worker.statecache has no get_deep_size")
    check_statecache(upstream)
    check_progress_records()
    check_run_with_ir()
    from apache_beam.transforms import userstate

    specs_upstream = getattr(userstate, "get_dofn_specs", None)
    if specs_upstream is None:
        raise UpstreamChanged("dofn-specs", "apache_beam.transforms.userstate has no get_dofn_specs")
    check_dofn_specs(specs_upstream)
    beam_get_deep_size, beam_get_dofn_specs = upstream, specs_upstream
    statecache.get_deep_size = get_deep_size
    userstate.get_dofn_specs = get_dofn_specs
    _applied = True
