"""Helpers shared by the resource handlers: envelopes, success bodies, write counting."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from ..context import context
from ..responses import json_response
from ..router import PARAMS_KEY, Handler, Router

JSON = dict[str, Any]


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
