"""The UI's HTTP server: routes each GET to a page function over a freshly opened store, turns every failure into a
normal page with one sentence and its status (404, 503, ...), and keeps serving; tracebacks go to stderr only."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from pipeline.logs import to_stderr
from pipeline.report import html
from pipeline.ui.router import Forbidden, PageError, Router
from pipeline.ui.source import Source

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
# The pages need their inline styles and the report's one script (collapse, search) and nothing else: no request to
# any other origin, and no other script — an injected one (a metadata string that escaped escaping) would not run.
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(html.SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       f"script-src 'sha256-{_SCRIPT_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class Context:
    """What a page function reads: the store (opened on first use, once per request) and the home."""

    def __init__(self, src: Source):
        self.src = src
        self.home = src.home
        self._store: Any = None

    def store(self) -> Any:
        if self._store is None:
            self._store = self.src.open()
        return self._store


def error_page(status: int, sentence: str) -> str:
    titles = {400: "Bad request", 403: "Forbidden", 404: "Not found", 503: "Store unavailable"}
    body = (f'<p class="error" data-status="{status}">{html.esc(sentence)}</p>'
            f"<p>{html.link('/', 'Back to the runs list')}</p>")
    return html.page(f"{status} · {titles.get(status, 'Error')}", body, nav=html.link("/", "Runs"))


def _failure(err: BaseException) -> tuple[int, str]:
    """Status and sentence of an error a page function raised."""
    from ml_metadata import errors as mlmd_errors

    from pipeline.metadata.store import MetadataError

    if isinstance(err, PageError):
        return err.status, err.sentence
    if isinstance(err, MetadataError):  # "the store does not hold what was asked for"
        return 404, str(err)
    if isinstance(err, FileNotFoundError):
        return 404, f"A file this page reads is missing from disk: {err.filename} (were the run's outputs deleted?)."
    if isinstance(err, mlmd_errors.NotFoundError):
        return 404, "The metadata store does not hold what this page asks for."
    if isinstance(err, mlmd_errors.StatusError):
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return 503, f"The metadata store could not be read ({first}); reload in a moment."
    return 500, "This page could not be built because of an internal error; the server's log has the details."


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Handler(BaseHTTPRequestHandler):
    server: "Server"
    server_version = "tfx-e2e-ui"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _check_host(self) -> None:
        """Bound to loopback, answer only requests addressed to this machine by name: a web page elsewhere cannot
        read the store through a DNS name it re-points at 127.0.0.1 (DNS rebinding)."""
        if not _is_loopback(self.server.host):
            return
        host = (self.headers.get("Host") or "").strip()
        name = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
        if name and name.lower() not in LOCAL_NAMES | {self.server.host}:
            raise Forbidden(f"This server answers only requests to localhost, not to {host}.")

    def _respond(self, send_body: bool) -> None:
        try:
            self._check_host()
            page_fn, request = self.server.router.match(self.path)
            status, page = page_fn(request, Context(self.server.src))
        except Exception as err:  # every failure is a page; the server keeps serving
            status, sentence = _failure(err)
            if status == 500:
                with to_stderr():  # not into another request's silenced window (MLMD's open_store)
                    print(f"tfx-e2e ui: error on GET {self.path}:", file=sys.stderr)
                    traceback.print_exc(file=sys.stderr)
            page = error_page(status, sentence)
        data = page.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")  # a reload reads the store again
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if send_body:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload while this page was built)

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        if self.server.log_requests:
            with to_stderr():  # another thread may be opening the store with fd 2 silenced
                super().log_message(format, *args)


class Server(ThreadingHTTPServer):
    """One thread per request; nothing shared between requests but the (immutable) source and router."""

    daemon_threads = True

    def __init__(self, src: Source, router: Router, host: str = "127.0.0.1", port: int = 8080,
                 log_requests: bool = True):
        self.src, self.router, self.host, self.log_requests = src, router, host, log_requests
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"


def warm_up(src: Source) -> None:
    """Builds the newest run's page once and drops it, so that the first click on a run does not wait seconds for
    the readers' imports (TensorFlow's and TFMA's protos). Meant for a daemon thread at start-up; whatever fails here
    is left to the request that meets it."""
    from pipeline.ui import run_page, runs_list
    from pipeline.ui.router import Request

    try:
        newest = runs_list.newest_first(src.open())
        if newest:
            run_page.page(Request(f"/run/{newest[0]}", {"run_id": newest[0]}), Context(src))
    except Exception:  # pylint: disable=broad-except
        pass


def make_server(src: Source, host: str = "127.0.0.1", port: int = 8080, *, log_requests: bool = True,
                router: Optional[Router] = None) -> Server:
    """The server bound (port 0: a free port, see .url), not yet serving: call serve_forever()."""
    from pipeline.ui.pages import routes

    return Server(src, router or routes(), host, port, log_requests)

