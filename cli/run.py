"""`tfx-e2e run`: check inputs, take the run lock, skip an unchanged run, else run the local DAG and record it."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any, Optional, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from cli.render import run as view

# Flags that override one config key each (the flag's dest -> the dotted key).
FLAG_KEYS = {
    "model": "model.family",
    "strategy": "training.strategy",
    "workers": "training.workers",
    "mixed_precision": "training.mixed_precision",
    "steps_per_execution": "training.steps_per_execution",
    "train_steps": "training.train_steps",
    "eval_steps": "training.eval_steps",
}


def add_parsers(sub: Any) -> None:
    from pipeline.config.schema import BEAM_MODES
    from trainer_module.models import FAMILY_CHOICES
    from trainer_module.strategy import MIXED_PRECISION_POLICIES, STRATEGIES

    run = sub.add_parser("run", help="run the pipeline locally (Beam DirectRunner, SQLite ML Metadata)",
                         description="Run the pipeline locally: Beam DirectRunner, ML Metadata in <home>/metadata.sqlite "
                                     "(or --metadata), pushed models in <home>/serving/<model>/<version>.")
    flags.add_config(run)
    run.add_argument("--data", metavar="DIR", help="directory of CSV files (default: the config's data)")
    flags.add_home(run, "run", "where runs write everything: metadata, artifacts, pushed models, state")
    run.add_argument("--train-steps", type=int, metavar="N", help="override training.train_steps")
    run.add_argument("--eval-steps", type=int, metavar="N", help="override training.eval_steps")
    flags.add_set(run)
    run.add_argument("--model", help=f"model family: {', '.join(FAMILY_CHOICES)} (overrides model.family; auto trains dnn and "
                     "gbt and keeps the better)")
    run.add_argument("--strategy", choices=STRATEGIES,
                     help="tf.distribute strategy for the Trainer (overrides training.strategy)")
    run.add_argument("--workers", type=int, metavar="N",
                     help="with --strategy multi_worker: worker processes on 127.0.0.1")
    run.add_argument("--mixed-precision", choices=tuple(MIXED_PRECISION_POLICIES), help="Keras mixed-precision policy")
    run.add_argument("--steps-per-execution", type=int, metavar="N", help="batches per tf.function call in Keras fit")
    run.add_argument("--warm-start", action="store_true",
                     help="start training from the latest blessed model's weights when the architecture matches")
    flags.add_tune(run)
    flags.add_quantize(run)
    run.add_argument("--no-cache", action="store_true", help="re-execute every component")
    run.add_argument("--always-run", action="store_true",
                     help="run through TFX even when config, code, data and metadata are unchanged since the last "
                          "successful run (components still use their cache; a new run is recorded)")
    run.add_argument("--allow-anomalies", action="store_true",
                     help="continue past ExampleValidator anomalies (they are still reported) instead of stopping")
    run.add_argument("--no-wait", action="store_true",
                     help="if another run holds this home (or this pipeline on a shared store), exit 2 at once")
    run.add_argument("--beam-mode", choices=BEAM_MODES, default="auto",
                     help="Beam DirectRunner mode; auto picks multi_processing for inputs ≥ 100 MB")
    run.add_argument("--verbose", action="store_true",
                     help=f"show TFX/TF/Beam logs here instead of writing them to {flags.log_note('run')}")
    flags.add_metadata(run)
    run.set_defaults(handler=cmd_run)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """--set pairs, then the dedicated flags (which win)."""
    result = dict(args.overrides)
    if args.data is not None:
        result["data"] = str(Path(args.data).expanduser().resolve())
    for flag, key in FLAG_KEYS.items():
        if getattr(args, flag) is not None:
            result[key] = getattr(args, flag)
    if args.warm_start:
        result["training.warm_start"] = True
    result.update(flags.tune_overrides(args))
    result.update(flags.quantize_overrides(args))
    return result


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.config.loader import load_config
    from pipeline.data.preflight import check_data
    from pipeline.local.lock import lock_path, run_lock
    from pipeline.metadata.store import connection_config, open_store

    # Every check a user can fail comes before anything is written.
    home = checks.home(args.home)
    cfg = load_config(checks.config_file(args.config), overrides(args))
    connection = connection_config(args.metadata) if args.metadata else None
    facts = check_data(cfg)  # the data directory and every file in it: listable, readable, CSV, fit for the schema
    if connection is not None:
        open_store(connection)  # an unreachable or misconfigured store fails now, with exit 2
    log_file = None if args.verbose else logfile.new(home, "run")
    view.print_header(cfg, home, args.metadata, out)
    for note in facts.label.notes if facts.label else ():
        print(f"  note  {note}", file=out)

    lock = lock_path(home.root, cfg.name, shared_store=bool(connection and connection.HasField("mysql")))
    with run_lock(lock, wait=not args.no_wait,
                  on_wait=lambda holder: print(f"  waiting: {holder} holds {lock}", file=out, flush=True)):
        unchanged = None if (args.no_cache or args.always_run) else _unchanged_since(args, cfg, home, connection)
        if unchanged is not None:
            view.print_unchanged(unchanged, out)
            return EXIT_OK
        if log_file:
            print(f"  log   {log_file}  (TFX, TensorFlow and Beam output; --verbose shows it here)", file=out)
        return _locked_run(args, cfg, home, connection, log_file, out)


def _run_flags(args: argparse.Namespace, home: Any) -> dict:
    """The flags that change what a run produces, beside the config (the key of the unchanged check)."""
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


def _record_and_report(args: argparse.Namespace, cfg: Any, home: Any, result: Any, node_seconds: dict,
                       log_file: Optional[Path]) -> Any:
    """Records what this command knew about the run in ML Metadata (pipeline.metadata.run_record) and writes its
    HTML report to <home>/reports/<run id>.html. Neither may fail the run: a problem is returned as text."""
    import yaml

    from pipeline.local.up_to_date import code_digest
    from pipeline.logs import redact
    from pipeline.metadata import run_record
    from pipeline.metadata.store import open_store

    error = None
    if result.error is not None:
        lines = str(result.error).strip().splitlines()
        error = redact(f"{type(result.error).__name__}: {lines[-1] if lines else ''}")
    record = {
        "config_yaml": yaml.safe_dump(cfg.to_dict(), sort_keys=False),
        "config_source": cfg.source,
        # Flags as given; a MySQL URI's password never reaches the store.
        "flags": {k: redact(v) if isinstance(v, str) else v for k, v in vars(args).items()
                  if isinstance(v, (str, int, float, bool, type(None), list, dict))},
        "versions": run_record.versions(),
        "code_fingerprint": code_digest(),
        "wall_seconds": result.wall_seconds,
        "node_seconds": node_seconds,
        "dag": result.dag or None,
        "error": error,
        "log_file": str(log_file) if log_file else None,
    }
    try:
        store = open_store(result.connection)
        if not run_record.write_record(store, result.run_id, record):
            return None
        from pipeline.report import write_report

        return write_report(store, cfg.name, result.run_id, home.root / "reports" / f"{result.run_id}.html",
                            home=home)
    except Exception as err:  # pylint: disable=broad-except  # the run's outcome stands; say what went wrong
        return f"not written: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"


def _locked_run(args: argparse.Namespace, cfg: Any, home: Any, connection: Any, log_file: Optional[Path],
                out: TextIO) -> int:
    with logfile.capture(log_file):
        from cli.render.progress import training_channel
        from pipeline.local import runner as local_runner
        from pipeline.metadata.summary import summarize

        node_seconds: dict[str, float] = {}
        # On a terminal, with TFX's logs in the log file: a live line per component, the Trainer's epoch/step/loss.
        live = out.isatty() and log_file is not None
        with training_channel(home.state, enabled=live) as training_file, \
                view.Progress(out, live=live, training_file=training_file) as progress:

            def on_event(event: Any) -> None:
                if event.phase != "start":
                    node_seconds[event.node_id] = round(event.seconds, 3)
                progress(event)

            result = local_runner.run(
                cfg,
                home,
                enable_cache=not args.no_cache,
                beam_mode=args.beam_mode,
                on_event=on_event,
                connection=connection,
                allow_anomalies=args.allow_anomalies,
            )
        summary = summarize(cfg, result.executions) if result.ok else None
        report = _record_and_report(args, cfg, home, result, node_seconds, log_file)
    if not result.ok:
        # The data broke the curated schema (the AnomaliesGate): exit as for any other bad input.
        bad_data = type(result.error).__name__ == "AnomaliesFoundError"
        view.print_failure(result, log_file, bad_data, out)
        out.write(view.report_text(report))
        return EXIT_USAGE if bad_data else EXIT_FAILED
    from pipeline.local import up_to_date

    text = view.summary_text(result, summary) + view.report_text(report)
    out.write(text)
    up_to_date.save(home.root, cfg.name, up_to_date.run_key(cfg, _run_flags(args, home)),
                    _store_for_check(home, connection), result.run_id, summary.pushed if summary else None, text)
    return EXIT_OK
