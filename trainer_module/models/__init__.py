"""Model families: each module exposes `build(spec, hparams)`, a compiled keras.Model (gbt: an untrained TF-DF model,
trained by trainer_module.gbt_training); the registry maps names to modules."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Mapping

# Family name -> module path. Modules are imported lazily so reading a config never imports TensorFlow.
FAMILIES: dict[str, str] = {
    "dnn": "trainer_module.models.dnn",
    "cnn": "trainer_module.models.cnn",
    "rnn": "trainer_module.models.rnn",
    "autoencoder": "trainer_module.models.autoencoder",
    "gbt": "trainer_module.models.gbt",  # gradient boosted trees (TF-DF), trained by trainer_module.gbt_training
}
# What model.family accepts: a family, or `auto` (trainer_module.auto_family: train dnn and gbt, keep the better).
FAMILY_CHOICES: tuple[str, ...] = (*FAMILIES, "auto")
# Families whose model reproduces its inputs: trained on the module's `target(spec, features)` instead of the
# label, and scored by its `reconstruction_error(target, reconstruction)`. A name set, so asking imports nothing.
RECONSTRUCTION_FAMILIES: frozenset[str] = frozenset({"autoencoder"})


def module(family: str) -> ModuleType:
    """The (lazily imported) module of `family`."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    return importlib.import_module(FAMILIES[family])


def is_reconstruction(family: str) -> bool:
    return family in RECONSTRUCTION_FAMILIES


def build(family: str, spec: Any, hparams: Mapping[str, Any]):
    """Builds (and compiles) the model of `family` for the input/output `spec` (trainer_module.features.ModelSpec)."""
    return module(family).build(spec, dict(hparams))
