"""The report's Training, Push and Lineage sections: training_summary.json, the pushed version directory (its
signatures, warmup requests, the version before it) and the pushed model's upstream lineage."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from components.atomic_pusher import layout
from components.atomic_pusher.properties import (PUSH_REUSED_KEY, PUSHED_DESTINATION_KEY, PUSHED_KEY,
                                                 PUSHED_MODEL_KEY, PUSHED_VERSION_KEY)
from pipeline.dag import node_ids
from pipeline.metadata.runs import NodeExecution
from pipeline.report.problems import output, problem
from trainer_module import training_summary

SAVED_MODEL = "tensorflow.core.protobuf.saved_model_pb2"
PREDICTION_LOG = "tensorflow_serving.apis.prediction_log_pb2"


@dataclass
class TrainingView:
    uri: str
    summary: dict = field(default_factory=dict)  # training_summary.json as written
    epochs_configured: Optional[int] = None
    problems: list[str] = field(default_factory=list)

    @property
    def history(self) -> dict[str, list[float]]:
        return self.summary.get("history") or {}


@dataclass
class Signature:
    name: str
    inputs: list[tuple[str, str, str]]  # (name, dtype, shape)
    outputs: list[tuple[str, str, str]]


@dataclass
class PushView:
    pushed: bool
    reused: bool = False
    version_dir: str = ""
    version: str = ""
    base_directory: str = ""
    previous_version: Optional[str] = None
    signatures: list[Signature] = field(default_factory=list)
    raw_inputs: list[Any] = field(default_factory=list)  # components.atomic_pusher.signature.InputFeature
    warmup_requests: Optional[int] = None
    warmup_examples: Optional[int] = None
    state: str = ""  # the Pusher's execution state
    problems: list[str] = field(default_factory=list)


@dataclass
class LineageView:
    artifact_id: int
    nodes: list[Any] = field(default_factory=list)  # pipeline.metadata.lineage.LineageNode, upstream only
    edges: list[tuple[str, str]] = field(default_factory=list)
    raw_inputs: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def training(executions: dict[str, NodeExecution]) -> Optional[TrainingView]:
    """The Training section, or None when the run has no Trainer output."""
    model_run = output(executions, node_ids.TRAINER, "model_run")
    if model_run is None:
        return None
    view = TrainingView(uri=model_run.uri)
    try:
        view.summary = training_summary.read(model_run.uri)
    except (OSError, ValueError) as err:
        view.problems.append(f"training summary not readable: {problem(err)}")
    try:
        config = json.loads(executions[node_ids.TRAINER].properties.get("custom_config") or "{}")
        view.epochs_configured = (config.get("training") or {}).get("epochs")
    except (ValueError, AttributeError):
        pass
    return view


def _dtype_names() -> dict[int, str]:
    from components import proto_io as protos

    enum = protos.message_class(SAVED_MODEL, "tensorflow.SavedModel").DESCRIPTOR.file.pool.FindEnumTypeByName(
        "tensorflow.DataType")
    return {v.number: v.name.replace("DT_", "").lower() for v in enum.values}


def signatures(version_dir: str) -> list[Signature]:
    """The serving signatures of a SavedModel (inputs and outputs with dtype and shape), read without TensorFlow."""
    from components import proto_io as protos

    cls = protos.message_class(SAVED_MODEL, "tensorflow.SavedModel")
    with open(os.path.join(version_dir, layout.SAVED_MODEL_FILE), "rb") as f:
        saved = cls.FromString(f.read())
    dtypes = _dtype_names()
    graph = next((g for g in saved.meta_graphs if "serve" in g.meta_info_def.tags), None) or saved.meta_graphs[0]

    def tensors(items) -> list[tuple[str, str, str]]:
        return [(k, dtypes.get(v.dtype, str(v.dtype)),
                 "(" + ", ".join("?" if d.size < 0 else str(d.size) for d in v.tensor_shape.dim) + ")")
                for k, v in sorted(items.items())]

    return [Signature(name, tensors(sig.inputs), tensors(sig.outputs))
            for name, sig in sorted(graph.signature_def.items()) if not name.startswith("__")]


def warmup_counts(version_dir: str) -> tuple[int, Optional[int]]:
    """(requests, examples in them) of the version's TF Serving warmup file."""
    from components import proto_io as protos

    path = os.path.join(version_dir, layout.ASSETS_EXTRA, layout.WARMUP_FILE)
    records = list(protos.tfrecords(path))
    try:
        cls = protos.message_class(PREDICTION_LOG, "tensorflow.serving.PredictionLog")
        examples = 0
        for record in records:
            for tensor in cls.FromString(record).predict_log.request.inputs.values():
                examples += len(tensor.string_val)
    except (ImportError, ValueError, KeyError):
        examples = None
    return len(records), examples


def push(executions: dict[str, NodeExecution]) -> Optional[PushView]:
    """The Push section, or None when the Pusher did not run."""
    pusher = executions.get(node_ids.PUSHER)
    artifact = output(executions, node_ids.PUSHER, PUSHED_MODEL_KEY)
    if pusher is None or artifact is None:
        return None
    props = artifact.properties
    view = PushView(pushed=bool(props.get(PUSHED_KEY)), reused=bool(props.get(PUSH_REUSED_KEY)), state=pusher.state,
                    base_directory=str(pusher.properties.get("base_directory") or ""))
    if not view.pushed:
        return view
    view.version_dir = str(props.get(PUSHED_DESTINATION_KEY) or "")
    view.version = str(props.get(PUSHED_VERSION_KEY) or os.path.basename(view.version_dir.rstrip("/")))
    base = os.path.dirname(view.version_dir.rstrip("/"))  # versions are siblings in the model's base directory
    try:
        earlier = [v for v in layout.numeric_versions(base) if str(v.number) != view.version and
                   view.version.isdigit() and v.number < int(view.version)]
        view.previous_version = str(earlier[-1].number) if earlier else None
        if not os.path.isdir(view.version_dir):
            raise FileNotFoundError(2, "version directory missing", view.version_dir)
        view.signatures = signatures(view.version_dir)
        view.warmup_requests, view.warmup_examples = warmup_counts(view.version_dir)
    except Exception as err:  # pylint: disable=broad-except  # a deleted or foreign version directory
        view.problems.append(problem(err))
        return view
    try:
        from components.atomic_pusher.signature import serving_input_features

        view.raw_inputs = list(serving_input_features(view.version_dir).values())
    except Exception as err:  # pylint: disable=broad-except
        view.problems.append(f"raw input columns not readable: {problem(err)}")
    return view


def lineage(store: Any, executions: dict[str, NodeExecution]) -> Optional[LineageView]:
    """The pushed model's upstream graph, or None when this run pushed nothing."""
    artifact = output(executions, node_ids.PUSHER, PUSHED_MODEL_KEY)
    if artifact is None or not artifact.properties.get(PUSHED_KEY):
        return None
    from pipeline.metadata import lineage as L

    view = LineageView(artifact.id)
    try:
        graph = L.lineage(store, artifact.id)
    except Exception as err:  # pylint: disable=broad-except
        view.problems.append(problem(err))
        return view
    keep = set(graph.upstream) | {f"a{artifact.id}"}
    view.nodes = [n for n in graph.nodes if n.key in keep]
    view.edges = [(a, b) for a, b in graph.edges if a in keep and b in keep]
    view.raw_inputs = graph.raw_inputs
    return view
