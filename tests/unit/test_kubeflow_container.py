"""The Kubeflow/Vertex container image (kubeflow/Dockerfile, .dockerignore), checked without a docker engine.

No machine of this project can run `docker build`, so this tests what the build depends on: the Dockerfile's
structure (base image, Keras 2 before any python runs, install exactly from the lock, COPY sources that exist and
are not filtered out of the build context), and that the package the image installs really exposes the dotted
paths the pipeline names, imported from an installed copy with the checkout off sys.path.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "kubeflow" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TFX_IMAGE = "gcr.io/tfx-oss-public/tfx:1.16.0"

# Every dotted path the pipeline (local and compiled for Kubeflow/Vertex) hands to TFX or the command line.
DOTTED_PATHS = [
    "trainer_module.preprocessing.preprocessing_fn",
    "trainer_module.run.run_fn",
    "components.baseline_resolver.strategy.LatestBlessedOtherModelStrategy",
    "components.digits_example_gen.executor.Executor",
    "components.multiworker_trainer.executor.Executor",
    "components.tagged_trainer.executor.Executor",
    "components.feature_importance.executor.Executor",
    # A custom artifact type: the container entrypoint imports it by its KFP schema title.
    "components.FeatureImportance",
    "cli.main.main",
    "cli.main.entry",
]


# ---------------------------------------------------------------------------------------------------------------
# Reading the Dockerfile


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, backslash continuations joined as docker does."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # docker drops comment lines inside a continued instruction
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1]
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def copy_sources(steps: list[tuple[str, str]]) -> list[str]:
    """The build-context paths the COPY instructions read (flags such as --chown dropped; the last word is the
    destination)."""
    sources = []
    for keyword, args in steps:
        if keyword in ("COPY", "ADD"):
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            assert len(words) >= 2, f"{keyword} {args}: needs a source and a destination"
            sources.extend(words[:-1])
    return sources


def ignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def ignored(path: str, patterns: list[str]) -> bool:
    """Close enough to docker's .dockerignore matching for our plain patterns: a path is excluded when it or one
    of its parent directories matches a pattern (`**/` matches at any depth)."""
    parts = Path(path.rstrip("/")).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        pattern = pattern.rstrip("/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(prefix.split("/")[-1], pattern[3:])
            ):
                return True
    return False


def project_packages() -> set[str]:
    """Top-level packages of this repository that pyproject.toml's [tool.setuptools.packages.find] includes."""
    import tomli  # pinned in requirements.lock (Python 3.10 has no tomllib)

    find = tomli.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    return {
        d.name
        for d in ROOT.iterdir()
        if (d / "__init__.py").is_file() and any(fnmatch.fnmatch(d.name, p) for p in find.get("include", ["*"]))
    }


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_base_image_is_the_official_tfx_1_16_image(steps):
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert froms == [TFX_IMAGE], f"expected exactly one FROM {TFX_IMAGE}, got {froms}"
    assert steps[0] == ("FROM", TFX_IMAGE)


def test_legacy_keras_is_set_before_anything_runs_python(steps):
    env_index = next(
        (i for i, (k, a) in enumerate(steps) if k == "ENV" and re.search(r"\bTF_USE_LEGACY_KERAS[= ]\"?1\"?\b", a)),
        None,
    )
    assert env_index is not None, "ENV TF_USE_LEGACY_KERAS=1 is missing"
    runs_python = [i for i, (k, a) in enumerate(steps) if k == "RUN" and re.search(r"\b(python\S*|pip\S*)\b", a)]
    assert runs_python, "no RUN installs anything"
    assert env_index < min(runs_python), "TF_USE_LEGACY_KERAS=1 must be set before the first RUN of python/pip"


def test_installs_exactly_the_lock_then_the_project_without_dependencies(steps):
    runs = [a for k, a in steps if k == "RUN"]
    lock_installs = [a for a in runs if re.search(r"pip install\b.*-r requirements\.lock\b", a)]
    assert lock_installs, "the dependencies must come from `pip install -r requirements.lock`"
    project_installs = [a for a in runs if re.search(r"pip install\b.*--no-deps\b", a)]
    assert project_installs, "the project must be installed with --no-deps (the lock already pinned everything)"
    # The lock comes first: installing the project first would let pip resolve its unpinned ranges.
    assert runs.index(lock_installs[0]) < runs.index(project_installs[0])
    # Every `pip install` either reads the lock or adds nothing but the project: no unpinned package can slip in.
    for run in runs:
        for command in re.findall(r"pip install[^&;]*", run):
            assert "-r requirements.lock" in command or "--no-deps" in command, f"unpinned install: {command}"


def test_every_copy_source_exists_and_is_in_the_build_context(steps):
    sources = copy_sources(steps)
    assert sources, "the Dockerfile copies nothing"
    patterns = ignore_patterns()
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
        assert not ignored(source, patterns), f"COPY {source}: excluded from the build context by .dockerignore"
    # What the project needs at build and run time: its metadata, the lock, every package pyproject.toml packages
    # (so a package added there but not here fails this test) and the schemas.
    needed = {"requirements.lock", "pyproject.toml", "README.md", "schemas", *project_packages()}
    copied = {s.rstrip("/") for s in sources}
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"


def test_working_directory_is_the_project_root(steps):
    # kubeflow/compile.py writes the schema path relative to the project root; the container resolves it against
    # its working directory, so the last WORKDIR must be where the project was copied.
    workdirs = [a for k, a in steps if k == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/tfx-e2e"


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = ignore_patterns()
    for path in (".venv", ".git", ".tfx-e2e", "kubeflow/build", "pipeline/__pycache__", ".pytest_cache"):
        assert ignored(path, patterns), f".dockerignore does not exclude {path}"
    assert not ignored("pipeline/config/loader.py", patterns)


# ---------------------------------------------------------------------------------------------------------------
# The installed package


@pytest.fixture(scope="module")
def installed(tmp_path_factory, steps):
    """The project built into a wheel from exactly what the Dockerfile copies, installed into a target directory
    (never into .venv). Built from a copy of the build context rather than the checkout, so the test proves the
    COPY set suffices and the build's in-tree output (build/, *.egg-info) never lands in the working tree."""
    tmp = tmp_path_factory.mktemp("container")
    context = tmp / "context"
    context.mkdir()
    patterns = ignore_patterns()
    for source in copy_sources(steps):
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(
                src, context / source, ignore=lambda d, names: [n for n in names if ignored(n, patterns)]
            )
        else:
            shutil.copy2(src, context / source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    # --no-index: nothing is downloaded; --no-build-isolation: the venv's locked setuptools builds it, as in the image.
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-index", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"),
         str(context)],
        check=True, capture_output=True, text=True, timeout=180,
    )
    (wheel,) = (tmp / "dist").glob("tfx_e2e-*.whl")
    site = tmp / "site"
    subprocess.run(
        [*pip, "install", "--quiet", "--no-index", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, text=True, timeout=180,
    )
    return {"tmp": tmp, "wheel": wheel, "site": site}


RESOLVE = """
import importlib, json, sys
import trainer_module  # Keras 2 before TensorFlow, as every entry point does
out = {"sys_path": sys.path, "resolved": {}}
for dotted in sys.argv[1:]:
    module_name, _, attr = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    obj = getattr(module, attr)
    out["resolved"][dotted] = {"file": module.__file__, "callable": callable(obj), "type": type(obj).__name__}
print("RESULT " + json.dumps(out))
"""


def test_installed_package_resolves_every_dotted_path(installed):
    site: Path = installed["site"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PYTHONPATH=str(site), TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-c", RESOLVE, *DOTTED_PATHS],
        cwd=installed["tmp"], env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (line,) = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    result = json.loads(line[len("RESULT "):])
    # The checkout must not be importable in that process, else the test proves nothing about the package.
    # ('' on sys.path is the working directory, the temp dir: the checkout is not there either.)
    on_path = {Path(p or installed["tmp"]).resolve() for p in result["sys_path"]}
    assert ROOT not in on_path, f"the checkout {ROOT} is on the subprocess's sys.path"
    for dotted in DOTTED_PATHS:
        found = result["resolved"][dotted]
        assert Path(found["file"]).resolve().is_relative_to(site.resolve()), (
            f"{dotted} was imported from {found['file']}, not from the installed package in {site}"
        )
        assert found["callable"], f"{dotted} is a {found['type']}, not a function or class"


def test_wheel_carries_the_bundled_configs(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    configs = sorted(p.name for p in (ROOT / "pipeline" / "configs").glob("*.yaml"))
    assert configs, "no bundled configs in pipeline/configs"
    missing = [c for c in configs if f"pipeline/configs/{c}" not in names]
    assert not missing, f"pipeline/configs/{missing} are not package data in the wheel"


def test_schemas_are_reachable_the_way_the_image_installs_the_project(installed, steps):
    """schemas/ is not package data, and pipeline/config/loader.py resolves relative schema paths against the directory
    above the imported `pipeline` package. So either the wheel carries the schemas, or the image must install the
    copied source tree editable (PROJECT_ROOT = /tfx-e2e) — which is what kubeflow/Dockerfile does."""
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    if any(n.startswith("schemas/") for n in names):
        return
    project_installs = [a for k, a in steps if k == "RUN" and re.search(r"pip install\b[^&;]*--no-deps", a)]
    assert any(re.search(r"pip install\b[^&;]*\s-e\s+\.", a) for a in project_installs), (
        "schemas/ is not in the wheel, so a non-editable install leaves `--config taxi` without its schema "
        "inside the container: install with `-e .` from the copied tree, or ship schemas as package data"
    )
    assert "schemas" in {s.rstrip("/") for s in copy_sources(steps)}
