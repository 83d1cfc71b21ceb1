"""A loopback HTTP server that records requests and answers from a script (wire-format tests)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web
from aiohttp.test_utils import TestServer


@attrs.frozen
class Recorded:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    peer_port: int | None = None  # the client's end of the connection (tells reuse apart)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@attrs.define
class Reply:
    status: int = 200
    body: Any = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    raw: bytes | None = None
    stall_body: float = 0.0  # send the headers and half the body, then wait this long

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode()


class RecordingServer:
    """Answers each request with the next scripted Reply (or ``default``) and records it."""

    def __init__(self, default: Reply | Callable[[web.Request], Reply] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.default = default or Reply(
            headers={
                "X-Rate-Limit-Limit": "40",
                "X-Rate-Limit-Remaining": "39",
                "X-Rate-Limit-Reset": "59",
            }
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> RecordingServer:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.close()

    @property
    def url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    def reply(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                request.raw_path.partition("?")[2],
                dict(request.headers),
                body,
                peer_port=_peer_port(request),
            )
        )
        if self.script:
            reply = self.script.popleft()
        elif callable(self.default):
            reply = self.default(request)
        else:
            reply = self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        headers = {"Content-Type": "application/json", **reply.headers}
        if reply.stall_body:
            payload = reply.encoded()
            response = web.StreamResponse(status=reply.status, headers=headers)
            response.content_length = len(payload)
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            await asyncio.sleep(reply.stall_body)
            await response.write(payload[len(payload) // 2 :])
            await response.write_eof()
            return response
        return web.Response(status=reply.status, body=reply.encoded(), headers=headers)


def _peer_port(request: web.Request) -> int | None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return int(peer[1]) if peer else None
