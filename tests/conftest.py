"""Shared test set-up: Keras 2 before TensorFlow (trainer_module does it), sample data, CLI runner, and the browser
tests' chromium, UI server and hostile-data run."""

import trainer_module  # noqa: F401  (must precede any TensorFlow import: sets TF_USE_LEGACY_KERAS=1)

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import support


# `make test` runs the suite on two pytest-xdist workers (`-n 2`). A test file never splits across workers (its module
# fixtures are made once), and the files that share the session's costly fixtures (the taxi runs' home, which some of
# them extend with runs of their own, the two-feature run, the browser and the UI server) are one work unit: one worker
# runs them in file order, exactly as a serial run does. That unit, the longest, goes first; the other files follow in
# collection order (e2e before unit), so the short unit files fill the end. xdist's controller does not collect, so
# the files are named here; collection checks the list against the fixtures the files really use.
SHARED_SESSION_FIXTURES = {"taxi_runs", "two_feature_run", "chromium_browser", "ui_server", "hostile_run"}
SHARED_FILES = {f"tests/e2e/{name}.py" for name in (
    "test_compressed_taxi", "test_explain", "test_feature_importance_pipeline", "test_inspect_commands",
    "test_push_and_predict", "test_report_browser", "test_submit_local", "test_taxi_pipeline", "test_ui_browser")}
SHARED_UNIT = "shared session fixtures"


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    users = {_file(item.nodeid) for item in items if SHARED_SESSION_FIXTURES & set(item.fixturenames)}
    if not users <= SHARED_FILES:
        raise pytest.UsageError(f"tests/conftest.py: {', '.join(sorted(users - SHARED_FILES))} use(s) a shared session "
                                "fixture: add the file to SHARED_FILES, so that xdist runs it on the same worker")
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: _file(item.nodeid) not in SHARED_FILES)  # stable: file order within and after


def pytest_xdist_make_scheduler(config, log):
    """xdist's per-scope scheduling with a file as the scope, and SHARED_FILES as one scope (any --dist but each)."""
    if config.getvalue("dist") == "each":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return SHARED_UNIT if _file(nodeid) in SHARED_FILES else _file(nodeid)

    config.option.loadscopereorder = False  # keep collection order: the shared unit first
    return FileScheduling(config, log)


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
# The shared runs also write a dynamic-range TFLite model beside the SavedModel, evaluated, gated and pushed
# (tests/e2e/test_compressed_taxi.py); the other users of TAXI_SMALL skip that work unless they test it.
TAXI_RUNS_ARGS = [*TAXI_SMALL, "--quantize", "dynamic"]
TAXI_VARIANTS = [[], ["--always-run"], ["--set", "model.hparams.dropout=0.2"],
                 ["--set", "model.hparams.dropout=0.2", "--set", "evaluation.thresholds.auc.lower=0.999"]]


@pytest.fixture(scope="session")
def taxi_runs(taxi_sample, tmp_path_factory):
    """(home, [CliResult per run], [serving versions after each run])."""
    home = tmp_path_factory.mktemp("taxi_home")
    results, versions = [], []
    for extra in TAXI_VARIANTS:
        results.append(support.cli(["run", "--data", taxi_sample, "--home", home, *TAXI_RUNS_ARGS, *extra]))
        versions.append(support.pushed_versions(home / "serving" / "taxi"))
    return home, results, versions


# A synthetic binary dataset whose label depends on two known features only (issue #16: attributions and
# importance must rank them first). Shared by `tfx-e2e explain` and the permutation-importance tests.
TWO_FEATURE_INFORMATIVE = ("x_a", "x_b")  # label = (x_a - 50) / 10 + 2·x_b + noise > 0
TWO_FEATURE_ROWS = 1500
TWO_FEATURE_CONFIG = """name: two_feature
example_gen: csv
data: {data}
task: binary
label: {{column: label}}
serving_model_name: two_feature
"""


class TwoFeatureRun(NamedTuple):
    home: Path  # one blessed, pushed run: <home>/serving/two_feature/<version>
    config: Path  # pass as --config with --home for `--model latest`
    csv: Path  # the whole dataset, label column included


def two_feature_csv(directory: Path, rows: int = TWO_FEATURE_ROWS, seed: int = 0) -> Path:
    """6 numeric columns (x_a, x_b informative; n1..n4 noise) and 2 string columns (c1, c2: noise), seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x_a = rng.normal(50.0, 10.0, rows)  # its own scale, so the z-score matters
    x_b = rng.normal(0.0, 1.0, rows)
    noise = {f"n{i}": rng.normal(0.0, 1.0, rows) for i in range(1, 5)}
    c1 = rng.choice(["red", "green", "blue"], rows)
    c2 = rng.choice(["north", "south", "east", "west", "up"], rows)
    label = ((x_a - 50.0) / 10.0 + 2.0 * x_b + rng.normal(0.0, 0.3, rows) > 0).astype(int)
    header = ["x_a", "x_b", *noise, "c1", "c2", "label"]
    body = [[f"{x_a[i]:.4f}", f"{x_b[i]:.4f}", *(f"{v[i]:.4f}" for v in noise.values()), c1[i], c2[i], str(label[i])]
            for i in range(rows)]
    return support.write_csv(directory, header, body)


@pytest.fixture(scope="session")
def two_feature_run(tmp_path_factory):
    """One small pipeline run on the two-feature dataset (blessed and pushed, or the fixture fails)."""
    root = tmp_path_factory.mktemp("two_feature")
    csv_path = two_feature_csv(root / "data")
    config = root / "two_feature.yaml"
    config.write_text(TWO_FEATURE_CONFIG.format(data=csv_path.parent))
    home = root / "home"
    result = support.cli(["run", "--config", config, "--home", home, "--train-steps", "300", "--eval-steps", "5"])
    pushed = support.pushed_versions(home / "serving" / "two_feature")
    if result.code != 0 or len(pushed) != 1:
        pytest.fail(f"two_feature run exited {result.code}, pushed {pushed}:\n{result.stdout}\n{result.stderr}")
    return TwoFeatureRun(home, config, csv_path)


# ------------------------------------------------------------------------------------------------ browser tests

@pytest.fixture(scope="session")
def chromium_browser(tmp_path_factory):
    """Debian's chromium driven by Playwright (tests/browser.py), one fresh profile for the session, closed at the end.

    Not installed is a failure, never a skip: `make chromium` (root, Debian) installs it."""
    from tests import browser

    if not browser.installed():
        pytest.fail(browser.INSTALL_HINT, pytrace=False)
    if not browser.playwright_installed():
        pytest.fail(browser.PLAYWRIGHT_HINT, pytrace=False)
    with browser.chromium(tmp_path_factory.mktemp("chromium")) as session:
        yield session


@pytest.fixture()
def browser_page(chromium_browser):
    """A fresh page recording its requests, console errors and page errors (tests/browser.Page)."""
    page = chromium_browser.new_page()
    yield page
    page.close()


# A tiny CSV whose data carries markup: a category value that is a script and a column name that closes an attribute
# and adds an <img onerror>. CsvExampleGen reads the column name as is (its quotes are not at the start of the header
# cell, so the header is still plain comma-separated names). The label function does not exist, so the run fails
# inside Transform after StatisticsGen has recorded the data: one cheap run is both "the failed run" and the
# escaping test's run. Pipeline names are restricted to letters, digits, - and _ (config checks).
HOSTILE_VALUE = "<script>window.__pwned=1</script>"
HOSTILE_COLUMN = 'x"><img src=x onerror="window.__pwned=2">'
HOSTILE_CONFIG = """name: hostile
example_gen: csv
data: {data}
task: binary
label: {{name: outcome, fn: trainer_module.labels.no_such_label, inputs: [y]}}
"""


@dataclass
class HostileRun:
    home: Path
    result: support.CliResult
    run_id: str
    runs_page: object  # tests/browser.Page: the UI's runs list, loaded before the run (reload it to see the run)
    links_before: list[str]  # the run links that page showed
    tree_before: dict  # support.tree_digest(home, with_dirs=True) just before and just after the run
    tree_after: dict


@pytest.fixture(scope="session")
def ui_home(taxi_runs, tmp_path_factory):
    """A copy of the taxi home (its four runs; artifact URIs still point into the original) that the UI tests serve
    and add a run to, so the shared taxi home keeps exactly its four runs."""
    import shutil

    home = tmp_path_factory.mktemp("ui") / "home"
    shutil.copytree(taxi_runs[0], home, symlinks=True)
    return home


@pytest.fixture(scope="session")
def ui_server(ui_home):
    """`tfx-e2e ui --home <ui_home> --port 0` for the session (stopped by pid at the end); .url is where it listens;
    .tree_at_start is the home's digest when it started."""
    from tests.browser import UiServer

    server = UiServer(ui_home, support.ROOT)
    server.tree_at_start = support.tree_digest(ui_home, with_dirs=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def hostile_run(ui_server, chromium_browser, tmp_path_factory):
    """The hostile CSV run (fails in Transform) added to the UI's home while the UI serves it, after a page had
    loaded the runs list."""
    from pipeline.metadata import runs as R
    from pipeline.metadata.store import open_store, sqlite_config

    root = tmp_path_factory.mktemp("hostile")
    lines = [f"size,color,{HOSTILE_COLUMN},y"]
    for i in range(60):
        color = HOSTILE_VALUE if i % 2 == 0 else ("red", "blue")[i // 2 % 2]
        lines.append(f"{i % 9 + 1},{color},{'ab'[i % 3 % 2]},{i % 2}")
    (root / "data").mkdir()
    (root / "data" / "data.csv").write_text("\n".join(lines) + "\n")
    config = root / "hostile.yaml"
    config.write_text(HOSTILE_CONFIG.format(data=root / "data"))

    page = chromium_browser.new_page()
    page.goto(ui_server.url + "/")
    links = page.page.eval_on_selector_all("a[href^='/run/']", "els => els.map(e => e.getAttribute('href'))")
    tree_before = support.tree_digest(ui_server.home, with_dirs=True)
    result = support.cli(["run", "--config", config, "--home", ui_server.home])
    tree_after = support.tree_digest(ui_server.home, with_dirs=True)
    store = open_store(sqlite_config(ui_server.home / "metadata.sqlite", create=False))
    run_ids = R.run_ids(store, "hostile")
    assert len(run_ids) == 1, (run_ids, result.stdout, result.stderr)
    return HostileRun(ui_server.home, result, run_ids[0], page, links, tree_before, tree_after)
