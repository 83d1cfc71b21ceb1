"""Hostile bodies, headers and query strings thrown at every route: never a 5xx.

Seeded, so a failure repeats. Each route gets the same fixed list of broken bodies and
headers, then valid-looking bodies (documented requests, and one holding every property any
model has) with one value, at any depth, swapped for a hostile one; list routes get hostile
query strings. Every answer must be below 500 and the sandbox must log no handler failure.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import random
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from shipstation_async.sandbox import Sandbox, World
from shipstation_async.sandbox.http import models
from shipstation_async.sandbox.http.binding import ListOf, Model, Scalar
from shipstation_async.sandbox.http.handlers import build_control_router, build_router

from .conftest import ROOMY
from .helpers import FIXED_END, auth_headers, example
from .test_shipping import label_request, rate_request

SEED = 19
MUTANTS_PER_TEMPLATE = 8

HOSTILE_VALUES: list[Any] = [
    None,
    "",
    " ",
    "x",
    "yes",
    "-1",
    "1e999",
    "NaN",
    "2025-13-45",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "\u0000",
    "\ud800",
    "💥" * 300,
    "x" * 20_000,
    -1,
    0,
    2**31,
    -(2**63),
    10**30,
    1e308,
    -0.0,
    2.5,
    True,
    False,
    [],
    [None],
    [[[]]],
    {},
    {"a": {"b": [1, {"c": None}]}},
]

RAW_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"{}",
    b"0",
    b'"x"',
    b"{",
    b'{"a":',
    b"}{",
    b"\xff\xfe\x00\x01",
    b'"\\ud800"',
    b"1" * 5_000,
    b"[1e999]",
    b'{"orderId": NaN}',
    b"[" * 5_000,
    b'{"a":' * 300 + b"1" + b"}" * 300,
    b'{"orderIds": [1, "x", null, 1.5, {}], "orderId": "1", "storeId": [1]}',
    json.dumps([{"orderNumber": None}] * 101).encode(),
]

HOSTILE_CONTENT_TYPES = [
    "text/plain",
    "application/json; charset=bogus",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "a/b/c",
    ";;;",
]

HOSTILE_QUERIES: list[dict[str, str]] = [
    {"page": "-1", "pageSize": "99999999999999999999999"},
    {"page": "0", "pageSize": "0"},
    {"pageSize": "1e3", "page": "x"},
    {"createDateStart": "9999-12-31T23:59:59+14:00", "createDateEnd": "0001-01-01"},
    {"createDateStart": "9999-12-31T23:59:59-12:00", "startDate": "0001-01-01T00:00:00+14:00"},
    {"shipDateEnd": "0001-01-01T00:00:00+14:00", "modifyDateStart": "9999-12-31T23:59:59-12"},
    {"orderDateStart": "2025-02-30", "modifyDateEnd": "yesterday"},
    {"shipDateStart": "2025-01-01", "shipDateEnd": "2026-12-31"},
    {"storeId": "99999999999999999999", "tagId": "-5", "orderId": "1.5"},
    {"orderStatus": "\u0000", "sortBy": "💥", "sortDir": "sideways"},
    {"carrierCode": "x" * 5_000, "showInactive": "maybe", "includeShipmentItems": "2"},
    {"batchId": "not-a-number", "importBatch": "\ud800"},
    {"marketplaceId": "-1", "productCategoryId": "x", "startDate": "1e9"},
    {"userId": "not-a-guid", "sku": "%", "name": "_"},
]


def every_property_body() -> dict[str, Any]:
    """One body holding every property of every model, each with a plausible value."""
    out: dict[str, Any] = {}
    for name in dir(models):
        kind = getattr(models, name)
        if isinstance(kind, Model):
            for key, value in plausible(kind).items():
                out.setdefault(key, value)
    return out


def plausible(kind: Any, depth: int = 0) -> Any:
    """A value of the right type for ``kind``."""
    if isinstance(kind, Model):
        return {k: plausible(v, depth + 1) for k, v in kind.fields.items() if depth < 3}
    if isinstance(kind, ListOf):
        return [plausible(kind.item, depth + 1)]
    if isinstance(kind, Scalar):
        return {
            "string": "abc",
            "int": 1,
            "decimal": 1.5,
            "bool": True,
            "datetime": "2025-01-02 03:04:05",
            "guid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        }[kind.kind]
    return None


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))


def mutate(template: Any, rng: random.Random) -> Any:
    """``template`` with one value somewhere swapped for a hostile one."""
    body = copy.deepcopy(template)
    where = rng.choice(list(paths(body)))
    node = body
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return body


def templates(sandbox: Sandbox) -> list[Any]:
    order = sandbox.world.orders.at(3)
    return [
        example("Order/CreateOrderRequest.txt"),
        [example("Order/CreateOrderRequest.txt")],
        label_request(),
        {**label_request(), "orderId": order["orderId"]},
        rate_request(),
        {"orderId": order["orderId"], "tagId": 1, "holdUntilDate": "2030-01-01"},
        {"orderIds": [order["orderId"]], "userId": "x", "carrierCode": "ups"},
        every_property_body(),
    ]


def fill(pattern: str, rng: random.Random, sandbox: Sandbox) -> str:
    """A path for a route pattern, its parameters filled with known and unknown values."""
    known = {
        "orderId": sandbox.world.orders.at(5)["orderId"],
        "resource": rng.choice(["orders", "stores", "carriers", "bogus"]),
    }

    def one(m: re.Match[str]) -> str:
        name, typed = m.group(1), m.group(2) == "int"
        if name in known:
            return str(known[name])
        return str(rng.choice([1, 0, -1, 2**40] if typed else [1, -1, 2**40, "x", "%F0%9F"]))

    return re.sub(r"\{(\w+)(?::(\w+))?\}", one, pattern)


def encode(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.fixture
async def target() -> Any:
    world = World(orders=60, seed=SEED, end=FIXED_END)
    async with Sandbox(world=world, rate_limit=ROOMY, max_body_size=200_000) as sb:
        yield sb


async def test_no_route_answers_5xx_to_hostile_input(
    target: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    rng = random.Random(SEED)
    routes = [(r.method, r.pattern) for r in build_router().routes + build_control_router().routes]
    bad: list[tuple[str, str, int, bytes]] = []
    sent = 0
    async with aiohttp.ClientSession(
        target.url, headers=auth_headers(target), skip_auto_headers=["Content-Type"]
    ) as s:

        async def send(method: str, path: str, body: bytes, **kw: Any) -> None:
            nonlocal sent
            headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
            async with s.request(method, path, data=body, headers=headers, **kw) as r:
                await r.read()
                sent += 1
                if r.status >= 500:
                    bad.append((method, path, r.status, body[:200]))

        for method, pattern in routes:
            for raw in RAW_BODIES:
                await send(method, fill(pattern, rng, target), raw)
            for content_type in HOSTILE_CONTENT_TYPES:
                await send(
                    method,
                    fill(pattern, rng, target),
                    b'{"orderId": 1, "a[b]": "c"}',
                    headers={"Content-Type": content_type},
                )
            for template in templates(target):
                for _ in range(MUTANTS_PER_TEMPLATE):
                    await send(method, fill(pattern, rng, target), encode(mutate(template, rng)))
            if method == "GET":
                for query in HOSTILE_QUERIES:
                    await send(method, fill(pattern, rng, target), b"", params=query)
    assert not bad, bad[:20]
    assert sent > 5_000
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("shipstation")]
    assert not failures, failures[:10]


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Basic \xff\xfe\xfd",
        b"Authorization: " + b"A" * 8_000,
        b"Content-Type: application/json; charset=\xff",
        b"Content-Type: \xc3\xa9/\xc3\xa9",
        b"X-Partner: \x00\x01",
        b"Content-Length: -1",
        b"Content-Length: 99999999999999999999",
        b"Transfer-Encoding: chunked",
        b"Content-Encoding: gzip",
    ],
)
async def test_hostile_raw_headers_get_no_5xx(
    target: Sandbox, header: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    token = base64.b64encode(f"{target.api_key}:{target.api_secret}".encode())
    for path in (b"/orders/createorder", b"/__sandbox/seed/tags", b"/orders"):
        reader, writer = await asyncio.open_connection(target.host, target.port)
        head = [
            b"POST " + path + b" HTTP/1.1",
            b"Host: sandbox",
            b"Connection: close",
            b"Authorization: Basic " + token,
            b"Content-Type: application/json",
            header,
        ]
        body = b"{}"
        if header.startswith(b"Transfer-Encoding"):
            body = b"zz\r\n{}\r\n0\r\n\r\n"  # a chunk size that is not hexadecimal
        elif not header.startswith(b"Content-Length"):
            head.append(b"Content-Length: 2")
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        try:
            async with asyncio.timeout(10):
                answer = await reader.read()
        finally:
            writer.close()
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
        assert status and status < 500, (header, path, answer[:300])
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("shipstation")]
    assert not failures, failures[:10]
