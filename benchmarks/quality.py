"""Model quality on fixed rows: AUC and accuracy of a binary SavedModel's `serving_default` on serialized tf.Examples.

Works for any SavedModel whose serving signature takes one batch of serialized tf.Examples and returns one binary
score per row: ours (`examples` -> `probabilities`, a sigmoid) and the official TFX taxi example (`examples` ->
`outputs`, a sigmoid). Which output is the probability, and whether it is a probability or a logit, is decided from
the signature: its output names and the op that produces the output (traced through the saved function graphs).
Anything that does not decide it raises instead of guessing.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before TensorFlow is imported (both models are tf-keras ones)

import glob  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Optional, Sequence  # noqa: E402

import numpy as np  # noqa: E402

import trainer_module  # noqa: E402,F401  (checks TF_USE_LEGACY_KERAS=1 and that TensorFlow is not imported yet)
from trainer_module.serving_contract import SERVING_SIGNATURE as SIGNATURE  # noqa: E402

BATCH_SIZE = 2048
THRESHOLD = 0.5
BIG_TIP_FRACTION = 0.2  # the official example's label: tips > 20 % of the fare

# Output names that mean "a probability" / "a logit" when the graph alone does not say.
PROBABILITY_NAMES = ("probabilities", "probability", "probs", "prob", "outputs", "output", "scores")
LOGIT_MARKERS = ("logit",)

# Ops an output passes through unchanged in meaning (value-preserving or shape-only).
_PASS_THROUGH = {"Identity", "IdentityN", "Cast", "Reshape", "Squeeze", "ExpandDims", "StopGradient", "Snapshot",
                 "EnsureShape"}
_CALLS = {"StatefulPartitionedCall", "PartitionedCall"}
_PROBABILITY_OPS = {"Sigmoid": "sigmoid", "Softmax": "softmax"}
_LOGIT_OPS = {"BiasAdd", "MatMul", "Add", "AddV2", "AddN", "BatchMatMulV2"}


class QualityError(ValueError):
    """The model's signature does not say which output is a binary probability."""


# ------------------------------------------------------------------------------------------------ examples / labels


def eval_split_examples(examples_artifact_uri: str | Path, split: str = "eval") -> list[bytes]:
    """Serialized tf.Examples of the `Split-eval` (or `Split-<split>`) gzipped TFRecord files of an ExampleGen
    output, in file order."""
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(str(examples_artifact_uri), f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"{examples_artifact_uri}: no Split-{split} files")
    return [bytes(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def _float_value(feature) -> Optional[float]:
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else []
    if not len(values) or kind == "bytes_list":
        return None
    return float(values[0])


def big_tipper_labels(serialized: Sequence[bytes]) -> np.ndarray:
    """1 when tips > 0.2 * fare, else 0; 0 when fare or tips is missing or NaN (int64, one per example).

    (The official preprocessing_fn fills a missing value with 0 before comparing; the shipped CSV has no row with a
    missing fare or tips, so the two readings agree on it.)"""
    import tensorflow as tf

    labels = np.zeros(len(serialized), dtype=np.int64)
    for i, blob in enumerate(serialized):
        feats = tf.train.Example.FromString(blob).features.feature
        tips = _float_value(feats["tips"]) if "tips" in feats else None
        fare = _float_value(feats["fare"]) if "fare" in feats else None
        if tips is None or fare is None or np.isnan(tips) or np.isnan(fare):
            continue
        labels[i] = int(tips > BIG_TIP_FRACTION * fare)
    return labels


# ------------------------------------------------------------------------------------------------ the signature


def _input_name(fn) -> str:
    args, kwargs = fn.structured_input_signature
    if args:
        raise QualityError(f"{SIGNATURE} takes positional inputs {args}; expected one keyword string input")
    strings = [name for name, spec in kwargs.items() if spec.dtype.name == "string"]
    if len(kwargs) != 1 or len(strings) != 1:
        raise QualityError(f"{SIGNATURE} inputs {dict(kwargs)}: expected exactly one string input (serialized "
                           "tf.Examples)")
    return strings[0]


def _graph_nodes(graph_def):
    library = {f.signature.name: f for f in graph_def.library.function}
    return {n.name: n for n in graph_def.node}, library


def _producer(nodes: dict, ref: str) -> tuple[Optional[object], int]:
    """(NodeDef, flat output index) a tensor reference points at, in a GraphDef (`node:i`) or a FunctionDef
    (`node:out_arg:i`); (None, -1) when it is a function argument."""
    parts = ref.lstrip("^").split(":")
    node = nodes.get(parts[0])
    if node is None:
        return None, -1
    index = int(parts[-1]) if len(parts) > 1 and parts[-1].isdigit() else 0
    return node, index


def _context_function(name: str):
    """A function registered with the eager context by tf.saved_model.load but absent from the graph's library."""
    from tensorflow.python.eager import context

    try:
        return context.context().get_function_def(name)
    except Exception:  # pylint: disable=broad-except
        return None


def _trace(graph_def, output_ref: str, max_steps: int = 200) -> tuple[Optional[str], list[str]]:
    """Follows an output back through pass-through ops and function calls to the op that computes it; returns
    ("sigmoid" | "softmax" | "logit" | None, the op types seen on the way)."""
    nodes, library = _graph_nodes(graph_def)
    scopes = [nodes]
    node, index = _producer(nodes, output_ref)
    path: list[str] = []
    for _ in range(max_steps):
        if node is None:
            return None, path
        path.append(node.op)
        if node.op in _PROBABILITY_OPS:
            return _PROBABILITY_OPS[node.op], path
        if node.op in _LOGIT_OPS:
            return "logit", path
        if node.op in _CALLS or node.op in library:
            fname = node.attr["f"].func.name if node.op in _CALLS else node.op
            fdef = library.get(fname) or _context_function(fname)
            if fdef is None:
                return None, path
            out_arg = fdef.signature.output_arg[index].name if index < len(fdef.signature.output_arg) else None
            if out_arg is None or out_arg not in fdef.ret:
                return None, path
            scope = {n.name: n for n in fdef.node_def}
            scopes.append(scope)
            node, index = _producer(scope, fdef.ret[out_arg])
            continue
        if node.op in _PASS_THROUGH:
            inputs = [i for i in node.input if not i.startswith("^")]
            if not inputs:
                return None, path
            ref = inputs[index] if node.op == "IdentityN" and index < len(inputs) else inputs[0]
            node, index = _producer(scopes[-1], ref)
            continue
        return None, path
    return None, path


def describe_output(fn) -> dict:
    """{"name", "kind": "probability" | "logit", "basis"}: the signature's binary-score output.

    One output: that one. Several: the one whose name says probability, unless none or several do. The kind comes
    from the producing op (Sigmoid → probability, BiasAdd/MatMul/Add → logit); when the graph cannot be traced the
    name decides (`...logit...` → logit, a probability name → probability); otherwise QualityError."""
    outputs = fn.structured_outputs
    if not isinstance(outputs, dict) or not outputs:
        raise QualityError(f"{SIGNATURE} outputs {outputs!r}: expected a dict of named outputs")
    if len(outputs) == 1:
        name = next(iter(outputs))
    else:
        probable = [n for n in outputs if n.lower() in PROBABILITY_NAMES]
        if len(probable) != 1:
            raise QualityError(f"{SIGNATURE} has outputs {sorted(outputs)}: cannot tell which one is the binary "
                               "probability")
        name = probable[0]
    spec = outputs[name]
    shape = spec.shape.as_list()
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise QualityError(f"{SIGNATURE} output {name!r} has shape {shape}: not one binary score per row")
    # fn.outputs are the graph tensors in tf.nest.flatten order, which for a dict is the sorted keys.
    tensor = fn.outputs[sorted(outputs).index(name)] if len(fn.outputs) == len(outputs) else None
    kind, path = _trace(fn.graph.as_graph_def(), tensor.name) if tensor is not None else (None, [])
    if kind == "softmax":
        raise QualityError(f"{SIGNATURE} output {name!r} is a softmax over one unit: not a binary probability")
    if kind == "sigmoid":
        return {"name": name, "kind": "probability", "basis": "op Sigmoid (" + " <- ".join(path) + ")"}
    if kind == "logit":
        return {"name": name, "kind": "logit", "basis": f"op {path[-1]} (" + " <- ".join(path) + ")"}
    lowered = name.lower()
    if any(m in lowered for m in LOGIT_MARKERS):
        return {"name": name, "kind": "logit", "basis": f"name {name!r} (graph not traced: {path})"}
    if lowered in PROBABILITY_NAMES:
        return {"name": name, "kind": "probability", "basis": f"name {name!r} (graph not traced: {path})"}
    raise QualityError(f"{SIGNATURE} output {name!r}: neither its name nor its producing op ({path}) says whether "
                       "it is a probability or a logit")


# ------------------------------------------------------------------------------------------------ evaluate


def predict_probabilities(saved_model_dir: str | Path, serialized: Sequence[bytes]) -> tuple[np.ndarray, dict]:
    """(probability per example, {"input", "output", "kind", "basis"}) from the model's serving_default."""
    import tensorflow as tf

    fn = tf.saved_model.load(str(saved_model_dir)).signatures[SIGNATURE]
    input_name = _input_name(fn)
    out = describe_output(fn)
    chunks = []
    for start in range(0, len(serialized), BATCH_SIZE):
        batch = tf.constant(list(serialized[start : start + BATCH_SIZE]), dtype=tf.string)
        chunks.append(np.asarray(fn(**{input_name: batch})[out["name"]].numpy(), dtype=np.float64).reshape(-1))
    scores = np.concatenate(chunks) if chunks else np.zeros(0)
    if len(scores) != len(serialized):
        raise QualityError(f"{out['name']}: {len(scores)} values for {len(serialized)} examples")
    if out["kind"] == "logit":
        scores = 1.0 / (1.0 + np.exp(-scores))
    elif scores.size and (scores.min() < 0.0 or scores.max() > 1.0):
        raise QualityError(f"{out['name']} was read as a probability but has values in "
                           f"[{scores.min():.4g}, {scores.max():.4g}]")
    return scores, {"input": input_name, "output": out["name"], "kind": out["kind"], "basis": out["basis"]}


def evaluate(saved_model_dir: str | Path, serialized_examples: Sequence[bytes], labels: np.ndarray) -> dict:
    """{"auc", "accuracy", "rows", "signature"}: ROC AUC and accuracy at 0.5 of the model's probability output."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(serialized_examples):
        raise ValueError(f"{len(labels)} labels for {len(serialized_examples)} examples")
    probabilities, signature = predict_probabilities(saved_model_dir, serialized_examples)
    predicted = (probabilities >= THRESHOLD).astype(np.int64)
    return {
        "auc": round(float(roc_auc_score(labels, probabilities)), 5),
        "accuracy": round(float((predicted == labels).mean()), 5),
        "rows": int(len(labels)),
        "positive_rate": round(float(labels.mean()), 5),
        "signature": signature,
    }
