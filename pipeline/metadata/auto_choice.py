"""`model.family: auto` on later runs: the family an earlier run of this pipeline chose with the same Trainer
configuration (its custom_config as ML Metadata recorded it, the reuse note itself aside), read from that run's
training_summary.json. A local run passes it to the Trainer, which then trains only that family; a changed config
(model, features, training, code) finds no match and the candidates are trained and scored again."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import ml_metadata as mlmd

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
    """{family, run, metric, scores} of the newest run whose Trainer had this config and chose by scoring (or
    reused such a choice: the run that scored is named), or None."""
    from trainer_module import training_summary

    wanted = comparable(custom_config)
    for run_id in reversed(R.run_ids(store, pipeline_name)[-RUNS_LOOKED_AT:]):
        trainer = R.node_executions(store, pipeline_name, run_id).get(node_ids.TRAINER)
        if trainer is None or trainer.state not in ("complete", "cached") or not trainer.outputs.get("model_run"):
            continue
        if comparable(trainer.properties.get("custom_config")) != wanted:
            continue
        try:
            auto = training_summary.read(trainer.outputs["model_run"][0].uri).get("auto") or {}
        except (OSError, ValueError):
            continue
        if auto.get("chosen") and auto.get("scores"):
            return {"family": auto["chosen"], "run": auto.get("reused_from") or run_id,
                    "metric": auto.get("metric"), "scores": auto["scores"]}
    return None
