"""Vertex AI Pipelines: the CreatePipelineJob request aiplatform.PipelineJob would send, and sending it.

Only public aiplatform / proto-plus API is used. Where aiplatform keeps a step private (the caching override, the
console link), this module does the same thing itself, and tests/unit/test_kubeflow_submit.py compares the result
with aiplatform's own private helper (google-cloud-aiplatform 1.70.0), so a change upstream fails a test loudly.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from pathlib import Path
from typing import Optional

from kubeflow.submit.job import (
    SubmitError,
    SubmitResult,
    display_name,
    job_id,
    one_line,
    pipeline_root,
)

VERTEX_API = "https://{region}-aiplatform.googleapis.com/v1"
VERTEX_CONSOLE = (
    "https://console.cloud.google.com/vertex-ai/locations/{location}/pipelines/runs/{pipeline_job}?project={project}"
)
GCS_API = "https://storage.googleapis.com/storage/v1"


def set_caching(pipeline_spec: dict, enable: bool) -> None:
    """Sets caching on every task of the spec, in the root DAG and in every component's own DAG.

    What aiplatform.PipelineJob(enable_caching=...) does (pipeline_jobs._set_enable_caching_value): each task's
    cachingOptions becomes exactly {"enableCache": enable}.
    """
    for component in [pipeline_spec["root"], *pipeline_spec.get("components", {}).values()]:
        for task in component.get("dag", {}).get("tasks", {}).values():
            task["cachingOptions"] = {"enableCache": enable}


def console_url(job_name: str, project: str, region: str) -> str:
    """The job's page in the Cloud console, as aiplatform logs it after creating the job ("View Pipeline Job")."""
    from google.cloud.aiplatform_v1.services.pipeline_service import PipelineServiceClient

    fields = PipelineServiceClient.parse_pipeline_job_path(job_name) or {
        "project": project, "location": region, "pipeline_job": job_name.rsplit("/", 1)[-1]}
    return VERTEX_CONSOLE.format(**fields)


def runtime_config(job: dict):
    """The job's RuntimeConfig (a protobuf message) as aiplatform.PipelineJob builds it: pipeline root =
    runtimeConfig.gcsOutputDirectory, the job's own parameter values (`parameters` for IR schema 2.0.0,
    `parameterValues` from 2.1)."""
    from google.cloud.aiplatform.utils import pipeline_utils
    from google.cloud.aiplatform_v1.types import pipeline_job as gca_pipeline_job
    from google.protobuf import json_format

    builder = pipeline_utils.PipelineRuntimeConfigBuilder.from_job_spec_json(job)
    builder.update_pipeline_root(pipeline_root(job))
    config_type = gca_pipeline_job.PipelineJob.RuntimeConfig
    config = config_type.pb(config_type())
    json_format.ParseDict(builder.build(), config)
    return config


def body(job: dict, service_account: Optional[str], no_cache: bool) -> dict:
    """The PipelineJob resource aiplatform.PipelineJob(...).submit() sends.

    aiplatform.PipelineJob itself cannot be built without credentials (its constructor creates an API client), so
    this repeats what its __init__ and submit() do: runtime_config(job), caching overridden only for --no-cache,
    displayName, labels (the compiled job's tfx_* labels), serviceAccount when given; serialized like aiplatform's
    REST transport (json_format.MessageToJson of the proto, integers for enums). Not covered: an encryption key or
    network set in a prior aiplatform.init() of the same process (the CLI makes none).
    """
    from google.cloud.aiplatform_v1.types import pipeline_job as gca_pipeline_job
    from google.protobuf import json_format

    job = copy.deepcopy(job)
    if no_cache:
        set_caching(job["pipelineSpec"], False)
    resource = gca_pipeline_job.PipelineJob(
        display_name=display_name(job),
        pipeline_spec=job["pipelineSpec"],
        labels=job.get("labels") or None,
        runtime_config=runtime_config(job),
    )
    if service_account:
        resource.service_account = service_account
    return json.loads(json_format.MessageToJson(gca_pipeline_job.PipelineJob.pb(resource), use_integers_for_enums=True))


def request(job: dict, pipeline_job_id: str, project: str, region: str, service_account: Optional[str],
            no_cache: bool, experiment: Optional[str]) -> dict:
    root = pipeline_root(job)
    sent = {
        "method": "POST",
        "endpoint": f"{VERTEX_API.format(region=region)}/projects/{project}/locations/{region}/pipelineJobs",
        "params": {"pipelineJobId": pipeline_job_id},
        "body": body(job, service_account, no_cache),
        "before": [],
    }
    if root.startswith("gs://"):
        bucket = root[len("gs://"):].split("/", 1)[0]
        sent["before"].append({
            "method": "GET",
            "endpoint": f"{GCS_API}/b/{bucket}",
            "params": {"fields": "name"},
            "why": "aiplatform checks that the pipeline-root bucket exists, and creates it in the region if not",
        })
    if experiment:
        sent["after"] = [{"why": f"aiplatform associates the job with Vertex AI experiment {experiment!r} "
                                 "(Vertex ML Metadata calls)"}]
    return sent


@contextlib.contextmanager
def _quiet_aiplatform():
    """aiplatform prints its own INFO progress lines to stdout; the command line prints format_result instead."""
    logger = logging.getLogger("google.cloud.aiplatform.pipeline_jobs")

    def only_problems(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING

    logger.addFilter(only_problems)
    try:
        yield
    finally:
        logger.removeFilter(only_problems)


def check_region(region: str) -> None:
    from google.cloud.aiplatform.constants import base as constants

    if region.lower() not in constants.SUPPORTED_REGIONS:
        raise SubmitError(f"--region {region!r} is not a Vertex AI region (e.g. us-central1, europe-west4).")


def submit(path: Path, job: dict, *, project, region, service_account, no_cache, experiment,
           dry_run) -> SubmitResult:
    if not (project and region):
        raise SubmitError("--project and --region are required to submit to Vertex AI Pipelines.")
    check_region(region)
    pipeline_job_id = job_id(job)
    sent = request(job, pipeline_job_id, project, region, service_account, no_cache, experiment)
    if dry_run:
        return SubmitResult("vertex", True, None, None, sent)

    import google.auth.exceptions
    from google.api_core import exceptions as api_exceptions
    from google.cloud import aiplatform

    try:
        pipeline_job = aiplatform.PipelineJob(
            display_name=display_name(job),
            template_path=str(path),
            job_id=pipeline_job_id,
            pipeline_root=pipeline_root(job),
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
            f"no Google Cloud credentials ({one_line(err)}); run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS."
        ) from err
    except api_exceptions.GoogleAPIError as err:
        raise SubmitError(f"Vertex AI did not accept the pipeline job: {one_line(err)}") from err
    job_name = pipeline_job.resource_name
    return SubmitResult("vertex", False, job_name, console_url(job_name, project, region), sent)
