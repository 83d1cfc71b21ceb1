"""Webhooks: list, subscribe, unsubscribe.

While the sandbox serves, each subscription receives the deliveries its event triggers (see
:mod:`..emitter` and :mod:`...state.webhook_triggers`); a subscription's ``store_id``
limits it to that store. Subscribing twice to the same URL and event makes two
subscriptions, each delivered to (ShipStation's handling of duplicates is unconfirmed).
Deliveries go to loopback targets only unless the sandbox's ``webhooks.allow_remote`` is
set: any other target is accepted here but its deliveries are refused and logged.
"""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from aiohttp import web

from ...world import WEBHOOK_EVENTS
from ..context import context
from ..models import SUBSCRIBE
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import read_object
from .common import add_write, path_int


async def list_webhooks(request: web.Request) -> web.StreamResponse:
    """``GET /webhooks``: ``{"webhooks": [...]}`` with PascalCase item fields."""
    return json_response({"webhooks": context(request).world.webhooks()})


async def subscribe(request: web.Request) -> web.StreamResponse:
    """``POST /webhooks/subscribe``: record a subscription; ``{"id": n}``.

    The body is ``{target_url, event, store_id?, friendly_name?}``.
    """
    world = context(request).world
    body, problem = await read_object(request, "request", SUBSCRIBE)
    if body is None:
        return cast(web.Response, problem)
    url = body.text("target_url", required=True, max_len=200)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            body.error("target_url", f"'{url}' is not an http(s) URL.")
    event = body.choice("event", WEBHOOK_EVENTS, required=True)
    store_id = body.integer("store_id")
    if store_id is not None and world.store(store_id) is None:
        body.error("store_id", f"Store {store_id} does not exist.")
    name = body.text("friendly_name", max_len=100)
    if body.errors or url is None or event is None:
        return bad_request(body.errors)
    hook_id = world.subscribe(target_url=url, event=event, store_id=store_id, friendly_name=name)
    return json_response({"id": hook_id})


async def unsubscribe(request: web.Request) -> web.StreamResponse:
    """``DELETE /webhooks/{webhookId}``: 200 with an empty body; 404 when unknown."""
    if not context(request).world.unsubscribe(path_int(request, "webhookId")):
        return not_found("Webhook not found")
    return web.Response(status=200)


def register(router: Router) -> None:
    """Add the webhook routes to ``router``."""
    router.add("GET", "/webhooks", list_webhooks)
    add_write(router, "POST", "/webhooks/subscribe", subscribe)
    add_write(router, "DELETE", "/webhooks/{webhookId:int}", unsubscribe)
