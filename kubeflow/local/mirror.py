"""Cloud locations on this machine: every `gs://BUCKET/PATH` a compiled job names is read and written at
`<mirror>/BUCKET/PATH`."""

from __future__ import annotations

import re
from pathlib import Path

# Bucket names are lowercase on GCS; upper case is mapped too, so a placeholder name such as gs://BUCKET never
# reaches a task process (which would try the real service).
_GCS = re.compile(r"gs://([A-Za-z0-9][-_.A-Za-z0-9]*)(/[^\s\"'\\,}\]]*)?")


class GcsMirror:
    """Translates between the cloud form of a location (what the job, the store and the summary show) and the local
    directory that stands for it (what a task's process reads and writes)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def local(self, uri: str) -> str:
        """One location: `gs://b/p` → `<mirror>/b/p`; anything else unchanged."""
        match = _GCS.fullmatch(uri)
        if not match:
            return uri
        return str(self.root / match.group(1) / (match.group(2) or "/").lstrip("/")).rstrip("/")

    def localize_text(self, text: str) -> str:
        """Every `gs://...` inside a text (a JSON ExecutorInput, a config string) replaced by its local path."""
        return _GCS.sub(lambda m: self.local(m.group(0)), text)

    def cloud(self, path: str) -> str:
        """A local path under the mirror back to its `gs://` form; other paths unchanged."""
        root = str(self.root)
        if path == root or not path.startswith(root + "/"):
            return path
        return "gs://" + path[len(root) + 1:]

    def cloudify_text(self, text: str) -> str:
        root = re.escape(str(self.root))
        return re.sub(root + r"/([^\s\"'\\,}\]]+)", lambda m: "gs://" + m.group(1), text)

    def locations_in(self, text: str) -> list[str]:
        """The `gs://` locations a text names, in order, without repeats."""
        return list(dict.fromkeys(m.group(0).rstrip("/") for m in _GCS.finditer(text)))
