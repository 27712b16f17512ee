"""The exported SavedModel: the serving contract's signatures (trainer_module.serving_contract) and `call_model`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import tensorflow as tf
import tensorflow_transform as tft

from trainer_module import explain_export
from trainer_module import features as F
from trainer_module import models
from trainer_module import serving_contract as contract


@dataclass(frozen=True)
class Outputs:
    """What serving_default adds to the model's output: class names, or the regression target's scaling to undo."""

    class_names: Optional[list[str]] = None  # names of the class ids (trainer_module.label_stats.class_names)
    scaling: Optional[Any] = None  # a label_stats.TargetScaling


def _named(probabilities: tf.Tensor, names: list[str], task: str) -> dict[str, tf.Tensor]:
    """CLASSES and PREDICTED_CLASS for a batch of probabilities (serving_contract)."""
    batch = tf.shape(probabilities)[0]
    if task == "binary":
        negative, positive = names
        classes = tf.fill([batch, 1], positive)
        predicted = tf.where(probabilities[:, 0] >= 0.5, positive, negative)
    else:
        classes = tf.tile(tf.constant([names]), [batch, 1])
        predicted = tf.gather(tf.constant(names), tf.argmax(probabilities, axis=-1))
    return {contract.CLASSES: classes, contract.PREDICTED_CLASS: predicted}


def serving_signatures(
    model: tf.keras.Model,
    tf_transform_output: tft.TFTransformOutput,
    custom_config: Mapping[str, Any],
    spec: F.ModelSpec,
    extra: Outputs = Outputs(),
) -> dict[str, Any]:
    """`serving_default`: serialized raw tf.Examples without the label → predictions (in the label's units; with
    class names when `extra` has them). `transform_features`: serialized raw tf.Examples (label included) →
    transformed features (for TFMA)."""
    family = custom_config.get("model", {}).get("family", "dnn")
    reconstruction = models.is_reconstruction(family)
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {c: raw_spec[c] for c in F.serving_columns(tf_transform_output, custom_config)}
    # The layer must be tracked by the model to be saved with it.
    model.tft_layer = tf_transform_output.transform_features_layer()
    model.explain_spec = explain_export.ExplainSpec(spec, family, serving_spec, extra.scaling)  # for export()
    out_key = contract.output_key(spec.task, reconstruction)
    family_module = models.module(family)
    examples = tf.TensorSpec(shape=[None], dtype=tf.string, name=contract.INPUT_KEY)

    @tf.function(input_signature=[examples])
    def serve_examples(serialized):
        raw = tf.io.parse_example(serialized, serving_spec)
        transformed = model.tft_layer(raw)
        model_inputs = {name: transformed[name] for name in input_specs(model)}
        outputs = model(model_inputs)
        if reconstruction:
            target = family_module.target(spec, model_inputs)
            return {contract.RECONSTRUCTION: outputs, out_key: family_module.reconstruction_error(target, outputs)}
        if extra.scaling is not None:
            outputs = extra.scaling.inverse(outputs)
        if extra.class_names:
            return {out_key: outputs, **_named(outputs, extra.class_names, spec.task)}
        return {out_key: outputs}

    @tf.function(input_signature=[examples])
    def transform_features(serialized):
        raw = tf.io.parse_example(serialized, raw_spec)
        return model.tft_layer(raw)

    return {contract.SERVING_SIGNATURE: serve_examples, contract.TRANSFORM_SIGNATURE: transform_features}


def input_specs(model: tf.keras.Model) -> dict[str, tf.TensorSpec]:
    """The model's named inputs: a functional Keras model's, or those a non-functional one declares
    (`export_input_specs()`, e.g. trainer_module.gbt_training.Forest)."""
    if hasattr(model, "export_input_specs"):
        return model.export_input_specs()
    return {name: tf.TensorSpec(shape=t.shape, dtype=t.dtype, name=name) for name, t in zip(model.input_names, model.inputs)}


def export(model: tf.keras.Model, serving_dir: str, signatures: Mapping[str, Any]) -> None:
    """Writes a SavedModel holding just the signatures, the variables they read and the tf.Transform graph.

    Keras' own `model.save` also traces and stores every layer's call functions so the model can be rebuilt as
    Keras; nothing downstream needs that (TFMA, the Pusher and TF Serving call the signatures; a warm start reads
    the weights saved beside the model), and it made the export and every later load several times slower.
    """
    root = tf.Module()
    root.tft_layer = model.tft_layer  # owns the transform graph and its vocabulary assets
    root.model_variables = list(model.variables)
    if hasattr(model, "export_resources"):  # e.g. a gbt forest: TF-DF's model resource and its assets
        root.model_resources = model.export_resources()
    # The model's forward pass alone, on transformed features (not a serving signature): for debugging and for
    # the serving benchmark's bare-model baseline. `tf.saved_model.load(dir).call_model({name: tensor})`.
    call_model = tf.function(lambda features: model(features, training=False), input_signature=[input_specs(model)])
    setattr(root, contract.CALL_MODEL, call_model)
    explain_export.attach(root, model, input_specs(model))  # explain_embed / explain_head, when differentiable
    tf.saved_model.save(root, serving_dir, signatures=signatures)
