"""The raw columns a SavedModel's serving signature parses, read from the `tf.io.parse_example` op in its graph.

A model exported by `trainer_module.export` serves serialized raw tf.Examples: its serving signature's function starts
with `tf.io.parse_example(examples, spec)`, and that spec (feature names, dtypes, fixed or variable length, dense
shapes and defaults) is stored in saved_model.pb as the constant inputs and attributes of one `ParseExampleV2` op.
Reading it back gives the exact column types the model expects without the Transform graph or the schema, so any
pushed version directory is self-describing (`tfx-e2e predict` and the AtomicPusher's warmup requests use it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, Iterable, List, Tuple

from components import proto_io
from trainer_module.serving_contract import SERVING_SIGNATURE

SERVE_TAG = "serve"
_PARSE_OPS = ("ParseExampleV2",)  # what tf.io.parse_example emits in TF 2
_DTYPES = {1: "float", 9: "int", 7: "bytes"}  # DT_FLOAT, DT_INT64, DT_STRING: the only tf.Example value types


class SignatureError(ValueError):
    """The serving signature's input columns cannot be read from the SavedModel."""


@dataclass(frozen=True)
class InputFeature:
    """One raw column the serving signature parses from each tf.Example."""

    name: str
    kind: str  # "sparse" (VarLenFeature: zero or more values), "dense" (FixedLenFeature), "ragged"
    dtype: str  # "float" | "int" | "bytes"
    shape: Tuple[int, ...] = ()  # dense: values per example = product of the dims (1 for a scalar)
    has_default: bool = False  # dense: a missing value falls back to the default instead of failing the parse

    @property
    def size(self) -> int:
        n = 1
        for dim in self.shape:
            n *= max(int(dim), 1)
        return n

    @property
    def required(self) -> bool:
        """A dense feature without a default fails the whole parse when an example lacks it."""
        return self.kind == "dense" and not self.has_default


def _read_saved_model(saved_model_dir: str):
    """The SavedModel proto, parsed without importing TensorFlow (components.proto_io)."""
    path = os.path.join(saved_model_dir, "saved_model.pb")
    cls = proto_io.message_class("tensorflow.core.protobuf.saved_model_pb2", "tensorflow.SavedModel")
    try:
        with proto_io.open_file(path) as f:
            return cls.FromString(f.read())
    except FileNotFoundError:
        raise SignatureError(f"{saved_model_dir} is not a SavedModel: it has no saved_model.pb") from None


def _called_functions(node) -> Iterable[str]:
    """Names of the functions a node calls (PartitionedCall's `f`, If/While branches, ...)."""
    for value in node.attr.values():
        if value.HasField("func") and value.func.name:
            yield value.func.name
        elif value.HasField("list"):
            for func in value.list.func:
                yield func.name


def _node_name(tensor_name: str) -> str:
    # Inside a function: "op/name:output_arg:index"; in the outer graph: "op/name:index"; "^name" is a control input.
    return tensor_name.lstrip("^").split(":", 1)[0]


# TensorProto dtype enum -> (its repeated value field, numpy dtype) for the constants a parse op takes.
_TENSOR_VALUES = {1: ("float_val", "float32"), 2: ("double_val", "float64"), 3: ("int_val", "int32"),
                  9: ("int64_val", "int64"), 7: ("string_val", "object")}


def _const_values(nodes: Dict[str, object], tensor_name: str):
    """A Const node's value as a numpy array (what tf.make_ndarray returns), read without TensorFlow."""
    import numpy as np

    node = nodes.get(_node_name(tensor_name))
    if node is None or node.op != "Const":
        return None
    tensor = node.attr["value"].tensor
    if tensor.dtype not in _TENSOR_VALUES:
        raise SignatureError(f"constant {node.name} has a dtype (enum {tensor.dtype}) a parse op does not take")
    field, dtype = _TENSOR_VALUES[tensor.dtype]
    shape = [int(d.size) for d in tensor.tensor_shape.dim]
    count = int(np.prod(shape)) if shape else 1
    if tensor.tensor_content and dtype != "object":
        values = np.frombuffer(tensor.tensor_content, dtype=dtype)
    else:
        values = np.array(list(getattr(tensor, field)), dtype=dtype)
        if values.size and values.size < count:  # TF stores a repeated last value once
            values = np.concatenate([values, np.repeat(values[-1:], count - values.size)])
        elif not values.size and count:
            values = np.zeros(count, dtype=dtype) if dtype != "object" else np.array([b""] * count, dtype=object)
    return values.reshape(shape)


def _parse_op_features(node, nodes: Dict[str, object]) -> List[InputFeature]:
    """The features of one ParseExampleV2 node: inputs are serialized, names, sparse_keys, dense_keys, ragged_keys,
    then one dense default per dense key; types and dense shapes are attributes."""
    keys = [_const_values(nodes, node.input[i]) for i in (2, 3, 4)]
    if any(k is None for k in keys):
        raise SignatureError(f"the parse op {node.name} does not take constant feature names")
    sparse_keys, dense_keys, ragged_keys = ([v.decode() for v in k.ravel().tolist()] for k in keys)
    sparse_types = list(node.attr["sparse_types"].list.type)
    dense_types = list(node.attr["Tdense"].list.type)
    ragged_types = list(node.attr["ragged_value_types"].list.type)
    dense_shapes = [tuple(max(d.size, 1) for d in s.dim) for s in node.attr["dense_shapes"].list.shape]
    defaults = [_const_values(nodes, name) for name in node.input[5 : 5 + len(dense_keys)]]

    def dtype(enum: int, name: str) -> str:
        if enum not in _DTYPES:
            raise SignatureError(f"feature {name!r} has a dtype (enum {enum}) tf.Example cannot carry")
        return _DTYPES[enum]

    features = [InputFeature(k, "sparse", dtype(t, k)) for k, t in zip(sparse_keys, sparse_types)]
    for i, (k, t) in enumerate(zip(dense_keys, dense_types)):
        default = defaults[i] if i < len(defaults) else None
        features.append(
            InputFeature(k, "dense", dtype(t, k), dense_shapes[i] if i < len(dense_shapes) else (),
                         has_default=default is not None and default.size > 0)
        )
    features += [InputFeature(k, "ragged", dtype(t, k)) for k, t in zip(ragged_keys, ragged_types)]
    return features


def serving_input_features(saved_model_dir: str, signature: str = SERVING_SIGNATURE) -> Dict[str, InputFeature]:
    """{column: InputFeature} for every raw column `signature` parses, sorted by name.

    Walks the function call graph from the signature's outputs and collects every ParseExampleV2 op on the way.
    Raises SignatureError when there is no such signature or it does not parse tf.Examples.
    """
    saved_model = _read_saved_model(saved_model_dir)
    graphs = [g for g in saved_model.meta_graphs if SERVE_TAG in g.meta_info_def.tags] or list(saved_model.meta_graphs)
    if not graphs:
        raise SignatureError(f"{saved_model_dir}: saved_model.pb holds no graph")
    graph = graphs[0]
    if signature not in graph.signature_def:
        raise SignatureError(
            f"{saved_model_dir} has no {signature!r} signature (it has: {', '.join(sorted(graph.signature_def))})"
        )
    outer = {n.name: n for n in graph.graph_def.node}
    library = {f.signature.name: f for f in graph.graph_def.library.function}
    pending = []
    for tensor in graph.signature_def[signature].outputs.values():
        node = outer.get(_node_name(tensor.name))
        if node is not None:
            pending += list(_called_functions(node))
    seen, features = set(), {}
    while pending:
        name = pending.pop()
        if name in seen or name not in library:
            continue
        seen.add(name)
        function = library[name]
        nodes = {n.name: n for n in function.node_def}
        for node in function.node_def:
            if node.op in _PARSE_OPS:
                for feature in _parse_op_features(node, nodes):
                    features.setdefault(feature.name, feature)
            pending += list(_called_functions(node))
    if not features:
        raise SignatureError(
            f"{saved_model_dir}: the {signature!r} signature does not parse tf.Examples (no tf.io.parse_example found)"
        )
    return dict(sorted(features.items()))


def keep_features(serialized: Iterable[bytes], names: Iterable[str]) -> List[bytes]:
    """The same tf.Examples with only the named features (e.g. without the label and other unused columns)."""
    import tensorflow as tf

    wanted = set(names)
    out = []
    for record in serialized:
        example = tf.train.Example.FromString(record)
        for name in [n for n in example.features.feature if n not in wanted]:
            del example.features.feature[name]
        out.append(example.SerializeToString(deterministic=True))
    return out
