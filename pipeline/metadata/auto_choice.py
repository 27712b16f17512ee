"""`model.family: auto` on later runs: the family an earlier run of this pipeline chose with the same Trainer
configuration (its custom_config as ML Metadata recorded it, the reuse note itself aside), read from that run's
training_summary.json. A local run passes it to the Trainer, which then trains only that family; a changed config
(model, features, training, code) finds no match and the candidates are trained and scored again."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2 as pb

from pipeline.dag import node_ids
from pipeline.metadata import runs as R
from trainer_module.auto_family import REUSE_KEY

RUNS_LOOKED_AT = 50  # the newest runs searched for a matching Trainer


def comparable(custom_config: Any) -> Optional[dict]:
    """The Trainer's custom config (a dict or its JSON text) without the reuse note, or None if unreadable."""
    if isinstance(custom_config, str):
        try:
            custom_config = json.loads(custom_config)
        except ValueError:
            return None
    if not isinstance(custom_config, Mapping):
        return None
    plain = json.loads(json.dumps(custom_config))  # as MLMD holds it: tuples are lists
    plain.get("model", {}).pop(REUSE_KEY, None)
    return plain


def previous_choice(store: mlmd.MetadataStore, pipeline_name: str, custom_config: Mapping[str, Any]) -> Optional[dict]:
    """{family, run, metric, scores} of the newest Trainer execution of this pipeline that had this config and chose
    by scoring (or reused such a choice: the run that scored is named), or None. Reads the Trainer's node context
    alone (one query for its executions), not every run of the pipeline: this runs before each local auto run."""
    from trainer_module import training_summary

    node = store.get_context_by_type_and_name(R.NODE_CONTEXT, f"{pipeline_name}.{node_ids.TRAINER}")
    if node is None:
        return None
    wanted = comparable(custom_config)
    finished = (pb.Execution.COMPLETE, pb.Execution.CACHED)
    executions = sorted(store.get_executions_by_context(node.id), key=lambda e: -e.id)[:RUNS_LOOKED_AT]
    for execution in executions:
        if execution.last_known_state not in finished:
            continue
        if comparable(R.execution_properties(execution).get("custom_config")) != wanted:
            continue
        model_runs = [e.artifact_id for e in store.get_events_by_execution_ids([execution.id])
                      if e.type == pb.Event.OUTPUT and e.path.steps and e.path.steps[0].key == "model_run"]
        if not model_runs:
            continue
        try:
            auto = training_summary.read(store.get_artifacts_by_id(model_runs[:1])[0].uri).get("auto") or {}
        except (OSError, ValueError):
            continue
        if auto.get("chosen") and auto.get("scores"):
            run_type = store.get_context_type(R.RUN_CONTEXT).id
            run_id = next((c.name for c in store.get_contexts_by_execution(execution.id) if c.type_id == run_type), None)
            return {"family": auto["chosen"], "run": auto.get("reused_from") or run_id,
                    "metric": auto.get("metric"), "scores": auto["scores"]}
    return None
