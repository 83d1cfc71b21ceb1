"""The receiver as an ASGI 3 application, with no dependency on any ASGI framework."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from ._http import Answer, answer

BODY_TIMEOUT = 10.0
"""Seconds a delivery's body may take to arrive."""

if TYPE_CHECKING:
    from .receiver import WebhookReceiver

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app(
    receiver: WebhookReceiver, max_body: int
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering deliveries on any path (see ``WebhookReceiver.asgi_app``)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receiver, receive, send)
            return
        if scope["type"] != "http":
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope.get("path", "/") + ("?" + query if query else "")
        if scope.get("method") != "POST":
            status, headers, body = answer(405, "POST only")
        elif not receiver.authorized(target):
            status, headers, body = answer(401, "unauthorized")
        else:
            status, headers, body = await _delivery(receiver, receive, max_body)
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _delivery(receiver: WebhookReceiver, receive: Receive, max_body: int) -> Answer:
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            data = await _body(receive, max_body)
    except TimeoutError:
        return answer(408, "the body took too long")
    if data is None:
        return answer(413, f"the body is over {max_body} bytes")
    return await receiver._accept(data)


async def _body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it grows over ``limit`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receiver: WebhookReceiver, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await receiver.start()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": type(exc).__name__})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await receiver.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
