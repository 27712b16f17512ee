"""`tfx-e2e submit FILE --target local` on the digits pipeline compiled for Vertex: a run that blesses and pushes, its
`--replica-count 2` compile (multi-worker strategy in the Trainer's one container) re-running only the Trainer
(`--only`: the tasks before it from the cache, none after it), and the Vertex-training compile refused as not runnable
here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.dag import node_ids as N
from tests import support
from tests.e2e.local_submit import (BUCKET, CLOUD, GS, ancestors, compile_all, job_record, local, submit_local,
                                    tasks_by_kind)


class Digits:
    def __init__(self, root: Path):
        self.root, self.workdir, self.home = root, root / "work", root / "home"
        self.plain, self.multi = root / "digits.json", root / "digits-2-replicas.json"
        self.vertex_training = root / "digits-vertex-training.json"
        self.first = None

    def run_first(self):
        if self.first is None:
            self.first = submit_local(self.plain, self.workdir, self.home, "--parallel", "2")
        return self.first


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    digits = Digits(tmp_path_factory.mktemp("submit_local_digits"))
    cloud = ["--target", "vertex", "--config", "digits", *CLOUD]
    compile_all({digits.plain: cloud, digits.multi: [*cloud, "--replica-count", "2"],
                 digits.vertex_training: [*cloud, "--replica-count", "2", "--vertex-training",
                                          "--project", "p", "--region", "r"]}, digits.home)
    return digits


def test_digits_runs_blesses_and_pushes(digits):
    run = digits.run_first()
    assert run.code == 0, run.output
    kinds = tasks_by_kind(digits.plain)
    assert N.DIGITS_EXAMPLE_GEN in kinds["container"] and len(kinds["resolver"]) == 2
    assert {t: run.states.get(t) for t in kinds["container"]} == dict.fromkeys(kinds["container"], "ran")
    assert run.summary["blessed"][0].startswith("yes"), run.output  # the bundled config's gates pass
    [pushed] = run.summary["pushed"]
    match = re.fullmatch(rf"{GS}/serving/digits/(\d+) -> (\S+)", pushed)
    assert match and Path(match[2]) == digits.workdir / "gcs" / BUCKET / "serving" / "digits" / match[1], pushed
    assert (Path(match[2]) / "saved_model.pb").is_file()


def test_two_replicas_train_multi_worker_in_one_container_with_only(digits):
    first = digits.run_first()
    run = submit_local(digits.multi, digits.workdir, digits.home, "--only", N.TRAINER)
    assert run.code == 0, run.output
    containers = tasks_by_kind(digits.multi)["container"]
    upstream = [t for t in containers if t in ancestors(digits.multi, N.TRAINER)]
    assert len(upstream) == 6  # the compile changed only the Trainer's config: everything before it is reused
    assert run.outcome(upstream) == dict.fromkeys(upstream, ("cached", f"from {first.job}"))
    assert run.states[N.TRAINER] == "ran" and N.EVALUATOR not in run.states and N.PUSHER not in run.states
    assert N.FEATURE_IMPORTANCE not in run.states
    assert run.summary["tasks"][0].startswith(f"1 ran, {len(upstream)} from the cache, 0 failed")
    record = job_record(digits.workdir, run.job)
    assert record[N.TRAINER].state == "COMPLETE"
    model = record[N.TRAINER].output("model")
    assert model.uri == f"{GS}/root/{run.job}/{N.TRAINER}/model"
    assert (local(digits.workdir, model.uri) / "Format-Serving" / "saved_model.pb").is_file()
    model_run = record[N.TRAINER].output("model_run")
    summary = json.loads((local(digits.workdir, model_run.uri) / "training_summary.json").read_text())
    assert (summary["strategy"], summary["workers"]) == ("multi_worker", 1), summary
    assert summary["final"]["val_sparse_categorical_accuracy"] > 0.9


def test_vertex_training_cannot_run_here(digits):
    result = submit_local(digits.vertex_training, digits.workdir, digits.home).result
    line = support.one_line_error(result)
    assert "cannot run on this machine" in line and "Vertex" in line and N.TRAINER in line
