"""trainer_module/export.py: the lean SavedModel serves like the Keras model it was exported from, under the names
of the serving contract."""

from __future__ import annotations

import numpy as np

import trainer_module  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
import tensorflow as tf

from trainer_module import serving_contract as contract
from trainer_module.export import export


def test_lean_export_serves_like_the_keras_model(tmp_path):
    class FakeTransformLayer(tf.keras.layers.Layer):
        def call(self, inputs):
            return {"x_xf": inputs["x"] * 2.0}

    inputs = tf.keras.Input(shape=(1,), name="x_xf")
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.tft_layer = FakeTransformLayer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name=contract.INPUT_KEY)])
    def serve(serialized):
        raw = tf.io.parse_example(serialized, {"x": tf.io.FixedLenFeature([1], tf.float32)})
        return {contract.PROBABILITIES: model(model.tft_layer(raw))}

    export(model, str(tmp_path / "m"), {contract.SERVING_SIGNATURE: serve})
    assert not (tmp_path / "m" / "keras_metadata.pb").exists()  # not a Keras SavedModel: nothing rebuilds layers
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    ex = tf.train.Example()
    ex.features.feature["x"].float_list.value.append(0.25)
    signature = loaded.signatures[contract.SERVING_SIGNATURE]
    got = signature(**{contract.INPUT_KEY: tf.constant([ex.SerializeToString()])})[contract.PROBABILITIES]
    want = model({"x_xf": tf.constant([[0.5]])})
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert len(loaded.model_variables) == len(model.variables)
    bare = getattr(loaded, contract.CALL_MODEL)({"x_xf": tf.constant([[0.5]])})
    np.testing.assert_allclose(bare.numpy(), want.numpy(), rtol=1e-6)


def test_class_names_are_served_beside_the_probabilities():
    import tensorflow as tf

    from trainer_module.export import _named
    from trainer_module.serving_contract import CLASSES, PREDICTED_CLASS

    multiclass = _named(tf.constant([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]), ["b", "a", "c"], "multiclass")
    assert multiclass[CLASSES].numpy().tolist() == [[b"b", b"a", b"c"]] * 2
    assert multiclass[PREDICTED_CLASS].numpy().tolist() == [b"a", b"b"]
    binary = _named(tf.constant([[0.8], [0.2], [0.5]]), ["No", "Yes"], "binary")
    assert binary[CLASSES].numpy().tolist() == [[b"Yes"]] * 3  # the class `probabilities` is the probability of
    assert binary[PREDICTED_CLASS].numpy().tolist() == [b"Yes", b"No", b"Yes"]
