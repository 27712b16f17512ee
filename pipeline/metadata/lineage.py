"""Lineage of an artifact: every execution and artifact upstream to the raw input, and its downstream consumers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Optional

import ml_metadata as mlmd
from ml_metadata.proto import metadata_store_pb2

from components.atomic_pusher.properties import PUSHED_KEY
from pipeline.metadata import runs as R
from pipeline.metadata.store import MetadataError

_OUT = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.INTERNAL_OUTPUT)
_IN = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.INTERNAL_INPUT)
RAW_INPUT_PROPERTIES = ("input_base", "input_fingerprint", "span", "version")


@dataclass(frozen=True)
class LineageNode:
    key: str  # "a<id>" for artifacts, "e<id>" for executions
    kind: str  # artifact | execution
    id: int
    label: str  # artifact type, or the pipeline node id of an execution
    detail: str  # artifact URI, or execution state
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Lineage:
    artifact_id: int
    nodes: list[LineageNode]
    edges: list[tuple[str, str]]  # (from, to): artifact → execution that read it, execution → artifact it wrote
    upstream: list[str]  # node keys upstream of the artifact (its history)
    downstream: list[str]  # node keys downstream (its consumers)
    raw_inputs: list[dict]  # ExampleGen executions at the root: input base, fingerprint, span


def latest_pushed_model(store: mlmd.MetadataStore) -> int:
    pushed = [a for a in store.get_artifacts_by_type("PushedModel") if a.custom_properties.get(PUSHED_KEY) and
              a.custom_properties[PUSHED_KEY].int_value == 1]
    if not pushed:
        raise MetadataError("no pushed model in this store yet: no run has been blessed and pushed.")
    return max(pushed, key=lambda a: a.id).id


def _node_name(store: mlmd.MetadataStore, execution_id: int, node_type_id: int) -> str:
    for ctx in store.get_contexts_by_execution(execution_id):
        if ctx.type_id == node_type_id:
            return ctx.name.split(".", 1)[-1]
    return f"execution {execution_id}"


def lineage(store: mlmd.MetadataStore, artifact_id: int, max_nodes: int = 500) -> Lineage:
    found = store.get_artifacts_by_id([artifact_id])
    if not found:
        raise MetadataError(f"no artifact {artifact_id} in this store; `tfx-e2e artifacts` lists the ids.")
    artifact_types = {t.id: t.name for t in store.get_artifact_types()}
    node_type = store.get_context_type(R.NODE_CONTEXT)
    nodes: dict[str, LineageNode] = {}
    edges: set[tuple[str, str]] = set()

    def add_artifact(a: metadata_store_pb2.Artifact) -> str:
        record = R.to_artifact(a, artifact_types)
        key = f"a{a.id}"
        nodes.setdefault(key, LineageNode(key, "artifact", a.id, record.type, a.uri, record.properties))
        return key

    def add_execution(e: metadata_store_pb2.Execution) -> str:
        key = f"e{e.id}"
        if key not in nodes:
            state = metadata_store_pb2.Execution.State.Name(e.last_known_state).lower()
            nodes[key] = LineageNode(key, "execution", e.id, _node_name(store, e.id, node_type.id), state,
                                     R.execution_properties(e))
        return key

    def walk(start: metadata_store_pb2.Artifact, upstream: bool) -> list[str]:
        seen, order, queue = set(), [], deque([start])
        while queue and len(nodes) < max_nodes:
            artifact = queue.popleft()
            a_key = add_artifact(artifact)
            events = store.get_events_by_artifact_ids([artifact.id])
            wanted = _OUT if upstream else _IN
            # A cached execution re-publishes the artifacts of the one it reuses; only real work is lineage.
            executions = [e for e in store.get_executions_by_id([ev.execution_id for ev in events if ev.type in wanted])
                          if e.last_known_state != metadata_store_pb2.Execution.CACHED]
            if upstream:
                # The producer is the first execution that output the artifact; later OUTPUT events come from
                # resolvers handing an existing artifact on.
                executions = sorted(executions, key=lambda e: e.id)[:1]
            for execution in executions:
                e_key = add_execution(execution)
                edges.add((e_key, a_key) if upstream else (a_key, e_key))
                if e_key in seen:
                    continue
                seen.add(e_key)
                order.append(e_key)
                next_types = _IN if upstream else _OUT
                next_ids = [ev.artifact_id for ev in store.get_events_by_execution_ids([execution.id])
                            if ev.type in next_types]
                for nxt in store.get_artifacts_by_id(next_ids):
                    n_key = add_artifact(nxt)
                    edges.add((n_key, e_key) if upstream else (e_key, n_key))
                    if n_key not in seen:
                        seen.add(n_key)
                        order.append(n_key)
                        queue.append(nxt)
        return order

    upstream = walk(found[0], upstream=True)
    downstream = walk(found[0], upstream=False)
    raw_inputs = [
        {"execution_id": n.id, "node": n.label, **{k: n.properties[k] for k in RAW_INPUT_PROPERTIES if k in n.properties}}
        for n in nodes.values()
        if n.kind == "execution" and "input_base" in n.properties
    ]
    return Lineage(artifact_id, list(nodes.values()), sorted(edges), upstream, downstream, raw_inputs)


def _short(node: LineageNode) -> str:
    if node.kind == "artifact":
        return f"{node.label.split('.')[-1]} #{node.id}"
    return f"{node.label} (execution {node.id}, {node.detail})"


def to_dot(graph: Lineage) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;"]
    for n in graph.nodes:
        shape = "box" if n.kind == "execution" else "ellipse"
        style = ', style=filled, fillcolor="#ffe08a"' if n.kind == "artifact" and n.id == graph.artifact_id else ""
        lines.append(f'  {n.key} [shape={shape}, label="{_short(n)}"{style}];')
    lines += [f"  {a} -> {b};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(graph: Lineage) -> str:
    lines = ["flowchart LR"]
    for n in graph.nodes:
        text = _short(n).replace('"', "'")
        lines.append(f'  {n.key}["{text}"]' if n.kind == "execution" else f'  {n.key}(["{text}"])')
    lines += [f"  {a} --> {b}" for a, b in graph.edges]
    return "\n".join(lines)


def to_text(graph: Lineage) -> str:
    by_key = {n.key: n for n in graph.nodes}
    root = by_key[f"a{graph.artifact_id}"]
    lines = [f"artifact {_short(root)}  {root.detail}", "upstream (nearest first):"]
    lines += [f"  {'→' if by_key[k].kind == 'execution' else ' '} {_short(by_key[k])}"
              + (f"  {by_key[k].detail}" if by_key[k].kind == "artifact" else "") for k in graph.upstream]
    for raw in graph.raw_inputs:
        details = ", ".join(f"{k}={v}" for k, v in raw.items() if k not in ("execution_id", "node"))
        lines.append(f"raw input: {raw['node']} {details}")
    lines.append("downstream:" if graph.downstream else "downstream: none")
    lines += [f"  {_short(by_key[k])}" for k in graph.downstream]
    return "\n".join(lines)
