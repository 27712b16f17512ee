"""The Model artifact's custom property naming its model family, and how to read it (no TFX import).

Written by the tagged Trainer executor (components/tagged_trainer/executor.py) and read by the baseline resolver
(components/baseline_resolver/strategy.py), so that choosing a model of the right family needs only ML Metadata.
"""

from __future__ import annotations

from typing import Any, Optional

MODEL_FAMILY_PROPERTY = "model_family"


def model_family(model: Any) -> Optional[str]:
    """The family recorded on a Model artifact (a tfx Artifact), or None when it has none: a model produced
    before the Trainer tagged its output, or by a Trainer run without the tagged executor."""
    value = model.mlmd_artifact.custom_properties.get(MODEL_FAMILY_PROPERTY)
    if value is None or not value.HasField("string_value"):
        return None
    return value.string_value
