"""Helpers shared by the resource handlers: envelopes, success bodies, write counting."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from ..context import context
from ..responses import json_response
from ..router import PARAMS_KEY, Handler, Router

JSON = dict[str, Any]
Q = TypeVar("Q")
R = TypeVar("R")


async def listing(request: web.Request, read: Callable[[Q], R], query: Q) -> R:
    """Run a list query off the event loop, after the mutation workload's batch if any.

    A filtered scan over a large world can take a while: the event loop (and so the arrival
    times of concurrent requests) stays free while it runs. With a workload attached, its
    batch and the read happen under the world's lock, so the page shows the batch.
    """
    ctx = context(request)
    path = request.path

    def run() -> R:
        workload = ctx.mutations
        if workload is None or not workload.triggers(path):
            return read(query)
        with ctx.world.lock:
            workload.apply(ctx.world, path)
            return read(query)

    return await asyncio.to_thread(run)


def paged(key: str, items: Sequence[Any], total: int, page: int, page_size: int) -> web.Response:
    """A paged list: ``{<key>: [...], total, page, pages}``."""
    return json_response(
        {key: list(items), "total": total, "page": page, "pages": math.ceil(total / page_size)}
    )


def success(message: str, *, as_string: bool = False) -> web.Response:
    """``{"success": true, "message": ...}``.

    ``as_string``: success is the string "true", as the stores' activate/deactivate examples
    send it.
    """
    return json_response({"success": "true" if as_string else True, "message": message})


def path_int(request: web.Request, name: str) -> int:
    """An integer path parameter matched by the router."""
    return int(request[PARAMS_KEY][name])


def counted(operation: str, handler: Handler) -> Handler:
    """Wrap a write handler to count its executions that took effect.

    Each one answered with a status below 400 counts in ``World.write_counts()`` under
    ``operation``.
    """

    async def wrapper(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.status < 400:
            context(request).world.count_write(operation)
        return response

    wrapper.__doc__ = handler.__doc__
    return wrapper


def add_write(router: Router, method: str, pattern: str, handler: Handler) -> None:
    """Register a write endpoint whose executions are counted.

    The count's key is ``"METHOD pattern"``, path parameters without their type:
    ``DELETE /orders/{orderId}``.
    """
    name = re.sub(r":\w+\}", "}", pattern)
    router.add(method, pattern, counted(f"{method} {name}", handler))
