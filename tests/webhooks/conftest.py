from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.sandbox import Sandbox, World
from shipstation_async.webhooks import MemoryStore, Notification, WebhookReceiver

TOKEN = "tok-0123456789abcdefghij"
OTHER_TOKEN = "tok-zyxwvutsrqponmlkji98"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    world = World(orders=30, seed=11, end=datetime(2026, 1, 1, tzinfo=UTC))
    async with Sandbox(world=world, rate_limit=RateLimit(1000, 1.0)) as sb:
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
    r = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), first_retry=0.05, max_retry=0.2)
    yield r
    await r.close()


def delivery(resource_url: str, resource_type: str = "ORDER_NOTIFY") -> bytes:
    return json.dumps({"resource_url": resource_url, "resource_type": resource_type}).encode()


async def post(r: WebhookReceiver, body: bytes, token: str = TOKEN) -> tuple[int, dict[str, Any]]:
    status, _, answer = await r.handle("POST", f"/hooks?token={token}", {}, body)
    return status, json.loads(answer)
