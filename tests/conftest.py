"""Shared test set-up: Keras 2 before TensorFlow (trainer_module does it), sample data, CLI runner."""

import trainer_module  # noqa: F401  (must precede any TensorFlow import: sets TF_USE_LEGACY_KERAS=1)

import pytest

from tests import support


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def taxi_sample(tmp_path_factory):
    """A deterministic 3,000-row sample of the shipped taxi CSV, in its own directory."""
    return support.taxi_sample(tmp_path_factory.mktemp("taxi_sample"), rows=3000)
