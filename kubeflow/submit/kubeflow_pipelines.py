"""Kubeflow Pipelines (v2beta1 API): the run kfp.Client would create for a compiled job, and creating it."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Optional

from kubeflow.submit.job import (
    SubmitError,
    SubmitResult,
    display_name,
    one_line,
    parameter_values,
    pipeline_root,
)

KFP_API = "/apis/v2beta1"
# kfp.Client's own environment overrides for the experiment name (kfp/client/client.py).
KFP_DEFAULT_EXPERIMENT_ENV = "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME"
KFP_OVERRIDE_EXPERIMENT_ENV = "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"


def host_url(host: str) -> str:
    """As kfp.Client normalizes it: https:// when no scheme is given, no trailing slash."""
    host = host.strip()
    if not host.startswith("http"):
        host = "https://" + host
    return host.rstrip("/")


def experiment_name(experiment: Optional[str]) -> str:
    """kfp.Client.create_run_from_pipeline_package's choice: the override variable, the name, the default variable,
    then 'Default'."""
    name = experiment or os.environ.get(KFP_DEFAULT_EXPERIMENT_ENV)
    return os.environ.get(KFP_OVERRIDE_EXPERIMENT_ENV, name) or "Default"


def pipeline_spec(job: dict, no_cache: bool) -> dict:
    """The PipelineSpec alone, as kfp.Client reads a package (proto round trip, caching override only if set).

    A TFX-compiled file is a Vertex PipelineJob (displayName, labels, pipelineSpec, runtimeConfig), which kfp 2.5's
    create_run_from_pipeline_package cannot read (it wants a bare PipelineSpec in a .yaml/.zip/.tar.gz); the pipeline
    root and parameter values travel in the run's runtime_config instead. kfp overrides caching on the root DAG's
    tasks only (kfp.client.client._override_caching_options), and so does this.
    """
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    if no_cache:
        for task in spec.root.dag.tasks.values():
            task.caching_options.enable_cache = False
    return json_format.MessageToDict(spec)


def request(job: dict, host: str, namespace: Optional[str], experiment: str, run_name: str,
            service_account: Optional[str], no_cache: bool) -> dict:
    import kfp_server_api

    run = kfp_server_api.V2beta1Run(
        experiment_id=f"<id of experiment {experiment!r}>",
        display_name=run_name,
        pipeline_spec=pipeline_spec(job, no_cache),
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(
            pipeline_root=pipeline_root(job), parameters=parameter_values(job)),
        service_account=service_account,
    )
    body = kfp_server_api.ApiClient().sanitize_for_serialization(run)  # the client's own serializer; no I/O
    experiment_filter = json.dumps({
        "predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": experiment}]})
    in_namespace = {"namespace": namespace} if namespace else {}
    before = []
    if not namespace:
        before.append({"method": "GET", "endpoint": f"{host}{KFP_API}/healthz",
                       "why": "kfp.Client asks whether the deployment is multi-user (no --namespace given)"})
    before.append({"method": "GET", "endpoint": f"{host}{KFP_API}/experiments",
                   "params": {"filter": experiment_filter, **in_namespace},
                   "why": f"look up experiment {experiment!r}"})
    before.append({"method": "POST", "endpoint": f"{host}{KFP_API}/experiments",
                   "body": {"display_name": experiment, **in_namespace},
                   "why": "only if no experiment has that name"})
    return {"method": "POST", "endpoint": f"{host}{KFP_API}/runs", "params": {}, "body": body, "before": before}


def submit(job: dict, *, host, namespace, service_account, no_cache, experiment, dry_run) -> SubmitResult:
    if not host:
        raise SubmitError("--host is required to submit to Kubeflow Pipelines (e.g. http://localhost:8080).")
    host = host_url(host)
    run_name = f"{display_name(job)} {datetime.datetime.now().strftime('%Y-%m-%d %H-%M-%S')}"
    sent = request(job, host, namespace, experiment_name(experiment), run_name, service_account, no_cache)
    if dry_run:
        return SubmitResult("kubeflow", True, None, None, sent)

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
                arguments=parameter_values(job),
                run_name=run_name,
                experiment_name=experiment,
                namespace=namespace,
                pipeline_root=pipeline_root(job),
                enable_caching=False if no_cache else None,  # as for Vertex: keep the compiled per-task caching
                service_account=service_account,
            )
    except kfp_server_api.ApiException as err:
        raise SubmitError(
            f"Kubeflow Pipelines at {host} answered {err.status} {err.reason}: {one_line(err.body or '')[:300]}"
        ) from err
    except (urllib3.exceptions.HTTPError, OSError) as err:
        raise SubmitError(f"cannot reach Kubeflow Pipelines at {host}: {one_line(err)}") from err
    return SubmitResult("kubeflow", False, run.run_id, f"{host}/#/runs/details/{run.run_id}", sent)
