"""The receiver as an aiohttp application (imported only when one is asked for)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ._http import answer

if TYPE_CHECKING:
    from .receiver import WebhookReceiver


def aiohttp_app(receiver: WebhookReceiver, max_body: int) -> web.Application:
    """An application answering deliveries on any path; it starts and closes ``receiver``."""

    async def receive(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            status, headers, body = answer(405, "POST only")
        elif not receiver.authorized(request.path_qs):
            status, headers, body = answer(401, "unauthorized")
        elif (request.content_length or 0) > max_body:
            status, headers, body = answer(413, f"the body is over {max_body} bytes")
        else:
            data = await request.content.read(max_body + 1)
            status, headers, body = await receiver.accept(data)
        return web.Response(status=status, body=body, headers=dict(headers))

    async def start(_: web.Application) -> None:
        await receiver.start()

    async def close(_: web.Application) -> None:
        await receiver.close()

    app = web.Application(client_max_size=max_body + 1)
    app.router.add_route("*", "/{tail:.*}", receive)
    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
