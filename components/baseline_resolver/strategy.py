"""LatestBlessedOtherModelStrategy: TFX's latest-blessed-model rule, minus the model being evaluated.

Why not TFX's LatestBlessedModelStrategy alone: when an unchanged pipeline runs again, Trainer is served from the
cache and produces the same model artifact, which the previous run blessed. TFX's strategy then hands that model
to the Evaluator as its own baseline, so the Evaluator re-runs (its inputs changed), compares the model with
itself and re-blesses it, and the Pusher pushes the same model again as a new version. Excluding the candidate
keeps the rerun fully cached and makes "baseline" mean what users expect: the previously blessed *other* model.
Models of another family (say, a cnn classifier when the candidate is an autoencoder) are skipped too: their
outputs measure different things, so comparing metrics across them means nothing, and their weights do not fit.
"""

from __future__ import annotations

import json
import os
from typing import Dict, List, Optional

import ml_metadata as mlmd
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


def model_family(model: types.Artifact) -> Optional[str]:
    """The model family the Trainer recorded beside the SavedModel (trainer_module.warm_start), if any."""
    from tfx.dsl.io import fileio
    from tfx.utils import path_utils

    from trainer_module import warm_start

    path = os.path.join(warm_start.weights_dir(path_utils.serving_model_dir(model.uri)), warm_start.MANIFEST)
    try:
        with fileio.open(path) as f:
            return json.load(f).get("family")
    except Exception:  # pylint: disable=broad-except  (missing or unreadable manifest, any filesystem: unknown)
        return None


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Inputs: `model` (all models), `model_blessing` (all blessings) and optionally `candidate` (this run's
    Trainer model, never returned as its own baseline). Config `family`: only models of that family qualify.

    Used twice: as the Evaluator's baseline (with `candidate`) and as the warm-start source (without).
    """

    def __init__(self, family: Optional[str] = None):
        self._family = family

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidates = list(input_dict.get(CANDIDATE_KEY, []))
        candidate_ids = {a.id for a in candidates}
        models = [
            m
            for m in input_dict.get(MODEL_KEY, [])
            if m.id not in candidate_ids and (self._family is None or model_family(m) == self._family)
        ]
        blessings = list(input_dict.get(BLESSING_KEY, []))
        result = {MODEL_KEY: [], BLESSING_KEY: []}
        if models and blessings:
            result = LatestBlessedModelStrategy()._resolve(  # pylint: disable=protected-access
                {MODEL_KEY: models, BLESSING_KEY: blessings}, MODEL_KEY, BLESSING_KEY
            )
        if CANDIDATE_KEY in input_dict:
            result[CANDIDATE_KEY] = candidates
        return result
