"""The UI's small router: GET routes as path patterns, the request a page function gets, and the errors it may raise."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit


class PageError(Exception):
    """A page that cannot be shown: `status` and one sentence for the reader (never a stack trace)."""

    status = 500

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


class NotFound(PageError):
    status = 404


class BadRequest(PageError):
    status = 400


class Forbidden(PageError):
    status = 403


class Unavailable(PageError):
    """The store cannot be opened or read right now (deleted, unreachable MySQL, busy): the reader may retry."""

    status = 503


@dataclass
class Request:
    path: str  # decoded path
    params: dict[str, str]  # the path's named parts, decoded
    query: dict[str, list[str]] = field(default_factory=dict)

    def arg(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The first value of a query argument."""
        values = self.query.get(name)
        return values[0] if values else default


Handler = Callable[..., tuple[int, str]]  # (request, context) -> (status, HTML page)


def href(*parts: str, **query: object) -> str:
    """A link inside the UI: path parts URL-encoded one by one (run ids hold ':' and may hold '/'), then the query."""
    path = "/" + "/".join(quote(str(p), safe="") for p in parts)
    args = "&".join(f"{quote(k)}={quote(str(v), safe='')}" for k, v in query.items() if v is not None)
    return path + (f"?{args}" if args else "")


class Router:
    """Routes like `/run/<run_id>`: each `<name>` matches one path segment, given to the handler decoded."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern, Handler]] = []

    def add(self, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((re.compile(f"^{regex}/?$" if pattern != "/" else "^/$"), handler))

    def match(self, target: str) -> tuple[Handler, Request]:
        """The handler and request for a request target (`/run/abc%3A1?x=1`); NotFound when no route matches.

        The pattern matches the still-encoded path, so an encoded '/' inside a run id stays inside its segment."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        for regex, handler in self._routes:
            found = regex.match(parts.path)
            if found:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                return handler, Request(unquote(parts.path), params, query)
        raise NotFound(f"There is no page at {unquote(parts.path)}.")
