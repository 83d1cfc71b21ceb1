from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.sandbox import Sandbox, WebhookDelivery, World
from shipstation_async.webhooks import MemoryStore, Notification, WebhookReceiver

from ..recording import RecordingServer, Reply

TOKEN = "tok-0123456789abcdefghij"
OTHER_TOKEN = "tok-zyxwvutsrqponmlkji98"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox whose webhooks are decided and logged but never sent (tests post them)."""
    world = World(orders=30, seed=11, end=datetime(2026, 1, 1, tzinfo=UTC))
    silent = WebhookDelivery(drop_rate=1.0)
    async with Sandbox(world=world, rate_limit=RateLimit(1000, 1.0), webhooks=silent) as sb:
        for event in ("ORDER_NOTIFY", "SHIP_NOTIFY"):
            sb.world.subscribe(
                target_url="http://127.0.0.1:9/unused",
                event=event,
                store_id=None,
                friendly_name=None,
            )
        yield sb


@pytest.fixture
async def ss(sandbox: Sandbox) -> AsyncIterator[ShipStation]:
    async with ShipStation(
        sandbox.api_key,
        sandbox.api_secret,
        base_url=sandbox.url,
        rate_limit=RateLimit(1000, 1.0),
        retry=RetryPolicy(max_attempts=3, base=0.0),
    ) as client:
        yield client


class Seen:
    """What one handler was given, in order."""

    def __init__(self) -> None:
        self.calls: list[Notification] = []

    async def __call__(self, notification: Notification) -> None:
        self.calls.append(notification)

    def order_versions(self) -> list[tuple[int, Any]]:
        return [(o.order_id, o.modify_date) for n in self.calls for o in n.orders]  # type: ignore[misc]


@pytest.fixture
async def receiver(ss: ShipStation) -> AsyncIterator[WebhookReceiver]:
    r = WebhookReceiver(
        ss,
        token=TOKEN,
        store=MemoryStore(),
        first_retry=0.05,
        max_retry=0.2,
        poll_interval=None,
        sync_lag=timedelta(0),
    )
    yield r
    await r.close()


def delivery(resource_url: str, resource_type: str = "ORDER_NOTIFY") -> bytes:
    return json.dumps({"resource_url": resource_url, "resource_type": resource_type}).encode()


async def post(r: WebhookReceiver, body: bytes, token: str = TOKEN) -> tuple[int, dict[str, Any]]:
    status, _, answer = await r.handle("POST", f"/hooks?token={token}", {}, body)
    return status, json.loads(answer)


def order_body(key: str) -> dict[str, Any]:
    """A paid order to create, in the API's JSON, numbered and keyed by ``key``."""
    return {
        "orderNumber": key,
        "orderKey": key,
        "orderDate": "2026-11-01T10:00:00",
        "orderStatus": "awaiting_shipment",
        "billTo": {"name": "Ann Buyer"},
        "shipTo": {
            "name": "Ann Buyer",
            "street1": "1 Main St",
            "city": "Austin",
            "state": "TX",
            "postalCode": "78701",
            "country": "US",
        },
        "items": [{"sku": "SKU-1", "name": "Thing", "quantity": 1, "unitPrice": 5}],
        "weight": {"value": 2, "units": "pounds"},
    }


async def new_orders(
    ss: ShipStation, sandbox: Sandbox, count: int, prefix: str
) -> tuple[list[int], str]:
    """Create orders in one import action: their ids, and the resource_url ShipStation sends."""
    orders = [order_body(f"{prefix}-{i}") for i in range(count)]
    result = await ss.orders.create_or_update_many(orders)
    ids = [r.order_id for r in result.results if r.order_id is not None]
    emitted = [e for e in sandbox.webhook_log() if e.resource_type == "ORDER_NOTIFY"]
    assert emitted and sorted(emitted[-1].record_ids) == sorted(ids)
    return ids, emitted[-1].resource_url


async def poll(receiver: WebhookReceiver) -> int:
    """One polling round once the server's clock (whole seconds) passed what was just written."""
    await asyncio.sleep(1.05)
    return await receiver.poll_once()


# -- a fake API whose lists answer what a test put in them ------------------------------

STAMP = "2026-01-01T10:00:00.0000000"


class Lists:
    """The fake API's list answers: the records of each list, as the API's JSON."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.date: str | None = None  # the server's clock (a Date header), else aiohttp's

    def __call__(self, request: web.Request) -> Reply:
        kind = request.path.strip("/").split("/")[0]
        items = self.records.get(kind, [])
        headers = {"Date": self.date} if self.date else {}
        body = {kind: items, "total": len(items), "page": 1, "pages": 1}
        return Reply(body=body, headers=headers)


@pytest.fixture
async def lists(recorder: RecordingServer) -> AsyncIterator[Lists]:
    """What ``recorder`` (and so the ``client`` fixture's API) lists."""
    made = Lists()
    recorder.default = made
    yield made


def order(order_id: int, modified: str, **fields: Any) -> dict[str, Any]:
    """An order in the API's JSON, modified at ``modified`` (a Pacific wall-clock time)."""
    record = {
        "orderId": order_id,
        "orderNumber": f"N{order_id}",
        "orderDate": STAMP,
        "createDate": STAMP,
        "modifyDate": modified,
        "orderStatus": "awaiting_shipment",
    }
    return {**record, **fields}
