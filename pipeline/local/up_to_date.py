"""Unchanged-rerun check: when nothing a run depends on has changed since the last successful run, say so and
show that run's results instead of starting TFX (whose import alone takes longer than the whole check).

"Nothing changed" means all of these equal what the last successful run in this home recorded:
  - the resolved config and the run flags that shape the pipeline (cache, Beam mode, anomalies, metadata store),
  - the input files (path, size and modification time: the same test CsvExampleGen's cache uses) and the schema,
  - the code (every .py file of pipeline/, components/ and trainer_module/) and the TFX/TensorFlow versions,
  - the metadata store: its newest artifact, execution and context ids (any other run, push or blessing since
    then changes them, so a new baseline is never missed),
  - the pushed model directory, if that run pushed one.
Any difference, a missing record, or `--always-run` / `--no-cache` runs the pipeline through TFX as usual, where
each component's own cache still applies. The record is written only after a run succeeds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Optional

from pipeline.paths import PROJECT_ROOT

CODE_PACKAGES = ("cli", "pipeline", "components", "trainer_module")
RECORD_FILE = "last_successful_run.json"
VERSIONED = ("tfx", "tensorflow", "tensorflow-transform", "tensorflow-model-analysis", "apache-beam", "tfx-e2e")


def record_path(home_root: Path, pipeline_name: str) -> Path:
    return home_root / "state" / f"{pipeline_name}.{RECORD_FILE}"


def code_digest() -> str:
    from trainer_module.features import code_fingerprint  # the same hash Transform and Trainer carry

    return ",".join(f"{package}:{code_fingerprint(str(PROJECT_ROOT / package))}" for package in CODE_PACKAGES)


def _files(directory: Path) -> list[list]:
    out = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        st = path.stat()
        out.append([path.relative_to(directory).as_posix(), st.st_size, st.st_mtime_ns])
    return out


def _versions() -> dict[str, Optional[str]]:
    from pipeline.metadata.run_record import versions

    return versions(VERSIONED)


def run_key(cfg: Any, flags: dict) -> str:
    """sha256 over everything in the module docstring except the metadata store and the pushed model."""
    schema = Path(cfg.schema_path) if getattr(cfg, "schema", None) else None
    parts = {
        "config": dataclasses.asdict(cfg),
        "flags": flags,
        "data": _files(Path(cfg.data_dir)) if cfg.example_gen == "csv" else cfg.example_gen,
        "schema": hashlib.sha256(schema.read_bytes()).hexdigest() if schema and schema.is_file() else None,
        "code": code_digest(),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def store_marker(store) -> list[int]:
    """Newest artifact, execution and context ids: any write to the store since changes at least one."""
    import ml_metadata as mlmd

    newest = mlmd.ListOptions(limit=1, order_by=mlmd.OrderByField.ID, is_asc=False)
    return [
        max((x.id for x in getter(list_options=newest)), default=0)
        for getter in (store.get_artifacts, store.get_executions, store.get_contexts)
    ]


@dataclasses.dataclass(frozen=True)
class Unchanged:
    run_id: str
    finished: str
    summary: str


def check(home_root: Path, pipeline_name: str, key: str, store) -> Optional[Unchanged]:
    """The last successful run's record when nothing changed since it; None when the pipeline must run."""
    path = record_path(home_root, pipeline_name)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("key") != key or record.get("marker") != store_marker(store):
        return None
    pushed = record.get("pushed")
    if pushed and not Path(pushed).is_dir():
        return None
    return Unchanged(record["run_id"], record.get("finished", "?"), record.get("summary", ""))


def save(home_root: Path, pipeline_name: str, key: str, store, run_id: str, pushed: Optional[str], summary: str) -> None:
    path = record_path(home_root, pipeline_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "key": key,
        "marker": store_marker(store),
        "run_id": run_id,
        "pushed": pushed,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "summary": summary,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, path)


def forget(home_root: Path, pipeline_name: str) -> None:
    try:
        record_path(home_root, pipeline_name).unlink()
    except FileNotFoundError:
        pass
