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


@pytest.fixture(scope="session")
def mariadb():
    """A private MariaDB server (tests/mariadb.py) for the whole session, stopped by pid at the end, even on failure.

    Not installed is a failure, never a skip: `make mariadb` (root, Debian) installs mariadb-server.
    """
    from tests.mariadb import INSTALL_HINT, MariaDB, installed

    if not installed():
        pytest.fail(INSTALL_HINT, pytrace=False)
    server = MariaDB()
    try:
        server.start()
        yield server
    finally:
        server.stop()


# The small taxi pipeline, run four times into one home (shared by the taxi e2e tests and the inspect commands):
#   0 cold run (blessed, pushed), 1 identical rerun through TFX (--always-run: all cached), 2 a changed
#   hyperparameter (Trainer re-runs),
#   3 an impossible AUC threshold (Evaluator re-runs; not blessed, nothing pushed).
TAXI_SMALL = ["--train-steps", "300", "--eval-steps", "5",
              "--set", "evaluation.thresholds.auc.lower=0.75", "--set", "evaluation.thresholds.binary_accuracy.lower=0.7",
              # A retrained 300-step model on 2,400 rows varies by more than the default 0.005 AUC tolerance.
              "--set", "evaluation.change_thresholds.auc=-0.05"]
TAXI_VARIANTS = [[], ["--always-run"], ["--set", "model.hparams.dropout=0.2"],
                 ["--set", "model.hparams.dropout=0.2", "--set", "evaluation.thresholds.auc.lower=0.999"]]


@pytest.fixture(scope="session")
def taxi_runs(taxi_sample, tmp_path_factory):
    """(home, [CliResult per run], [serving versions after each run])."""
    home = tmp_path_factory.mktemp("taxi_home")
    results, versions = [], []
    for extra in TAXI_VARIANTS:
        results.append(support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_SMALL, *extra]))
        versions.append(support.pushed_versions(home / "serving" / "taxi"))
    return home, results, versions
