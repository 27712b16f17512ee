"""LatestBlessedOtherModelStrategy: TFX's latest-blessed-model rule, minus the model being evaluated.

Why not TFX's LatestBlessedModelStrategy alone: when an unchanged pipeline runs again, Trainer is served from the
cache and produces the same model artifact, which the previous run blessed. TFX's strategy then hands that model
to the Evaluator as its own baseline, so the Evaluator re-runs (its inputs changed), compares the model with
itself and re-blesses it, and the Pusher pushes the same model again as a new version. Excluding the candidate
keeps the rerun fully cached and makes "baseline" mean what users expect: the previously blessed *other* model.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import ml_metadata as mlmd
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Inputs: `model` (all models), `model_blessing` (all blessings), `candidate` (this run's Trainer model)."""

    def resolve_artifacts(
        self, store: mlmd.MetadataStore, input_dict: Dict[str, List[types.Artifact]]
    ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate_ids = {a.id for a in input_dict.get(CANDIDATE_KEY, [])}
        models = [m for m in input_dict.get(MODEL_KEY, []) if m.id not in candidate_ids]
        blessings = list(input_dict.get(BLESSING_KEY, []))
        result = {MODEL_KEY: [], BLESSING_KEY: []}
        if models and blessings:
            result = LatestBlessedModelStrategy()._resolve(  # pylint: disable=protected-access
                {MODEL_KEY: models, BLESSING_KEY: blessings}, MODEL_KEY, BLESSING_KEY
            )
        result[CANDIDATE_KEY] = list(input_dict.get(CANDIDATE_KEY, []))
        return result
