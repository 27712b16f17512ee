"""AtomicPusher: the executor's Do() on real artifacts in tmp dirs, with tiny real SavedModels (no pipeline).

Do() runs every module of the package (parameters, examples, smoke_test, warmup, identity, layout, publish), so
the push protocol is tested here as a whole; layout.numeric_versions has its own file (test_atomic_pusher_layout.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from components.atomic_pusher import AtomicPusher, layout, publish, signature, warmup
from components.atomic_pusher import executor as ap
from tests.support import tree_digest
from trainer_module.serving_contract import SERVING_SIGNATURE

ROOT = Path(__file__).resolve().parents[2]
N_EVAL = 40


# ----------------------------------------------------------------------------------------------- fixtures


def save_tiny_model(model_dir: Path, weight: float = 0.5, nan: bool = False) -> Path:
    """A SavedModel whose serving signature parses serialized tf.Examples (x: float, required; c: string, optional)
    WITHOUT the label and returns `probabilities` (sigmoid(w * x)), or NaN for every row when `nan`."""
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(weight, dtype=tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(
                examples, {"x": tf.io.FixedLenFeature([], tf.float32), "c": tf.io.VarLenFeature(tf.string)}
            )
            p = tf.sigmoid(parsed["x"] * self.w)[:, None]
            if nan:
                p = p * float("nan")
            return {"probabilities": p}

    module = Tiny()
    tf.saved_model.save(module, str(model_dir), signatures={SERVING_SIGNATURE: module.serve})
    return model_dir


def serialized_example(x: float, c: str, label: int) -> bytes:
    import tensorflow as tf

    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[x])),
                "c": tf.train.Feature(bytes_list=tf.train.BytesList(value=[c.encode()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }
        )
    ).SerializeToString()


def model_artifact(tmp: Path, name: str, **kwargs):
    from tfx.types import standard_artifacts

    model = standard_artifacts.Model()
    model.uri = str(tmp / name)
    save_tiny_model(tmp / name / "Format-Serving", **kwargs)
    return model


def blessing_artifact(tmp: Path, blessed: bool, name: str = "blessing"):
    from tfx.types import standard_artifacts

    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp / name)
    (tmp / name).mkdir(parents=True, exist_ok=True)
    (tmp / name / ("BLESSED" if blessed else "NOT_BLESSED")).touch()
    blessing.set_int_custom_property("blessed", int(blessed))
    return blessing


def examples_artifact(tmp: Path):
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = str(tmp / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    for split, n in (("train", 5), ("eval", N_EVAL)):
        split_dir = tmp / "examples" / f"Split-{split}"
        split_dir.mkdir(parents=True)
        with tf.io.TFRecordWriter(str(split_dir / "data_tfrecord-00000-of-00001.gz"), options="GZIP") as writer:
            for i in range(n):
                writer.write(serialized_example(i / 10.0, f"c{i % 3}", i % 2))
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    return examples


def pushed_artifact(tmp: Path):
    from tfx.types import standard_artifacts

    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp / f"pushed-{time.monotonic_ns()}")
    return pushed


def run(model, blessing, examples, base: Path, **props):
    pushed = pushed_artifact(Path(model.uri).parent)
    inputs = {"model": [model], "model_blessing": [blessing]}
    if examples is not None:
        inputs["examples"] = [examples]
    ap.Executor().Do(inputs, {"pushed_model": [pushed]}, {"base_directory": str(base), "warmup_examples": 32, **props})
    return pushed


def versions(base: Path) -> list[Path]:
    return [Path(v.path) for v in layout.numeric_versions(base)]


def temp_dirs(base: Path) -> list[Path]:
    return [p for p in base.iterdir() if p.name.startswith(".tmp-")] if base.is_dir() else []


def serve(model_dir: Path, batch: list[bytes]) -> dict[str, np.ndarray]:
    import tensorflow as tf

    fn = tf.saved_model.load(str(model_dir)).signatures[SERVING_SIGNATURE]
    return {k: v.numpy() for k, v in fn(examples=tf.constant(batch)).items()}


@pytest.fixture
def env(tmp_path):
    """Artifacts for one blessed push: (tmp, model, blessing, examples, base)."""
    return (tmp_path, model_artifact(tmp_path, "model"), blessing_artifact(tmp_path, True), examples_artifact(tmp_path),
            tmp_path / "serving" / "tiny")


# ----------------------------------------------------------------------------------------------- (a) blessed


def test_blessed_push_writes_one_complete_version_with_replayable_warmup(env):
    from tensorflow_serving.apis import prediction_log_pb2

    tmp, model, blessing, examples, base = env
    pushed = run(model, blessing, examples, base)

    [version] = versions(base)
    assert temp_dirs(base) == []
    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_destination") == str(version)
    assert pushed.get_string_custom_property("pushed_version") == version.name
    assert int(version.name) >= int(time.time()) - 60  # TFX's unix-timestamp versioning
    # The model itself is byte-identical to the candidate; assets.extra is added.
    source = tree_digest(Path(model.uri) / "Format-Serving")
    assert {k: v for k, v in tree_digest(version).items() if not k.startswith("assets.extra")} == source
    # As TFX's Pusher, a copy of what was pushed is kept in the PushedModel artifact.
    assert (Path(pushed.uri) / "saved_model.pb").is_file()

    warmup_file = version / "assets.extra" / "tf_serving_warmup_requests"
    logs = warmup.read_warmup(str(warmup_file))
    assert len(logs) == 1 and isinstance(logs[0], prediction_log_pb2.PredictionLog)
    request = logs[0].predict_log.request
    assert request.model_spec.name == "tiny" and request.model_spec.signature_name == "serving_default"
    import tensorflow as tf

    batch = [bytes(b) for b in tf.make_ndarray(request.inputs["examples"]).tolist()]
    assert len(batch) == 32  # warmup_examples of the 40 eval rows
    # The label and any column serving_default does not parse are dropped from the requests.
    assert set(tf.train.Example.FromString(batch[0]).features.feature) == {"x", "c"}
    probabilities = serve(version, batch)["probabilities"]
    assert probabilities.shape == (32, 1) and np.all(np.isfinite(probabilities))
    expected = 1 / (1 + np.exp(-0.5 * np.arange(32) / 10.0))
    np.testing.assert_allclose(probabilities[:, 0], expected, rtol=1e-5)

    marker = json.loads((version / "assets.extra" / "tfx_e2e_push.json").read_text())
    assert marker["model_uri"] == model.uri and marker["fingerprint"].startswith("sha256:")


def test_without_examples_the_model_is_still_loaded_but_no_warmup_is_written(env):
    tmp, model, blessing, _, base = env
    pushed = run(model, blessing, None, base)
    [version] = versions(base)
    assert pushed.get_int_custom_property("pushed") == 1
    assert not (version / "assets.extra" / "tf_serving_warmup_requests").exists()
    assert (version / "assets.extra" / "tfx_e2e_push.json").is_file()


# ----------------------------------------------------------------------------------------------- (b) not blessed


def test_not_blessed_pushes_nothing_and_marks_pushed_0(env):
    tmp, model, _, examples, base = env
    pushed = run(model, blessing_artifact(tmp, False, "not_blessed"), examples, base)
    assert pushed.get_int_custom_property("pushed") == 0
    assert "pushed_destination" not in pushed.mlmd_artifact.custom_properties
    assert "pushed_version" not in pushed.mlmd_artifact.custom_properties
    assert not base.exists()


def test_blessing_without_the_property_falls_back_to_the_marker_file(env):
    from tfx.types import standard_artifacts

    tmp, model, _, examples, base = env
    for name, marker, expected in (("b1", "BLESSED", 1), ("b2", "NOT_BLESSED", 0)):
        blessing = standard_artifacts.ModelBlessing()
        blessing.uri = str(tmp / name)
        (tmp / name).mkdir()
        (tmp / name / marker).touch()
        assert run(model, blessing, examples, base).get_int_custom_property("pushed") == expected


# ----------------------------------------------------------------------------------------------- (c) NaN


def test_a_model_answering_nan_fails_the_push_and_leaves_the_served_version_alone(env):
    tmp, model, blessing, examples, base = env
    run(model, blessing, examples, base)
    [before] = versions(base)
    digest = tree_digest(base)

    bad = model_artifact(tmp, "nan_model", nan=True)
    with pytest.raises(RuntimeError, match=r"output 'probabilities' .* not finite .* for 32 of 32 eval examples"):
        run(bad, blessing, examples, base)
    assert versions(base) == [before] and temp_dirs(base) == []
    assert tree_digest(base) == digest


def test_a_model_that_cannot_serve_the_eval_examples_fails_the_push(env):
    import tensorflow as tf

    tmp, model, blessing, examples, base = env

    class NeedsY(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(examples, {"y": tf.io.FixedLenFeature([], tf.float32)})
            return {"probabilities": parsed["y"][:, None]}

    module = NeedsY()
    tf.saved_model.save(module, str(tmp / "needs_y" / "Format-Serving"), signatures={SERVING_SIGNATURE: module.serve})
    from tfx.types import standard_artifacts

    needs_y = standard_artifacts.Model()
    needs_y.uri = str(tmp / "needs_y")
    with pytest.raises(RuntimeError, match=r"cannot serve 32 eval examples: InvalidArgumentError"):
        run(needs_y, blessing, examples, base)
    assert versions(base) == [] and temp_dirs(base) == []


# ----------------------------------------------------------------------------------------------- (d) versions


def test_a_retry_reuses_the_version_and_a_different_model_gets_a_higher_one(env):
    tmp, model, blessing, examples, base = env
    first = run(model, blessing, examples, base)
    [v1] = versions(base)
    retry = run(model, blessing, examples, base)
    assert versions(base) == [v1]
    assert retry.get_int_custom_property("pushed") == 1
    assert retry.get_string_custom_property("pushed_version") == first.get_string_custom_property("pushed_version")
    assert retry.get_int_custom_property("push_reused") == 1

    other = model_artifact(tmp, "other", weight=2.0)
    second = run(other, blessing, examples, base)
    assert [p.name for p in versions(base)][0] == v1.name and len(versions(base)) == 2
    v2 = versions(base)[-1]
    assert int(v2.name) > int(v1.name)  # strictly increasing even within the same second
    assert second.get_string_custom_property("pushed_version") == v2.name

    # Pushing the first model again is a rollback: a new, highest version (TF Serving serves the highest).
    run(model, blessing, examples, base)
    assert len(versions(base)) == 3 and int(versions(base)[-1].name) > int(v2.name)


def test_versions_stay_monotonic_when_an_existing_version_is_ahead_of_the_clock(env):
    tmp, model, blessing, examples, base = env
    future = base / "99999999999"
    save_tiny_model(future, weight=3.0)
    pushed = run(model, blessing, examples, base)
    assert pushed.get_string_custom_property("pushed_version") == "100000000000"
    assert layout.next_version([5, 7], now=3) == 8 and layout.next_version([5], now=100) == 100
    assert layout.next_version([], now=9) == 9


# ----------------------------------------------------------------------------------------------- (e) stale temp dirs


def test_a_stale_temp_dir_from_a_killed_push_is_ignored_and_removed(env):
    tmp, model, blessing, examples, base = env
    stale = base / ".tmp-99999999999-deadbeef"
    (stale / "variables").mkdir(parents=True)
    (stale / "variables" / "variables.data-00000-of-00001").write_bytes(b"half written")
    pushed = run(model, blessing, examples, base)
    assert not stale.exists() and temp_dirs(base) == []
    [version] = versions(base)
    assert pushed.get_string_custom_property("pushed_version") == version.name
    assert int(version.name) < 99999999999  # the stale dir's name was not taken for a version


# ----------------------------------------------------------------------------------------------- (f) atomicity


@pytest.mark.parametrize("failing", ["rename", "verify"])
def test_a_failure_mid_push_publishes_nothing_and_keeps_the_old_version(env, monkeypatch, failing):
    tmp, model, blessing, examples, base = env
    run(model, blessing, examples, base)
    [before] = versions(base)
    digest = tree_digest(base)

    def boom(*args, **kwargs):
        raise OSError(5, f"injected failure in {failing}")

    if failing == "rename":
        monkeypatch.setattr(os, "rename", boom)
    else:
        monkeypatch.setattr(publish, "verify", boom)
    other = model_artifact(tmp, "other", weight=2.0)
    with pytest.raises(OSError, match="injected failure"):
        run(other, blessing, examples, base)
    assert versions(base) == [before] and temp_dirs(base) == []
    assert tree_digest(base) == digest


KILLED_PUSH = textwrap.dedent(
    """
    import sys, time
    import trainer_module  # before TensorFlow
    from pathlib import Path
    from components.atomic_pusher import executor as ap
    from components.atomic_pusher import publish
    from tfx.types import standard_artifacts

    model_uri, blessing_uri, base, ready = sys.argv[1:5]

    def hang(copy_dir, *args):  # stands in for a slow verification: the copy is complete in .tmp-*, not renamed
        Path(ready).write_text(copy_dir)
        time.sleep(600)

    publish.verify = hang
    model, blessing, pushed = standard_artifacts.Model(), standard_artifacts.ModelBlessing(), standard_artifacts.PushedModel()
    model.uri, blessing.uri, pushed.uri = model_uri, blessing_uri, base + "-pushed"
    blessing.set_int_custom_property("blessed", 1)
    ap.Executor().Do({"model": [model], "model_blessing": [blessing]}, {"pushed_model": [pushed]},
                     {"base_directory": base})
    """
)


def test_a_push_killed_with_sigkill_leaves_no_partial_version_and_the_next_push_recovers(env):
    tmp, model, blessing, examples, base = env
    run(model, blessing, examples, base)
    [before] = versions(base)
    digest = tree_digest(before)
    other = model_artifact(tmp, "other", weight=2.0)
    ready = tmp / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUSH, other.uri, blessing.uri, str(base), str(ready)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while not ready.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert ready.exists(), f"the push never reached verification (exit code {proc.poll()})"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    # TF Serving would see only the old version: the killed push's copy sits in a non-numeric .tmp-* dir.
    assert versions(base) == [before] and tree_digest(before) == digest
    [stale] = temp_dirs(base)
    assert Path(ready.read_text()) == stale
    # The same push again completes, removes the stale copy and publishes a higher version.
    pushed = run(other, blessing, examples, base)
    assert temp_dirs(base) == [] and len(versions(base)) == 2
    assert pushed.get_string_custom_property("pushed_version") == versions(base)[-1].name


# ----------------------------------------------------------------------------------------------- validation, API


@pytest.mark.parametrize(
    "props, message",
    [
        ({"base_directory": ""}, "base_directory='' is invalid"),
        ({"base_directory": "/"}, "no last path component"),
        ({"warmup_examples": 0}, "warmup_examples=0 is invalid"),
        ({"warmup_examples": True}, "warmup_examples=True is invalid"),
        ({"warmup_examples": 5000}, "warmup_examples=5000 is invalid"),
    ],
)
def test_bad_parameters_are_value_errors(env, props, message):
    tmp, model, blessing, examples, base = env
    with pytest.raises(ValueError, match=message):
        run(model, blessing, examples, base, **props)
    assert not base.exists()


def test_bad_inputs_are_value_errors(env):
    from tfx.types import artifact_utils, standard_artifacts

    tmp, model, blessing, examples, base = env
    pushed = pushed_artifact(tmp)
    with pytest.raises(ValueError, match="exactly one `model` input artifact, got 2"):
        ap.Executor().Do({"model": [model, model], "model_blessing": [blessing]}, {"pushed_model": [pushed]},
                         {"base_directory": str(base)})
    empty = standard_artifacts.Model()
    empty.uri = str(tmp / "empty_model")
    with pytest.raises(ValueError, match="no SavedModel at .*Format-Serving"):
        run(empty, blessing, examples, base)
    examples.split_names = artifact_utils.encode_split_names(["train"])
    with pytest.raises(ValueError, match="has no 'eval' split"):
        run(model, blessing, examples, base)
    assert versions(base) == []


def test_serving_input_features_are_read_from_the_graph(tmp_path):
    model_dir = save_tiny_model(tmp_path / "m")
    features = signature.serving_input_features(str(model_dir))
    assert features == {
        "c": signature.InputFeature("c", "sparse", "bytes"),
        "x": signature.InputFeature("x", "dense", "float", (), has_default=False),
    }
    assert features["x"].required and not features["c"].required
    with pytest.raises(signature.SignatureError, match="no 'nope' signature"):
        signature.serving_input_features(str(model_dir), "nope")


def test_component_wires_inputs_parameters_and_the_pushed_model_output():
    from tfx.types import Channel, standard_artifacts

    pusher = AtomicPusher(
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
        examples=Channel(type=standard_artifacts.Examples),
        base_directory="/srv/serving/taxi",
    ).with_id("Pusher")
    assert pusher.id == "Pusher"
    assert set(pusher.inputs) == {"model", "model_blessing", "examples"}
    assert list(pusher.outputs) == ["pushed_model"]
    assert pusher.outputs["pushed_model"].type == standard_artifacts.PushedModel
    assert pusher.exec_properties == {"base_directory": "/srv/serving/taxi", "warmup_examples": 32}


# ----------------------------------------------------------------------------------------------- predict on a push


def test_predict_serves_raw_rows_through_a_pushed_version(env):
    from pipeline.data.csv_format import DataError
    from pipeline.predict.serve import as_records, predict

    tmp, model, blessing, examples, base = env
    run(model, blessing, examples, base)
    (tmp / "rows.csv").write_text("label,x,c\n1,0.0,a\n0,2.0,\n1,-4,b\n")
    result = predict(str(base), tmp / "rows.csv", home=tmp)  # a base dir: its highest version
    assert result.model_dir == versions(base)[-1] and result.ignored_columns == ["label"]
    got = [r["probabilities"][0] for r in as_records(result)]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-0.5 * np.array([0.0, 2.0, -4.0]))), rtol=1e-6)

    (tmp / "rows.jsonl").write_text('{"x": 2, "c": null}\n{"x": [1.5]}\n')
    assert [r["row"] for r in as_records(predict(str(base), tmp / "rows.jsonl", home=tmp))] == [1, 2]

    (tmp / "empty_x.csv").write_text("x,c\n1.0,a\n,b\n")
    with pytest.raises(DataError, match=r"empty_x.csv: row 2 \(line 3\), column 'x': no value, but the model requires"):
        predict(str(base), tmp / "empty_x.csv", home=tmp)
    (tmp / "no_x.jsonl").write_text('{"c": "a"}\n')
    with pytest.raises(DataError, match=r"missing column\(s\) the model reads: x"):
        predict(str(base), tmp / "no_x.jsonl", home=tmp)
    (tmp / "rows.txt").write_text("x\n1\n")
    with pytest.raises(DataError, match="unsupported input type .txt"):
        predict(str(base), tmp / "rows.txt", home=tmp)
