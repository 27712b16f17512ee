"""TF Serving's directory layout for one model, and the one function that lists its version directories.

Layout under `base_directory` (the path TF Serving watches for one model):

    <base>/<version>/                      a complete SavedModel; TF Serving loads numeric directories only
    <base>/<version>/assets.extra/tf_serving_warmup_requests   PredictionLog TFRecords (TF Serving replays them on load)
    <base>/<version>/assets.extra/tfx_e2e_push.json            what was pushed: Model URI + content fingerprint
    <base>/<version>/tflite/model.tflite   the compressed model (model.export.quantize), when the Trainer wrote one;
                                           TF Serving ignores the directory
    <base>/.tmp-<version>-<random>/        a push in progress (or left by a killed one): never numeric, never served
    <base>/.push.lock                      flock held while a push picks a version and publishes it (local only)

No TensorFlow or TFX import at module level: `tfx-e2e predict` and the tests list versions of local directories
with plain os calls; only remote paths (gs://...) go through tf.io.gfile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from typing import Iterator, List, NamedTuple, Optional, Sequence, Union

from absl import logging

from trainer_module.tflite_files import TFLITE_DIR, TFLITE_FILE  # noqa: F401  (TF-free; inside a version too)

SAVED_MODEL_FILE = "saved_model.pb"  # a version directory is loadable once this file is in it
ASSETS_EXTRA = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"
IDENTITY_FILE = "tfx_e2e_push.json"
TMP_PREFIX = ".tmp-"
LOCK_FILE = ".push.lock"

PathLike = Union[str, "os.PathLike[str]"]


class Version(NamedTuple):
    """One numeric version directory: its number and its path (`<base>/<name>`, as listed)."""

    number: int
    path: str


def is_local(path: PathLike) -> bool:
    return "://" not in os.fspath(path)


def model_name(base_directory: str) -> str:
    """TF Serving's model name: the base directory's last component."""
    return os.path.basename(base_directory.rstrip("/"))


def numeric_versions(base: PathLike, *, complete: bool = False) -> List[Version]:
    """The version directories TF Serving would load (all-digit names), lowest number first; [] when `base` is
    not a directory. `complete=True` keeps only those holding saved_model.pb (a remote push copies it last, so
    a version without it is still being written or was cut short).

    Local paths are listed with os calls (no TensorFlow import); remote ones (gs://...) with tf.io.gfile."""
    base = os.fspath(base)
    if is_local(base):
        if not os.path.isdir(base):
            return []
        names = [entry.name for entry in os.scandir(base) if _is_version_name(entry.name) and entry.is_dir()]
        has_file = os.path.isfile
    else:
        import tensorflow as tf

        if not tf.io.gfile.isdir(base):
            return []
        names = [name.rstrip("/") for name in tf.io.gfile.listdir(base)]
        names = [n for n in names if _is_version_name(n) and tf.io.gfile.isdir(os.path.join(base, n))]
        has_file = tf.io.gfile.exists
    versions = [Version(int(name), os.path.join(base, name)) for name in names]
    if complete:
        versions = [v for v in versions if has_file(os.path.join(v.path, SAVED_MODEL_FILE))]
    return sorted(versions)


def _is_version_name(name: str) -> bool:
    return name.isascii() and name.isdigit()


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
