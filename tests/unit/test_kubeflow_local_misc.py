"""The smaller parts of the local runner (kubeflow/local/): the gs:// mirror, the preflight checks of executors, the
Beam running mode, a task's log and environment, the warm-process choice, the summary lines; and the CLI's refusals
of local-only flags with a cloud target and of --dry-run with --target local (real `python -m cli` processes).

Tasks come from the hand-written job testdata/kfp_local/small_job.json, read by spec.load."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kubeflow.local import beam_mode, preflight
from kubeflow.local.errors import LocalRunError
from kubeflow.local.executor_input import Artifact, TaskOutputs
from kubeflow.local.mirror import GcsMirror
from kubeflow.local.runner import FAILED_STATE, FROM_CACHE, NOT_RUN, RAN, LocalOptions, LocalResult, LocalRun, TaskResult
from kubeflow.local.spec import CONTAINER, IMPORTER, RESOLVER, load
from kubeflow.local.summary import lines
from kubeflow.local.task_env import DOCKERFILE, image_env
from kubeflow.local.task_process import last_error_line
from kubeflow.local.warm import WarmPool, warm_module
from pipeline.local.beam import MULTI_PROCESSING_BYTES
from pipeline.paths import PROJECT_ROOT
from tests import support

SMALL = Path(__file__).parent / "testdata" / "kfp_local" / "small_job.json"


@pytest.fixture
def job():
    return load(SMALL)


# -- mirror ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def mirror(tmp_path):
    return GcsMirror(tmp_path / "gcs")


def test_a_gs_location_maps_under_the_mirror_and_back(mirror, tmp_path):
    local = mirror.local("gs://bucket/root/job-1/Trainer/model")
    assert local == str(tmp_path / "gcs" / "bucket" / "root" / "job-1" / "Trainer" / "model")
    assert mirror.cloud(local) == "gs://bucket/root/job-1/Trainer/model"


@pytest.mark.parametrize("uri, parts", [("gs://bucket", ("bucket",)), ("gs://bucket/", ("bucket",)),
                                        ("gs://my-bucket.example_1/a/", ("my-bucket.example_1", "a"))])
def test_a_bucket_only_uri_and_a_trailing_slash_map_to_the_directory(mirror, tmp_path, uri, parts):
    assert mirror.local(uri) == str(tmp_path.joinpath("gcs", *parts))


@pytest.mark.parametrize("path", ["/data/taxi", "relative/dir", "s3://bucket/x", "gs:/bucket/x", ""])
def test_other_locations_are_unchanged(mirror, path):
    assert mirror.local(path) == path
    assert mirror.localize_text(json.dumps({"p": path})) == json.dumps({"p": path})


def test_paths_outside_the_mirror_stay_local(mirror, tmp_path):
    assert mirror.cloud(str(tmp_path / "elsewhere" / "x")) == str(tmp_path / "elsewhere" / "x")
    assert mirror.cloud(str(tmp_path / "gcs")) == str(tmp_path / "gcs")  # the mirror itself names no bucket
    assert mirror.cloud(str(tmp_path / "gcs-other" / "b")) == str(tmp_path / "gcs-other" / "b")


def test_every_location_inside_json_text_round_trips(mirror, tmp_path):
    document = {"filesystem": {"base_directory": "gs://b/serving/taxi"},
                "uris": ["gs://b/root/j/T/model", "gs://b"], "other": "/data/x", "n": 1}
    local_text = mirror.localize_text(json.dumps(document))
    local = json.loads(local_text)
    assert local["filesystem"]["base_directory"] == str(tmp_path / "gcs" / "b" / "serving" / "taxi")
    assert local["uris"] == [str(tmp_path / "gcs" / "b" / "root" / "j" / "T" / "model"), str(tmp_path / "gcs" / "b")]
    assert local["other"] == "/data/x" and local["n"] == 1
    assert "gs://" not in local_text
    assert json.loads(mirror.cloudify_text(local_text))["filesystem"] == document["filesystem"]
    assert json.loads(mirror.cloudify_text(local_text))["uris"][0] == "gs://b/root/j/T/model"


def test_locations_inside_json_encoded_json_round_trip(mirror, tmp_path):
    """A custom config is a JSON string inside the ExecutorInput JSON: its quotes are escaped."""
    inner = json.dumps({"filesystem": {"base_directory": "gs://b/serving/taxi"}})
    text = json.dumps({"parameterValues": {"push_destination": inner}})
    local = mirror.localize_text(text)
    assert json.loads(json.loads(local)["parameterValues"]["push_destination"]) == {
        "filesystem": {"base_directory": str(tmp_path / "gcs" / "b" / "serving" / "taxi")}}
    assert mirror.cloudify_text(local) == text


def test_locations_in_lists_each_gs_location_once_in_order(mirror):
    text = 'a gs://b/root/ and "gs://b/data/x", gs://b/root then gs://c'
    assert mirror.locations_in(text) == ["gs://b/root", "gs://b/data/x", "gs://c"]


# -- preflight -------------------------------------------------------------------------------------------------------
def _set_class(job, task: str, class_path: str) -> None:
    args = job.tasks[task].executor.container.args
    args[list(args).index("--executor_class_path") + 1] = class_path


def test_the_small_jobs_real_executor_classes_pass(job):
    preflight.check(job)  # raises on any problem
    preflight.check_executor_class("Train", "components.tagged_trainer.executor.Executor")


@pytest.mark.parametrize("class_path, problem", [
    ("no_such_package.trainer.Executor", r"no module 'no_such_package\.trainer' is installed here"),
    ("components.tagged_trainer.executor.NoSuchExecutor",
     r"\S*/components/tagged_trainer/executor\.py defines no 'NoSuchExecutor'; correct the class path"),
    ("Executor", r"no module 'Executor' is installed here"),
])
def test_an_executor_class_that_does_not_exist_is_refused(job, class_path, problem):
    _set_class(job, "Train", class_path)
    with pytest.raises(LocalRunError, match=rf"^task Train names executor class '{class_path}', but {problem}"):
        preflight.check(job)


@pytest.mark.parametrize("class_path, why", [
    ("tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor", "calls Vertex AI"),
    ("tfx.extensions.google_cloud_big_query.example_gen.executor.Executor", "reads from BigQuery"),
])
def test_a_cloud_service_executor_is_refused_with_how_to_compile_for_here(job, class_path, why):
    _set_class(job, "Train", class_path)
    with pytest.raises(LocalRunError) as raised:
        preflight.check(job)
    message = str(raised.value)
    assert message.startswith(f"task Train cannot run on this machine: its executor {class_path} {why}")
    assert "compile without --vertex-training, --vertex-endpoint and --beam-runner dataflow" in message
    assert "--replica-count" in message and "not supported locally" in message


def test_a_beam_pipeline_on_dataflow_is_refused(job):
    job.tasks["Gen"].executor.container.args.append("--runner=DataflowRunner")
    with pytest.raises(LocalRunError, match=r"^task Gen cannot run on this machine: its Beam pipeline runs on Dataflow; "
                                            r"compile without"):
        preflight.check(job)


def test_preflight_imports_no_executor():
    """The classes are found on disk: checking them imports neither TensorFlow nor TFX (a fresh process, as this
    one may have imported them for another test)."""
    code = ("import sys; from kubeflow.local import preflight; from kubeflow.local.spec import load; "
            f"preflight.check(load({str(SMALL)!r})); "
            "print(sorted(m for m in ('tensorflow', 'tfx', 'components.tagged_trainer.executor') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- beam mode ---------------------------------------------------------------------------------------------------------
COMPILED_ARGS = ["--executor_class_path", "x.Executor", "--json_serialized_invocation_args", "{{$}}",
                 "--direct_running_mode=multi_processing", "--direct_num_workers=0", "--requirements_file=r.lock"]


def test_in_memory_rewrites_the_mode_and_uses_one_worker():
    assert beam_mode.rewrite(COMPILED_ARGS, beam_mode.IN_MEMORY) == [
        "--executor_class_path", "x.Executor", "--json_serialized_invocation_args", "{{$}}",
        "--direct_running_mode=in_memory", "--direct_num_workers=1", "--requirements_file=r.lock"]


def test_multi_processing_keeps_the_compiled_worker_count():
    assert beam_mode.rewrite(COMPILED_ARGS, beam_mode.MULTI_PROCESSING) == COMPILED_ARGS
    in_memory_args = beam_mode.rewrite(COMPILED_ARGS, beam_mode.IN_MEMORY)
    assert beam_mode.rewrite(in_memory_args, beam_mode.MULTI_PROCESSING)[4:6] == [
        "--direct_running_mode=multi_processing", "--direct_num_workers=1"]


def test_no_mode_or_no_direct_runner_leaves_the_arguments_alone():
    assert beam_mode.rewrite(COMPILED_ARGS, None) == COMPILED_ARGS
    plain = ["--executor_class_path", "x.Executor", "--direct_num_workers=0"]
    assert beam_mode.rewrite(plain, beam_mode.IN_MEMORY) == plain


@pytest.fixture
def small_dir(tmp_path):
    support.write_csv(tmp_path / "small", ["a", "b"], [["1", "2"]])
    return tmp_path / "small"


@pytest.fixture
def big_dir(tmp_path):
    """A sparse file as large as the threshold: no disk space used."""
    (tmp_path / "big" / "part").mkdir(parents=True)
    with open(tmp_path / "big" / "part" / "data.csv", "wb") as f:
        f.truncate(MULTI_PROCESSING_BYTES)
    return tmp_path / "big"


def test_auto_runs_a_small_local_input_in_memory(small_dir):
    mode, why = beam_mode.choose(beam_mode.AUTO, {"data-root": str(small_dir), "steps": 5})
    assert mode == beam_mode.IN_MEMORY
    assert why.startswith("in_memory, as tfx-e2e run chooses for 0.0 MB of local input (under 100 MB)")


def test_auto_keeps_the_compiled_mode_for_a_big_local_input(big_dir):
    mode, why = beam_mode.choose(beam_mode.AUTO, {"data-root": str(big_dir)})
    assert mode is None
    assert why == "as compiled: the local input is 105 MB, at least 100 MB"


def test_as_compiled_and_explicit_modes_ignore_the_input_size(small_dir, big_dir):
    assert beam_mode.choose(beam_mode.AS_COMPILED, {"data-root": str(small_dir)}) == (
        None, "as compiled (--beam-mode as-compiled)")
    assert beam_mode.choose(beam_mode.IN_MEMORY, {"data-root": str(big_dir)}) == (
        beam_mode.IN_MEMORY, "--beam-mode in_memory")
    assert beam_mode.choose(beam_mode.MULTI_PROCESSING, {"data-root": str(small_dir)}) == (
        beam_mode.MULTI_PROCESSING, "--beam-mode multi_processing")


def test_auto_measures_the_input_the_job_reads_from_the_gcs_mirror(job, tmp_path):
    """Without --param, data-root stays gs://bucket/data/small: the tasks read <mirror>/bucket/data/small, and that
    directory's size decides, as a local directory given with --param would."""
    data = tmp_path / "work" / "gcs" / "bucket" / "data" / "small"
    data.mkdir(parents=True)
    with open(data / "data.csv", "wb") as f:
        f.truncate(MULTI_PROCESSING_BYTES)
    run = LocalRun(job, LocalOptions(workdir=tmp_path / "work", warm=False), lambda line: None)
    assert run.running_mode is None, run.beam_note


# -- a task's process: its log's last error line, the image's environment, warm processes -----------------------------
TRACEBACK_LOG = """$ python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor --executor_class_path x
INFO:absl:Running executor for Trainer
WARNING:absl:an ErrorHandler warning that is not the error
Traceback (most recent call last):
  File "/work/main/components/tagged_trainer/executor.py", line 40, in Do
    raise ValueError("label column 'tips' is missing")
  File "<string>", line 1, in <module>
ValueError: label column 'tips' is missing
I1130 12:00:00.000000 140000 cleanup.cc:10] shutting down
"""


def test_the_last_error_line_is_the_tracebacks_exception(tmp_path):
    log = tmp_path / "Trainer.log"
    log.write_text(TRACEBACK_LOG)
    assert last_error_line(log) == "ValueError: label column 'tips' is missing"


def test_a_qualified_exception_name_is_an_error_line(tmp_path):
    log = tmp_path / "t.log"
    log.write_text("Traceback (most recent call last):\n  File \"x\", line 1\n"
                   "tensorflow.python.framework.errors_impl.NotFoundError: gs://b/x; No such file\nbye\n")
    assert last_error_line(log) == "tensorflow.python.framework.errors_impl.NotFoundError: gs://b/x; No such file"


def test_a_log_without_an_exception_or_no_log_has_no_error_line(tmp_path):
    log = tmp_path / "ok.log"
    log.write_text("INFO:absl:all good\nsome Error word in the middle\n")
    assert last_error_line(log) is None
    assert last_error_line(tmp_path / "missing.log") is None


def test_image_env_reads_the_dockerfiles_env_lines(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.10-slim\n# ENV COMMENTED=1\nENV A_B=1\n  ENV PATH_X=/opt/x:/bin  \n"
                          "RUN echo ENV NOT=this\nWORKDIR /app\n")
    assert image_env(dockerfile) == {"A_B": "1", "PATH_X": "/opt/x:/bin"}


def test_image_env_of_the_projects_dockerfile():
    env = image_env()
    assert env == {name: value for name, value in (line.split()[1].split("=", 1) for line in
                   DOCKERFILE.read_text().splitlines() if line.startswith("ENV "))}
    assert env["TF_USE_LEGACY_KERAS"] == "1"  # what the tasks' Keras needs, as in the image


@pytest.mark.parametrize("command", [["python", "-m", "tfx.orchestration.x"], ["python3", "-m", "tfx.orchestration.x"]])
def test_a_python_m_command_of_this_venv_runs_in_a_warm_process(command):
    assert warm_module(command, {}) == "tfx.orchestration.x"


@pytest.mark.parametrize("command, env", [
    (["python", "-m", "m"], {"EXTRA": "1"}),  # its own environment: a cold process
    (["python", "-c", "print(1)"], {}),
    (["/bin/sh", "-m", "m"], {}),  # another program
    (["python", "-m"], {}),
])
def test_any_other_command_runs_cold(command, env):
    assert warm_module(command, env) is None


# A stand-in for kubeflow/local/warm_worker.py that does not import TensorFlow: it reads the task line the pool writes,
# appends the task's module to its log and exits 3.
ECHO_WORKER = ("import json, sys; task = json.loads(sys.stdin.readline()); "
               "open(task['log'], 'a').write(task['module'] + ' '); sys.exit(3)")


def test_the_warm_pool_starts_nothing_ahead_of_a_task_and_no_more_spares_than_tasks_to_come(tmp_path):
    class EchoPool(WarmPool):
        def _start(self):
            self._count += 1
            return subprocess.Popen([sys.executable, "-c", ECHO_WORKER], stdin=subprocess.PIPE, text=True)

    pool, log = EchoPool(2, tmp_path / "spool"), tmp_path / "task.log"
    try:
        assert pool.started == 0  # a run whose tasks all come from the cache starts no process
        assert pool.run("first", [], log, upcoming=5) == 3 and pool.started == 3  # its own, then `size` spares
        assert pool.run("second", [], log, upcoming=1) == 3 and pool.started == 3  # a spare; one left for one to come
        assert pool.run("third", [], log, upcoming=0) == 3 and pool.started == 3  # the last spare, none started
        assert pool.run("fourth", [], log, upcoming=0) == 3 and pool.started == 4  # none left: a new one, no spare
        assert log.read_text().split() == ["first", "second", "third", "fourth"]
    finally:
        pool.close()


# -- summary -----------------------------------------------------------------------------------------------------------
def _artifact(title: str, uri: str, n: int, **metadata) -> Artifact:
    return Artifact(f"artifacts/{n}", title, uri, metadata, {"instanceSchema": f"title: {title}\ntype: object\n"})


def _result(job, tmp_path, results, outputs) -> LocalResult:
    mirror = GcsMirror(tmp_path / "work" / "gcs")
    return LocalResult(
        job_id="small-2", job=job, workdir=tmp_path / "work", mirror=mirror, results=results, outputs=outputs,
        mappings=[("gs://bucket/root", mirror.local("gs://bucket/root"), "pipeline root")],
        beam_note="in_memory (test)", seconds=12.34)


OLD_BLESSING = _artifact("tfx.ModelBlessing", "gs://bucket/root/small-1/Eval/blessing", 5, blessed=1,
                         current_model_id="artifacts/4")


def _resolved() -> dict:
    return {"blessing-resolver": TaskOutputs({"model_blessing": [OLD_BLESSING]}, {}),
            "model-resolver": TaskOutputs({"model": [_artifact("tfx.Model", "gs://bucket/root/small-1/Train/model", 4)]},
                                          {})}


def test_the_summary_of_a_blessed_and_pushed_run(job, tmp_path):
    outputs = _resolved()
    outputs["Eval"] = TaskOutputs({"blessing": [_artifact("tfx.ModelBlessing", "gs://bucket/root/small-2/Eval/blessing",
                                                          10, blessed=1.0, current_model_id="artifacts/9",
                                                          baseline_model_id="artifacts/4")]}, {})
    outputs["Push"] = TaskOutputs({"pushed_model": [_artifact(
        "tfx.PushedModel", "gs://bucket/root/small-2/Push/pushed_model", 11, pushed=1,
        pushed_destination="gs://bucket/serving/small/1700000000")]}, {})
    results = [TaskResult("Gen", RAN, 3.0), TaskResult("SchemaImporter", RAN, 0.0, IMPORTER),
               TaskResult("Train", FROM_CACHE, 0.0, CONTAINER, "from small-1"),
               TaskResult("blessing-resolver", RAN, 0.0, RESOLVER), TaskResult("model-resolver", RAN, 0.0, RESOLVER),
               TaskResult("Eval", RAN, 5.0), TaskResult("Push", RAN, 1.0)]
    work = tmp_path / "work"
    assert lines(_result(job, tmp_path, results, outputs)) == [
        f"job          small-2  (small, {SMALL})",
        f"workdir      {work}  (ML Metadata: {work / 'metadata.sqlite'})",
        f"location     gs://bucket/root -> {work / 'gcs' / 'bucket' / 'root'}  (pipeline root)",
        "parameter    data-root = gs://bucket/data/small",
        "parameter    rate = 0.5",
        "parameter    steps = 5",
        "beam         DirectRunner in_memory (test)",
        f"tasks        3 ran, 1 from the cache, 0 failed in 12.3 s; logs in {work / 'logs'}",
        "blessed      yes  (model artifacts/9, baseline artifacts/4)",
        f"pushed       gs://bucket/serving/small/1700000000 -> {work / 'gcs/bucket/serving/small/1700000000'}",
    ]


def test_the_summary_of_a_first_model_that_was_not_blessed(job, tmp_path):
    outputs = {"Eval": TaskOutputs({"blessing": [_artifact("tfx.ModelBlessing", "gs://b/r/j/Eval/blessing", 3,
                                                           blessed=0, current_model_id="artifacts/2")]}, {}),
               "Push": TaskOutputs({"pushed_model": [_artifact("tfx.PushedModel", "gs://b/r/j/Push/pushed_model", 4,
                                                               pushed=0)]}, {})}
    results = [TaskResult(name, RAN, 1.0, job.tasks[name].kind) for name in job.order]
    found = lines(_result(job, tmp_path, results, outputs))
    assert found[-2:] == ["blessed      no  (model artifacts/2, no baseline (first blessed model))",
                          "pushed       nothing (the model was not blessed)"]
    assert found[-3].startswith("tasks        4 ran, 0 from the cache, 0 failed")


def test_a_resolvers_blessing_from_an_earlier_run_is_not_reported_as_this_runs(job, tmp_path):
    """--only Train: Eval and Push do not run; the blessing the resolver found is an earlier run's."""
    results = [TaskResult(name, NOT_RUN if name in ("Eval", "Push") else RAN, 1.0, job.tasks[name].kind)
               for name in job.order]
    found = lines(_result(job, tmp_path, results, _resolved()))
    assert not [line for line in found if line.startswith(("blessed", "pushed", "failed"))], found


def test_the_summary_of_a_failed_run_names_the_task_its_error_its_log_and_what_did_not_run(job, tmp_path):
    log = tmp_path / "work" / "logs" / "Train.log"
    results = [TaskResult("Gen", FROM_CACHE, 0.0, CONTAINER, "from small-1"),
               TaskResult("SchemaImporter", RAN, 0.0, IMPORTER),
               TaskResult("Train", FAILED_STATE, 4.0, CONTAINER, "ValueError: label column 'tips' is missing", log),
               TaskResult("blessing-resolver", RAN, 0.0, RESOLVER), TaskResult("model-resolver", RAN, 0.0, RESOLVER),
               TaskResult("Eval", NOT_RUN, kind=CONTAINER), TaskResult("Push", NOT_RUN, kind=CONTAINER)]
    found = lines(_result(job, tmp_path, results, _resolved()))
    assert found[-5:] == [
        f"tasks        0 ran, 1 from the cache, 1 failed in 12.3 s; logs in {tmp_path / 'work' / 'logs'}",
        "failed       Train: ValueError: label column 'tips' is missing",
        f"log          {log}",
        "not run      Eval, Push",
        "fix it and run the same command again: finished tasks come from the cache",
    ]


# -- the CLI: local-only flags, --dry-run ------------------------------------------------------------------------------
def _nothing_written(cwd: Path) -> None:
    assert list(cwd.iterdir()) == [], "the command wrote " + ", ".join(p.name for p in cwd.iterdir())


@pytest.fixture
def cwd(tmp_path):
    (tmp_path / "cwd").mkdir()
    return tmp_path / "cwd"


def test_a_local_only_flag_with_a_cloud_target_is_refused(cwd):
    result = support.cli(["submit", SMALL, "--target", "vertex", "--param", "x=1"], cwd=cwd)
    assert support.one_line_error(result) == "tfx-e2e: error: --param applies only to --target local."
    _nothing_written(cwd)


def test_every_local_only_flag_given_with_a_cloud_target_is_named(cwd):
    result = support.cli(["submit", SMALL, "--target", "kubeflow", "--workdir", "w", "--gcs-mirror", "m", "--only",
                          "Train", "--parallel", "2", "--beam-mode", "in_memory"], cwd=cwd)
    line = support.one_line_error(result)
    assert "--workdir, --gcs-mirror, --only, --parallel, --beam-mode apply only to --target local" in line
    _nothing_written(cwd)


def test_dry_run_with_target_local_is_refused(cwd):
    result = support.cli(["submit", SMALL, "--target", "local", "--dry-run"], cwd=cwd)
    assert support.one_line_error(result).startswith("tfx-e2e: error: --dry-run does not apply to --target local")
    _nothing_written(cwd)


@pytest.mark.parametrize("flags, problem", [
    (["--param", "steps=x"], r"--param steps=x: steps is a parameter of type INT; give a number\."),
    (["--param", "data_root=d"], r"the pipeline has no parameter 'data_root'; its parameters: data-root, rate, steps\."),
    (["--only", "Nope"], r"--only Nope: no such task; the tasks are Gen, SchemaImporter, Train, "),
])
def test_a_bad_local_flag_is_one_line_and_nothing_runs(cwd, flags, problem):
    result = support.cli(["submit", SMALL, "--target", "local", *flags], cwd=cwd)
    assert re.search(problem, support.one_line_error(result))
    _nothing_written(cwd)  # neither the default home nor its kfp-local workdir


def test_a_truncated_file_with_target_local_is_one_line(cwd, tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(SMALL.read_text()[:500])
    result = support.cli(["submit", cut, "--target", "local"], cwd=cwd)
    assert "is not JSON" in support.one_line_error(result)
    _nothing_written(cwd)
