"""`tfx-e2e submit`: send a compiled PipelineJob to Vertex AI or Kubeflow Pipelines, or show what would be sent."""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

TARGETS = ("vertex", "kubeflow")
VERTEX_API = "https://{region}-aiplatform.googleapis.com/v1"
VERTEX_CONSOLE = (
    "https://console.cloud.google.com/vertex-ai/locations/{region}/pipelines/runs/{job_id}?project={project}"
)
GCS_API = "https://storage.googleapis.com/storage/v1"
KFP_API = "/apis/v2beta1"
# kfp.Client's own environment overrides for the experiment name (kfp/client/client.py).
KFP_DEFAULT_EXPERIMENT_ENV = "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME"
KFP_OVERRIDE_EXPERIMENT_ENV = "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"
_JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")  # aiplatform's pipeline_constants._VALID_NAME_PATTERN


class SubmitError(ValueError):
    """A problem the user can fix (flags, spec, credentials, what the service answered): one line, exit code 2."""


@dataclass
class SubmitResult:
    target: str
    dry_run: bool
    job_name: Optional[str]  # Vertex: projects/P/locations/R/pipelineJobs/ID; Kubeflow: the run id; None on a dry run
    url: Optional[str]  # console / UI page of the job; None on a dry run
    request: Optional[dict]  # {"method", "endpoint", "params", "body", "before": [...]}: what is (or would be) sent


# ---------------------------------------------------------------------------------------------------------------
# The compiled job


def _load(path: Path, target: str) -> dict:
    from kubeflow.validate import validate

    report = validate(Path(path), target)
    if not report.ok:
        raise SubmitError(f"{path} is not fit to submit to {target}: " + "; ".join(report.errors))
    job = json.loads(Path(path).read_text())
    unset = _unset_parameters(job)
    if unset:
        raise SubmitError(
            f"{path}: pipeline parameter(s) {', '.join(unset)} have neither a value in runtimeConfig nor a default, "
            "so the run could not resolve them; recompile so that the job carries their values."
        )
    return job


def _parameter_values(job: dict) -> dict[str, Any]:
    """runtimeConfig values as plain Python values: `parameterValues` (IR ≥ 2.1) or legacy typed `parameters`."""
    runtime = job.get("runtimeConfig", {})
    if runtime.get("parameterValues") is not None:
        return dict(runtime["parameterValues"])
    values = {}
    for name, value in (runtime.get("parameters") or {}).items():
        if "intValue" in value:
            values[name] = int(value["intValue"])
        elif "doubleValue" in value:
            values[name] = float(value["doubleValue"])
        else:
            values[name] = value.get("stringValue")
    return values


def _unset_parameters(job: dict) -> list[str]:
    definitions = job.get("pipelineSpec", {}).get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    values = _parameter_values(job)
    return sorted(
        name
        for name, definition in definitions.items()
        if values.get(name) is None and "defaultValue" not in definition and not definition.get("isOptional")
    )


def _display_name(job: dict) -> str:
    return job.get("displayName") or job["pipelineSpec"]["pipelineInfo"]["name"]


def _job_id(job: dict) -> str:
    """`<pipeline name>-<YYYYmmddHHMMSS>`, exactly as aiplatform.PipelineJob generates one."""
    name = re.sub("[^-0-9a-z]+", "-", job["pipelineSpec"]["pipelineInfo"]["name"].lower()).lstrip("-").rstrip("-")
    job_id = f"{name}-{datetime.datetime.now().strftime('%Y%m%d%H%M%S')}"
    if not _JOB_ID.match(job_id):
        raise SubmitError(f"pipeline name {name!r} gives the job id {job_id!r}, which Vertex AI does not accept.")
    return job_id


def _pipeline_root(job: dict) -> str:
    return job.get("runtimeConfig", {}).get("gcsOutputDirectory", "")


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------------------------------------------------------
# Vertex AI Pipelines


def _vertex_body(job: dict, service_account: Optional[str], no_cache: bool) -> dict:
    """The PipelineJob resource aiplatform.PipelineJob(...).submit() sends, built with aiplatform's own helpers.

    aiplatform.PipelineJob itself cannot be built without credentials (its constructor creates an API client), so
    this repeats what its __init__ and submit() do with the same pure helpers: runtimeConfig from
    PipelineRuntimeConfigBuilder (pipeline root = runtimeConfig.gcsOutputDirectory; the job's own parameter values;
    `parameters` for IR schema 2.0.0, `parameterValues` from 2.1), caching overridden only for --no-cache,
    displayName, labels (the compiled job's tfx_* labels), serviceAccount when given; serialized like aiplatform's
    REST transport (json_format.MessageToJson of the proto, integers for enums). Not covered: an encryption key or
    network set in a prior aiplatform.init() of the same process (the CLI makes none).
    """
    from google.cloud.aiplatform import pipeline_jobs
    from google.cloud.aiplatform.utils import pipeline_utils
    from google.cloud.aiplatform_v1.types import pipeline_job as gca_pipeline_job
    from google.protobuf import json_format

    job = copy.deepcopy(job)
    builder = pipeline_utils.PipelineRuntimeConfigBuilder.from_job_spec_json(job)
    builder.update_pipeline_root(_pipeline_root(job))
    runtime_config = gca_pipeline_job.PipelineJob.RuntimeConfig()._pb
    json_format.ParseDict(builder.build(), runtime_config)
    if no_cache:
        pipeline_jobs._set_enable_caching_value(job["pipelineSpec"], False)
    resource = gca_pipeline_job.PipelineJob(
        display_name=_display_name(job),
        pipeline_spec=job["pipelineSpec"],
        labels=job.get("labels") or None,
        runtime_config=runtime_config,
    )
    if service_account:
        resource.service_account = service_account
    return json.loads(json_format.MessageToJson(gca_pipeline_job.PipelineJob.pb(resource), use_integers_for_enums=True))


def _vertex_request(job: dict, job_id: str, project: str, region: str, service_account: Optional[str],
                    no_cache: bool, experiment: Optional[str]) -> dict:
    bucket = _pipeline_root(job)[len("gs://"):].split("/", 1)[0]
    request = {
        "method": "POST",
        "endpoint": f"{VERTEX_API.format(region=region)}/projects/{project}/locations/{region}/pipelineJobs",
        "params": {"pipelineJobId": job_id},
        "body": _vertex_body(job, service_account, no_cache),
        "before": [],
    }
    if _pipeline_root(job).startswith("gs://"):
        request["before"].append({
            "method": "GET",
            "endpoint": f"{GCS_API}/b/{bucket}",
            "params": {"fields": "name"},
            "why": "aiplatform checks that the pipeline-root bucket exists, and creates it in the region if not",
        })
    if experiment:
        request["after"] = [{"why": f"aiplatform associates the job with Vertex AI experiment {experiment!r} "
                                    "(Vertex ML Metadata calls)"}]
    return request


@contextlib.contextmanager
def _quiet_aiplatform():
    """aiplatform prints its own INFO progress lines to stdout; the command line prints format_result instead."""
    import logging

    logger = logging.getLogger("google.cloud.aiplatform.pipeline_jobs")

    def only_problems(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING

    logger.addFilter(only_problems)
    try:
        yield
    finally:
        logger.removeFilter(only_problems)


def _check_region(region: str) -> None:
    from google.cloud.aiplatform.constants import base as constants

    if region.lower() not in constants.SUPPORTED_REGIONS:
        raise SubmitError(f"--region {region!r} is not a Vertex AI region (e.g. us-central1, europe-west4).")


def _submit_vertex(path: Path, job: dict, *, project, region, service_account, no_cache, experiment,
                   dry_run) -> SubmitResult:
    if not (project and region):
        raise SubmitError("--project and --region are required to submit to Vertex AI Pipelines.")
    _check_region(region)
    job_id = _job_id(job)
    request = _vertex_request(job, job_id, project, region, service_account, no_cache, experiment)
    if dry_run:
        return SubmitResult("vertex", True, None, None, request)

    import google.auth.exceptions
    from google.api_core import exceptions as api_exceptions
    from google.cloud import aiplatform

    try:
        pipeline_job = aiplatform.PipelineJob(
            display_name=_display_name(job),
            template_path=str(path),
            job_id=job_id,
            pipeline_root=_pipeline_root(job),
            # None keeps the compiled per-task caching: TFX compiles the resolvers uncached, and True would cache
            # them too, so a rerun would be handed a stale baseline model.
            enable_caching=False if no_cache else None,
            labels=job.get("labels") or None,
            project=project,
            location=region,
        )
        submit_kwargs = {"service_account": service_account}
        if experiment:
            submit_kwargs["experiment"] = experiment
        with _quiet_aiplatform():
            pipeline_job.submit(**submit_kwargs)
    except google.auth.exceptions.DefaultCredentialsError as err:
        raise SubmitError(
            f"no Google Cloud credentials ({_one_line(err)}); run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS."
        ) from err
    except api_exceptions.GoogleAPIError as err:
        raise SubmitError(f"Vertex AI did not accept the pipeline job: {_one_line(err)}") from err
    job_name = pipeline_job.resource_name
    dashboard = getattr(pipeline_job, "_dashboard_uri", None)
    url = dashboard() if callable(dashboard) else VERTEX_CONSOLE.format(
        region=region, job_id=job_name.rsplit("/", 1)[-1], project=project)
    return SubmitResult("vertex", False, job_name, url, request)


# ---------------------------------------------------------------------------------------------------------------
# Kubeflow Pipelines (v2 API)


def _kfp_host(host: str) -> str:
    """As kfp.Client normalizes it: https:// when no scheme is given, no trailing slash."""
    host = host.strip()
    if not host.startswith("http"):
        host = "https://" + host
    return host.rstrip("/")


def _kfp_experiment_name(experiment: Optional[str]) -> str:
    """kfp.Client.create_run_from_pipeline_package's choice: the override variable, the name, the default variable,
    then 'Default'."""
    name = experiment or os.environ.get(KFP_DEFAULT_EXPERIMENT_ENV)
    return os.environ.get(KFP_OVERRIDE_EXPERIMENT_ENV, name) or "Default"


def _kfp_pipeline_spec(job: dict, no_cache: bool) -> dict:
    """The PipelineSpec alone, as kfp.Client reads a package (proto round trip, caching override only if set).

    A TFX-compiled file is a Vertex PipelineJob (displayName, labels, pipelineSpec, runtimeConfig), which kfp 2.5's
    create_run_from_pipeline_package cannot read (it wants a bare PipelineSpec in a .yaml/.zip/.tar.gz); the pipeline
    root and parameter values travel in the run's runtime_config instead.
    """
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    if no_cache:
        for task in spec.root.dag.tasks.values():
            task.caching_options.enable_cache = False
    return json_format.MessageToDict(spec)


def _kfp_request(job: dict, host: str, namespace: Optional[str], experiment: str, run_name: str,
                 service_account: Optional[str], no_cache: bool) -> dict:
    import kfp_server_api

    run = kfp_server_api.V2beta1Run(
        experiment_id=f"<id of experiment {experiment!r}>",
        display_name=run_name,
        pipeline_spec=_kfp_pipeline_spec(job, no_cache),
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(
            pipeline_root=_pipeline_root(job), parameters=_parameter_values(job)),
        service_account=service_account,
    )
    body = kfp_server_api.ApiClient().sanitize_for_serialization(run)  # the client's own serializer; no I/O
    experiment_filter = json.dumps({
        "predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": experiment}]})
    before = []
    if not namespace:
        before.append({"method": "GET", "endpoint": f"{host}{KFP_API}/healthz",
                       "why": "kfp.Client asks whether the deployment is multi-user (no --namespace given)"})
    before.append({"method": "GET", "endpoint": f"{host}{KFP_API}/experiments",
                   "params": {"filter": experiment_filter, **({"namespace": namespace} if namespace else {})},
                   "why": f"look up experiment {experiment!r}"})
    before.append({"method": "POST", "endpoint": f"{host}{KFP_API}/experiments",
                   "body": {"display_name": experiment, **({"namespace": namespace} if namespace else {})},
                   "why": "only if no experiment has that name"})
    return {"method": "POST", "endpoint": f"{host}{KFP_API}/runs", "params": {}, "body": body, "before": before}


def _submit_kubeflow(job: dict, *, host, namespace, service_account, no_cache, experiment, dry_run) -> SubmitResult:
    if not host:
        raise SubmitError("--host is required to submit to Kubeflow Pipelines (e.g. http://localhost:8080).")
    host = _kfp_host(host)
    experiment_name = _kfp_experiment_name(experiment)
    run_name = f"{_display_name(job)} {datetime.datetime.now().strftime('%Y-%m-%d %H-%M-%S')}"
    request = _kfp_request(job, host, namespace, experiment_name, run_name, service_account, no_cache)
    if dry_run:
        return SubmitResult("kubeflow", True, None, None, request)

    import kfp
    import kfp_server_api
    import urllib3

    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()):  # kfp prints its own "details" links
            warnings.simplefilter("ignore", FutureWarning)
            package = Path(tmp) / "pipeline.yaml"
            package.write_text(json.dumps(job["pipelineSpec"]))  # JSON is YAML: the bare PipelineSpec
            client = kfp.Client(host=host, namespace=namespace or "kubeflow")
            run = client.create_run_from_pipeline_package(
                str(package),
                arguments=_parameter_values(job),
                run_name=run_name,
                experiment_name=experiment,
                namespace=namespace,
                pipeline_root=_pipeline_root(job),
                enable_caching=False if no_cache else None,  # as for Vertex: keep the compiled per-task caching
                service_account=service_account,
            )
    except kfp_server_api.ApiException as err:
        raise SubmitError(
            f"Kubeflow Pipelines at {host} answered {err.status} {err.reason}: {_one_line(err.body or '')[:300]}"
        ) from err
    except (urllib3.exceptions.HTTPError, OSError) as err:
        raise SubmitError(f"cannot reach Kubeflow Pipelines at {host}: {_one_line(err)}") from err
    return SubmitResult("kubeflow", False, run.run_id, f"{host}/#/runs/details/{run.run_id}", request)


# ---------------------------------------------------------------------------------------------------------------
# Public API


def submit(path, target, *, project=None, region=None, service_account=None, no_cache=False, host=None,
           namespace=None, experiment=None, dry_run=False) -> SubmitResult:
    """Validates the compiled job offline, then creates it (or, with dry_run, only builds the request)."""
    if target not in TARGETS:
        raise SubmitError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}.")
    job = _load(Path(path), target)
    if target == "vertex":
        return _submit_vertex(Path(path), job, project=project, region=region, service_account=service_account,
                              no_cache=no_cache, experiment=experiment, dry_run=dry_run)
    return _submit_kubeflow(job, host=host, namespace=namespace, service_account=service_account,
                            no_cache=no_cache, experiment=experiment, dry_run=dry_run)


def _abbreviated(body: dict) -> tuple[dict, str]:
    body = copy.deepcopy(body)
    key = "pipelineSpec" if "pipelineSpec" in body else "pipeline_spec"
    spec = body.get(key) or {}
    body[key] = {
        "pipelineInfo": spec.get("pipelineInfo"),
        "schemaVersion": spec.get("schemaVersion"),
        "sdkVersion": spec.get("sdkVersion"),
        "root.dag.tasks": sorted(spec.get("root", {}).get("dag", {}).get("tasks", {})),
    }
    return body, key


def _with_query(step: dict) -> str:
    from urllib.parse import urlencode

    params = step.get("params") or {}
    return step["endpoint"] + (f"?{urlencode(params)}" if params else "")


def format_result(result: SubmitResult) -> list[str]:
    """Lines for the command line: the created job and its console page, or the request a dry run would send."""
    if not result.dry_run:
        service = "Vertex AI Pipelines" if result.target == "vertex" else "Kubeflow Pipelines"
        return [f"submitted    {result.job_name}  ({service})", f"console      {result.url}"]
    request = result.request or {}
    lines = [f"DRY RUN: would {request.get('method', 'POST')} {_with_query(request)}"]
    for step in request.get("before", []):
        lines.append(f"  preceded by {step['method']} {_with_query(step)}  ({step['why']})")
    for step in request.get("after", []):
        lines.append(f"  followed by {step['why']}")
    body, key = _abbreviated(request.get("body") or {})
    lines.append(f"body ({key} abbreviated to its task names here; the full spec is sent):")
    lines.extend(json.dumps(body, indent=2, sort_keys=True).splitlines())
    return lines
