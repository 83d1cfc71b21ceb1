"""A FastAPI app that receives ShipStation's webhooks, with the polling backup on.

The receiver's ASGI application is mounted under ``/shipstation``; the app's lifespan starts
it, subscribes, and closes it before the client. Environment as for ``webhooks_app.py``:
``SHIPSTATION_API_KEY``, ``SHIPSTATION_API_SECRET``, ``SHIPSTATION_WEBHOOK_TOKEN`` and
``PUBLIC_URL`` (the https address of ``/shipstation/events``). Run it with
``uvicorn webhooks_fastapi:app``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shipstation_async import ShipStation
from shipstation_async.webhooks import Notification, WebhookReceiver

log = logging.getLogger("webhooks_fastapi")

PUBLIC_URL = os.environ.get("PUBLIC_URL", "https://app.example.com/shipstation/events")

ss = ShipStation()  # its HTTP session opens with the first call, on the server's loop
receiver = WebhookReceiver(ss, poll_interval=120)  # token from SHIPSTATION_WEBHOOK_TOKEN


@receiver.on("ORDER_NOTIFY")
async def new_orders(event: Notification) -> None:
    """ORDER_NOTIFY: orders imported (or changed, when the poll finds them)."""
    for order in event.orders:
        log.info("order %s is %s (%s)", order.order_number, order.order_status, event.source)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the receiver and subscribe; on the way out, close it, then the client."""
    async with ss:
        await receiver.start()
        await receiver.ensure_subscribed(PUBLIC_URL)
        yield
        await receiver.close()


app = FastAPI(lifespan=lifespan)
# A mounted app gets no lifespan events of its own: the lifespan above runs the receiver.
app.mount("/shipstation", receiver.asgi_app())
