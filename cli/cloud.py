"""`tfx-e2e compile | validate | submit`: the pipeline for Vertex AI / Kubeflow Pipelines v2 (kubeflow/)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, TextIO

from cli import checks, flags, logfile
from cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from cli.render.validation import print_validation

COMPILED_HINT = "give a PipelineJob JSON written by `tfx-e2e compile`"


def add_parsers(sub: Any) -> None:
    from kubeflow.targets import SUBMIT_TARGETS, TARGETS, VERTEX

    comp = sub.add_parser("compile", help="compile the pipeline for Vertex AI or Kubeflow Pipelines v2 (PipelineJob JSON)")
    comp.add_argument("--target", required=True, choices=TARGETS, help="Vertex AI Pipelines or Kubeflow Pipelines v2")
    comp.add_argument("--image", required=True, help="container image with this project installed (kubeflow/Dockerfile)")
    comp.add_argument("--pipeline-root", required=True, help="remote URI for artifacts, e.g. gs://BUCKET/pipeline_root")
    flags.add_config(comp)
    comp.add_argument("--data", help="remote URI of the CSV directory (a runtime parameter: data-root)")
    comp.add_argument("--serving-dir", help="remote URI TF Serving watches; models go to <serving-dir>/<model>/<version>")
    comp.add_argument("--beam-runner", choices=("direct", "dataflow"), default="direct",
                      help="Beam for the data components: in the container (direct) or on Dataflow")
    comp.add_argument("--project", help="Google Cloud project (Dataflow, Vertex training, Vertex endpoint)")
    comp.add_argument("--region", help="Google Cloud region, e.g. us-central1")
    comp.add_argument("--temp-location", help="Dataflow temp location, gs://BUCKET/tmp")
    comp.add_argument("--dataflow-machine-type", default="n1-standard-4", help="Dataflow worker machine type")
    comp.add_argument("--dataflow-max-workers", type=int, default=4, help="Dataflow autoscaling limit")
    comp.add_argument("--vertex-training", action="store_true", help="run the Trainer as a Vertex AI custom job")
    comp.add_argument("--machine-type", default="n1-standard-4", help="Vertex training machine type")
    comp.add_argument("--accelerator-type", help="Vertex training GPU type, e.g. NVIDIA_TESLA_T4")
    comp.add_argument("--accelerator-count", type=int, default=0, help="GPUs per Vertex training replica")
    comp.add_argument("--tpu-type", help="Vertex training TPU type, e.g. TPU_V3 (machine type cloud-tpu)")
    comp.add_argument("--replica-count", type=int, default=1, help="> 1: multi-worker Vertex training")
    comp.add_argument("--vertex-endpoint", help="push to this Vertex AI endpoint instead of --serving-dir")
    flags.add_set(comp)
    flags.add_tune(comp)
    flags.add_quantize(comp)
    comp.add_argument("--out", type=Path, help="output file (default kubeflow/build/<pipeline>-<target>.json)")
    flags.add_home(comp, "compile", "home directory")
    comp.set_defaults(handler=cmd_compile)

    val = sub.add_parser("validate", help="check a compiled pipeline offline")
    val.add_argument("file", type=Path, help="the PipelineJob JSON `tfx-e2e compile` wrote")
    val.add_argument("--target", choices=TARGETS, default=VERTEX, help="the orchestrator it is for (default vertex)")
    flags.add_home(val, "validate", "home directory")
    val.set_defaults(handler=cmd_validate)

    subm = sub.add_parser("submit", help="submit a compiled pipeline to Vertex AI or Kubeflow Pipelines, or run it here "
                                         "(--target local)")
    subm.add_argument("file", type=Path, help="the PipelineJob JSON `tfx-e2e compile` wrote")
    subm.add_argument("--target", required=True, choices=SUBMIT_TARGETS,
                      help="vertex | kubeflow: send it; local: execute the compiled file on this machine")
    subm.add_argument("--project", help="Vertex AI: Google Cloud project")
    subm.add_argument("--region", help="Vertex AI: region, e.g. us-central1")
    subm.add_argument("--service-account", help="the service account the pipeline's steps run as")
    subm.add_argument("--no-cache", action="store_true", help="re-execute every step (no execution cache)")
    subm.add_argument("--host", help="Kubeflow Pipelines API host URL")
    subm.add_argument("--namespace", help="Kubeflow Pipelines: the Kubernetes namespace (multi-user installs)")
    subm.add_argument("--experiment", help="the experiment to file the run under")
    subm.add_argument("--dry-run", action="store_true", help="validate and print the request; no network access")
    subm.add_argument("--workdir", type=Path, metavar="DIR",
                      help="local: where runs, their ML Metadata record and logs go (default <home>/kfp-local)")
    subm.add_argument("--gcs-mirror", type=Path, metavar="DIR",
                      help="local: gs://BUCKET/PATH is read and written at DIR/BUCKET/PATH (default <workdir>/gcs)")
    subm.add_argument("--param", dest="params", type=parse_param, action="append", default=[], metavar="NAME=VALUE",
                      help="local: override a runtime parameter, e.g. --param data-root=./my-data (repeatable)")
    subm.add_argument("--only", nargs="+", default=[], metavar="TASK",
                      help="local: execute only these tasks; earlier tasks come from the cache, later ones do not run")
    subm.add_argument("--parallel", type=int, default=1, metavar="N",
                      help="local: run up to N independent tasks at once (default 1)")
    subm.add_argument("--beam-mode", default="auto", choices=("auto", "as-compiled", "in_memory", "multi_processing"),
                      help="local: the DirectRunner's mode inside tasks; auto (default): in_memory below 100 MB of "
                           "local input, as tfx-e2e run chooses")
    flags.add_home(subm, "submit", "home directory")
    subm.set_defaults(handler=cmd_submit)


def cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    from kubeflow.compile import CompileOptions, check_options, compile_pipeline, default_output
    from kubeflow.validate import validate
    from pipeline.config.loader import load_config

    home = checks.home(args.home)
    cfg = load_config(checks.config_file(args.config), {**dict(args.overrides), **flags.tune_overrides(args),
                                                           **flags.quantize_overrides(args)})
    names = {f.name for f in dataclasses.fields(CompileOptions)}
    options = CompileOptions(**{k: v for k, v in vars(args).items() if k in names})
    checks.output_file(options.out or default_output(cfg, options.target), "--out")
    check_options(cfg, options)  # here too: its mistakes are the user's, found before a log is written
    with logfile.capture(logfile.new(home, "compile")):
        path = compile_pipeline(cfg, options)
        report = validate(path, options.target)
    print(f"compiled {cfg.name} for {options.target}: {path}", file=out)
    print_validation(report, out)
    return EXIT_OK if report.ok else EXIT_USAGE


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from kubeflow.validate import validate

    home = checks.home(args.home)
    path = checks.input_file(args.file, "", COMPILED_HINT)
    with logfile.capture(logfile.new(home, "validate")):  # importing dotted paths wakes TensorFlow
        report = validate(path, args.target)
    print_validation(report, out)
    return EXIT_OK if report.ok else EXIT_USAGE


def parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--param expects NAME=VALUE (e.g. data-root=./my-data), got {text!r}")
    return name.strip(), value


def cmd_submit(args: argparse.Namespace, out: TextIO) -> int:
    from kubeflow.submit import format_result, submit
    from kubeflow.targets import LOCAL

    home = checks.home(args.home)
    path = checks.input_file(args.file, "", COMPILED_HINT)
    if args.target == LOCAL:
        return _submit_local(args, path, home, out)
    local_only = [flag for flag, value in (("--workdir", args.workdir), ("--gcs-mirror", args.gcs_mirror),
                                           ("--param", args.params), ("--only", args.only),
                                           ("--parallel", args.parallel != 1),
                                           ("--beam-mode", args.beam_mode != "auto")) if value]
    if local_only:
        raise UsageError(f"{', '.join(local_only)} {'applies' if len(local_only) == 1 else 'apply'} only to "
                         "--target local.")
    with logfile.capture(logfile.new(home, "submit")):  # validation imports TensorFlow (noisy)
        result = submit(
            path, args.target, project=args.project, region=args.region,
            service_account=args.service_account, no_cache=args.no_cache, host=args.host,
            namespace=args.namespace, experiment=args.experiment, dry_run=args.dry_run,
        )
    for line in format_result(result):
        print(line, file=out)
    return EXIT_OK


def _submit_local(args: argparse.Namespace, path: Path, home, out: TextIO) -> int:
    from kubeflow.local import LocalOptions, run_local
    from kubeflow.local.summary import image_note, lines

    if args.dry_run:
        raise UsageError("--dry-run does not apply to --target local (nothing is sent); drop it.")
    workdir = checks.home(args.workdir).root if args.workdir else home.root / "kfp-local"
    mirror = checks.home(args.gcs_mirror).root if args.gcs_mirror else None
    options = LocalOptions(workdir=workdir, gcs_mirror=mirror, params=dict(args.params), only=tuple(args.only),
                           no_cache=args.no_cache, parallel=args.parallel, beam_mode=args.beam_mode)
    result = run_local(path, options, lambda line: print(line, file=out, flush=True),
                       header=f"running {path} here (--target local): {image_note()}")
    for line in lines(result):
        print(line, file=out)
    return EXIT_FAILED if result.failed else EXIT_OK
