"""The local record of a workdir's compiled-pipeline runs, in ML Metadata (SQLite): every artifact a task produced
(its type by schema title, cloud URI, metadata), every execution with its cache key, and one context per pipeline and
per job. Resolver queries and the cache read it; `cache_key` is what a task's cache entry is looked up by."""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Mapping, Optional

from kubeflow.local.executor_input import Artifact
from kubeflow.local.spec import Task

PIPELINE, JOB, TASK = "kfp_local.Pipeline", "kfp_local.PipelineJob", "kfp_local.Task"
COMPLETE, CACHED, FAILED = "COMPLETE", "CACHED", "FAILED"


def cache_key(task: Task, parameters: Mapping[str, Any], inputs: Mapping[str, list[Artifact]], args: list[str]) -> str:
    """What KFP's cache key covers: the component's interface, the executor, the input values and input artifacts;
    `args` are the container's arguments as run (the Beam mode may differ from the spec's)."""
    from google.protobuf import json_format

    document = {
        "component": json_format.MessageToDict(task.component),
        "executor": json_format.MessageToDict(task.executor),
        "args": list(args),
        "parameters": dict(parameters),
        "artifacts": {k: [(a.name, a.uri) for a in v] for k, v in inputs.items()},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _string(value: Any) -> Any:
    from ml_metadata.proto import metadata_store_pb2

    out = metadata_store_pb2.Value()
    out.string_value = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return out


def _get(message, key: str, default: str = "") -> str:
    return message.custom_properties[key].string_value if key in message.custom_properties else default


class LocalStore:
    """One SQLite ML Metadata store per workdir; calls are serialized (tasks may finish on several threads)."""

    def __init__(self, path: Path, pipeline: str, job_id: str, about: Mapping[str, Any]):
        from ml_metadata import metadata_store
        from ml_metadata.proto import metadata_store_pb2

        from pipeline.metadata.store import sqlite_config

        path.parent.mkdir(parents=True, exist_ok=True)
        self._pb = metadata_store_pb2
        self._store = metadata_store.MetadataStore(sqlite_config(path))
        self._lock = threading.Lock()
        self._types: dict[str, int] = {}
        self.pipeline = self._context(PIPELINE, pipeline, {})
        self.job = self._context(JOB, job_id, about)

    def _context(self, type_name: str, name: str, about: Mapping[str, Any]):
        type_id = self._store.put_context_type(self._pb.ContextType(name=type_name))
        found = self._store.get_context_by_type_and_name(type_name, name)
        if found:
            return found
        context = self._pb.Context(type_id=type_id, name=name)
        for key, value in about.items():
            context.custom_properties[key].CopyFrom(_string(value))
        [context.id] = self._store.put_contexts([context])
        return context

    def _artifact_type(self, schema_title: str) -> int:
        if schema_title not in self._types:
            self._types[schema_title] = self._store.put_artifact_type(self._pb.ArtifactType(name=schema_title))
        return self._types[schema_title]

    def _to_artifact(self, record) -> Artifact:
        created = datetime.datetime.fromtimestamp(record.create_time_since_epoch / 1000, datetime.timezone.utc)
        return Artifact(
            name=f"artifacts/{record.id}", schema_title=record.type, uri=record.uri,
            metadata=json.loads(_get(record, "metadata", "{}")), type_schema=json.loads(_get(record, "type_schema", "{}")),
            create_time=created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )

    def record(self, task: str, kind: str, state: str, cache_key: str, inputs: Mapping[str, list[Artifact]],
               outputs: Mapping[str, list[Artifact]], parameters: Mapping[str, Any], seconds: float,
               reuse: bool = False) -> dict[str, list[Artifact]]:
        """Stores one execution and its events; new output artifacts get ids (and so names). With `reuse`, the
        outputs are existing artifacts (a cached task, a resolver's answer) and are only linked."""
        with self._lock:
            type_id = self._store.put_execution_type(self._pb.ExecutionType(name=TASK))
            execution = self._pb.Execution(type_id=type_id, last_known_state=getattr(self._pb.Execution, state))
            props = {"task": task, "kind": kind, "cache_key": cache_key, "job": self.job.name,
                     "parameters": dict(parameters), "seconds": f"{seconds:.3f}",
                     "inputs": {k: [a.name for a in v] for k, v in inputs.items()}}
            for key, value in props.items():
                execution.custom_properties[key].CopyFrom(_string(value))
            [execution.id] = self._store.put_executions([execution])
            stored: dict[str, list[Artifact]] = {}
            new = []
            for key, artifacts in outputs.items():
                for artifact in artifacts:
                    if reuse:
                        continue
                    record = self._pb.Artifact(type_id=self._artifact_type(artifact.schema_title), uri=artifact.uri,
                                               state=self._pb.Artifact.LIVE)
                    record.custom_properties["metadata"].CopyFrom(_string(dict(artifact.metadata)))
                    record.custom_properties["type_schema"].CopyFrom(_string(dict(artifact.type_schema)))
                    record.custom_properties["display_name"].CopyFrom(_string(key))
                    record.custom_properties["producer_task"].CopyFrom(_string(task))
                    new.append((key, record))
            ids = self._store.put_artifacts([r for _, r in new]) if new else []
            for (key, _), artifact_id in zip(new, ids):
                [record] = self._store.get_artifacts_by_id([artifact_id])
                stored.setdefault(key, []).append(self._to_artifact(record))
            if reuse:
                stored = {k: list(v) for k, v in outputs.items()}
            events, seen = [], set()
            for direction, mapping in ((self._pb.Event.INPUT, inputs), (self._pb.Event.OUTPUT, stored)):
                for key, artifacts in sorted(mapping.items()):  # the same key wins for a doubly given artifact
                    for i, artifact in enumerate(artifacts):
                        artifact_id = int(artifact.name.rsplit("/", 1)[1])
                        if (artifact_id, direction) in seen:  # one event per artifact and direction (MLMD's rule);
                            continue  # an artifact given under two keys (model and baseline) is in `inputs` above
                        seen.add((artifact_id, direction))
                        event = self._pb.Event(artifact_id=artifact_id, execution_id=execution.id, type=direction)
                        event.path.steps.add().key = key
                        event.path.steps.add().index = i
                        events.append(event)
            if events:
                self._store.put_events(events)
            associations = [self._pb.Association(context_id=c.id, execution_id=execution.id)
                            for c in (self.pipeline, self.job)]
            attributions = [self._pb.Attribution(context_id=c.id, artifact_id=int(a.name.rsplit("/", 1)[1]))
                            for c in (self.pipeline, self.job) for arts in stored.values() for a in arts]
            self._store.put_attributions_and_associations(attributions, associations)
            return stored

    def cached(self, cache_key: str) -> Optional[tuple[str, dict[str, list[Artifact]]]]:
        """The newest complete execution of this pipeline with this cache key: (its job, its outputs by key)."""
        with self._lock:
            executions = [e for e in self._store.get_executions_by_context(self.pipeline.id)
                          if _get(e, "cache_key") == cache_key and e.last_known_state == self._pb.Execution.COMPLETE]
            if not executions:
                return None
            newest = max(executions, key=lambda e: e.id)
            events = [e for e in self._store.get_events_by_execution_ids([newest.id]) if e.type == self._pb.Event.OUTPUT]
            records = {a.id: a for a in self._store.get_artifacts_by_id([e.artifact_id for e in events])}
            outputs: dict[str, list[Artifact]] = {}
            for event in sorted(events, key=lambda e: (e.path.steps[0].key, e.path.steps[1].index)):
                outputs.setdefault(event.path.steps[0].key, []).append(self._to_artifact(records[event.artifact_id]))
            return _get(newest, "job"), outputs

    def artifacts_of(self, schema_title: str) -> list[Artifact]:
        """Every artifact of one type produced by this pipeline in this workdir, oldest first."""
        with self._lock:
            records = [a for a in self._store.get_artifacts_by_context(self.pipeline.id) if a.type == schema_title]
            return [self._to_artifact(r) for r in sorted(records, key=lambda r: r.id)]
