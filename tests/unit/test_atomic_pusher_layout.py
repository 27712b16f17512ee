"""layout.numeric_versions: the one listing of TF Serving version directories, local (no TensorFlow) and remote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from components.atomic_pusher import layout

ROOT = Path(__file__).resolve().parents[2]


def make_base(base: Path) -> Path:
    """3 and 007 complete, 12 still being written (no saved_model.pb), and entries TF Serving never loads."""
    for name in ("3", "007", "12", ".tmp-99-abcd", "x1", "\u0661\u0662"):  # the last: Arabic-Indic digits "12"
        (base / name).mkdir(parents=True)
    for name in ("3", "007", ".tmp-99-abcd"):
        (base / name / "saved_model.pb").write_bytes(b"pb")
    (base / "10").write_text("a file, not a version")
    return base


def test_local_versions_are_numeric_directories_lowest_first(tmp_path):
    base = make_base(tmp_path / "model")
    assert layout.numeric_versions(base) == [
        layout.Version(3, str(base / "3")),
        layout.Version(7, str(base / "007")),  # the path as listed: a number alone would not find "007"
        layout.Version(12, str(base / "12")),
    ]
    assert [v.number for v in layout.numeric_versions(str(base), complete=True)] == [3, 7]
    assert layout.numeric_versions(tmp_path / "missing") == []
    assert layout.numeric_versions(base / "10") == []  # a file is not a base directory


def test_listing_a_local_directory_loads_neither_tensorflow_nor_tfx(tmp_path):
    base = make_base(tmp_path / "model")
    code = (
        "import sys; from components.atomic_pusher import layout; "
        f"print([v.number for v in layout.numeric_versions({str(base)!r}, complete=True)]); "
        "print(sorted(m for m in ('tensorflow', 'tfx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[3, 7]", "[]"]


def test_a_remote_filesystem_is_listed_through_gfile_with_the_same_rule():
    import tensorflow as tf

    base = "ram://numeric_versions_test/model"
    for name in ("3", "12", ".tmp-99-abcd"):
        tf.io.gfile.makedirs(f"{base}/{name}")
    with tf.io.gfile.GFile(f"{base}/3/saved_model.pb", "w") as f:
        f.write("pb")
    with tf.io.gfile.GFile(f"{base}/10", "w") as f:
        f.write("a file, not a version")
    assert layout.numeric_versions(base) == [layout.Version(3, f"{base}/3"), layout.Version(12, f"{base}/12")]
    assert layout.numeric_versions(base, complete=True) == [layout.Version(3, f"{base}/3")]
    assert layout.numeric_versions("ram://numeric_versions_test/missing") == []
