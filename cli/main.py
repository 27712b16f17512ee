"""`tfx-e2e` (and `python -m pipeline`): parse flags, call the library, print results; exit 0 ok, 1 failed, 2 bad input."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Optional, Sequence, TextIO

import yaml

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """Bad flags, config or data: printed as one line, exit 2."""


def _set_pair(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE (e.g. training.epochs=3), got {text!r}")
    return key.strip(), yaml.safe_load(value)


METADATA_ENV = "TFX_E2E_METADATA"


def _metadata_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metadata",
        default=os.environ.get(METADATA_ENV),
        help=f"ML Metadata store: sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DB (also ${METADATA_ENV}); "
        "default: <home>/metadata.sqlite",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfx-e2e", description="Run and inspect the tfx-e2e TFX pipeline.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the pipeline locally (Beam DirectRunner, SQLite ML Metadata)")
    run.add_argument("--config", default=None, help="bundled config name (taxi) or a YAML path; default taxi")
    run.add_argument("--data", help="directory of CSV files (default: the config's data)")
    run.add_argument("--home", type=Path, default=None, help="where runs write everything (default ./.tfx-e2e)")
    run.add_argument("--train-steps", type=int, help="override training.train_steps")
    run.add_argument("--eval-steps", type=int, help="override training.eval_steps")
    run.add_argument("--set", dest="overrides", type=_set_pair, action="append", default=[], metavar="KEY=VALUE",
                     help="override any config key, e.g. --set model.hparams.dropout=0.2 (repeatable)")
    run.add_argument("--model", help="model family: dnn, cnn, rnn, autoencoder (overrides model.family)")
    run.add_argument("--strategy", choices=("auto", "default", "one_device", "mirrored", "multi_worker", "tpu"),
                     help="tf.distribute strategy for the Trainer (overrides training.strategy)")
    run.add_argument("--workers", type=int, help="with --strategy multi_worker: worker processes on 127.0.0.1")
    run.add_argument("--mixed-precision", choices=("bf16", "fp16"), help="Keras mixed-precision policy")
    run.add_argument("--steps-per-execution", type=int, help="batches per tf.function call in Keras fit")
    run.add_argument("--warm-start", action="store_true",
                     help="start training from the latest blessed model's weights when the architecture matches")
    run.add_argument("--no-cache", action="store_true", help="re-execute every component")
    run.add_argument("--always-run", action="store_true",
                     help="run through TFX even when config, code, data and metadata are unchanged since the last "
                          "successful run (components still use their cache; a new run is recorded)")
    run.add_argument("--allow-anomalies", action="store_true",
                     help="continue past ExampleValidator anomalies (they are still reported) instead of stopping")
    run.add_argument("--no-wait", action="store_true",
                     help="if another run holds this home (or this pipeline on a shared store), exit 2 at once")
    run.add_argument("--beam-mode", choices=("auto", "in_memory", "multi_processing"), default="auto",
                     help="Beam DirectRunner mode; auto picks multi_processing for inputs ≥ 100 MB")
    run.add_argument("--verbose", action="store_true", help="show TFX/TF/Beam logs instead of writing them to a file")
    _metadata_flag(run)

    comp = sub.add_parser("compile", help="compile the pipeline for Vertex AI or Kubeflow Pipelines v2 (PipelineJob JSON)")
    comp.add_argument("--target", required=True, choices=("vertex", "kubeflow"))
    comp.add_argument("--image", required=True, help="container image with this project installed (kubeflow/Dockerfile)")
    comp.add_argument("--pipeline-root", required=True, help="remote URI for artifacts, e.g. gs://BUCKET/pipeline_root")
    comp.add_argument("--config", default=None, help="bundled config name or YAML path; default taxi")
    comp.add_argument("--data", help="remote URI of the CSV directory (a runtime parameter: data-root)")
    comp.add_argument("--serving-dir", help="remote URI TF Serving watches; models go to <serving-dir>/<model>/<version>")
    comp.add_argument("--beam-runner", choices=("direct", "dataflow"), default="direct")
    comp.add_argument("--project")
    comp.add_argument("--region")
    comp.add_argument("--temp-location", help="Dataflow temp location, gs://BUCKET/tmp")
    comp.add_argument("--dataflow-machine-type", default="n1-standard-4")
    comp.add_argument("--dataflow-max-workers", type=int, default=4)
    comp.add_argument("--vertex-training", action="store_true", help="run the Trainer as a Vertex AI custom job")
    comp.add_argument("--machine-type", default="n1-standard-4", help="Vertex training machine type")
    comp.add_argument("--accelerator-type", help="Vertex training GPU type, e.g. NVIDIA_TESLA_T4")
    comp.add_argument("--accelerator-count", type=int, default=0)
    comp.add_argument("--tpu-type", help="Vertex training TPU type, e.g. TPU_V3 (machine type cloud-tpu)")
    comp.add_argument("--replica-count", type=int, default=1, help="> 1: multi-worker Vertex training")
    comp.add_argument("--vertex-endpoint", help="push to this Vertex AI endpoint instead of --serving-dir")
    comp.add_argument("--set", dest="overrides", type=_set_pair, action="append", default=[], metavar="KEY=VALUE")
    comp.add_argument("--out", type=Path, help="output file (default kubeflow/build/<pipeline>-<target>.json)")

    val = sub.add_parser("validate", help="check a compiled pipeline offline")
    val.add_argument("file", type=Path)
    val.add_argument("--target", choices=("vertex", "kubeflow"), default="vertex")

    subm = sub.add_parser("submit", help="submit a compiled pipeline to Vertex AI or Kubeflow Pipelines")
    subm.add_argument("file", type=Path)
    subm.add_argument("--target", required=True, choices=("vertex", "kubeflow"))
    subm.add_argument("--project")
    subm.add_argument("--region")
    subm.add_argument("--service-account")
    subm.add_argument("--no-cache", action="store_true")
    subm.add_argument("--host", help="Kubeflow Pipelines API host URL")
    subm.add_argument("--namespace")
    subm.add_argument("--experiment")
    subm.add_argument("--dry-run", action="store_true", help="validate and print the request; no network access")

    from cli import inspect as inspect_cli

    inspect_cli.add_parsers(sub)

    pred = sub.add_parser("predict", help="serve raw CSV / JSON-lines rows through a pushed model")
    pred.add_argument("--model", required=True, metavar="DIR|latest",
                      help="a pushed version dir, a model base dir (its highest version), or `latest`: the highest "
                           "version under <home>/serving/<the config's model name>")
    pred.add_argument("--input", required=True, type=Path, metavar="FILE",
                      help="FILE.csv (header row) or FILE.jsonl (one JSON object per line); columns the model does "
                           "not read, such as the label, are ignored")
    pred.add_argument("--json", action="store_true", help="print one JSON array (every output) instead of lines")
    pred.add_argument("--home", type=Path, default=None, help="with --model latest: the home (default ./.tfx-e2e)")
    pred.add_argument("--config", default=None, help="with --model latest: config name or YAML path; default taxi")

    schema = sub.add_parser("schema", help="schema tools")
    schema_sub = schema.add_subparsers(dest="schema_command", required=True, metavar="SUBCOMMAND")
    infer = schema_sub.add_parser("infer", help="infer a schema.pbtxt from a CSV directory (review it, then commit)")
    infer.add_argument("--data", required=True, help="directory of CSV files")
    infer.add_argument("--out", required=True, type=Path, help="where to write, e.g. schemas/NAME/schema.pbtxt")
    return parser


# ------------------------------------------------------------------------------------------------- run


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = dict(args.overrides)
    if args.data is not None:
        overrides["data"] = str(Path(args.data).expanduser().resolve())
    if args.train_steps is not None:
        overrides["training.train_steps"] = args.train_steps
    if args.eval_steps is not None:
        overrides["training.eval_steps"] = args.eval_steps
    flag_keys = {
        "model": "model.family",
        "strategy": "training.strategy",
        "workers": "training.workers",
        "mixed_precision": "training.mixed_precision",
        "steps_per_execution": "training.steps_per_execution",
    }
    for flag, key in flag_keys.items():
        if getattr(args, flag) is not None:
            overrides[key] = getattr(args, flag)
    if args.warm_start:
        overrides["training.warm_start"] = True
    return overrides


class Progress:
    """One line per component as it starts and as it finishes: name, state (ran | cached | failed), seconds."""

    def __init__(self, out: TextIO):
        self.out = out

    def __call__(self, event: Any) -> None:
        if event.phase == "start":
            print(f"  {event.node_id:<32} started", file=self.out, flush=True)
        else:
            print(f"  {event.node_id:<32} {event.state:<7} {event.seconds:7.1f} s", file=self.out, flush=True)


def _fmt(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.4f}"


def print_summary(result: Any, summary: Any, out: TextIO) -> None:
    print("", file=out)
    print(f"run id       {result.run_id}", file=out)
    print(f"pipeline     {result.pipeline_name}  ({result.wall_seconds:.1f} s)", file=out)
    if summary.rows:
        print("rows         " + ", ".join(f"{k} {v}" for k, v in sorted(summary.rows.items())), file=out)
    if summary.anomalies_uri is not None:
        if summary.anomalies:
            print(f"anomalies    {len(summary.anomalies)} (see {summary.anomalies_uri})", file=out)
            for a in summary.anomalies:
                print(f"  {a.split:<6} {a.feature:<28} {a.kind}: {a.description}", file=out)
        else:
            print("anomalies    none", file=out)
    if summary.metrics:
        print("metrics      (eval split, overall slice)", file=out)
        print(f"  {'metric':<28} {'value':>8}  {'threshold':<18} {'baseline':>8}  check", file=out)
        for m in summary.metrics:
            bounds = " ".join(
                b for b in (f">= {m.lower:g}" if m.lower is not None else "", f"<= {m.upper:g}" if m.upper is not None else "") if b
            )
            check = {True: "pass", False: "FAIL", None: ""}[m.passed]
            print(f"  {m.name:<28} {m.value:>8.4f}  {bounds or '-':<18} {_fmt(m.baseline):>8}  {check}", file=out)
        if not summary.has_baseline:
            print("  (no blessed baseline yet: change thresholds were not applied)", file=out)
    if summary.blessed is not None:
        print(f"blessed      {'yes' if summary.blessed else 'no'}", file=out)
    if summary.pushed:
        note = "" if summary.pushed_now else "  (cached: nothing new pushed)"
        print(f"pushed       {summary.pushed}{note}", file=out)
    elif summary.blessed is not None:
        print("pushed       nothing (the model was not blessed)", file=out)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.config import loader as config_lib
    from pipeline.data.preflight import check_data
    from pipeline.paths import DEFAULT_HOME, Home
    from pipeline.logs import log_path
    from pipeline.metadata.store import connection_config, open_store

    cfg = config_lib.load_config(args.config, _overrides(args))
    check_data(cfg)
    home = Home((args.home or DEFAULT_HOME).expanduser().resolve())
    connection = connection_config(args.metadata) if args.metadata else None
    if connection is not None:
        open_store(connection)  # an unreachable or misconfigured store fails now, with exit 2
    log_file = None if args.verbose else log_path(home.logs, "run")
    print(f"tfx-e2e run: pipeline {cfg.name} ({cfg.source})", file=out)
    print(f"  data  {cfg.data_dir if cfg.example_gen == 'csv' else cfg.example_gen + ' (built in)'}", file=out)
    print(f"  home  {home.root}", file=out)
    if args.metadata:
        from pipeline.logs import redact

        print(f"  metadata  {redact(args.metadata)}", file=out)
    from pipeline.local.lock import LockBusy, lock_path, run_lock

    lock = lock_path(home.root, cfg.name, shared_store=bool(connection and connection.HasField("mysql")))
    try:
        with run_lock(lock, wait=not args.no_wait,
                      on_wait=lambda holder: print(f"  waiting: {holder} holds {lock}", file=out, flush=True)):
            unchanged = None if (args.no_cache or args.always_run) else _unchanged_since(args, cfg, home, connection)
            if unchanged is not None:
                print(f"  unchanged  config, code, data and metadata are as at run {unchanged.run_id} "
                      f"(finished {unchanged.finished}): nothing to re-execute; --always-run runs it through TFX",
                      file=out)
                out.write(unchanged.summary)
                return EXIT_OK
            if log_file:
                print(f"  log   {log_file}  (TFX, TensorFlow and Beam output; --verbose shows it here)", file=out)
            return _locked_run(args, cfg, home, connection, log_file, out)
    except LockBusy as err:
        raise UsageError(str(err)) from None


def _run_flags(args: argparse.Namespace, home: Any) -> dict:
    import hashlib

    metadata = hashlib.sha256(args.metadata.encode()).hexdigest() if args.metadata else None
    return {"home": str(home.root), "beam_mode": args.beam_mode, "allow_anomalies": args.allow_anomalies,
            "metadata": metadata}


def _store_for_check(home: Any, connection: Any) -> Any:
    from pipeline.metadata.store import open_store, sqlite_config

    if connection is not None:
        return open_store(connection)
    if not home.metadata.exists():
        return None
    return open_store(sqlite_config(home.metadata.resolve(), create=False))


def _unchanged_since(args: argparse.Namespace, cfg: Any, home: Any, connection: Any) -> Any:
    from pipeline.local import up_to_date

    store = _store_for_check(home, connection)
    if store is None:
        return None
    return up_to_date.check(home.root, cfg.name, up_to_date.run_key(cfg, _run_flags(args, home)), store)


def _locked_run(args: argparse.Namespace, cfg: Any, home: Any, connection: Any, log_file: Any, out: TextIO) -> int:
    from pipeline.logs import captured

    with captured(log_file):
        from pipeline.local import runner as local_runner
        from pipeline.metadata.summary import summarize

        result = local_runner.run(
            cfg,
            home,
            enable_cache=not args.no_cache,
            beam_mode=args.beam_mode,
            on_event=Progress(out),
            connection=connection,
            allow_anomalies=args.allow_anomalies,
        )
        summary = summarize(cfg, result.executions) if result.ok else None
    if not result.ok:
        reason = str(result.error).strip().splitlines()
        reason_text = reason[-1] if reason else type(result.error).__name__
        where = f"component {result.failed_node}" if result.failed_node else "the pipeline"
        bad_data = type(result.error).__name__ == "AnomaliesFoundError"
        if bad_data:
            # The data broke the curated schema: show the whole anomaly report, and exit as for bad input.
            print("", file=out)
            for line in reason[:-1]:
                print(f"  {line}", file=out)
        print(f"\nFAILED: {where}: {type(result.error).__name__}: {reason_text}", file=out)
        if log_file:
            print(f"  full traceback in {log_file}", file=out)
        return EXIT_USAGE if bad_data else EXIT_FAILED
    import io

    from pipeline.local import up_to_date

    text = io.StringIO()
    print_summary(result, summary, text)
    out.write(text.getvalue())
    up_to_date.save(home.root, cfg.name, up_to_date.run_key(cfg, _run_flags(args, home)),
                    _store_for_check(home, connection), result.run_id, summary.pushed if summary else None,
                    text.getvalue())
    return EXIT_OK


def cmd_schema_infer(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.data.csv_format import check_csv_dir
    from pipeline.data.schema_infer import infer_schema

    data_dir = Path(args.data).expanduser().resolve()
    check_csv_dir(data_dir)
    path = infer_schema(data_dir, args.out)
    print(f"wrote {path}: review types, presence and domains, then name it in a config's `schema:`", file=out)
    return EXIT_OK


def print_validation(report: Any, out: TextIO) -> int:
    if report.ok:
        print(f"valid: {report.path} ({report.target}; schema {report.schema_version}, sdk {report.sdk_version}; "
              f"{len(report.nodes)} nodes)", file=out)
        return EXIT_OK
    print(f"INVALID: {report.path} ({report.target}): {len(report.errors)} problem(s)", file=out)
    for error in report.errors:
        print(f"  - {error}", file=out)
    return EXIT_USAGE


def cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    import dataclasses

    from kubeflow.compile import CompileOptions, compile_pipeline
    from pipeline.config import loader as config_lib
    from pipeline.logs import captured, log_path

    cfg = config_lib.load_config(args.config, dict(args.overrides))
    names = {f.name for f in dataclasses.fields(CompileOptions)}
    options = CompileOptions(**{k: v for k, v in vars(args).items() if k in names})
    log_file = log_path(Path(".tfx-e2e") / "logs", "compile")
    with captured(log_file):
        path = compile_pipeline(cfg, options)
        from kubeflow.validate import validate

        report = validate(path, options.target)
    print(f"compiled {cfg.name} for {options.target}: {path}", file=out)
    return print_validation(report, out)


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from kubeflow.validate import validate
    from pipeline.logs import captured, log_path

    with captured(log_path(Path(".tfx-e2e") / "logs", "validate")):  # importing dotted paths wakes TensorFlow
        report = validate(args.file, args.target)
    return print_validation(report, out)


def cmd_submit(args: argparse.Namespace, out: TextIO) -> int:
    from kubeflow.submit import SubmitError, format_result, submit
    from pipeline.logs import captured, log_path

    try:
        with captured(log_path(Path(".tfx-e2e") / "logs", "submit")):  # validation imports TensorFlow (noisy)
            result = submit(
                args.file, args.target, project=args.project, region=args.region,
                service_account=args.service_account, no_cache=args.no_cache, host=args.host,
                namespace=args.namespace, experiment=args.experiment, dry_run=args.dry_run,
            )
    except SubmitError as err:
        raise UsageError(str(err)) from None
    for line in format_result(result):
        print(line, file=out)
    return EXIT_OK


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.paths import DEFAULT_HOME
    from pipeline.logs import captured, log_path

    home = (args.home or DEFAULT_HOME).expanduser().resolve()
    with captured(log_path(home / "logs", "predict")):  # importing TFX and loading a SavedModel is noisy
        from cli.predict import run as run_predict

        run_predict(args.model, args.input, home, args.config, args.json, out)
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    # Progress and results go to the terminal's stdout even while TFX/TF output is redirected to a log file.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    from pipeline.config.schema import ConfigError
    from pipeline.data.csv_format import DataError
    from pipeline.metadata.store import MetadataError

    try:
        if args.command == "run":
            return cmd_run(args, out)
        if args.command == "schema" and args.schema_command == "infer":
            return cmd_schema_infer(args, out)
        commands = {"compile": cmd_compile, "validate": cmd_validate, "submit": cmd_submit}
        if args.command == "predict":
            return cmd_predict(args, out)
        if args.command in commands:
            return commands[args.command](args, out)
        from cli import inspect as inspect_cli

        if args.command in inspect_cli.COMMANDS:
            return inspect_cli.run_command(args, out)
        raise UsageError(f"unknown command {args.command}")
    except (ConfigError, DataError, MetadataError, UsageError) as err:
        print(f"tfx-e2e: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        out.flush()


def entry() -> None:
    """The console script and `python -m pipeline`: main(), then exit without interpreter finalization.

    Once TensorFlow, Beam and TFX are loaded, tearing the interpreter down takes 2-3 s (measured) and does nothing a
    finished command needs: every file, log and metadata write is already closed or committed. Output streams and
    logging handlers are flushed first.
    """
    import logging

    try:
        code = main()
    except BrokenPipeError:
        # The reader went away (`tfx-e2e runs | head`): no traceback; stop writing (as Python's docs advise).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_FAILED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)
