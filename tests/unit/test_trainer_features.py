"""trainer_module/features.py's code fingerprint: TFX does not fingerprint code named by a dotted path, so the
Transform and Trainer configs carry one, and any edit to trainer_module re-runs them instead of reusing the cache."""

from __future__ import annotations

import shutil

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)

from trainer_module import features as F


def test_code_fingerprint_changes_with_the_code(tmp_path):
    import trainer_module as pkg
    from pathlib import Path

    copy = tmp_path / "trainer_module"
    shutil.copytree(Path(pkg.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert F.code_fingerprint(str(copy)) == F.code_fingerprint()
    (copy / "run.py").write_text((copy / "run.py").read_text() + "\n# a change\n")
    assert F.code_fingerprint(str(copy)) != F.code_fingerprint()
    (copy / "extra.py").write_text("x = 1\n")
    assert len(F.code_fingerprint(str(copy))) == 16


def test_transform_and_trainer_configs_carry_the_fingerprint():
    from pipeline.config.loader import load_config
    from pipeline.dag.model_nodes import trainer_custom_config

    cfg = load_config("taxi")
    assert F.transform_config(cfg)["code_fingerprint"] == F.code_fingerprint()
    assert trainer_custom_config(cfg)["code_fingerprint"] == F.code_fingerprint()
