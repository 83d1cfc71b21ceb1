"""An aiohttp app that receives ShipStation's webhooks, with the polling backup on.

Environment: ``SHIPSTATION_API_KEY`` and ``SHIPSTATION_API_SECRET`` (``SHIPSTATION_BASE_URL``
for a sandbox); ``SHIPSTATION_WEBHOOK_TOKEN``, the secret that authenticates deliveries (make
one with ``python -c "import secrets; print(secrets.token_urlsafe(32))"``); ``PUBLIC_URL``,
the https address at which ShipStation reaches this app's ``/shipstation/events``. Run it
with ``python webhooks_app.py``: it subscribes at start-up and serves on port 8000.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from shipstation_async import ShipStation
from shipstation_async.webhooks import Notification, WebhookReceiver

log = logging.getLogger("webhooks_app")

PATH = "/shipstation/events"


async def new_orders(event: Notification) -> None:
    """ORDER_NOTIFY: orders imported (or changed, when the poll finds them)."""
    for order in event.orders:
        log.info("order %s is %s (%s)", order.order_number, order.order_status, event.source)


async def new_labels(event: Notification) -> None:
    """SHIP_NOTIFY: labels bought; the shipments come with their items."""
    for shipment in event.shipments:
        items = sum(item.quantity or 0 for item in shipment.shipment_items or ())
        log.info(
            "label %s for order %s, %d items (%s)",
            shipment.tracking_number,
            shipment.order_number,
            items,
            event.source,
        )


def lifecycle(
    ss: ShipStation, receiver: WebhookReceiver, public_url: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start the receiver and subscribe at start-up; close both at clean-up, in order."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        await receiver.start()  # resumes stored deliveries, starts the polling backup
        await receiver.ensure_subscribed(public_url)  # idempotent: safe at every start
        yield
        await receiver.close()  # first: its handlers and polls still use the client
        await ss.aclose()

    return run


def make_app(public_url: str, **settings: Any) -> web.Application:
    """The app; ``settings`` go to :class:`WebhookReceiver` (store, poll_interval, ...)."""
    ss = ShipStation()
    receiver = WebhookReceiver(ss, **settings)  # token from SHIPSTATION_WEBHOOK_TOKEN
    receiver.on("ORDER_NOTIFY")(new_orders)
    receiver.on("SHIP_NOTIFY", items=True)(new_labels)
    app = web.Application()
    app.router.add_post(PATH, receiver.aiohttp_handler())
    app.cleanup_ctx.append(lifecycle(ss, receiver, public_url))
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    # Every 2 minutes the backup lists what changed, in case a delivery never came.
    web.run_app(make_app(os.environ["PUBLIC_URL"], poll_interval=120), port=8000)
