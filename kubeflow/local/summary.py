"""What `submit --target local` prints after its per-task lines: the job, the location mappings it used, the
blessing and the pushed model (like `tfx-e2e run`'s summary), and on failure the task, its last error line and log."""

from __future__ import annotations

from typing import Optional

from kubeflow.local.executor_input import Artifact
from kubeflow.local.runner import FAILED_STATE, FROM_CACHE, RAN, LocalResult


def _produced(result: LocalResult, schema_title: str) -> Optional[Artifact]:
    for name in reversed(result.job.order):
        outputs = result.outputs.get(name)
        for artifacts in (outputs.artifacts.values() if outputs else ()):
            for artifact in artifacts:
                if artifact.schema_title == schema_title and result.job.tasks[name].kind == "container":
                    return artifact
    return None


def _number(value) -> Optional[int]:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def image_note() -> str:
    """The one difference from the cloud that every task has."""
    import sys
    from pathlib import Path

    return (f"each container task's image is not used: its command runs as a process with {Path(sys.executable).parent} "
            "first on PATH and the project root as working directory")


def lines(result: LocalResult) -> list[str]:
    counts = {state: sum(1 for r in result.results if r.state == state and r.kind == "container")
              for state in (RAN, FROM_CACHE, FAILED_STATE)}
    out = [
        f"job          {result.job_id}  ({result.job.pipeline_name}, {result.job.path})",
        f"workdir      {result.workdir}  (ML Metadata: {result.workdir / 'metadata.sqlite'})",
    ]
    for cloud, local, why in result.mappings:
        out.append(f"location     {cloud} -> {local}  ({why})")
    for name, value in sorted(result.job.parameters.items()):
        out.append(f"parameter    {name} = {value}")
    out.append(f"beam         DirectRunner {result.beam_note}")
    out.append(f"tasks        {counts[RAN]} ran, {counts[FROM_CACHE]} from the cache, {counts[FAILED_STATE]} failed "
               f"in {result.seconds:.1f} s; logs in {result.workdir / 'logs'}")
    failed = result.failed
    if failed is not None:
        out.append(f"failed       {failed.name}: {failed.detail}")
        out.append(f"log          {failed.log}")
        later = [r.name for r in result.results if r.state == "not run"]
        if later:
            out.append(f"not run      {', '.join(later)}")
        out.append("fix it and run the same command again: finished tasks come from the cache")
        return out
    blessing = _produced(result, "tfx.ModelBlessing")
    if blessing is not None:
        blessed = _number(blessing.metadata.get("blessed")) == 1
        baseline = blessing.metadata.get("baseline_model_id")
        against = f"baseline {baseline}" if baseline else "no baseline (first blessed model)"
        out.append(f"blessed      {'yes' if blessed else 'no'}  (model {blessing.metadata.get('current_model_id', '?')}, "
                   f"{against})")
    pushed = _produced(result, "tfx.PushedModel")
    if pushed is not None:
        if _number(pushed.metadata.get("pushed")) == 1:
            where = str(pushed.metadata.get("pushed_destination", pushed.uri))
            out.append(f"pushed       {where} -> {result.mirror.local(where)}")
        else:
            out.append("pushed       nothing (the model was not blessed)")
    return out
