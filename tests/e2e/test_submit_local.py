"""`tfx-e2e submit FILE --target local` on the taxi pipeline compiled exactly as for the cloud (gs:// locations): a
first run that blesses and pushes a model that serves, a rerun whose Evaluator takes the first model as baseline, a
fully cached run of the kubeflow-compiled file (the same spec), equality with `tfx-e2e run` on the same data, faults
and resume, and an importer. The tests share one workdir and build on each other in file order (each asks for the runs
it needs, so a test selected alone still has them)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.dag import node_ids as N
from pipeline.metadata import runs as mlmd_runs
from pipeline.metadata.eval_results import load_metrics
from pipeline.metadata.store import open_store, sqlite_config
from tests import support
from tests.conftest import TAXI_SMALL
from tests.e2e import flaky_labels
from tests.e2e.local_submit import (BUCKET, CLOUD, GS, IMAGE, ancestors, compile_all, count_records, job_record, local,
                                    metadata, submit_local, tasks_by_kind)

RUN_FLAG_KEYS = {"--train-steps": "training.train_steps", "--eval-steps": "training.eval_steps"}
# The shared `tfx-e2e run` fixture's settings (tests/conftest.py), as compile takes them: only --set.
SETTINGS = [a for flag, value in zip(TAXI_SMALL[::2], TAXI_SMALL[1::2])
            for a in ("--set", value if flag == "--set" else f"{RUN_FLAG_KEYS[flag]}={value}")]
FLAKY_FN = f"{flaky_labels.__name__}.{flaky_labels.big_tipper_unless_marked.__name__}"


class Taxi:
    """The compiled files, one workdir and the runs made so far (by name, each made once)."""

    def __init__(self, root: Path, data: Path):
        self.root, self.data = root, data.resolve()
        self.workdir, self.home = root / "work", root / "home"
        self.vertex, self.kubeflow = root / "taxi-vertex.json", root / "taxi-kubeflow.json"
        self.flaky = root / "taxi-flaky-label.json"
        self.runs: dict = {}

    def submit(self, compiled: Path, *extra):
        return submit_local(compiled, self.workdir, self.home, "--param", f"data-root={self.data}", *extra)

    def run(self, name: str):
        """The named run with --parallel 2 (made on first use, after the earlier ones): first and second of the
        vertex file, third of the kubeflow file."""
        order = {"first": self.vertex, "second": self.vertex, "third": self.kubeflow}
        for earlier in list(order)[:list(order).index(name) + 1]:
            if earlier not in self.runs:
                self.runs[earlier] = self.submit(order[earlier], "--parallel", "2")
        return self.runs[name]


@pytest.fixture(scope="module")
def taxi(taxi_sample, tmp_path_factory):
    taxi = Taxi(tmp_path_factory.mktemp("submit_local"), taxi_sample)
    cloud = [*CLOUD, "--data", f"{GS}/data/taxi", *SETTINGS]
    compile_all({taxi.vertex: ["--target", "vertex", *cloud], taxi.kubeflow: ["--target", "kubeflow", *cloud],
                 taxi.flaky: ["--target", "vertex", *cloud, "--set", f"label.fn={FLAKY_FN}"]}, taxi.home)
    return taxi


def test_first_run_executes_every_task_blesses_and_pushes(taxi):
    run = taxi.run("first")
    assert run.code == 0, run.output
    kinds = tasks_by_kind(taxi.vertex)
    assert len(kinds["container"]) == 10 and len(kinds["resolver"]) == 2, kinds
    assert {t: run.states.get(t) for t in kinds["container"]} == dict.fromkeys(kinds["container"], "ran")
    assert {t: run.details.get(t) for t in kinds["resolver"]} == dict.fromkeys(kinds["resolver"], "found nothing")
    assert sorted(t for state, t in run.lines if state != "started") == sorted(kinds["container"] + kinds["resolver"])
    # CsvExampleGen and ImportSchemaGen have no upstream task: with --parallel 2 both start before either ends.
    both = (N.EXAMPLE_GEN, N.IMPORT_SCHEMA_GEN)
    assert max(run.first("started", t) for t in both) < min(run.first("ran", t) for t in both), run.lines

    gcs = taxi.workdir / "gcs" / BUCKET
    assert f"{GS}/root -> {gcs / 'root'}  (pipeline root)" in run.summary["location"]
    assert f"data-root = {taxi.data}" in run.summary["parameter"]
    [blessed] = run.summary["blessed"]
    assert blessed.startswith("yes") and "no baseline (first blessed model)" in blessed
    [pushed] = run.summary["pushed"]
    match = re.fullmatch(rf"{GS}/serving/taxi/(\d+) -> (\S+)", pushed)
    assert match and Path(match[2]) == gcs / "serving" / "taxi" / match[1], pushed
    assert (Path(match[2]) / "saved_model.pb").is_file()
    for task in kinds["container"] + kinds["resolver"]:
        assert (taxi.workdir / "logs" / f"{task}.log").is_file(), task

    record = job_record(taxi.workdir, run.job)
    assert {t: r.state for t, r in record.items()} == dict.fromkeys(kinds["container"] + kinds["resolver"], "COMPLETE")
    assert record[N.EVALUATOR].given["baseline_model"] == []
    assert metadata(record[N.EVALUATOR].output("blessing"))["blessed"] == 1
    assert record[N.EVALUATOR].output("blessing").uri == f"{GS}/root/{run.job}/{N.EVALUATOR}/blessing"
    # Our own artifact type (components.FeatureImportance) through the compiled spec and the container entrypoint.
    importance = record[N.FEATURE_IMPORTANCE].output("importance")
    assert metadata(importance)["metric"] == "auc" and len(json.loads(metadata(importance)["top_features"])) == 5
    assert (local(taxi.workdir, importance.uri) / "importance.json").is_file()


def test_the_pushed_model_serves_serving_default(taxi, taxi_sample):
    pushed = Path(taxi.run("first").summary["pushed"][0].split(" -> ")[1])
    rows = taxi.root / "rows.csv"
    rows.write_text("".join((taxi_sample / "data.csv").read_text().splitlines(keepends=True)[:6]))  # header + 5
    predicted = support.cli(["predict", "--model", pushed, "--input", rows, "--home", taxi.home])
    assert predicted.code == 0, predicted.stdout + predicted.stderr
    probabilities = [float(line.split("probabilities", 1)[1].split()[0])
                     for line in predicted.stdout.splitlines() if line.startswith("row ")]
    assert len(probabilities) == 5 and all(0 <= p <= 1 for p in probabilities), predicted.stdout
    check = subprocess.run([sys.executable, "-c", "import sys, trainer_module, tensorflow as tf; "
                            "print(sorted(tf.saved_model.load(sys.argv[1]).signatures))", str(pushed)],
                           capture_output=True, text=True, cwd=support.ROOT, timeout=300)
    assert check.returncode == 0, check.stderr
    assert "'serving_default'" in check.stdout.splitlines()[-1]


def test_second_run_caches_up_to_the_trainer_and_evaluates_against_the_first_model(taxi):
    first, second = taxi.run("first"), taxi.run("second")
    assert second.code == 0, second.output
    kinds = tasks_by_kind(taxi.vertex)
    # The Evaluator's baseline input is new; the Pusher and FeatureImportance take its new outputs.
    rerun = (N.EVALUATOR, N.PUSHER, N.FEATURE_IMPORTANCE)
    upstream = [t for t in kinds["container"] if t not in rerun]
    assert second.outcome(upstream) == dict.fromkeys(upstream, ("cached", f"from {first.job}"))
    assert {t: second.states[t] for t in rerun} == dict.fromkeys(rerun, "ran")

    before, now = job_record(taxi.workdir, first.job), job_record(taxi.workdir, second.job)
    model, blessing = before[N.TRAINER].output("model"), before[N.EVALUATOR].output("blessing")
    found = {t: second.details[t] for t in kinds["resolver"]}
    assert sorted(found.values()) == sorted([f"found artifacts/{model.id}", f"found artifacts/{blessing.id}"]), found
    # The baseline the Evaluator was given, and the one it says it used: the first run's blessed model.
    assert now[N.EVALUATOR].given["baseline_model"] == [f"artifacts/{model.id}"]
    verdict = metadata(now[N.EVALUATOR].output("blessing"))
    assert verdict["blessed"] == 1
    assert (verdict["baseline_model"], verdict["baseline_model_id"]) == (model.uri, f"artifacts/{model.id}")
    assert model.uri == f"{GS}/root/{first.job}/{N.TRAINER}/model"
    assert f"baseline artifacts/{model.id}" in second.summary["blessed"][0]
    # ... and what TFMA evaluated: the baseline model's location and its metrics (the first run's candidate's).
    evaluation = local(taxi.workdir, now[N.EVALUATOR].output("evaluation").uri)
    locations = json.loads((evaluation / "eval_config.json").read_text())["modelLocations"]
    assert Path(locations["baseline"]).is_relative_to(local(taxi.workdir, model.uri)), locations
    baseline = load_metrics(str(evaluation))["baseline"]["overall"]
    candidate_then = load_metrics(str(local(taxi.workdir, before[N.EVALUATOR].output("evaluation").uri)))
    assert baseline.keys() == candidate_then["candidate"]["overall"].keys() and "auc" in baseline
    assert all(abs(baseline[m] - candidate_then["candidate"]["overall"][m]) < 1e-6 for m in baseline)
    assert candidate_then["baseline"] == {}  # the first evaluation had none


def test_third_run_of_the_kubeflow_file_takes_every_task_from_the_cache(taxi):
    """The kubeflow-compiled file is the vertex one's spec, so it shares the cache (and makes the third run)."""
    spec = [json.loads(f.read_text())["pipelineSpec"] for f in (taxi.vertex, taxi.kubeflow)]
    assert json.dumps(spec[0], sort_keys=True) == json.dumps(spec[1], sort_keys=True)
    first, second, third = taxi.run("first"), taxi.run("second"), taxi.run("third")
    assert third.code == 0, third.output
    containers = tasks_by_kind(taxi.kubeflow)["container"]
    expected = {t: ("cached", f"from {second.job if t in (N.EVALUATOR, N.PUSHER, N.FEATURE_IMPORTANCE) else first.job}") for t in containers}
    assert third.outcome(containers) == expected
    assert third.summary["tasks"][0].startswith(f"0 ran, {len(containers)} from the cache, 0 failed")
    assert third.summary["pushed"] == second.summary["pushed"]


def test_outputs_equal_tfx_e2e_run_on_the_same_data(taxi, taxi_runs):
    home, results, _ = taxi_runs
    assert results[0].code == 0, results[0].stdout + results[0].stderr
    store = open_store(sqlite_config(home / "metadata.sqlite", create=False))
    reference = mlmd_runs.node_executions(store, "taxi", mlmd_runs.run_ids(store, "taxi")[0])
    record = job_record(taxi.workdir, taxi.run("first").job)

    here = local(taxi.workdir, record[N.EXAMPLE_GEN].output("examples").uri)
    there = Path(reference[N.EXAMPLE_GEN].outputs["examples"][0].uri)
    rows = {split: count_records(here / f"Split-{split}") for split in ("train", "eval")}
    assert rows == {split: count_records(there / f"Split-{split}") for split in ("train", "eval")}
    assert sum(rows.values()) == 3000
    assert f"rows         eval {rows['eval']}, train {rows['train']}" in results[0].stdout

    ours = load_metrics(str(local(taxi.workdir, record[N.EVALUATOR].output("evaluation").uri)))["candidate"]
    theirs = load_metrics(reference[N.EVALUATOR].outputs["evaluation"][0].uri)["candidate"]
    assert ours.keys() == theirs.keys() and ours["overall"].keys() == theirs["overall"].keys()
    differ = {(s, m): (v, theirs[s][m]) for s, values in ours.items() for m, v in values.items()
              if abs(v - theirs[s][m]) > 1e-6}
    assert differ == {}


def test_a_failing_label_function_stops_at_transform_and_a_rerun_resumes(taxi, monkeypatch):
    first = taxi.run("first")
    marker = taxi.root / "label-is-broken"
    marker.touch()
    monkeypatch.setenv(flaky_labels.MARKER_ENV, str(marker))
    containers = tasks_by_kind(taxi.flaky)["container"]
    before = [t for t in containers if t in ancestors(taxi.flaky, N.TRANSFORM)]
    after = [t for t in containers if t not in before and t != N.TRANSFORM]
    assert len(before) == 5 and after == sorted([N.TRAINER, N.EVALUATOR, N.PUSHER, N.FEATURE_IMPORTANCE])

    failed = taxi.submit(taxi.flaky)
    assert failed.code == 1, failed.output
    error = f"ValueError: {flaky_labels.FAILURE} ({marker})"
    assert {t: failed.states[t] for t in before} == dict.fromkeys(before, "cached")
    assert (failed.states[N.TRANSFORM], failed.details[N.TRANSFORM]) == ("failed", error)
    assert [t for t in after if t in failed.states or ("started", t) in failed.lines] == []
    assert failed.summary["failed"] == [f"{N.TRANSFORM}: {error}"]
    assert len(failed.summary["not run"]) == 1
    assert sorted(failed.summary["not run"][0].split(", ")) == after
    assert flaky_labels.FAILURE in (taxi.workdir / "logs" / f"{N.TRANSFORM}.log").read_text()
    record = job_record(taxi.workdir, failed.job)
    assert record[N.TRANSFORM].state == "FAILED" and not set(after) & set(record)

    marker.unlink()
    fixed = taxi.submit(taxi.flaky)
    assert fixed.code == 0, fixed.output
    assert fixed.outcome(before) == dict.fromkeys(before, ("cached", f"from {first.job}"))
    assert {t: fixed.states[t] for t in [N.TRANSFORM, *after]} == dict.fromkeys([N.TRANSFORM, *after], "ran")
    assert "failed" not in fixed.summary and fixed.summary["blessed"][0].startswith("yes")


def test_an_unknown_executor_class_is_one_clear_line(taxi):
    job = json.loads(taxi.vertex.read_text())
    args = job["pipelineSpec"]["deploymentSpec"]["executors"][f"{N.TRAINER}_executor"]["container"]["args"]
    args[args.index("--executor_class_path") + 1] = "components.no_such.executor.Executor"
    edited = taxi.root / "unknown-executor.json"
    edited.write_text(json.dumps(job))
    run = taxi.submit(edited)
    line = support.one_line_error(run.result)
    assert "components.no_such.executor.Executor" in line and N.TRAINER in line
    assert run.lines == []  # refused before any task ran


@pytest.mark.parametrize("content, says", [
    ("cut", "cut short"),
    ("this is not JSON\n", "not JSON"),
    (json.dumps({"pipelineSpec": {"root": 5}}), "PipelineSpec"),
], ids=["truncated", "not-json", "wrong-schema"])
def test_a_broken_file_is_one_clear_line(taxi, content, says):
    broken = taxi.root / "broken.json"
    text = taxi.vertex.read_text()
    broken.write_text(text[: len(text) // 2] if content == "cut" else content)
    run = taxi.submit(broken)
    line = support.one_line_error(run.result)
    assert says in line and str(broken) in line
    assert run.lines == []


def test_an_unknown_parameter_lists_the_known_ones(taxi):
    result = support.cli(["submit", taxi.vertex, "--target", "local", "--workdir", taxi.workdir,
                          "--home", taxi.home, "--param", "nope=1"])
    line = support.one_line_error(result)
    assert "nope" in line and "data-root" in line


def _importer_pipeline(source: str, out: Path) -> Path:
    """A tiny pipeline, an Importer of an Examples artifact feeding StatisticsGen, compiled for Vertex with the
    runner kubeflow/compile.py uses."""
    from tfx import v1 as tfx

    importer = tfx.dsl.Importer(source_uri=source, artifact_type=tfx.types.standard_artifacts.Examples,
                                properties={"split_names": '["train", "eval"]'}).with_id("examples_importer")
    statistics = tfx.components.StatisticsGen(examples=importer.outputs["result"])
    pipeline = tfx.dsl.Pipeline(pipeline_name="imported-statistics", pipeline_root=f"{GS}/importer-root",
                                components=[importer, statistics], enable_cache=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=IMAGE),
        output_dir=str(out.parent), output_filename=out.name)
    runner.run(pipeline, write_out=True)
    return out


def test_an_importer_brings_in_the_examples_of_an_earlier_run(taxi, tmp_path):
    from tensorflow_metadata.proto.v0 import statistics_pb2

    source = f"{GS}/root/{taxi.run('first').job}/{N.EXAMPLE_GEN}/examples"
    compiled = _importer_pipeline(source, tmp_path / "imported.json")
    workdir = tmp_path / "work"
    one, two = (submit_local(compiled, workdir, taxi.home, "--gcs-mirror", taxi.workdir / "gcs") for _ in range(2))
    assert one.code == 0, one.output
    assert (one.states["examples_importer"], one.details["examples_importer"]) == ("ran", f"imported {source}")
    assert one.states[N.STATISTICS_GEN] == "ran"
    assert f"{source} -> {local(taxi.workdir, source)}  (examples_importer: artifact_uri)" in one.summary["location"]
    record = job_record(workdir, one.job)
    imported = record["examples_importer"].output("result")
    assert imported.uri == source and [a.id for a in record[N.STATISTICS_GEN].inputs["examples"]] == [imported.id]
    statistics = local(taxi.workdir, record[N.STATISTICS_GEN].output("statistics").uri)
    assert statistics.is_relative_to(taxi.workdir / "gcs" / BUCKET / "importer-root")
    for split in ("train", "eval"):
        stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(
            (statistics / f"Split-{split}" / "FeatureStats.pb").read_bytes())
        assert stats.datasets[0].num_examples == count_records(local(taxi.workdir, source) / f"Split-{split}")

    assert two.code == 0, two.output
    assert two.details["examples_importer"] == f"reused {source}"
    assert (two.states[N.STATISTICS_GEN], two.details[N.STATISTICS_GEN]) == ("cached", f"from {one.job}")
    assert job_record(workdir, two.job)["examples_importer"].output("result").id == imported.id

    # --no-cache executes every task again, as KFP's "enable caching: off" does: a new statistics artifact.
    three = submit_local(compiled, workdir, taxi.home, "--gcs-mirror", taxi.workdir / "gcs", "--no-cache")
    assert three.code == 0, three.output
    assert three.states[N.STATISTICS_GEN] == "ran"
    fresh = job_record(workdir, three.job)[N.STATISTICS_GEN].output("statistics")
    assert fresh.id != record[N.STATISTICS_GEN].output("statistics").id and three.job in fresh.uri
