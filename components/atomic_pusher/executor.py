"""AtomicPusher's executor: smoke-test the blessed candidate, write TF Serving warmup requests, publish atomically.

Layout under `base_directory` (the path TF Serving watches for one model):

    <base>/<version>/                      a complete SavedModel; TF Serving loads numeric directories only
    <base>/<version>/assets.extra/tf_serving_warmup_requests   PredictionLog TFRecords (TF Serving replays them on load)
    <base>/<version>/assets.extra/tfx_e2e_push.json            what was pushed: Model URI + content fingerprint
    <base>/.tmp-<version>-<random>/        a push in progress (or left by a killed one): never numeric, never served
    <base>/.push.lock                      flock held while a push picks a version and publishes it (local only)

A push: read up to `warmup_examples` eval examples → load the candidate and call `serving_default` on them (fail on
an error or any non-finite output) → copy the SavedModel into `.tmp-*` beside the target, add assets.extra → load
that copy and replay its warmup file (outputs must be finite and equal the candidate's) → fsync → `os.rename` to
`<base>/<version>`, which is atomic on one local filesystem, so TF Serving sees either no version or a complete one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np
from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

from components.atomic_pusher import signature as sig

# Inputs, parameters, output.
MODEL_KEY = "model"
MODEL_BLESSING_KEY = "model_blessing"
EXAMPLES_KEY = "examples"
BASE_DIRECTORY_KEY = "base_directory"
WARMUP_EXAMPLES_KEY = "warmup_examples"
PUSHED_MODEL_KEY = "pushed_model"

DEFAULT_WARMUP_EXAMPLES = 32
MAX_WARMUP_EXAMPLES = 1000

# The PushedModel custom properties TFX's Pusher sets (tfx/components/pusher/executor.py), read by
# pipeline/summary.py and pipeline/metadata/queries.py.
PUSHED_KEY = "pushed"
PUSHED_DESTINATION_KEY = "pushed_destination"
PUSHED_VERSION_KEY = "pushed_version"
# Ours: 1 when this execution found the same model already published as the latest version and reused it.
PUSH_REUSED_KEY = "push_reused"

BLESSED_FILE = "BLESSED"
EVAL_SPLIT = "eval"
SIGNATURE = sig.SERVING_SIGNATURE
SIGNATURE_INPUT = "examples"
ASSETS_EXTRA = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
IDENTITY_FILE = "tfx_e2e_push.json"
TMP_PREFIX = ".tmp-"
LOCK_FILE = ".push.lock"
MAX_PUBLISH_ATTEMPTS = 20


# ------------------------------------------------------------------------------------------------ validation


def _single(artifacts: Optional[Sequence[types.Artifact]], key: str, where: str, optional: bool = False):
    artifacts = list(artifacts or [])
    if optional and not artifacts:
        return None
    if len(artifacts) != 1:
        raise ValueError(f"AtomicPusher: expected exactly one `{key}` {where} artifact, got {len(artifacts)}.")
    return artifacts[0]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def validate_parameters(base_directory: Any, warmup_examples: Any) -> None:
    """Raises ValueError naming the bad parameter and what to pass instead."""
    if not isinstance(base_directory, str) or not base_directory.strip():
        raise ValueError(
            f"AtomicPusher: base_directory={base_directory!r} is invalid; pass the path TF Serving watches for this "
            "model, <serving_dir>/<model_name> (a local path or gs://...)."
        )
    if not model_name(base_directory):
        raise ValueError(
            f"AtomicPusher: base_directory={base_directory!r} has no last path component to use as the model name; "
            "pass <serving_dir>/<model_name>."
        )
    if not _is_int(warmup_examples) or not 1 <= warmup_examples <= MAX_WARMUP_EXAMPLES:
        raise ValueError(
            f"AtomicPusher: warmup_examples={warmup_examples!r} is invalid; pass an int from 1 to "
            f"{MAX_WARMUP_EXAMPLES} (eval examples used for the smoke test and the warmup request, e.g. 32)."
        )


def model_name(base_directory: str) -> str:
    """TF Serving's model name: the base directory's last component."""
    return os.path.basename(base_directory.rstrip("/"))


def is_local(path: str) -> bool:
    return "://" not in path


def is_blessed(blessing: types.Artifact) -> bool:
    """As TFX's Pusher: the `blessed` custom property (model_utils.is_model_blessed); when an artifact lacks the
    property altogether, the BLESSED marker file the Evaluator writes beside it."""
    import tensorflow as tf

    if "blessed" in blessing.mlmd_artifact.custom_properties:
        return blessing.get_int_custom_property("blessed") == 1
    return tf.io.gfile.exists(os.path.join(blessing.uri, BLESSED_FILE))


# ------------------------------------------------------------------------------------------------ examples


def read_eval_examples(examples: types.Artifact, limit: int) -> List[bytes]:
    """Up to `limit` serialized tf.Examples from the Examples artifact's eval split (gzip or plain TFRecords)."""
    import tensorflow as tf
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2

    splits = artifact_utils.decode_split_names(examples.split_names) if examples.split_names else []
    if EVAL_SPLIT not in splits:
        raise ValueError(
            f"AtomicPusher: the `examples` artifact ({examples.uri}) has no {EVAL_SPLIT!r} split (splits: "
            f"{', '.join(splits) or 'none recorded'}); the smoke test and warmup requests are drawn from it."
        )
    payload = examples_utils.get_payload_format(examples)
    if payload != example_gen_pb2.FORMAT_TF_EXAMPLE:
        raise ValueError(
            f"AtomicPusher: the `examples` artifact ({examples.uri}) holds "
            f"{example_gen_pb2.PayloadFormat.Name(payload)}, not tf.Examples; serving_default takes tf.Examples."
        )
    split_dir = artifact_utils.get_split_uri([examples], EVAL_SPLIT)
    files = sorted(tf.io.gfile.glob(os.path.join(split_dir, "*")))
    if not files:
        raise ValueError(f"AtomicPusher: the eval split {split_dir} has no files.")
    records: List[bytes] = []
    for path in files:
        compression = "GZIP" if path.endswith(".gz") else ""
        for record in tf.data.TFRecordDataset(path, compression_type=compression).take(limit - len(records)):
            records.append(record.numpy())
        if len(records) >= limit:
            break
    if not records:
        raise ValueError(f"AtomicPusher: the eval split {split_dir} holds no examples.")
    return records


def serving_batch(model_dir: str, records: List[bytes]) -> List[bytes]:
    """The eval examples as a serving request carries them: only the columns serving_default parses.

    serving_default is meant for rows WITHOUT the label, and eval examples carry it (and other unused columns such
    as the label function's inputs). Sending them unchanged would also work: tf.io.parse_example only reads the
    keys in its spec and ignores every other feature in a tf.Example, so the outputs are identical. Dropping them
    keeps the warmup requests representative of real traffic and proves the model serves without the label. When
    the parse spec cannot be read from the graph, the examples are used as they are.
    """
    try:
        names = sig.serving_input_features(model_dir, SIGNATURE)
    except sig.SignatureError as err:
        logging.warning("AtomicPusher: using eval examples unchanged: %s", err)
        return records
    return sig.keep_features(records, names)


# ------------------------------------------------------------------------------------------------ serving


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def serve(model_dir: str, batch: Sequence[bytes], what: str) -> Dict[str, np.ndarray]:
    """Loads `model_dir`, calls serving_default on `batch` and checks every numeric output is finite.

    Raises RuntimeError naming the model, the output and how many examples got a non-finite value."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(model_dir)
    except Exception as err:  # pylint: disable=broad-except  (any load failure means it cannot serve)
        raise RuntimeError(f"AtomicPusher: {what} {model_dir} cannot be loaded: {_first_line(err)}") from err
    signatures = dict(loaded.signatures)
    if SIGNATURE not in signatures:
        raise RuntimeError(
            f"AtomicPusher: {what} {model_dir} has no {SIGNATURE!r} signature (it has: {', '.join(signatures) or 'none'})."
        )
    fn = signatures[SIGNATURE]
    inputs = fn.structured_input_signature[1]
    if list(inputs) != [SIGNATURE_INPUT]:
        raise RuntimeError(
            f"AtomicPusher: {what} {model_dir}: {SIGNATURE} takes {sorted(inputs)}, expected one input "
            f"{SIGNATURE_INPUT!r} (serialized tf.Examples)."
        )
    if not batch:
        return {}
    try:
        outputs = fn(**{SIGNATURE_INPUT: tf.constant(list(batch), dtype=tf.string)})
    except Exception as err:  # pylint: disable=broad-except
        raise RuntimeError(
            f"AtomicPusher: serving smoke test failed: {what} {model_dir} cannot serve {len(batch)} eval examples: "
            f"{_first_line(err)}"
        ) from err
    result = {name: value.numpy() for name, value in outputs.items()}
    for name, value in sorted(result.items()):
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.complexfloating)):
            continue
        finite = np.isfinite(value).reshape(len(value), -1).all(axis=1) if value.ndim else np.isfinite(value)
        bad = int(np.size(finite) - np.count_nonzero(finite))
        if bad:
            raise RuntimeError(
                f"AtomicPusher: serving smoke test failed: output {name!r} of {what} {model_dir} is not finite "
                f"(NaN or inf) for {bad} of {len(batch)} eval examples; nothing was pushed."
            )
    return result


def warmup_log(model: str, batch: Sequence[bytes]) -> bytes:
    """One serialized PredictionLog whose predict request carries the batch, as TF Serving's warmup expects."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name = model
    request.model_spec.signature_name = SIGNATURE
    request.inputs[SIGNATURE_INPUT].CopyFrom(tf.make_tensor_proto(list(batch), dtype=tf.string))
    return log.SerializeToString()


def read_warmup(path: str) -> List[Any]:
    """The PredictionLog records of a warmup file."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    return [
        prediction_log_pb2.PredictionLog.FromString(record.numpy()) for record in tf.data.TFRecordDataset(path)
    ]


def warmup_batches(path: str) -> List[List[bytes]]:
    """The `examples` batch of every predict request in a warmup file."""
    import tensorflow as tf

    batches = []
    for log in read_warmup(path):
        tensor = log.predict_log.request.inputs[SIGNATURE_INPUT]
        batches.append([bytes(v) for v in tf.make_ndarray(tensor).ravel().tolist()])
    return batches


# ------------------------------------------------------------------------------------------------ identity


def fingerprint(model_dir: str) -> str:
    """sha256 over saved_model.pb and variables/variables.index (which holds a checksum of every variable)."""
    import tensorflow as tf

    digest = hashlib.sha256()
    for rel in ("saved_model.pb", os.path.join("variables", "variables.index")):
        path = os.path.join(model_dir, rel)
        if not tf.io.gfile.exists(path):
            continue
        digest.update(rel.encode() + b"\0")
        with tf.io.gfile.GFile(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def identity(model: types.Artifact, model_dir: str) -> Dict[str, str]:
    return {"model_uri": model.uri, "fingerprint": fingerprint(model_dir)}


def read_identity(version_dir: str) -> Optional[Dict[str, Any]]:
    import tensorflow as tf

    path = os.path.join(version_dir, ASSETS_EXTRA, IDENTITY_FILE)
    try:
        with tf.io.gfile.GFile(path) as f:
            return json.load(f)
    except (tf.errors.NotFoundError, ValueError):
        return None


def same_identity(recorded: Optional[Mapping[str, Any]], wanted: Mapping[str, str]) -> bool:
    return bool(recorded) and all(recorded.get(k) == v for k, v in wanted.items())


# ------------------------------------------------------------------------------------------------ filesystem


def numeric_versions(base: str) -> List[int]:
    """Version directories TF Serving would load (all-digit names), ascending."""
    import tensorflow as tf

    if not tf.io.gfile.isdir(base):
        return []
    names = [n.rstrip("/") for n in tf.io.gfile.listdir(base)]
    return sorted(int(n) for n in names if n.isascii() and n.isdigit() and tf.io.gfile.isdir(os.path.join(base, n)))


def next_version(existing: Sequence[int], now: Optional[float] = None) -> int:
    """The unix time (TFX's UNIX_TIMESTAMP versioning), but always above every existing version."""
    now_version = int(time.time() if now is None else now)
    return max(now_version, (max(existing) + 1) if existing else 0)


def remove_stale_temp_dirs(base: str) -> List[str]:
    """Deletes `.tmp-*` entries left by killed pushes. Locally it runs with the push lock held, so none of them
    belongs to a live push. On gs:// there is no lock: two pipelines pushing to the same base directory at the
    same moment could delete each other's temp copy (that push then fails and is retried; nothing is published
    half-written)."""
    import tensorflow as tf

    removed = []
    for name in tf.io.gfile.listdir(base):
        name = name.rstrip("/")
        if name.startswith(TMP_PREFIX):
            path = os.path.join(base, name)
            if not tf.io.gfile.isdir(path):
                tf.io.gfile.remove(path)
            elif is_local(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                tf.io.gfile.rmtree(path)
            removed.append(path)
            logging.info("AtomicPusher: removed %s left by an interrupted push.", path)
    return removed


@contextlib.contextmanager
def push_lock(base: str) -> Iterator[None]:
    """An exclusive flock on <base>/.push.lock (released by the kernel if the process dies). Serializes version
    choice and publishing between concurrent pushers, and makes every `.tmp-*` seen while holding it stale.
    No-op on remote filesystems, which have no such lock."""
    if not is_local(base):
        yield
        return
    import fcntl

    fd = os.open(os.path.join(base, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_tree(root: str) -> None:
    """Flushes every file and directory below root to disk, so a crash after the rename cannot expose empty files."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(dirpath)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_tree(src: str, dst: str) -> None:
    if is_local(src) and is_local(dst):
        shutil.copytree(src, dst)
    else:
        io_utils.copy_dir(src, dst)


def _publish_local(tmp: str, base: str, version: int) -> int:
    """os.rename(tmp, <base>/<version>): atomic within one filesystem. A version taken meanwhile (by a pusher not
    using the lock) makes rename fail with ENOTEMPTY/EEXIST; then the next number is tried."""
    for _ in range(MAX_PUBLISH_ATTEMPTS):
        target = os.path.join(base, str(version))
        try:
            os.rename(tmp, target)
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST) or (err.errno == errno.ENOTDIR and os.path.exists(target)):
                version += 1
                continue
            raise
        _fsync_dir(base)
        return version
    raise RuntimeError(f"AtomicPusher: could not find a free version under {base} after {MAX_PUBLISH_ATTEMPTS} tries.")


def _publish_remote(tmp: str, base: str, version: int) -> int:
    """Object stores (gs://) have no atomic directory rename: tf.io.gfile renames copy object by object. The
    version is written and verified in `.tmp-*` first, then copied to <base>/<version> with saved_model.pb LAST
    (as TFX's Pusher does: without it the directory is not a loadable SavedModel yet), then the temp copy is
    deleted. This is not atomic: TF Serving polling the bucket may see the version directory while its files
    are being copied (and a push killed mid-copy leaves a version without saved_model.pb, which the next push
    does not reuse and supersedes). On GCS pin TF Serving to explicit versions (model_version_policy
    `specific`, updated after the push) or let it poll rarely."""
    import tensorflow as tf

    while tf.io.gfile.exists(os.path.join(base, str(version))):
        version += 1
    target = os.path.join(base, str(version))
    io_utils.copy_dir(tmp, target, deny_regex_patterns=[r"saved_model\.pb$"])
    io_utils.copy_file(os.path.join(tmp, "saved_model.pb"), os.path.join(target, "saved_model.pb"))
    tf.io.gfile.rmtree(tmp)
    return version


# ------------------------------------------------------------------------------------------------ push


def push(
    model_dir: str,
    base: str,
    wanted_identity: Mapping[str, str],
    batch: Sequence[bytes],
    expected: Mapping[str, np.ndarray],
) -> tuple[int, str, bool]:
    """Publishes model_dir as a new version of `base` (or reuses the latest when it is the same model).

    Returns (version, version directory, reused)."""
    import tensorflow as tf

    tf.io.gfile.makedirs(base)
    with push_lock(base):
        remove_stale_temp_dirs(base)
        versions = numeric_versions(base)
        if versions:
            latest = os.path.join(base, str(versions[-1]))
            complete = tf.io.gfile.exists(os.path.join(latest, "saved_model.pb"))
            if complete and same_identity(read_identity(latest), wanted_identity):
                # A retry of a push that already completed (e.g. killed after the rename, before MLMD recorded it).
                # Only the LATEST version counts: pushing a model that an older version holds is a rollback and
                # gets a new, higher version so that TF Serving's default policy (highest version) serves it.
                logging.info("AtomicPusher: %s already holds this model; not pushing it again.", latest)
                return versions[-1], latest, True
        version = next_version(versions)
        tmp = os.path.join(base, f"{TMP_PREFIX}{version}-{secrets.token_hex(4)}")
        try:
            _copy_tree(model_dir, tmp)
            extra = os.path.join(tmp, ASSETS_EXTRA)
            tf.io.gfile.makedirs(extra)
            if batch:
                with tf.io.TFRecordWriter(os.path.join(extra, WARMUP_FILE)) as writer:
                    writer.write(warmup_log(model_name(base), batch))
            with tf.io.gfile.GFile(os.path.join(extra, IDENTITY_FILE), "w") as f:
                json.dump({**wanted_identity, "pushed_at": int(time.time())}, f, indent=2)
            verify(tmp, batch, expected)
            if is_local(tmp):
                _fsync_tree(tmp)
                version = _publish_local(tmp, base, version)
            else:
                version = _publish_remote(tmp, base, version)
        except BaseException:
            # Best effort: a temp dir left behind (e.g. the process is killed here) is removed by the next push.
            try:
                if is_local(tmp):
                    shutil.rmtree(tmp, ignore_errors=True)
                elif tf.io.gfile.exists(tmp):
                    tf.io.gfile.rmtree(tmp)
            except Exception as cleanup_error:  # pylint: disable=broad-except  (keep the original error)
                logging.warning("AtomicPusher: could not remove %s: %s", tmp, cleanup_error)
            raise
    destination = os.path.join(base, str(version))
    logging.info("AtomicPusher: published %s.", destination)
    return version, destination, False


def verify(copy_dir: str, batch: Sequence[bytes], expected: Mapping[str, np.ndarray]) -> None:
    """The copy loads, its warmup file replays through it, and it answers exactly as the candidate did."""
    import tensorflow as tf

    warmup = os.path.join(copy_dir, ASSETS_EXTRA, WARMUP_FILE)
    if not batch:
        serve(copy_dir, [], "the copied model")
        return
    if not tf.io.gfile.exists(warmup):
        raise RuntimeError(f"AtomicPusher: verification failed: {warmup} was not written.")
    replayed = warmup_batches(warmup)
    if replayed != [list(batch)]:
        raise RuntimeError(f"AtomicPusher: verification failed: {warmup} does not hold the smoke-test batch.")
    outputs = serve(copy_dir, replayed[0], "the copied model")
    for name, value in expected.items():
        if name not in outputs or not np.allclose(outputs[name], value, rtol=1e-5, atol=1e-6, equal_nan=False):
            raise RuntimeError(
                f"AtomicPusher: verification failed: the copy in {copy_dir} answers differently from the candidate "
                f"(output {name!r})."
            )


class Executor(base_executor.BaseExecutor):
    """Pushes a blessed model to `<base_directory>/<version>` atomically, smoke-tested and with warmup requests."""

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model = _single(input_dict.get(MODEL_KEY), MODEL_KEY, "input")
        blessing = _single(input_dict.get(MODEL_BLESSING_KEY), MODEL_BLESSING_KEY, "input")
        examples = _single(input_dict.get(EXAMPLES_KEY), EXAMPLES_KEY, "input", optional=True)
        pushed_model = _single(output_dict.get(PUSHED_MODEL_KEY), PUSHED_MODEL_KEY, "output")
        base = exec_properties.get(BASE_DIRECTORY_KEY)
        warmup_examples = exec_properties.get(WARMUP_EXAMPLES_KEY)
        if warmup_examples is None:
            warmup_examples = DEFAULT_WARMUP_EXAMPLES
        validate_parameters(base, warmup_examples)
        base = base.rstrip("/")

        if not is_blessed(blessing):
            logging.info("AtomicPusher: the model on %s was not blessed (%s); nothing pushed.", model.uri, blessing.uri)
            pushed_model.set_int_custom_property(PUSHED_KEY, 0)
            return

        import tensorflow as tf

        model_dir = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
        if not tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
            raise ValueError(
                f"AtomicPusher: the `model` artifact has no SavedModel at {model_dir} (no saved_model.pb); "
                "the Trainer's run_fn must save the serving model to fn_args.serving_model_dir."
            )

        batch: List[bytes] = []
        if examples is not None:
            batch = serving_batch(model_dir, read_eval_examples(examples, int(warmup_examples)))
        # Smoke test the candidate before anything is written next to the served versions.
        expected = serve(model_dir, batch, "the candidate model")
        logging.info("AtomicPusher: smoke test passed on %d eval examples (%s).", len(batch), ", ".join(expected))

        version, destination, reused = push(model_dir, base, identity(model, model_dir), batch, expected)

        # As TFX's Pusher: keep a copy of what was pushed in the PushedModel artifact, then mark it.
        io_utils.copy_dir(destination, pushed_model.uri)
        pushed_model.set_int_custom_property(PUSHED_KEY, 1)
        pushed_model.set_string_custom_property(PUSHED_DESTINATION_KEY, destination)
        pushed_model.set_string_custom_property(PUSHED_VERSION_KEY, str(version))
        pushed_model.set_int_custom_property(PUSH_REUSED_KEY, int(reused))
