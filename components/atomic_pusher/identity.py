"""What a pushed version holds: the Model URI and a content fingerprint, recorded beside it so a retry can reuse it."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Mapping, Optional

from tfx import types

from components.atomic_pusher.layout import ASSETS_EXTRA, IDENTITY_FILE, SAVED_MODEL_FILE


def fingerprint(model_dir: str) -> str:
    """sha256 over saved_model.pb and variables/variables.index (which holds a checksum of every variable)."""
    import tensorflow as tf

    digest = hashlib.sha256()
    for rel in (SAVED_MODEL_FILE, os.path.join("variables", "variables.index")):
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
    """The identity recorded in a version directory; None when it has none (or it is unreadable)."""
    import tensorflow as tf

    path = os.path.join(version_dir, ASSETS_EXTRA, IDENTITY_FILE)
    try:
        with tf.io.gfile.GFile(path) as f:
            return json.load(f)
    except (tf.errors.NotFoundError, ValueError):
        return None


def write_identity(version_dir: str, wanted: Mapping[str, str], pushed_at: int) -> None:
    import tensorflow as tf

    with tf.io.gfile.GFile(os.path.join(version_dir, ASSETS_EXTRA, IDENTITY_FILE), "w") as f:
        json.dump({**wanted, "pushed_at": pushed_at}, f, indent=2)


def same_identity(recorded: Optional[Mapping[str, Any]], wanted: Mapping[str, str]) -> bool:
    return bool(recorded) and all(recorded.get(k) == v for k, v in wanted.items())
