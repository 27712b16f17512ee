"""LatestBlessedOtherModelStrategy: TFX's latest-blessed-model rule, minus the model being evaluated.

Why not TFX's LatestBlessedModelStrategy alone: when an unchanged pipeline runs again, Trainer is served from the
cache and produces the same model artifact, which the previous run blessed. TFX's strategy then hands that model
to the Evaluator as its own baseline, so the Evaluator re-runs (its inputs changed), compares the model with
itself and re-blesses it, and the Pusher pushes the same model again as a new version. Excluding the candidate
keeps the rerun fully cached and makes "baseline" mean what users expect: the previously blessed *other* model.
Models of another family (say, a cnn classifier when the candidate is an autoencoder) are skipped too: their
outputs measure different things, so comparing metrics across them means nothing, and their weights do not fit.

The family is the Model artifact's `model_family` custom property, set by the tagged Trainer executor
(components/tagged_trainer) when the model is produced. A Model without it (trained before the Trainer tagged its
output, or by a Trainer run without that executor) never matches a family: it is never a baseline or a warm-start
source while a family is configured.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import ml_metadata as mlmd
from tfx import types
from tfx.components.evaluator import constants as evaluator_constants
from tfx.dsl.components.common import resolver

from components.tagged_trainer.properties import model_family

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
CANDIDATE_KEY = "candidate"


def latest_blessed(
    models: Sequence[types.Artifact], blessings: Sequence[types.Artifact]
) -> Optional[Tuple[types.Artifact, types.Artifact]]:
    """(model, its blessing) for the blessed model with the highest MLMD id, or None.

    The rule of TFX 1.16's LatestBlessedModelStrategy, through the ModelBlessing's public custom properties: a
    blessing counts when `blessed` == 1, and it blesses the model whose id is its `current_model_id`. Models are
    tried from the highest id down; when several blessings name the same model, the last one in `blessings` wins
    (TFX builds a dict from the list in order). tests/unit/test_baseline_resolver.py compares the two."""
    blessing_of: Dict[int, types.Artifact] = {}
    for blessing in blessings:
        if blessing.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY) == 1:
            model_id = blessing.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY)
            blessing_of[model_id] = blessing
    for model in sorted(models, key=lambda m: m.id, reverse=True):
        if model.id in blessing_of:
            return model, blessing_of[model.id]
    return None


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Inputs: `model` (all models), `model_blessing` (all blessings) and optionally `candidate` (this run's
    Trainer model, never returned as its own baseline). Config `family`: only models tagged with that family
    qualify (untagged models never do); None: every model qualifies.

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
        found = latest_blessed(models, input_dict.get(BLESSING_KEY, []))
        result = {MODEL_KEY: [found[0]] if found else [], BLESSING_KEY: [found[1]] if found else []}
        if CANDIDATE_KEY in input_dict:
            result[CANDIDATE_KEY] = candidates
        return result
