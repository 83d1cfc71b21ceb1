"""What handlers see of the sandbox: the world, the behaviour options and a few hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

from ..mutations import MutationWorkload
from ..world import World
from .emitter import WebhookEmitter


def _no_credentials(api_key: str, api_secret: str) -> None:
    return None


def _no_stats() -> dict[str, Any]:
    return {}


def _nothing() -> None:
    return None


@attrs.define
class SandboxContext:
    """The state and options a handler needs, stored on the aiohttp app under ``CONTEXT``.

    ``max_date_range_days``: the longest date range (both ends given) a list filter accepts;
    None lifts the limit. ``add_credentials``: makes the server accept a new key pair
    (registeraccount); ``stats`` and ``reset_stats``: the server's counters (control API).
    ``mutations``: the workload applied before list requests are answered, or None.
    ``emitter``: the webhook emitter (control API), or None. ``body_timeout``: seconds a
    request body may take to arrive.
    """

    world: World
    max_date_range_days: int | None = 90
    add_credentials: Callable[[str, str], None] = _no_credentials
    stats: Callable[[], dict[str, Any]] = _no_stats
    reset_stats: Callable[[], None] = _nothing
    mutations: MutationWorkload | None = None
    emitter: WebhookEmitter | None = None
    body_timeout: float = 30.0


CONTEXT = web.AppKey("shipstation_sandbox.context", SandboxContext)
"""The app key of the :class:`SandboxContext`."""


def context(request: web.Request) -> SandboxContext:
    """The sandbox context of a request."""
    return request.app[CONTEXT]
