"""What handlers see of the sandbox: the world and the behaviour options."""

from __future__ import annotations

import attrs
from aiohttp import web

from .world import World


@attrs.define
class SandboxContext:
    """The state and options a handler needs, stored on the aiohttp app under ``CONTEXT``.

    ``max_date_range_days``: the longest date range (both ends given) a list filter accepts;
    None lifts the limit.
    """

    world: World
    max_date_range_days: int | None = 90


CONTEXT = web.AppKey("shipstation_sandbox.context", SandboxContext)
"""The app key of the :class:`SandboxContext`."""


def context(request: web.Request) -> SandboxContext:
    """The sandbox context of a request."""
    return request.app[CONTEXT]
