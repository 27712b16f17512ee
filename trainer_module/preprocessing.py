"""preprocessing_fn: generic normalization driven by the schema's column types and the config (runs in Transform).

floats and ints → missing values filled with the column mean, then z-score (as tft.scale_to_z_score);
strings and configured categorical ints → vocabulary (top-k) with OOV buckets, missing as its own category;
configured floats → quantile buckets (boundaries from the present values); the label → numeric for the task,
with a weight that is 0 for rows without a label (they are left out of training and evaluation).
The graph is saved by Transform and used unchanged at training, evaluation and serving time.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping, Optional

import tensorflow as tf
import tensorflow_transform as tft

from trainer_module import features as F
from trainer_module import label_values


def column_kind(tensor: Any) -> str:
    dtype = tensor.dtype
    if dtype == tf.string:
        return F.STRING
    if dtype.is_integer or dtype == tf.bool:
        return F.INT
    return F.FLOAT


def _dense(tensor: Any, default: Any) -> tf.Tensor:
    """A [batch] tensor from a scalar feature, filling missing values (an optional feature arrives sparse)."""
    if isinstance(tensor, tf.SparseTensor):
        tensor = tf.sparse.to_dense(
            tf.SparseTensor(tensor.indices, tensor.values, [tensor.dense_shape[0], 1]), default_value=default
        )
    elif isinstance(tensor, tf.RaggedTensor):
        tensor = tensor.to_tensor(default_value=default, shape=[None, 1])
    if tensor.shape.rank == 2 and tensor.shape[1] == 1:
        tensor = tf.squeeze(tensor, axis=1)  # scalar columns become [batch]; vectors (e.g. 64 pixels) stay as they are
    return tensor


def _values(tensor: Any) -> tf.Tensor:
    """The values actually present (for analyzers that should ignore missing cells)."""
    if isinstance(tensor, tf.SparseTensor):
        return tensor.values
    if isinstance(tensor, tf.RaggedTensor):
        return tensor.flat_values
    return tensor


def _float(tensor: Any) -> Any:
    if isinstance(tensor, tf.SparseTensor):
        return tf.SparseTensor(tensor.indices, tf.cast(tensor.values, tf.float32), tensor.dense_shape)
    return tf.cast(tensor, tf.float32)


def _mean_filled(tensor: Any) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Mean imputation: a missing number becomes the mean of the present values. Returns (filled column, the
    present values, their mean)."""
    tensor = _float(tensor)
    present = _values(tensor)
    mean = tf.cast(tft.mean(present), tf.float32)
    return _dense(tensor, mean), present, mean


def z_score_mean_filled(tensor: Any) -> tf.Tensor:
    """tft.scale_to_z_score of the mean-filled column, from analyzers of the raw column only.

    Computing the z-score's mean and variance over the filled column would need the fill value first: a second
    analysis phase (another full pass of Transform). They follow from the present values instead: the filled
    column's mean is the present values' mean m, and each filled cell adds no squared deviation, so its population
    variance is var(present) × count(present) / count(cells). Like scale_to_z_score, a zero variance leaves x - m.
    """
    filled, present, mean = _mean_filled(tensor)
    cells = tf.cast(tft.size(_dense(_float(tensor), 0.0)), tf.float32)  # not of `filled`: that needs the mean first
    variance = tf.cast(tft.var(present), tf.float32) * tf.cast(tft.size(present), tf.float32) / cells
    centred = filled - mean
    std = tf.sqrt(variance)
    return tf.where(tf.not_equal(std, 0.0), centred / tf.where(tf.not_equal(std, 0.0), std, 1.0), centred)


def bucketize_mean_filled(tensor: Any, num_buckets: int) -> tf.Tensor:
    """Quantile buckets (tft.bucketize's epsilon) whose boundaries come from the present values; a missing value
    is filled with their mean first. One analysis phase, as for the z-scores."""
    filled, present, _ = _mean_filled(tensor)
    boundaries = tft.quantiles(present, num_buckets, epsilon=min(1.0 / num_buckets, 0.01))
    return tft.apply_buckets(filled, boundaries)


def _category_filled(tensor: Any) -> tf.Tensor:
    return _dense(tensor, "" if tensor.dtype == tf.string else tf.constant(-1, tensor.dtype))


def load_label_fn(dotted: str) -> Callable[[Mapping[str, tf.Tensor]], tf.Tensor]:
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"label.fn {dotted!r} cannot be imported: {err}") from None


def label_inputs(inputs: Mapping[str, Any], columns: tuple[str, ...]) -> dict[str, tf.Tensor]:
    """Dense raw columns for a label function: missing numbers are 0, missing strings ''."""
    out = {}
    for column in columns:
        tensor = inputs[column]
        default = "" if tensor.dtype == tf.string else tf.constant(0, tensor.dtype)
        out[column] = _dense(tensor, default)
    return out


def _has_value(tensor: Any) -> tf.Tensor:
    """[batch] bool: does the row carry a value (an optional column arrives sparse or ragged)?"""
    if isinstance(tensor, tf.SparseTensor):
        ones = tf.SparseTensor(tensor.indices, tf.ones_like(tensor.values, tf.int32), tensor.dense_shape)
        return tf.reshape(tf.sparse.reduce_sum(ones, axis=1, output_is_sparse=False) > 0, [-1])
    if isinstance(tensor, tf.RaggedTensor):
        return tensor.row_lengths() > 0
    return tf.ones(tf.shape(tensor)[:1], tf.bool)


def _is_in(values: tf.Tensor, members: tuple[str, ...]) -> tf.Tensor:
    return tf.reduce_any(tf.equal(tf.expand_dims(values, -1), tf.constant(list(members))), axis=-1)


def _binary_from_strings(value: tf.Tensor, positive: Optional[str]) -> tuple[tf.Tensor, tf.Tensor]:
    """(0/1, has a label) for a string binary label, by the rule of trainer_module.label_values."""
    stripped = tf.strings.strip(value)
    if positive is not None:
        return tf.equal(stripped, positive.strip()), tf.not_equal(stripped, "")
    lowered = tf.strings.lower(stripped)
    return _is_in(lowered, label_values.POSITIVES), _is_in(lowered, label_values.POSITIVES + label_values.NEGATIVES)


def transform_label(inputs: Mapping[str, Any], label: F.LabelSpec) -> dict[str, tf.Tensor]:
    """The label as the task's training target (binary → int64 0/1, multiclass → int64 class id, regression →
    float) and its weight (1.0, or 0.0 for a row without a label: no value, or a binary string outside the rule).
    Classification labels also get their class counts on the analysed (train) split: F.LABEL_COUNTS."""
    if label.fn:
        value = load_label_fn(label.fn)(label_inputs(inputs, label.inputs))
        has_label = tf.ones(tf.shape(value)[:1], tf.bool)
    else:
        raw = inputs[label.column]
        value = label_inputs(inputs, (label.column,))[label.column]
        has_label = _has_value(raw)
    if label.task == "regression":
        if value.dtype == tf.string:
            raise ValueError(f"label {label.key!r} is a string column; a regression label must be numeric")
        target = tf.cast(value, tf.float32)
    elif label.task == "binary" and value.dtype == tf.string:
        target, known = _binary_from_strings(value, label.positive)
        has_label = tf.logical_and(has_label, known)
        target = tf.cast(target, tf.int64)
        # The raw values seen, so the Trainer can name the two classes in the serving output.
        tft.vocabulary(tf.boolean_mask(tf.strings.strip(value), has_label), vocab_filename=F.LABEL_VOCABULARY)
    elif label.task == "binary":
        target = tf.cast(tf.not_equal(tf.cast(value, tf.float32), 0.0), tf.int64)
    elif value.dtype == tf.string:
        # multiclass strings: a vocabulary of the values present (most frequent class = 0), stripped as the
        # pre-flight counts classes ("a, b" in a CSV is class "b"). A class never seen in the analysed (train)
        # split has no id: its rows weigh 0, as the model cannot predict it (the pre-flight stops on classes rare
        # enough to miss the train split). The ids' schema domain is exactly 0..classes-1, which the Trainer reads
        # as the number of classes.
        present = tf.strings.strip(_values(raw) if not label.fn else value)
        vocabulary = tft.vocabulary(present, vocab_filename=F.LABEL_VOCABULARY)
        ids = tft.apply_vocabulary(tf.strings.strip(value), vocabulary, default_value=-1)
        has_label = tf.logical_and(has_label, ids >= 0)
        target = tf.maximum(ids, 0)
        classes = tft.experimental.get_vocabulary_size_by_name(F.LABEL_VOCABULARY)
        tft.schema_inference.set_tensor_schema_override(target, tf.constant(0, tf.int64), classes - 1)
    else:
        target = tf.cast(value, tf.int64)
        tft.schema_inference.set_tensor_schema_override(
            target, tf.constant(0, tf.int64), tft.max(tf.boolean_mask(target, has_label))
        )
    if label.task != "regression" and label.counts:
        tft.vocabulary(
            tf.strings.as_string(tf.boolean_mask(target, has_label)),
            vocab_filename=F.LABEL_COUNTS,
            store_frequency=True,
        )
    return {label.transformed_key: target, label.weight_key: tf.cast(has_label, tf.float32)}


def preprocessing_fn(inputs: Mapping[str, Any], custom_config: Mapping[str, Any]) -> dict[str, tf.Tensor]:
    """tf.Transform entry point (referenced by dotted path `trainer_module.preprocessing.preprocessing_fn`)."""
    plan = F.plan_features({name: column_kind(t) for name, t in inputs.items()}, custom_config)
    outputs: dict[str, tf.Tensor] = {}
    # Every analyzer reads raw columns only, so Transform analyses the data in a single pass (phase).
    for column in plan.numeric:
        outputs[F.transformed_name(column)] = z_score_mean_filled(inputs[column])
    for column, buckets in plan.bucketized.items():
        outputs[F.transformed_name(column)] = bucketize_mean_filled(inputs[column], buckets)
    for column in plan.categorical:
        outputs[F.transformed_name(column)] = tft.compute_and_apply_vocabulary(
            _category_filled(inputs[column]),
            top_k=plan.top_k,
            num_oov_buckets=plan.oov_buckets,
            vocab_filename=column,
        )
    outputs.update(transform_label(inputs, plan.label))
    return outputs
