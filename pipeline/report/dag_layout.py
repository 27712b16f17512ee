"""Where each node of a left-to-right DAG drawing goes: columns by longest path, rows ordered by parents' rows."""

from __future__ import annotations


def _acyclic(ids: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges minus those that close a cycle (found by depth-first search in node order)."""
    children: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        children[a].append(b)
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done
    back: set[tuple[str, str]] = set()
    for start in ids:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(children[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(children[nxt])))
    return [e for e in edges if e not in back]


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering from the sources (edges must be acyclic)."""
    layer = {i: 0 for i in ids}
    for _ in range(len(ids)):
        changed = False
        for a, b in edges:
            if layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    return layer


def cells(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """(column, row) per node id: a node sits one column right of its deepest parent; within a column, nodes are
    ordered by the mean row of their parents (barycenter) so edges stay short; edges closing a cycle are ignored."""
    layer = _layers(ids, _acyclic(ids, edges))
    columns: dict[int, list[str]] = {}
    for i in ids:
        columns.setdefault(layer[i], []).append(i)
    parents = {i: [a for a, b in edges if b == i] for i in ids}
    out: dict[str, tuple[int, int]] = {}
    for col in sorted(columns):
        members = columns[col]
        order = {i: float(n) for n, i in enumerate(members)}

        def rank(i: str) -> float:
            rows = [out[p][1] for p in parents[i] if p in out]
            return sum(rows) / len(rows) if rows else order[i]
        members.sort(key=rank)
        for row, i in enumerate(members):
            out[i] = (col, row)
    return out
