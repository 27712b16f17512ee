"""Publishing a version: copy the SavedModel into a temp dir beside the served versions, verify it, make it visible.

Locally the copy becomes `<base>/<version>` with one `os.rename` (atomic within one filesystem); on object stores
(gs://), which have no atomic rename, it is copied with saved_model.pb last (see `_publish_remote`).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import time
from typing import Mapping, Sequence

import numpy as np
from absl import logging
from tfx.utils import io_utils

from components.atomic_pusher import identity, layout, smoke_test, warmup

MAX_PUBLISH_ATTEMPTS = 20


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
    if layout.is_local(src) and layout.is_local(dst):
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
    io_utils.copy_file(os.path.join(tmp, layout.SAVED_MODEL_FILE), os.path.join(target, layout.SAVED_MODEL_FILE))
    tf.io.gfile.rmtree(tmp)
    return version


def _remove(tmp: str) -> None:
    """Best effort: a temp dir left behind (e.g. the process is killed here) is removed by the next push."""
    import tensorflow as tf

    try:
        if layout.is_local(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif tf.io.gfile.exists(tmp):
            tf.io.gfile.rmtree(tmp)
    except Exception as cleanup_error:  # pylint: disable=broad-except  (keep the original error)
        logging.warning("AtomicPusher: could not remove %s: %s", tmp, cleanup_error)


def push(
    model_dir: str,
    base: str,
    wanted_identity: Mapping[str, str],
    batch: Sequence[bytes],
    expected: Mapping[str, np.ndarray],
    extra_files: Mapping[str, str] = {},
) -> tuple[int, str, bool]:
    """Publishes model_dir as a new version of `base` (or reuses the latest when it is the same model), with
    `extra_files` ({path inside the version: source file}, e.g. the TFLite model) copied in before the rename.

    Returns (version, version directory, reused)."""
    import tensorflow as tf

    tf.io.gfile.makedirs(base)
    with layout.push_lock(base):
        layout.remove_stale_temp_dirs(base)
        versions = layout.numeric_versions(base)
        if versions:
            latest = versions[-1]
            complete = tf.io.gfile.exists(os.path.join(latest.path, layout.SAVED_MODEL_FILE))
            if complete and identity.same_identity(identity.read_identity(latest.path), wanted_identity):
                # A retry of a push that already completed (e.g. killed after the rename, before MLMD recorded it).
                # Only the LATEST version counts: pushing a model that an older version holds is a rollback and
                # gets a new, higher version so that TF Serving's default policy (highest version) serves it.
                logging.info("AtomicPusher: %s already holds this model; not pushing it again.", latest.path)
                return latest.number, latest.path, True
        version = layout.next_version([v.number for v in versions])
        tmp = os.path.join(base, f"{layout.TMP_PREFIX}{version}-{secrets.token_hex(4)}")
        try:
            _copy_tree(model_dir, tmp)
            copy_extra_files(tmp, extra_files)
            tf.io.gfile.makedirs(os.path.join(tmp, layout.ASSETS_EXTRA))
            if batch:
                warmup.write_warmup(os.path.join(tmp, layout.ASSETS_EXTRA, layout.WARMUP_FILE),
                                    layout.model_name(base), batch)
            identity.write_identity(tmp, wanted_identity, pushed_at=int(time.time()))
            verify(tmp, batch, expected)
            if layout.is_local(tmp):
                _fsync_tree(tmp)
                version = _publish_local(tmp, base, version)
            else:
                version = _publish_remote(tmp, base, version)
        except BaseException:
            _remove(tmp)
            raise
    destination = os.path.join(base, str(version))
    logging.info("AtomicPusher: published %s.", destination)
    return version, destination, False


def copy_extra_files(tmp: str, extra_files: Mapping[str, str]) -> None:
    """Copies each extra file into the version being assembled and checks the copy is byte for byte the same."""
    import tensorflow as tf

    for inside, source in extra_files.items():
        target = os.path.join(tmp, inside)
        tf.io.gfile.makedirs(os.path.dirname(target))
        io_utils.copy_file(source, target)
        with tf.io.gfile.GFile(source, "rb") as a, tf.io.gfile.GFile(target, "rb") as b:
            if a.read() != b.read():
                raise RuntimeError(f"AtomicPusher: verification failed: the copy of {source} in {tmp} differs.")


def verify(copy_dir: str, batch: Sequence[bytes], expected: Mapping[str, np.ndarray]) -> None:
    """The copy loads, its warmup file replays through it, and it answers exactly as the candidate did."""
    import tensorflow as tf

    warmup_file = os.path.join(copy_dir, layout.ASSETS_EXTRA, layout.WARMUP_FILE)
    if not batch:
        smoke_test.serve(copy_dir, [], "the copied model")
        return
    if not tf.io.gfile.exists(warmup_file):
        raise RuntimeError(f"AtomicPusher: verification failed: {warmup_file} was not written.")
    replayed = warmup.warmup_batches(warmup_file)
    if replayed != [list(batch)]:
        raise RuntimeError(f"AtomicPusher: verification failed: {warmup_file} does not hold the smoke-test batch.")
    outputs = smoke_test.serve(copy_dir, replayed[0], "the copied model")
    for name, value in expected.items():
        if name not in outputs or not _same(outputs[name], value):
            raise RuntimeError(
                f"AtomicPusher: verification failed: the copy in {copy_dir} answers differently from the candidate "
                f"(output {name!r})."
            )


def _same(answer: np.ndarray, expected: np.ndarray) -> bool:
    """Numbers equal within float tolerance; anything else (class names) exactly."""
    if np.issubdtype(expected.dtype, np.number):
        return np.allclose(answer, expected, rtol=1e-5, atol=1e-6, equal_nan=False)
    return np.shape(answer) == np.shape(expected) and bool(np.all(answer == expected))
