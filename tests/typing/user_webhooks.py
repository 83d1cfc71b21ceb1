"""A webhook receiver as the README sets one up: handlers, mounting, subscriptions, letters.

Type-checked with ``mypy --strict``; ``test_user_code`` builds the receiver and its apps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web

from shipstation_async import ShipStation
from shipstation_async.models import Order, Shipment
from shipstation_async.webhooks import (
    DeadLetter,
    MemoryStore,
    Notification,
    SubscriptionReport,
    WebhookReceiver,
)


def build(ss: ShipStation) -> tuple[WebhookReceiver, list[Order], list[Shipment]]:
    """A receiver with an order handler and a shipment handler that wants items."""
    receiver = WebhookReceiver(
        ss,
        token="a-token-of-more-than-16-characters",
        store=MemoryStore(),
        poll_interval=120.0,
        overlap=timedelta(minutes=10),
    )
    orders: list[Order] = []
    shipments: list[Shipment] = []

    @receiver.on("ORDER_NOTIFY", "ITEM_ORDER_NOTIFY")
    async def new_orders(event: Notification) -> None:
        orders.extend(event.orders)

    @receiver.on("SHIP_NOTIFY", items=True, name="labels")
    async def labels(event: Notification) -> None:
        if event.source != "poll" and event.attempt > 1:
            return
        shipments.extend(event.shipments)

    return receiver, orders, shipments


def aiohttp_application(receiver: WebhookReceiver) -> web.Application:
    """The receiver as a sub-app, and as a plain route."""
    app = web.Application()
    app.add_subapp("/shipstation", receiver.aiohttp_app())
    app.router.add_post("/hooks/shipstation", receiver.aiohttp_handler())
    return app


@asynccontextmanager
async def lifespan(receiver: WebhookReceiver) -> AsyncIterator[SubscriptionReport]:
    """Start, subscribe, and close: what a FastAPI lifespan does."""
    await receiver.start()
    try:
        yield await receiver.ensure_subscribed("https://app.example.com/shipstation/events")
    finally:
        await receiver.close()


async def operate(receiver: WebhookReceiver) -> int:
    """Dead letters and replays, a polling round, and a framework-free request."""
    letters: list[DeadLetter] = await receiver.dead_letters()
    for letter in letters:
        print(letter.handler, letter.attempts, letter.error, len(letter.records.get("orders", ())))
    replayed: int = await receiver.replay()
    found: int = await receiver.poll_once()
    status, headers, body = await receiver.handle("POST", "/?token=x", {}, b"{}")
    assert isinstance(headers, list) and isinstance(body, bytes)
    return replayed + found + status
