"""Client input never makes the sandbox answer 500, and slow or huge bodies are bounded.

A non-ASCII Basic token is a 401; a body over the limit a 413 on every route (the control API
too); JSON nested 100,000 deep a 400; a media type no formatter reads a 415 in ASP.NET Web
API's words; a body that arrives too slowly a 408, so that held connections do not pile up;
and hostile bodies, headers and query strings thrown at every route get no 5xx.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from shipstation_async.sandbox import Sandbox, World

from .conftest import ROOMY
from .helpers import FIXED_END, auth_headers, model_state_keys

JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
async def small() -> AsyncIterator[Sandbox]:
    """A sandbox with a 2,000-byte body limit and a 1 s body timeout."""
    world = World(orders=30, seed=5, end=FIXED_END)
    async with Sandbox(world=world, rate_limit=ROOMY, max_body_size=2_000, body_timeout=1.0) as sb:
        yield sb


def basic(sandbox: Sandbox) -> bytes:
    token = base64.b64encode(f"{sandbox.api_key}:{sandbox.api_secret}".encode())
    return b"Basic " + token


async def raw_request(sandbox: Sandbox, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes as they are; the whole answer (the server closes: Connection: close)."""
    reader, writer = await asyncio.open_connection(sandbox.host, sandbox.port)
    try:
        writer.write(head + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


def request_head(path: str, *headers: bytes, method: bytes = b"GET") -> bytes:
    lines = [method + b" " + path.encode() + b" HTTP/1.1", b"Host: sandbox", b"Connection: close"]
    return b"\r\n".join([*lines, *headers]) + b"\r\n"


# -- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [b"Basic \xc3\xa9", b"Basic \xff\xfe", "Basic ☃☃==".encode(), b"Basic \x80abc", b"\xc3\xa9"],
)
async def test_a_non_ascii_basic_token_is_a_401(sandbox: Sandbox, token: bytes) -> None:
    answer = await raw_request(sandbox, request_head("/orders", b"Authorization: " + token))
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert answer.endswith(b"401 Unauthorized")
    assert sandbox.stats().by_status == {401: 1}


# -- body size -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "credentials"),
    [
        ("POST", "/orders/createorder", True),
        ("POST", "/orders/createorders", True),
        ("PUT", "/products/1", True),
        ("POST", "/accounts/registeraccount", False),
        ("POST", "/__sandbox/seed/tags", False),
        ("POST", "/__sandbox/settings", False),
        ("POST", "/__sandbox/webhooks", False),
        ("GET", "/__sandbox/stats", False),
    ],
)
async def test_a_body_over_the_limit_is_a_413_on_every_route(
    small: Sandbox, method: str, path: str, credentials: bool
) -> None:
    headers = {**JSON_TYPE, **(auth_headers(small) if credentials else {})}
    body = b'{"name": "' + b"x" * 5_000 + b'"}'
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, f"{small.url}{path}", data=body, headers=headers) as r,
    ):
        assert r.status == 413
        assert "413 Request Entity Too Large" in await r.text()
    assert small.write_counts() == {}  # nothing took effect


async def test_the_default_limit_is_one_mebibyte(sandbox: Sandbox) -> None:
    assert sandbox.max_body_size == 1024**2
    async with aiohttp.ClientSession(headers=auth_headers(sandbox)) as s:
        big = b'{"orderNumber": "' + b"x" * (1024**2) + b'"}'
        for path in ("/orders/createorder", "/__sandbox/seed/tags"):
            async with s.post(f"{sandbox.url}{path}", data=big, headers=JSON_TYPE) as r:
                assert r.status == 413, path


# -- nesting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [257, 1_000, 100_000])
@pytest.mark.parametrize(
    "path", ["/orders/createorder", "/orders/createorders", "/__sandbox/seed/orders"]
)
async def test_json_nested_too_deep_is_a_400(
    sandbox: Sandbox, session: aiohttp.ClientSession, depth: int, path: str
) -> None:
    for opening in (b"[", b'{"a":'):
        body = opening * depth + b"1" + (b"]" if opening == b"[" else b"}") * depth
        async with session.post(path, data=body, headers=JSON_TYPE) as r:
            assert r.status == 400, (path, opening)
            answer = await r.json()
        (messages,) = answer["ModelState"].values()
        assert messages[0].startswith("The reader's MaxDepth of 256 has been exceeded.")


async def test_json_nested_256_deep_is_read(session: aiohttp.ClientSession) -> None:
    body = b'{"a":' * 255 + b"1" + b"}" * 255  # 255 objects in the order: 256 levels
    async with session.post("/orders/createorder", data=body, headers=JSON_TYPE) as r:
        answer = await r.json()
    assert r.status == 400  # read, bound (the unknown property ignored), then validated
    assert "apiOrder.orderNumber" in model_state_keys(answer)


# -- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "media"),
    [
        ("text/plain", "text/plain"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("application/xml", "application/xml"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
        (None, "application/octet-stream"),
    ],
)
async def test_a_media_type_no_formatter_reads_is_a_415(
    sandbox: Sandbox, content_type: str | None, media: str
) -> None:
    headers = auth_headers(sandbox)
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with (
        aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as s,
        s.post(
            f"{sandbox.url}/orders/createorder", data=b'{"orderNumber": "1"}', headers=headers
        ) as r,
    ):
        assert r.status == 415
        body = await r.json()
    assert body["Message"] == (
        f"The request entity's media type '{media}' is not supported for this resource."
    )
    assert body["ExceptionType"] == "System.Net.Http.UnsupportedMediaTypeException"
    assert "'ApiOrder'" in body["ExceptionMessage"]
    assert sandbox.write_counts() == {}


async def test_an_empty_body_is_never_a_415(sandbox: Sandbox) -> None:
    headers = {**auth_headers(sandbox), "Content-Type": "text/plain"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{sandbox.url}/orders/holduntil", data=b"", headers=headers) as r,
    ):
        assert r.status == 400
        assert model_state_keys(await r.json()) == {"request"}


async def test_json_in_another_charset_and_text_json_are_read(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    order = sandbox.world.orders.at(0)
    tag = sandbox.world.list_tags()[0]["tagId"]
    body = json.dumps({"orderId": order["orderId"], "tagId": tag})
    for content_type, raw in (
        ("application/json; charset=utf-16", body.encode("utf-16")),
        ("text/json", body.encode()),
        ("application/json", b"\xef\xbb\xbf" + body.encode()),  # a UTF-8 byte order mark
    ):
        async with session.post(
            "/orders/addtag", data=raw, headers={"Content-Type": content_type}
        ) as r:
            assert r.status == 200, (content_type, await r.text())


# -- slow bodies -----------------------------------------------------------------------------


async def test_slow_bodies_are_timed_out_and_do_not_hold_the_server(small: Sandbox) -> None:
    """225 connections that never finish their body get 408 and are closed."""
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    head = request_head(
        "/orders/createorder",
        b"Authorization: " + basic(small),
        b"Content-Type: application/json",
        b"Content-Length: 500",
        method=b"POST",
    )
    control = request_head(
        "/__sandbox/seed/tags",
        b"Content-Type: application/json",
        b"Content-Length: 500",
        method=b"POST",
    )
    started = time.monotonic()
    for k in range(225):
        reader, writer = await asyncio.open_connection(small.host, small.port)
        writer.write((control if k % 25 == 0 else head) + b'\r\n{"orderNumber": ')
        held.append((reader, writer))
    await asyncio.gather(*(w.drain() for _, w in held))
    try:
        # Meanwhile the server answers others at once.
        async with aiohttp.ClientSession(headers=auth_headers(small)) as s:
            t0 = time.monotonic()
            async with s.get(f"{small.url}/orders", params={"pageSize": 5}) as r:
                assert r.status == 200
            assert time.monotonic() - t0 < 5
        async with asyncio.timeout(30):
            answers = await asyncio.gather(*(reader.read() for reader, _ in held))
    finally:
        for _, writer in held:
            writer.close()
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), {a[:40] for a in answers}
    assert time.monotonic() - started < 20  # 1 s to time out, 1 s lingering, a busy machine
    assert small.write_counts() == {}
    assert small.stats().by_status.get(408) == 216  # the control API's 9 are not counted
