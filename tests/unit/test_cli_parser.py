"""The argparse tree (cli.main.build_parser, cli.flags): every command parses its documented flags, with the
documented defaults; shared flags behave the same everywhere."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from cli import flags
from cli.main import build_parser
from cli.run import overrides
from tests.support import command_tree

MINIMAL = {
    "run": ["run"],
    "compile": ["compile", "--target", "vertex", "--image", "img", "--pipeline-root", "gs://b/r"],
    "validate": ["validate", "job.json"],
    "submit": ["submit", "job.json", "--target", "kubeflow"],
    "runs": ["runs"],
    "show": ["show", "latest"],
    "artifacts": ["artifacts"],
    "lineage": ["lineage"],
    "compare": ["compare", "a", "b"],
    "blessing": ["blessing"],
    "report": ["report"],
    "ui": ["ui"],
    "predict": ["predict", "--model", "latest", "--input", "rows.csv"],
    "explain": ["explain", "--model", "latest", "--input", "rows.csv"],
    "schema infer": ["schema", "infer", "--data", "d", "--out", "s.pbtxt"],
}

DEFAULTS = {
    "run": dict(config=None, data=None, home=None, train_steps=None, eval_steps=None, overrides=[], model=None,
                strategy=None, workers=None, mixed_precision=None, steps_per_execution=None, warm_start=False,
                tune=False, quantize=None, no_cache=False, always_run=False, allow_anomalies=False, no_wait=False,
                beam_mode="auto", verbose=False, metadata=None),
    "compile": dict(config=None, data=None, serving_dir=None, beam_runner="direct", project=None, region=None,
                    temp_location=None, dataflow_machine_type="n1-standard-4", dataflow_max_workers=4,
                    vertex_training=False, machine_type="n1-standard-4", accelerator_type=None, accelerator_count=0,
                    tpu_type=None, replica_count=1, vertex_endpoint=None, overrides=[], out=None, home=None,
                    tune=False, quantize=None),
    "validate": dict(file=Path("job.json"), target="vertex", home=None),
    "submit": dict(file=Path("job.json"), target="kubeflow", project=None, region=None, service_account=None,
                   no_cache=False, host=None, namespace=None, experiment=None, dry_run=False, home=None,
                   workdir=None, gcs_mirror=None, params=[], only=[], parallel=1, beam_mode="auto"),
    "runs": dict(pipeline=None, limit=20, home=None, metadata=None, json=False),
    "show": dict(run="latest", home=None, metadata=None, json=False),
    "artifacts": dict(type_name=None, run=None, home=None, metadata=None, json=False),
    "lineage": dict(artifact=None, pushed=None, format="text", home=None, metadata=None),
    "compare": dict(run_a="a", run_b="b", home=None, metadata=None, json=False),
    "blessing": dict(target="latest", home=None, metadata=None, json=False),
    "report": dict(run="latest", out=None, home=None, metadata=None),
    "ui": dict(home=None, metadata=None, host="127.0.0.1", port=8080),
    "predict": dict(model="latest", input=Path("rows.csv"), json=False, home=None, config=None),
    "explain": dict(model="latest", input=Path("rows.csv"), json=False, top=5, saliency_out=None, home=None,
                    config=None),
    "schema infer": dict(data="d", out=Path("s.pbtxt"), home=None),
}

# Every flag of every command, with a value, and what it parses to.
FULL = {
    "run": (["run", "--config", "digits", "--data", "d", "--home", "h", "--train-steps", "7", "--eval-steps", "3",
             "--set", "a.b=1", "--set", "c=[x, y]", "--model", "cnn", "--strategy", "mirrored", "--workers", "2",
             "--mixed-precision", "bf16", "--steps-per-execution", "4", "--warm-start", "--tune", "--quantize", "int8",
             "--no-cache", "--always-run", "--allow-anomalies", "--no-wait", "--beam-mode", "in_memory", "--verbose", "--metadata", "sqlite:m"],
            dict(config="digits", data="d", home=Path("h"), train_steps=7, eval_steps=3,
                 overrides=[("a.b", 1), ("c", ["x", "y"])], model="cnn", strategy="mirrored", workers=2,
                 mixed_precision="bf16", steps_per_execution=4, warm_start=True, tune=True, quantize="int8", no_cache=True,
                 always_run=True, allow_anomalies=True, no_wait=True, beam_mode="in_memory", verbose=True, metadata="sqlite:m")),
    "compile": (["compile", "--target", "kubeflow", "--image", "img", "--pipeline-root", "gs://b/r", "--config", "c.yaml",
                 "--data", "gs://b/d", "--serving-dir", "gs://b/s", "--beam-runner", "dataflow", "--project", "p",
                 "--region", "r", "--temp-location", "gs://b/t", "--dataflow-machine-type", "n2", "--dataflow-max-workers",
                 "9", "--vertex-training", "--machine-type", "m", "--accelerator-type", "T4", "--accelerator-count", "2",
                 "--tpu-type", "V3", "--replica-count", "3", "--vertex-endpoint", "e", "--set", "k=v", "--out", "o.json",
                 "--home", "h", "--tune", "--quantize", "dynamic"],
                dict(target="kubeflow", image="img", pipeline_root="gs://b/r", config="c.yaml", data="gs://b/d",
                     serving_dir="gs://b/s", beam_runner="dataflow", project="p", region="r", temp_location="gs://b/t",
                     dataflow_machine_type="n2", dataflow_max_workers=9, vertex_training=True, machine_type="m",
                     accelerator_type="T4", accelerator_count=2, tpu_type="V3", replica_count=3, vertex_endpoint="e",
                     overrides=[("k", "v")], out=Path("o.json"), home=Path("h"), tune=True,
                     quantize="dynamic")),
    "validate": (["validate", "j.json", "--target", "kubeflow", "--home", "h"],
                 dict(file=Path("j.json"), target="kubeflow", home=Path("h"))),
    "submit": (["submit", "j.json", "--target", "vertex", "--project", "p", "--region", "r", "--service-account", "sa",
                "--no-cache", "--host", "http://h", "--namespace", "n", "--experiment", "e", "--dry-run", "--home", "h"],
               dict(file=Path("j.json"), target="vertex", project="p", region="r", service_account="sa", no_cache=True,
                    host="http://h", namespace="n", experiment="e", dry_run=True, home=Path("h"))),
    "submit --target local": (["submit", "j.json", "--target", "local", "--workdir", "w", "--gcs-mirror", "m",
                               "--param", "data-root=./d", "--param", "steps=3", "--only", "Trainer", "Evaluator",
                               "--parallel", "2", "--beam-mode", "as-compiled", "--no-cache", "--home", "h"],
                              dict(file=Path("j.json"), target="local", workdir=Path("w"), gcs_mirror=Path("m"),
                                   params=[("data-root", "./d"), ("steps", "3")], only=["Trainer", "Evaluator"],
                                   parallel=2, beam_mode="as-compiled", no_cache=True, home=Path("h"))),
    "runs": (["runs", "--pipeline", "taxi", "--limit", "3", "--home", "h", "--metadata", "sqlite:m", "--json"],
             dict(pipeline="taxi", limit=3, home=Path("h"), metadata="sqlite:m", json=True)),
    "show": (["show", "r1", "--json", "--home", "h"], dict(run="r1", json=True, home=Path("h"))),
    "artifacts": (["artifacts", "--type", "Model", "--run", "r1", "--json"], dict(type_name="Model", run="r1", json=True)),
    "lineage": (["lineage", "12", "--format", "mermaid"], dict(artifact=12, format="mermaid")),
    "lineage --pushed": (["lineage", "--pushed", "latest", "--format", "dot"], dict(pushed="latest", format="dot")),
    "compare": (["compare", "r1", "r2", "--json"], dict(run_a="r1", run_b="r2", json=True)),
    "blessing": (["blessing", "42", "--json"], dict(target="42", json=True)),
    "report": (["report", "r1", "--out", "x.html", "--metadata", "sqlite:m"], dict(run="r1", out=Path("x.html"),
                                                                                   metadata="sqlite:m")),
    "ui": (["ui", "--home", "h", "--metadata", "sqlite:m", "--host", "0.0.0.0", "--port", "0"],
           dict(home=Path("h"), metadata="sqlite:m", host="0.0.0.0", port=0)),
    "predict": (["predict", "--model", "m/1", "--input", "x.jsonl", "--json", "--home", "h", "--config", "digits"],
                dict(model="m/1", input=Path("x.jsonl"), json=True, home=Path("h"), config="digits")),
    "explain": (["explain", "--model", "m/1", "--input", "x.jsonl", "--json", "--top", "3", "--saliency-out", "png",
                 "--home", "h", "--config", "digits"],
                dict(model="m/1", input=Path("x.jsonl"), json=True, top=3, saliency_out=Path("png"), home=Path("h"),
                     config="digits")),
    "schema infer": (["schema", "infer", "--data", "d", "--out", "o.pbtxt", "--home", "h"],
                     dict(data="d", out=Path("o.pbtxt"), home=Path("h"))),
}


@pytest.fixture
def parser(monkeypatch):
    monkeypatch.delenv(flags.METADATA_ENV, raising=False)  # read when the parser is built
    return build_parser()


def _parsed(parser: argparse.ArgumentParser, argv: list[str]) -> dict:
    values = vars(parser.parse_args(argv))
    assert callable(values.pop("handler"))
    return values


@pytest.mark.parametrize("command", list(MINIMAL))
def test_defaults(parser, command):
    values = _parsed(parser, MINIMAL[command])
    assert {k: values[k] for k in DEFAULTS[command]} == DEFAULTS[command]
    assert set(values) - set(DEFAULTS[command]) <= {"command", "schema_command", "target", "image", "pipeline_root"}


@pytest.mark.parametrize("command", list(FULL))
def test_every_flag_parses(parser, command):
    argv, expected = FULL[command]
    values = _parsed(parser, argv)
    assert {k: values[k] for k in expected} == expected


def test_every_command_is_covered(parser):
    leaves = {" ".join(words) for words, sub in command_tree(parser) if words != ("schema",)}
    assert leaves == set(MINIMAL)


@pytest.mark.parametrize("argv", [
    ["compile", "--image", "i", "--pipeline-root", "r"],  # --target is required
    ["submit", "j.json"],
    ["predict", "--model", "latest"],  # --input is required
    ["explain", "--model", "latest"],  # --input is required
    ["explain", "--model", "m", "--input", "x.csv", "--top", "0"],  # K >= 1
    ["schema"],  # a sub-command is required
    ["run", "--strategy", "quantum"],
    ["run", "--beam-mode", "fast"],
    ["run", "--set", "no-equals-sign"],
    ["run", "--train-steps", "many"],
    ["lineage", "--format", "png"],
    ["submit", "j.json", "--target", "dataflow"],
    ["submit", "j.json", "--target", "local", "--param", "data-root"],  # no =
    ["submit", "j.json", "--target", "local", "--param", "=./d"],  # no name
    ["submit", "j.json", "--target", "local", "--beam-mode", "fast"],
    ["submit", "j.json", "--target", "local", "--parallel", "two"],
    ["submit", "j.json", "--target", "local", "--only"],  # at least one task
])
def test_bad_flags_exit_2(parser, argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_param_without_an_equals_sign_says_what_it_expects(parser, capsys):
    with pytest.raises(SystemExit):
        parser.parse_args(["submit", "j.json", "--target", "local", "--param", "data-root"])
    assert "--param expects NAME=VALUE (e.g. data-root=./my-data), got 'data-root'" in capsys.readouterr().err


@pytest.mark.parametrize("text, pair", [
    ("data-root=./my-data", ("data-root", "./my-data")),
    ("url=gs://b/x?a=b", ("url", "gs://b/x?a=b")),  # only the first = separates
    (" name =v", ("name", "v")),
    ("empty=", ("empty", "")),  # a value is a string: kept as given, even empty
])
def test_param_splits_name_and_value_at_the_first_equals_sign(text, pair):
    from cli.cloud import parse_param

    assert parse_param(text) == pair


def test_metadata_comes_from_the_environment_for_every_command_that_reads_it(monkeypatch):
    monkeypatch.setenv(flags.METADATA_ENV, "mysql://u:p@db:3306/mlmd")
    parser = build_parser()
    for command in ("run", "runs", "show", "artifacts", "lineage", "compare", "blessing"):
        assert _parsed(parser, MINIMAL[command])["metadata"] == "mysql://u:p@db:3306/mlmd", command
    assert _parsed(parser, [*MINIMAL["runs"], "--metadata", "sqlite:x"])["metadata"] == "sqlite:x"


@pytest.mark.parametrize("text, pair", [
    ("training.epochs=3", ("training.epochs", 3)),
    ("model.hparams.dropout=0.2", ("model.hparams.dropout", 0.2)),
    ("training.warm_start=true", ("training.warm_start", True)),
    ("features.exclude=[a, b]", ("features.exclude", ["a", "b"])),
    (" name = taxi2", ("name", "taxi2")),
    ("schema=", ("schema", None)),
    ("url=a=b", ("url", "a=b")),  # only the first = separates
])
def test_set_reads_the_value_as_yaml(text, pair):
    assert flags.parse_set(text) == pair


@pytest.mark.parametrize("text", ["epochs", "=3", " =3"])
def test_set_without_a_key_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="--set expects KEY=VALUE"):
        flags.parse_set(text)


def test_run_flags_become_config_overrides_and_win_over_set(parser):
    args = parser.parse_args(["run", "--set", "training.train_steps=1", "--set", "model.hparams.dropout=0.3",
                              "--train-steps", "9", "--eval-steps", "2", "--model", "rnn", "--strategy", "one_device",
                              "--workers", "3", "--mixed-precision", "fp16", "--steps-per-execution", "8",
                              "--warm-start", "--data", "~/csv"])
    assert overrides(args) == {
        "training.train_steps": 9, "model.hparams.dropout": 0.3, "training.eval_steps": 2, "model.family": "rnn",
        "training.strategy": "one_device", "training.workers": 3, "training.mixed_precision": "fp16",
        "training.steps_per_execution": 8, "training.warm_start": True,
        "data": str(Path("~/csv").expanduser().resolve()),
    }
    assert overrides(parser.parse_args(["run"])) == {}


def test_every_compile_option_is_a_compile_flag(parser):
    """cmd_compile builds CompileOptions from the flags of the same name: a field without a flag would silently keep
    its default."""
    from kubeflow.compile import CompileOptions

    values = _parsed(parser, FULL["compile"][0])
    assert {f.name for f in dataclasses.fields(CompileOptions)} <= set(values)


def test_help_says_where_each_command_logs(parser):
    for words, sub in command_tree(parser):
        if words in (("schema",), ("ui",)):  # ui writes nothing under the home, no log either
            continue
        # Whitespace dropped: argparse wraps help lines (at hyphens too).
        assert f"<home>/logs/{'-'.join(words)}-<timestamp>.log" in "".join(sub.format_help().split()), words
