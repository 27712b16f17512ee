"""The import map of the project: layers only import downwards, no module imports itself back through a cycle,
every module says what it owns, and no module grows past ~300 lines without saying why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.paths import PROJECT_ROOT

# Lowest first: a package may import packages of a lower rank (and itself), never a higher one.
LAYERS = ("trainer_module", "components", "pipeline", "kubeflow", "cli")
RANK = {name: rank for rank, name in enumerate(LAYERS)}
MAX_LINES = 300
# A module longer than MAX_LINES must say why in its docstring with this phrase.
LONG_REASON = "longer than 300 lines because"


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            rel = path.relative_to(PROJECT_ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules a module imports, at any depth of the file (function-level imports count too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                base = ".".join(parent[: len(parent) - node.level + 1] + ([base] if base else []))
            # `from pkg import sub` depends on the module pkg.sub when there is one, else on pkg itself.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            # The longest known module that the dotted target names (`from a.b import c` may import module a.b.c).
            parts = target.split(".")
            for end in range(len(parts), 0, -1):
                candidate = ".".join(parts[:end])
                if candidate in known:
                    if candidate != name:
                        out.add(candidate)
                    break
    return out


MODULES = modules()
GRAPH = {name: imports_of(path, name, set(MODULES)) for name, path in MODULES.items()}


def test_the_map_sees_the_packages():
    # Guards the test itself: an empty or partial map would pass every rule below.
    assert {"cli.main", "pipeline.dag.factory", "kubeflow.compile", "trainer_module.run"} <= set(MODULES)
    assert "pipeline.dag.factory" in GRAPH["kubeflow.compile"]


def test_no_import_runs_upward():
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if RANK[target.split(".")[0]] > RANK[name.split(".")[0]]
    )
    assert not upward, "imports against the layers " + " → ".join(LAYERS) + ":\n" + "\n".join(upward)


def test_no_import_cycles():
    # Tarjan's strongly connected components: any component with more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_owns(name):
    path = MODULES[name]
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and docstring.strip(), f"{path.relative_to(PROJECT_ROOT)} has no module docstring"


def test_no_module_is_long_without_a_reason():
    long = []
    for name, path in MODULES.items():
        lines = path.read_text().count("\n")
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and LONG_REASON not in docstring:
            long.append(f"{path.relative_to(PROJECT_ROOT)}: {lines} lines")
    assert not long, f"modules over {MAX_LINES} lines whose docstring does not say '{LONG_REASON} ...':\n" + "\n".join(long)
