"""trainer_module/patches.py: AutoGraph still keeps its do-not-convert rules where the patch edits them, tf-keras
is left unconverted once applied, user code is still converted, and a changed TensorFlow stops the Trainer loudly.

These tests fail when tensorflow or tf-keras move: re-check the patch against the new versions, then update
CHECKED_AGAINST.
"""

from __future__ import annotations

import importlib.metadata
import sys

import pytest

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf
from tensorflow.python.autograph.core import config as autograph_config
from tensorflow.python.autograph.core import config_lib
from tensorflow.python.autograph.impl import conversion

from trainer_module import patches


@pytest.mark.parametrize("dist", sorted(patches.CHECKED_AGAINST))
def test_installed_versions_are_the_ones_the_patch_was_checked_against(dist):
    assert importlib.metadata.version(dist) == patches.CHECKED_AGAINST[dist], (
        f"{dist} changed: re-check trainer_module/patches.py against it, then update CHECKED_AGAINST"
    )


def test_the_rules_the_patch_edits_are_where_it_expects_them():
    assert isinstance(autograph_config.CONVERSION_RULES, tuple)
    assert autograph_config.DoNotConvert is config_lib.DoNotConvert
    assert "CONVERSION_RULES" in conversion.is_allowlisted.__code__.co_names
    # The prefix attribute the idempotence check reads, and the rule's verdict on a tf_keras module.
    rule = config_lib.DoNotConvert(patches.MODULE)
    assert rule._prefix == patches.MODULE  # pylint: disable=protected-access
    dense_module = sys.modules[tf.keras.layers.Dense.__call__.__module__]
    assert dense_module.__name__.startswith("tf_keras.")
    assert rule.get_action(dense_module) == config_lib.Action.DO_NOT_CONVERT
    # Upstream itself still lists keras but not tf_keras: the patch is still needed.
    prefixes = [getattr(r, "_prefix", None) for r in autograph_config.CONVERSION_RULES]
    assert "keras" in prefixes
    if not patches._applied:  # pylint: disable=protected-access
        assert patches.MODULE not in prefixes


def test_autograph_skips_tf_keras_but_still_converts_user_code():
    patches.apply()
    patches.apply()  # idempotent
    assert sum(getattr(r, "_prefix", None) == patches.MODULE for r in autograph_config.CONVERSION_RULES) == 1
    assert conversion.is_allowlisted(tf.keras.layers.Dense.__call__)

    def user_fn(x):  # defined here, in a test module: AutoGraph must still convert it
        return x

    assert not conversion.is_allowlisted(user_fn)

    @tf.function
    def branchy(x):
        if tf.reduce_sum(x) > 0:  # a Python `if` on a tensor needs AutoGraph
            return x * 2.0
        return -x

    assert float(branchy(tf.constant([1.0]))[0]) == 2.0
    assert float(branchy(tf.constant([-1.0]))[0]) == 1.0


def test_apply_fails_loudly_when_autograph_changes(monkeypatch):
    monkeypatch.setattr(patches, "_applied", False)
    monkeypatch.setattr(autograph_config, "CONVERSION_RULES", list(autograph_config.CONVERSION_RULES))
    with pytest.raises(patches.UpstreamChanged, match=r"\[autograph\]: .*CONVERSION_RULES.*tensorflow 2\.16\.2"):
        patches.apply()
    # A TensorFlow whose earlier rule converts tf_keras anyway: the added rule would do nothing.
    monkeypatch.setattr(
        autograph_config, "CONVERSION_RULES", (config_lib.Convert("tf_keras"), *autograph_config.CONVERSION_RULES)
    )
    with pytest.raises(patches.UpstreamChanged, match=r"\[autograph\]: .*still converts tf_keras"):
        patches.apply()


def test_fn_args_internal_is_what_the_worker_calls():
    from tfx.components.trainer import executor as trainer_executor

    patches.check_fn_args(trainer_executor.GenericExecutor)  # raises UpstreamChanged otherwise


def test_fn_args_check_fails_loudly_when_tfx_changes():
    class Renamed:
        def _GetFnArgs(self, inputs, outputs, properties):  # noqa: N802  (the upstream name)
            return None

    with pytest.raises(patches.UpstreamChanged, match=r"\[fn_args\].*tfx 1\.16\.0"):
        patches.check_fn_args(Renamed)
    with pytest.raises(patches.UpstreamChanged, match=r"\[fn_args\].*has no _GetFnArgs"):
        patches.check_fn_args(object)
