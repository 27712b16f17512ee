"""LatestBlessedOtherModelStrategy on real tfx Artifacts stored in (and read back from) a real SQLite ML Metadata
store, checked against TFX's own LatestBlessedModelStrategy so that a divergence from upstream fails here."""

from __future__ import annotations

import random

import pytest

from components.baseline_resolver import strategy
from components.tagged_trainer.executor import tag

BLESSED = "blessed"  # the Evaluator's ModelBlessing custom properties, as TFX's strategy reads them
CURRENT_MODEL_ID = "current_model_id"


@pytest.fixture
def store(tmp_path):
    import ml_metadata as mlmd
    from tfx.orchestration import metadata

    return mlmd.MetadataStore(metadata.sqlite_metadata_connection_config(str(tmp_path / "metadata.sqlite")))


def put(store, artifact):
    """Publishes the artifact and returns it as a resolver receives it: read back from ML Metadata."""
    artifact.type_id = store.put_artifact_type(artifact.artifact_type)
    [artifact_id] = store.put_artifacts([artifact.mlmd_artifact])
    [stored] = store.get_artifacts_by_id([artifact_id])
    read = type(artifact)()
    read.set_mlmd_artifact_type(store.get_artifact_type(artifact.TYPE_NAME))
    read.set_mlmd_artifact(stored)
    return read


def model(store, family=None):
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Model()
    artifact.uri = "/models/any"
    if family is not None:
        tag(artifact, family)
    return put(store, artifact)


def blessing(store, model_id=None, blessed=1):
    """A ModelBlessing as the Evaluator writes it (`blessed`, `current_model_id`); model_id None: neither is set."""
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.ModelBlessing()
    artifact.uri = "/blessings/any"
    if model_id is not None:
        artifact.set_int_custom_property(BLESSED, blessed)
        artifact.set_int_custom_property(CURRENT_MODEL_ID, model_id)
    return put(store, artifact)


def resolve(store, models, blessings, family=None, candidate=None):
    inputs = {strategy.MODEL_KEY: list(models), strategy.BLESSING_KEY: list(blessings)}
    if candidate is not None:
        inputs[strategy.CANDIDATE_KEY] = [candidate]
    result = strategy.LatestBlessedOtherModelStrategy(family=family).resolve_artifacts(store, inputs)
    return ids(result)


def ids(result):
    return {key: [a.id for a in artifacts] for key, artifacts in result.items()}


def test_the_latest_blessed_model_of_the_family_other_than_the_candidate(store):
    old_dnn, dnn, cnn = model(store, "dnn"), model(store, "dnn"), model(store, "cnn")
    rejected_dnn, candidate = model(store, "dnn"), model(store, "dnn")
    untagged = model(store)  # trained before the Trainer tagged its models: the highest id, and blessed
    b_old, b_dnn, b_cnn = blessing(store, old_dnn.id), blessing(store, dnn.id), blessing(store, cnn.id)
    b_rejected = blessing(store, rejected_dnn.id, blessed=0)
    b_candidate, b_untagged = blessing(store, candidate.id), blessing(store, untagged.id)
    models = [old_dnn, dnn, cnn, rejected_dnn, candidate, untagged]
    blessings = [b_old, b_dnn, b_cnn, b_rejected, b_candidate, b_untagged]

    # The candidate (blessed by the previous run of an unchanged pipeline) is never its own baseline.
    assert resolve(store, models, blessings, "dnn", candidate) == {
        "model": [dnn.id], "model_blessing": [b_dnn.id], "candidate": [candidate.id]
    }
    # Without a candidate (the warm-start source) it is the latest blessed dnn.
    assert resolve(store, models, blessings, "dnn") == {"model": [candidate.id], "model_blessing": [b_candidate.id]}
    assert resolve(store, models, blessings, "cnn", candidate)["model"] == [cnn.id]
    # No blessed model of that family: nothing, and an untagged model never stands in for it.
    assert resolve(store, models, blessings, "rnn", candidate) == {
        "model": [], "model_blessing": [], "candidate": [candidate.id]
    }
    assert resolve(store, [old_dnn, untagged], [b_untagged], "dnn") == {"model": [], "model_blessing": []}
    # Without a family filter every model qualifies, the untagged one too.
    assert resolve(store, models, blessings, None, candidate)["model"] == [untagged.id]


def test_nothing_blessed_or_nothing_at_all_resolves_to_empty_lists(store):
    dnn, candidate = model(store, "dnn"), model(store, "dnn")
    empty = {"model": [], "model_blessing": [], "candidate": [candidate.id]}
    assert resolve(store, [dnn, candidate], [], "dnn", candidate) == empty
    assert resolve(store, [], [blessing(store, dnn.id)], "dnn", candidate) == empty
    assert resolve(store, [dnn, candidate], [blessing(store, dnn.id, blessed=0)], "dnn", candidate) == empty
    assert resolve(store, [candidate], [blessing(store, candidate.id)], "dnn", candidate) == empty


def test_same_choice_as_tfx_latest_blessed_model_strategy(store):
    """Random model/blessing sets, in random order, with the cases its rule must break ties on: several blessings
    of one model (the last listed wins), not-blessed ones, blessings of unknown models or without properties."""
    from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy

    models = [model(store, random.Random(i).choice(["dnn", "cnn", None])) for i in range(10)]
    model_ids = [m.id for m in models] + [max(m.id for m in models) + 100]  # a blessing of a model not listed
    rng = random.Random(11)
    blessings = [blessing(store, rng.choice(model_ids), blessed=rng.choice([0, 1, 1])) for _ in range(16)]
    blessings += [blessing(store), blessing(store)]
    chosen = set()
    for trial in range(300):
        some_models = rng.sample(models, rng.randint(0, len(models)))
        some_blessings = rng.sample(blessings, rng.randint(0, len(blessings)))
        ours = resolve(store, some_models, some_blessings)
        upstream = LatestBlessedModelStrategy().resolve_artifacts(
            store, {"model": list(some_models), "model_blessing": list(some_blessings)}
        )
        assert ours == ids(upstream), f"trial {trial}: differs from TFX's LatestBlessedModelStrategy"
        chosen.add(tuple(ours["model_blessing"]))
    assert len(chosen) > 5  # the trials covered many different outcomes, empty among them
    assert () in chosen
