"""The polling backup, ensure_subscribed, and the adapters (aiohttp, ASGI)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import attrs
from aiohttp import web
from aiohttp.test_utils import TestServer

from shipstation_async import ShipStation
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import MemoryStore, WebhookReceiver

from .conftest import OTHER_TOKEN, TOKEN, Seen, delivery, new_orders, poll, post


async def test_polling_hands_over_what_no_webhook_reported(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, _ = await new_orders(ss, sandbox, 3, "P")
    assert await poll(receiver) == 3
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)
    assert all(call.source == "poll" for call in seen.calls)
    # The next round overlaps the last: nothing new goes over again...
    await poll(receiver)
    await asyncio.wait_for(receiver.drain(), 10)
    assert len(seen.order_versions()) == 3
    # ...but a status change, which no webhook reports, does.
    await ss.orders.hold_until(ids[1], (await ss.orders.get(ids[1])).order_date.date())  # type: ignore[union-attr]
    await poll(receiver)
    await asyncio.wait_for(receiver.drain(), 10)
    versions = seen.order_versions()
    assert len(versions) == 4 and versions[-1][0] == ids[1]


async def test_a_webhook_and_the_poll_hand_a_version_over_once(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url_q = await new_orders(ss, sandbox, 2, "Q")
    await post(receiver, delivery(url_q))
    await poll(receiver)
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)


async def test_ensure_subscribed_is_idempotent_and_prunes_only_its_own_endpoint(
    ss: ShipStation,
) -> None:
    receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
    receiver.on("ORDER_NOTIFY", "SHIP_NOTIFY", name="both")(Seen())
    foreign = await ss.webhooks.subscribe(
        "https://prod.example.com/hooks?token=abc", "ORDER_NOTIFY"
    )
    old = await ss.webhooks.subscribe(
        "https://app.example.com/shipstation?token=old-token-0123456789", "ORDER_NOTIFY"
    )
    first = await receiver.ensure_subscribed("https://app.example.com/shipstation")
    assert len(first.subscribed) == 2 and first.kept == () and first.removed == ()
    again = await receiver.ensure_subscribed("https://app.example.com/shipstation")
    assert again.subscribed == () and sorted(again.kept) == sorted(first.subscribed)
    pruned = await receiver.ensure_subscribed(
        "https://app.example.com/shipstation", ["ORDER_NOTIFY"], prune=True
    )
    left = {hook.webhook_id: hook for hook in await ss.webhooks.list()}
    assert old.id in pruned.removed and foreign.id in left and old.id not in left
    assert len(pruned.removed) == 2  # the old token's hook and the SHIP_NOTIFY one
    ours = [h for h in left.values() if (h.url or "").startswith("https://app.example.com/")]
    assert len(ours) == 1 and ours[0].hook_type == "ORDER_NOTIFY"
    assert TOKEN not in repr(ours[0]) and "token=***" in repr(ours[0])
    # Rotation: a receiver with a new token subscribes its URL, the old hooks stay unpruned.
    rotated = WebhookReceiver(
        ss, token=[OTHER_TOKEN, TOKEN], store=MemoryStore(), poll_interval=None
    )
    report = await rotated.ensure_subscribed(
        "https://app.example.com/shipstation", ["ORDER_NOTIFY"]
    )
    assert len(report.subscribed) == 1 and report.removed == ()
    await receiver.close()
    await rotated.close()


async def test_aiohttp_sub_app(ss: ShipStation, sandbox: Sandbox) -> None:
    receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url_h = await new_orders(ss, sandbox, 1, "H")
    app = web.Application()
    app.add_subapp("/shipstation", receiver.aiohttp_app())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = receiver.target_url(f"http://127.0.0.1:{server.port}/shipstation/in")
        body = delivery(url_h)
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body) as answer:
                assert answer.status == 200
            async with http.post(url.replace(TOKEN, "x" * 20), data=body) as answer:
                assert answer.status == 401
            async with http.post(url, data=b"{" + b" " * 70_000 + b"}") as answer:
                assert answer.status == 413
            # A body aiohttp cannot decode is the sender's mistake: 400, not 500.
            corrupt = b"\x1f\x8b" + bytes(30)
            headers = {"Content-Encoding": "gzip"}
            async with http.post(url, data=corrupt, headers=headers) as answer:
                assert answer.status == 400
        await asyncio.wait_for(receiver.drain(), 10)
        assert [i for i, _ in seen.order_versions()] == ids
    finally:
        await server.close()  # its clean-up closes the receiver


async def call_asgi(
    app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    inbox = list(messages)

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_asgi_app(ss: ShipStation, sandbox: Sandbox) -> None:
    receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    app = receiver.asgi_app()
    started = await call_asgi(
        app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    )
    assert [m["type"] for m in started] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    app = receiver.asgi_app()
    ids, url_s = await new_orders(ss, sandbox, 2, "S")
    body = delivery(url_s)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hooks",
        "query_string": f"token={TOKEN}".encode(),
    }
    chunks = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": False},
    ]
    sent = await call_asgi(app, scope, chunks)
    assert sent[0]["status"] == 200 and json.loads(sent[1]["body"])["message"] == "accepted"
    denied = await call_asgi(app, {**scope, "query_string": b"token=nope"}, chunks)
    assert denied[0]["status"] == 401
    huge = [{"type": "http.request", "body": b"x" * 40_000, "more_body": True}] * 3
    assert (await call_asgi(app, scope, huge))[0]["status"] == 413
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)
    await receiver.close()


def test_notification_is_frozen() -> None:
    from shipstation_async.webhooks import Notification

    n = Notification(resource_type="ORDER_NOTIFY", source="poll")
    assert len(n) == 0 and attrs.evolve(n, attempt=2).attempt == 2


async def test_asgi_app_under_uvicorn(ss: ShipStation, sandbox: Sandbox) -> None:
    import socket

    import uvicorn

    receiver = WebhookReceiver(ss, token=TOKEN, store=MemoryStore(), poll_interval=None)
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url_u = await new_orders(ss, sandbox, 4, "U")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        receiver.asgi_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await asyncio.sleep(0.01)
        url = receiver.target_url(f"http://127.0.0.1:{port}/events")
        body = delivery(url_u)
        async with aiohttp.ClientSession() as http:
            answers = await asyncio.gather(*(http.post(url, data=body) for _ in range(20)))
            assert [a.status for a in answers] == [200] * 20
            for a in answers:
                a.release()
        await asyncio.wait_for(receiver.drain(), 10)
        assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)
    finally:
        server.should_exit = True
        await serving
    assert receiver._dispatcher is None  # the lifespan's shutdown closed it
