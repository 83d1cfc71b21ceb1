"""The receiver as an aiohttp handler or application (imported only when one is asked for)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from ._http import Answer, answer

if TYPE_CHECKING:
    from .receiver import WebhookReceiver

BODY_TIMEOUT = 10.0
"""Seconds a delivery's body may take to arrive (a slow sender holds no slot for longer)."""


def aiohttp_handler(
    receiver: WebhookReceiver, max_body: int
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A request handler answering deliveries (the token is checked before the body is read)."""

    async def receive(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            status, headers, body = answer(405, "POST only")
        elif not receiver.authorized(request.path_qs):
            status, headers, body = answer(401, "unauthorized")
        else:
            status, headers, body = await _read_and_accept(receiver, request, max_body)
        return web.Response(status=status, body=body, headers=dict(headers))

    return receive


async def _read_and_accept(
    receiver: WebhookReceiver, request: web.Request, max_body: int
) -> Answer:
    if (request.content_length or 0) > max_body:
        return answer(413, f"the body is over {max_body} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.read(65536):
                size += len(chunk)
                if size > max_body:
                    return answer(413, f"the body is over {max_body} bytes")
                chunks.append(chunk)
    except TimeoutError:
        return answer(408, "the body took too long")
    except web.RequestPayloadError:
        # A body aiohttp cannot read: cut short, or a Content-Encoding it does not decode.
        return answer(400, "the body cannot be read")
    return await receiver._accept(b"".join(chunks))


def aiohttp_app(receiver: WebhookReceiver, max_body: int) -> web.Application:
    """An application answering deliveries on any path; it starts and closes ``receiver``."""

    async def start(_: web.Application) -> None:
        await receiver.start()

    async def close(_: web.Application) -> None:
        await receiver.close()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", aiohttp_handler(receiver, max_body))
    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
