"""Model families: each module exposes `build(spec, hparams) -> keras.Model`; the registry maps names to modules."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

# Family name -> module path. Modules are imported lazily so reading a config never imports TensorFlow.
FAMILIES: dict[str, str] = {
    "dnn": "trainer_module.models.dnn",
}


def build(family: str, spec: Any, hparams: Mapping[str, Any]):
    """Builds (and compiles) the model of `family` for the input/output `spec` (trainer_module.features.ModelSpec)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    return importlib.import_module(FAMILIES[family]).build(spec, dict(hparams))
