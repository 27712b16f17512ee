"""The `tfx-e2e ui` server started in a thread on a free port over a real SQLite MLMD store, and fetching its pages
with urllib (a non-2xx status is a page too: the UI answers errors with one)."""

from __future__ import annotations

import html
import re
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from pipeline.ui import source
from pipeline.ui.server import Server, make_server


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: str

    def main(self) -> str:
        """The page's <main> (without the shared head, styles and script)."""
        return self.body[self.body.index("<main>"):self.body.index("</main>")]

    def text(self) -> str:
        """The words of <main> as a reader sees them: tags removed, entities decoded."""
        return html.unescape(re.sub(r"<[^>]+>", " ", self.main()))


class Site:
    def __init__(self, server: Server):
        self.server = server
        self.url = server.url.rstrip("/")

    def get(self, path: str, headers: Optional[dict[str, str]] = None) -> Page:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Page(response.status, dict(response.headers), response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            return Page(err.code, dict(err.headers), err.read().decode("utf-8"))


@contextmanager
def serving(home: Optional[Path] = None, metadata: Optional[str] = None) -> Iterator[Site]:
    """The UI over `home` (or a --metadata URI) on 127.0.0.1, a free port, until the block ends."""
    server = make_server(source.source(home, metadata), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
