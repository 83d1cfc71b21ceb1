"""The sandbox's routing table: case-insensitive paths as ASP.NET matches them.

Handlers register with :meth:`Router.add` (or the :meth:`Router.route` decorator) under a
pattern such as ``/orders/{orderId:int}``; the router answers ASP.NET-style 404 and 405
bodies itself. Adding a resource is adding a module under ``handlers/`` and its routes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PARAM = re.compile(r"\{(\w+)(?::(int|str))?\}")
_PARAM_RES = {"int": r"-?\d+", "str": r"[^/]+"}
PARAMS_KEY: web.RequestKey[dict[str, Any]] = web.RequestKey("shipstation_sandbox.params", dict)
"""The request key under which matched path parameters are stored."""


@attrs.frozen
class Route:
    """One route: an HTTP method, a compiled path pattern, the handler and its converters."""

    method: str
    pattern: str
    regex: re.Pattern[str]
    converters: dict[str, Callable[[str], Any]]
    handler: Handler


@attrs.frozen
class Match:
    """The result of resolving a request: the route's handler and its path parameters."""

    handler: Handler
    params: dict[str, Any]


class Router:
    """A table of routes; resolves (method, path) case-insensitively, trailing slash allowed."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and ``pattern`` (``{name}`` or ``{name:int}``)."""
        converters: dict[str, Callable[[str], Any]] = {}
        parts: list[str] = []
        pos = 0
        for m in _PARAM.finditer(pattern):
            parts.append(re.escape(pattern[pos : m.start()]))
            name, kind = m.group(1), m.group(2) or "str"
            parts.append(f"(?P<{name}>{_PARAM_RES[kind]})")
            converters[name] = int if kind == "int" else str
            pos = m.end()
        parts.append(re.escape(pattern[pos:].rstrip("/")))
        regex = re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)
        self.routes.append(Route(method.upper(), pattern, regex, converters, handler))

    def resolve(self, method: str, path: str) -> Match | str | None:
        """Resolve a request to its route.

        Returns the :class:`Match`; ``"method"`` when only another method matches the path
        (405); None when nothing matches (404).
        """
        path_matched = False
        for r in self.routes:
            m = r.regex.match(path)
            if m is None:
                continue
            if r.method != method.upper():
                path_matched = True
                continue
            try:
                params = {k: r.converters[k](v) for k, v in m.groupdict().items()}
            except ValueError:
                continue
            return Match(r.handler, params)
        return "method" if path_matched else None
