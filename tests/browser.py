"""Debian's chromium driven by Playwright for the browser tests: launched offline with a fresh profile, every request,
console error and page error of each page recorded; screenshots; a `tfx-e2e ui` server started and stopped by pid.

    with chromium(tmp_path) as browser:
        page = browser.new_page()
        page.goto(report.as_uri())
        assert_offline(page.requests)
        assert page.errors == []

Playwright never downloads a browser here: it launches /usr/bin/chromium (`make chromium` installs it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Union
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
# Headless, no sandbox (the tests run as root in CI), and nothing that phones home on its own: without the networking
# flags chromium keeps trying to reach Google's servers, which would make assert_offline meaningless.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
INSTALL_HINT = ("chromium is not installed (/usr/bin/chromium): run `make chromium` as root "
                "(Debian: apt-get install chromium); the browser tests never download a browser")
PLAYWRIGHT_HINT = "Playwright for Python is not installed in this venv: run `make setup` (it is in requirements.lock)"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
VIEWPORT = {"width": 1280, "height": 900}


def installed() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def playwright_installed() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def is_local(url: str) -> bool:
    """A URL that never leaves the machine: file://, data:, or http(s)/ws(s) to the loopback host."""
    parts = urlsplit(url)
    if parts.scheme in ("file", "data"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


def assert_offline(urls: list[str]) -> None:
    """Every URL a page requested stayed on this machine (file://, data:, 127.0.0.1 / localhost)."""
    leaving = [u for u in urls if not is_local(u)]
    assert not leaving, f"the page requested {len(leaving)} URL(s) off this machine: {leaving[:10]}"


@dataclass
class Page:
    """A Playwright page with everything it did recorded since it was opened."""

    page: "playwright.sync_api.Page"  # noqa: F821 (imported lazily)
    requests: list[str] = field(default_factory=list)  # every request URL, the documents' own included
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page's scripts

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors

    def goto(self, url: str):
        """Loads `url` and waits for its load event; returns Playwright's Response (a file:// page's status is 200)."""
        return self.page.goto(url, wait_until="load")

    def expand_all(self) -> None:
        """Opens every collapsed <details> (the report's sections), so that their content can be checked as visible."""
        self.page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")

    def close(self) -> None:
        self.page.close()


def _record(page: Page) -> Page:
    raw = page.page
    raw.on("request", lambda request: page.requests.append(request.url))
    raw.on("websocket", lambda ws: page.requests.append(ws.url))

    def console(message) -> None:
        if message.type == "error":
            where = message.location or {}
            page.console_errors.append(f"{message.text} (at {where.get('url', '?')}:{where.get('lineNumber', '?')})")

    raw.on("console", console)
    raw.on("pageerror", lambda error: page.page_errors.append(str(error)))
    return page


class Browser:
    """One chromium with one fresh profile; new_page() gives recording pages."""

    def __init__(self, context) -> None:
        self.context = context

    def new_page(self) -> Page:
        return _record(Page(self.context.new_page()))


@contextlib.contextmanager
def chromium(tmp_dir: Path) -> Iterator[Browser]:
    """Launches /usr/bin/chromium (FLAGS) with a fresh user-data-dir under `tmp_dir`; closes it on exit.

    Requests off the machine are recorded (the "request" event fires first) and then aborted, so a page that tries
    to fetch a CDN fails its test without ever reaching the network."""
    if not installed():
        raise RuntimeError(INSTALL_HINT)
    if not playwright_installed():
        raise RuntimeError(PLAYWRIGHT_HINT)
    from playwright.sync_api import sync_playwright

    profile = Path(tmp_dir) / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=list(FLAGS), viewport=VIEWPORT,
            service_workers="block")
        try:
            context.route(lambda url: not is_local(url), lambda route: route.abort())
            yield Browser(context)
        finally:
            context.close()


def screenshot(target, path: Union[str, Path], *, full_page: bool = True) -> Path:
    """A PNG of a Page (the whole page by default) or of one Playwright Locator (an element); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(target, Page):
        target.page.screenshot(path=str(path), full_page=full_page)
    else:
        target.screenshot(path=str(path))
    assert path.stat().st_size > 0, path
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------ the UI server

_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):\d+")


class UiServer:
    """`tfx-e2e ui --home HOME --port 0` as a child process; `url` is the address it printed."""

    def __init__(self, home: Path, cwd: Path, startup_timeout: float = 120.0) -> None:
        self.home = Path(home)
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""
        self.output: list[str] = []  # every line it printed (stdout and stderr together)
        self.returncode: Optional[int] = None

    def start(self) -> "UiServer":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "ui", "--home", str(self.home), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.cwd, env=env)
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            for line in self.proc.stdout:
                self.output.append(line.rstrip("\n"))
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.url:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError(f"`tfx-e2e ui --home {self.home} --port 0` printed no http://127.0.0.1:PORT URL "
                                   f"within {self.startup_timeout:.0f} s (exit code {self.returncode}):\n"
                                   + "\n".join(self.output))
            found = _URL.search(line)
            if found:
                self.url = found.group(0)
        return self

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        """Ctrl-C (SIGINT) by pid, as a user stops it; SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.returncode = self.proc.returncode
        return self.returncode


# ------------------------------------------------------------------------------------------------ reading pages

# Every inline SVG chart under a CSS scope, as the page drew it: its declared counts (data-series, data-points,
# data-edges) and what is really there (rect.bar, path.series, g.node), so a test checks both against the run's data.
_CHARTS_JS = """scope => [...document.querySelectorAll((scope ? scope + ' ' : '') + 'svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {kind: svg.dataset.chart, title: (svg.querySelector('title') || {}).textContent || '',
          series: Number(svg.dataset.series), points: Number(svg.dataset.points),
          edges: Number(svg.dataset.edges || 0),
          bars: svg.querySelectorAll('rect.bar').length, lines: svg.querySelectorAll('path.series').length,
          thresholds: svg.querySelectorAll('.threshold').length,
          labels: [...svg.querySelectorAll('rect.bar')].map(r => r.dataset.label || ''),
          names: [...svg.querySelectorAll('path.series')].map(p => p.dataset.name || ''),
          nodes: [...svg.querySelectorAll('g.node')].map(g => ({id: g.dataset.id, state: g.dataset.state,
                  href: (g.querySelector('a') || {getAttribute: () => null}).getAttribute('href')})),
          visible: box.width > 0 && box.height > 0};
})"""


def charts(page: Page, scope: str = "") -> list[dict]:
    """The charts under `scope` (a CSS selector, e.g. "#training"), each checked to draw what it declares."""
    found = page.page.evaluate(_CHARTS_JS, scope)
    for chart in found:
        drawn = {"bar": chart["bars"], "histogram": chart["bars"], "grouped": chart["bars"],
                 "line": chart["lines"], "curve": chart["lines"], "graph": len(chart["nodes"])}[chart["kind"]]
        declared = {"grouped": chart["series"] * chart["points"], "line": chart["series"], "curve": 1}.get(
            chart["kind"], chart["points"])
        assert drawn == declared, f"chart {chart['title']!r} declares {declared} and draws {drawn}: {chart}"
        assert chart["visible"], f"chart {chart['title']!r} is not displayed"
    return found


def visible_sections(page: Page) -> list[str]:
    """The ids of the page's <section>s whose heading is displayed, in page order."""
    return page.page.evaluate("""() => [...document.querySelectorAll('section[id]')].filter(s => {
        const h = s.querySelector('h2'); const box = h && h.getBoundingClientRect();
        return box && box.width > 0 && box.height > 0; }).map(s => s.id)""")


def assert_nothing_injected(page: Page) -> None:
    """No markup from data ran or became an element: the page's own single script, no onerror attribute, no
    window.__pwned (which the hostile strings set when they run)."""
    state = page.page.evaluate("""() => ({pwned: typeof window.__pwned,
        scripts: [...document.scripts].map(s => s.text.includes('__pwned')),
        onerror: document.querySelectorAll('[onerror]').length, images: document.querySelectorAll('img').length})""")
    assert state == {"pwned": "undefined", "scripts": [False], "onerror": 0, "images": 0}, state


def importance_chart(page: Page, table) -> None:
    """The run's feature importance (a pipeline.metadata.importance.ImportanceTable) as the page draws it under
    #importance: one bar per feature in the table's order, each with a width, the top one the widest, the names
    as text."""
    [chart] = [c for c in charts(page, "#importance") if c["kind"] == "bar"]
    assert chart["title"] == f"Feature importance ({table.drop_words})"
    assert chart["labels"] == [f.name for f in table.features]
    widths = page.page.evaluate("() => [...document.querySelectorAll('#importance rect.bar')]"
                                ".map(r => r.getBoundingClientRect().width)")
    assert len(widths) == len(table.features) and all(w > 0 for w in widths), widths
    assert widths[0] == max(widths) and widths[0] > 50, widths  # the most important column: the longest bar
    text = page.page.inner_text("#importance")
    assert all(f.name in text for f in table.features)
    assert f"{table.rows} eval rows" in text
