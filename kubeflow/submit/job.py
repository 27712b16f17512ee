"""The compiled PipelineJob as submit sees it: loaded only if valid, its parameter values, names and pipeline root."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from kubeflow.validate import validate

_JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")  # aiplatform's pipeline_jobs._VALID_NAME_PATTERN


class SubmitError(ValueError):
    """A problem the user can fix (flags, spec, credentials, what the service answered): one line, exit code 2."""


@dataclass
class SubmitResult:
    target: str
    dry_run: bool
    job_name: Optional[str]  # Vertex: projects/P/locations/R/pipelineJobs/ID; Kubeflow: the run id; None on a dry run
    url: Optional[str]  # console / UI page of the job; None on a dry run
    request: Optional[dict]  # {"method", "endpoint", "params", "body", "before": [...]}: what is (or would be) sent


def load(path: Path, target: str) -> dict:
    """The job in `path`, refused unless `tfx-e2e validate` passes it and every pipeline parameter has a value."""
    report = validate(Path(path), target)
    if not report.ok:
        raise SubmitError(f"{path} is not fit to submit to {target}: " + "; ".join(report.errors))
    job = json.loads(Path(path).read_text())
    unset = unset_parameters(job)
    if unset:
        raise SubmitError(
            f"{path}: pipeline parameter(s) {', '.join(unset)} have neither a value in runtimeConfig nor a default, "
            "so the run could not resolve them; recompile so that the job carries their values."
        )
    return job


def parameter_values(job: dict) -> dict[str, Any]:
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


def unset_parameters(job: dict) -> list[str]:
    definitions = job.get("pipelineSpec", {}).get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    values = parameter_values(job)
    return sorted(
        name
        for name, definition in definitions.items()
        if values.get(name) is None and "defaultValue" not in definition and not definition.get("isOptional")
    )


def display_name(job: dict) -> str:
    return job.get("displayName") or job["pipelineSpec"]["pipelineInfo"]["name"]


def job_id(job: dict) -> str:
    """`<pipeline name>-<YYYYmmddHHMMSS>`, exactly as aiplatform.PipelineJob generates one."""
    name = re.sub("[^-0-9a-z]+", "-", job["pipelineSpec"]["pipelineInfo"]["name"].lower()).lstrip("-").rstrip("-")
    generated = f"{name}-{datetime.datetime.now().strftime('%Y%m%d%H%M%S')}"
    if not _JOB_ID.match(generated):
        raise SubmitError(f"pipeline name {name!r} gives the job id {generated!r}, which Vertex AI does not accept.")
    return generated


def pipeline_root(job: dict) -> str:
    return job.get("runtimeConfig", {}).get("gcsOutputDirectory", "")


def one_line(text: Any) -> str:
    return " ".join(str(text).split())
