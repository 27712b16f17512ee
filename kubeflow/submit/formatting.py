"""What `tfx-e2e submit` prints: the created job and its console page, or the request a dry run would send."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlencode

from kubeflow.submit.job import SubmitResult

SERVICES = {"vertex": "Vertex AI Pipelines", "kubeflow": "Kubeflow Pipelines"}


def _abbreviated(body: dict) -> tuple[dict, str]:
    """The body with its pipeline spec cut down to the task names (executors and components are long)."""
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
    params = step.get("params") or {}
    return step["endpoint"] + (f"?{urlencode(params)}" if params else "")


def format_result(result: SubmitResult) -> list[str]:
    """Lines for the command line."""
    if not result.dry_run:
        return [f"submitted    {result.job_name}  ({SERVICES[result.target]})", f"console      {result.url}"]
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
