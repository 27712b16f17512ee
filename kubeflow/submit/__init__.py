"""`tfx-e2e submit`: send a compiled PipelineJob to Vertex AI or Kubeflow Pipelines, or show what would be sent.

job.py loads and checks the compiled job; vertex.py and kubeflow_pipelines.py build (and send) each service's
request with its own client; formatting.py renders the result. This module is the public entry the CLI imports.
"""

from __future__ import annotations

from pathlib import Path

from kubeflow.submit import kubeflow_pipelines, vertex
from kubeflow.submit.formatting import format_result
from kubeflow.submit.job import SubmitError, SubmitResult, load
from kubeflow.targets import TARGETS, VERTEX

__all__ = ["SubmitError", "SubmitResult", "format_result", "submit"]


def submit(path, target, *, project=None, region=None, service_account=None, no_cache=False, host=None,
           namespace=None, experiment=None, dry_run=False) -> SubmitResult:
    """Validates the compiled job offline, then creates it (or, with dry_run, only builds the request)."""
    if target not in TARGETS:
        raise SubmitError(f"--target must be one of {', '.join(TARGETS)}, got {target!r}.")
    job = load(Path(path), target)
    if target == VERTEX:
        return vertex.submit(Path(path), job, project=project, region=region, service_account=service_account,
                             no_cache=no_cache, experiment=experiment, dry_run=dry_run)
    return kubeflow_pipelines.submit(job, host=host, namespace=namespace, service_account=service_account,
                                     no_cache=no_cache, experiment=experiment, dry_run=dry_run)
