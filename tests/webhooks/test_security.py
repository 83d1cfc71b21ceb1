"""Forged deliveries: no credential leaves for a host a delivery names, no handler runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import UnsafeResourceURL, WebhookReceiver, parse_resource_url
from shipstation_async.webhooks._resource_url import Origin

from .conftest import TOKEN, Seen, delivery, post


class Foreign:
    """A loopback server standing for someone else's host: it records what reaches it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        raise web.HTTPFound(location="/orders")  # a redirect, should anything follow it


@pytest.fixture
async def foreign() -> AsyncIterator[tuple[Foreign, str]]:
    recorder = Foreign()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield recorder, f"127.0.0.1:{server.port}"
    await server.close()


def forged(sandbox_url: str, foreign_netloc: str) -> list[str]:
    host, port = foreign_netloc.split(":")
    sandbox_netloc = sandbox_url.split("//", 1)[1]
    return [
        f"http://{foreign_netloc}/orders?storeID=1",
        f"https://{foreign_netloc}/orders",
        f"http://{sandbox_netloc}@{foreign_netloc}/orders",
        f"http://user:pw@{sandbox_netloc}/orders",
        f"http://{host}:{int(port) + 0}/shipments?batchId=1",
        "https://ssapi6.shipstation.com.evil.example/orders",
        "https://ssapi6.shipstation.com./orders",
        "https://ssapi6.shipstation.co/orders",
        "https://ssapi6-shipstation.com/orders",
        "https://evilssapi6.shipstation.com/orders",
        "https://ssapi6.shipstation.com@127.0.0.1/orders",
        "https://ssapi6.shipstation.com:8443/orders",
        "https://xn--ssapi-9ra.shipstation.com/orders",
        "https://ssap\u04566.shipstation.com/orders",  # a Cyrillic letter for the i
        "https://127.0.0.1/orders",
        "https://[::1]/orders",
        "https://2130706433/orders",
        "http://ssapi6.shipstation.com/orders",
        "https://ssapi6.shipstation.com/orders/../accounts/listtags",
        "https://ssapi6.shipstation.com/%2e%2e/orders",
        "https://ssapi6.shipstation.com//orders",
        "https://ssapi6.shipstation.com/orders/createorder",
        "https://ssapi6.shipstation.com/accounts/listtags",
        "https://ssapi6.shipstation.com/orders?redirect=http://x",
        "https://ssapi6.shipstation.com/orders?importBatch=a&importBatch=b",
        "https://ssapi6.shipstation.com/orders#frag",
        "https://ssapi6.shipstation.com/orders?importBatch=../../x",
        "https://ssapi6.shipstation.com/orders?storeID=5",  # names no batch: the whole store
        "https://ssapi6.shipstation.com/shipments?includeShipmentItems=True",
        "javascript:alert(1)",
        "file:///etc/passwd",
        f"{sandbox_url}/orders/123",
        f"{sandbox_url.replace('http:', 'https:')}/orders",
    ]


async def test_forged_deliveries_send_nothing_and_call_no_handler(
    receiver: WebhookReceiver,
    sandbox: Sandbox,
    foreign: tuple[Foreign, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder, netloc = foreign
    seen = Seen()
    receiver.on("ORDER_NOTIFY", "SHIP_NOTIFY", name="seen")(seen)
    before = sandbox.stats().requests
    caplog.set_level(logging.WARNING)
    for url in forged(sandbox.url, netloc):
        for event in ("ORDER_NOTIFY", "SHIP_NOTIFY"):
            status, answer = await post(receiver, delivery(url, event))
            assert status == 400, url
            assert answer["message"] == "resource_url refused"
    await asyncio.sleep(0.2)
    assert recorder.requests == []
    assert seen.calls == []
    assert sandbox.stats().requests == before  # nothing was even asked of our own server
    assert "resource_url" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "https://ssapi6.shipstation.com/orders?storeID=123456&importBatch=1f0e-9a2c",
        "https://ssapi.shipstation.com/shipments?batchId=190671332&includeShipmentItems=False",
        "https://SSAPI12.ShipStation.com:443/shipments?storeID=1&batchId=2&includeShipmentItems=True",
        "https://ssapi6.shipstation.com/fulfillments?orderId=5",
        "https://ssapi6.shipstation.com/orders/?importBatch=x&page=2&pageSize=100",
    ],
)
def test_shipstations_own_forms_are_accepted(url: str) -> None:
    query = parse_resource_url(url, Origin.of("https://ssapi.shipstation.com"))
    assert query.kind in ("orders", "shipments", "fulfillments")
    assert "page" not in query.filters and "pageSize" not in query.filters


def test_the_refusal_names_no_value() -> None:
    with pytest.raises(UnsafeResourceURL) as caught:
        parse_resource_url(
            "https://ssapi6.shipstation.com/orders?importBatch=SECRETVALUE&x=SECRET2"
        )
    assert "SECRET" not in str(caught.value)
