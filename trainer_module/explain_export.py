"""The exported model's explanation functions (issue #16): the Keras model split where integrated gradients
interpolate, saved beside the serving signatures (not signatures themselves).

`explain_embed(examples)`: serialized raw tf.Examples (as serving_default takes them) → the "points" of each row:
every numeric transformed input as it is, and for every integer (categorical id, bucket id) input the outputs of
the layers that consume it (Embedding vectors, CategoryEncoding one-/multi-hot rows), keyed
`<transformed input>` and `<transformed input>|<layer name>`.
`explain_head(points)` → the served output's main value (serving_contract.output_key: probabilities, the regression
prediction in the label's units, or the reconstruction error), computed from the points exactly as serving_default
computes it from the transformed inputs.

All-zero points are the baseline: a transformed number of 0 is the training mean (a z-score; also what a missing
number is filled with), a zero embedding and an empty one-hot are "no category". Models that are not a functional
Keras graph (a gbt forest) get no functions: they are not differentiable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import tensorflow as tf

from trainer_module import features as F
from trainer_module import models
from trainer_module import serving_contract as contract

EMBED = "explain_embed"
HEAD = "explain_head"
SEPARATOR = "|"  # between a categorical input's name and its consuming layer's name in a point key


@dataclass(frozen=True)
class ExplainSpec:
    """What explain_head needs to serve like serving_default: set on the model by export.serving_signatures."""

    spec: F.ModelSpec
    family: str
    parse_spec: Mapping[str, Any]  # serving_default's tf.io.parse_example spec
    scaling: Optional[Any] = None  # a label_stats.TargetScaling (regression)


def input_of(point: str) -> str:
    """The transformed input a point key belongs to (`fare_xf`, `payment_type_xf|payment_type_xf_embedding`)."""
    return point.split(SEPARATOR, 1)[0]


def raw_column(point: str) -> str:
    return F.raw_name(input_of(point))


def _consumers(model: tf.keras.Model, tensor: Any) -> list[Any]:
    """Output tensors of the layers called on `tensor` (by identity) in the model's graph (public Keras 2 API:
    a layer's `inbound_nodes`, one per call, and `get_input_at` / `get_output_at` of each)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.InputLayer):  # its own node lists the input as its input
            continue
        for index in range(len(layer.inbound_nodes)):
            if any(t is tensor for t in tf.nest.flatten(layer.get_input_at(index))):
                found.append((layer.name, layer.get_output_at(index)))
    return found


def split(model: tf.keras.Model) -> Optional[tuple[tf.keras.Model, tf.keras.Model]]:
    """(embed, head) sub-models sharing the model's layers, or None when the model cannot be split (not a
    functional Keras graph, or an integer input feeding a layer whose output is not a float tensor)."""
    if hasattr(model, "export_input_specs") or not getattr(model, "inputs", None) or not getattr(model, "outputs", None):
        return None  # a subclassed model (e.g. the gbt forest): no graph of layers to split
    points: dict[str, Any] = {}
    for name, tensor in zip(model.input_names, model.inputs):
        if tensor.dtype.is_floating:
            points[name] = tensor
            continue
        consumers = _consumers(model, tensor)
        if not consumers:
            return None
        for layer_name, output in consumers:
            if isinstance(output, (list, tuple)) or not output.dtype.is_floating:
                return None
            points[f"{name}{SEPARATOR}{layer_name}"] = output
    embed = tf.keras.Model(inputs=dict(zip(model.input_names, model.inputs)), outputs=points, name="explain_embed")
    head = tf.keras.Model(inputs=points, outputs=model.output, name="explain_head")
    return embed, head


def attach(root: tf.Module, model: tf.keras.Model, input_specs: Mapping[str, tf.TensorSpec]) -> None:
    """Adds EMBED and HEAD to `root` (the SavedModel's root) when the model has an ExplainSpec and can be split."""
    how: Optional[ExplainSpec] = getattr(model, "explain_spec", None)
    parts = split(model) if how is not None else None
    if parts is None:
        return
    embed, head = parts
    reconstruction = models.is_reconstruction(how.family)
    family_module = models.module(how.family)
    examples = tf.TensorSpec(shape=[None], dtype=tf.string, name=contract.INPUT_KEY)

    @tf.function(input_signature=[examples])
    def explain_embed(serialized):
        transformed = model.tft_layer(tf.io.parse_example(serialized, dict(how.parse_spec)))
        return embed({name: transformed[name] for name in input_specs}, training=False)

    point_specs = {k: tf.TensorSpec(shape=t.shape, dtype=t.dtype, name=None) for k, t in embed.output.items()}

    @tf.function(input_signature=[point_specs])
    def explain_head(points):
        outputs = head(points, training=False)
        if reconstruction:  # the target is the numeric inputs themselves, which are points as they are
            return family_module.reconstruction_error(family_module.target(how.spec, points), outputs)
        if how.scaling is not None:
            return how.scaling.inverse(outputs)
        return outputs

    setattr(root, EMBED, explain_embed)
    setattr(root, HEAD, explain_head)
