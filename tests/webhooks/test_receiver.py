"""The receiver's answers, its once-per-version hand-over, retries and dead letters."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import pytest

from shipstation_async import ShipStation
from shipstation_async.errors import ConfigurationError, InvalidRequestError
from shipstation_async.models import Weight
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import MemoryStore, Notification, WebhookReceiver

from .conftest import OTHER_TOKEN, TOKEN, Seen, delivery, new_orders, poll, post


async def test_wrong_or_missing_token_is_401_and_nothing_runs(
    receiver: WebhookReceiver, sandbox: Sandbox
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    body = delivery(f"{sandbox.url}/orders?importBatch=x")
    before = sandbox.stats().requests
    for target in (
        "/hooks",
        "/hooks?token=",
        f"/hooks?token={TOKEN}x",
        f"/hooks?token={TOKEN[:-1]}",
        f"/hooks?token={TOKEN}&token={TOKEN}",
    ):
        status, _, _ = await receiver.handle("POST", target, {}, body)
        assert status == 401
    await asyncio.sleep(0.05)
    assert seen.calls == [] and sandbox.stats().requests == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"resource_type": "ORDER_NOTIFY"}', 400),
        (b'{"resource_url": "https://ssapi.shipstation.com/orders", "resource_type": "NOPE"}', 400),
        (b'{"resource_url": 5, "resource_type": "ORDER_NOTIFY"}', 400),
        (b"[" * 100_000 + b"]" * 100_000, 413),
        (b"[" * 60_000, 400),
        (
            b'{"resource_type": "ORDER_NOTIFY", "pad": "' + b"x" * 70_000 + b'"}',
            413,
        ),
    ],
)
async def test_malformed_deliveries_are_refused(
    receiver: WebhookReceiver, body: bytes, status: int
) -> None:
    receiver.on("ORDER_NOTIFY", name="seen")(Seen())
    assert (await post(receiver, body))[0] == status


async def test_method_other_than_post_is_405(receiver: WebhookReceiver) -> None:
    status, _, _ = await receiver.handle("GET", f"/hooks?token={TOKEN}", {}, b"")
    assert status == 405


async def test_a_delivery_is_handed_over_with_typed_orders(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url = await new_orders(ss, sandbox, 3, "A")
    status, answer = await post(receiver, delivery(url))
    assert (status, answer["message"]) == (200, "accepted")
    await asyncio.wait_for(receiver.drain(), 10)
    assert len(seen.calls) == 1
    call = seen.calls[0]
    assert call.resource_type == "ORDER_NOTIFY" and call.source == "webhook"
    assert sorted(o.order_id for o in call.orders) == sorted(ids)  # type: ignore[type-var]


async def test_each_version_reaches_a_handler_once(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    seen = Seen()
    receiver.on("ORDER_NOTIFY", name="seen")(seen)
    ids, url = await new_orders(ss, sandbox, 2, "B")
    for _ in range(3):  # redelivered, and concurrently
        await asyncio.gather(post(receiver, delivery(url)), post(receiver, delivery(url)))
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(i for i, _ in seen.order_versions()) == sorted(ids)
    # An edit makes a new version but no webhook (as on ShipStation): the poll brings it, and
    # only it (the unchanged order does not go over again).
    emitted = len(sandbox.webhook_log())
    order = await ss.orders.get(ids[0])
    await ss.orders.create_or_update(attrs_evolve(order, customer_notes="ring twice"))
    assert len(sandbox.webhook_log()) == emitted
    await post(receiver, delivery(url))  # the old batch again: nothing new
    await poll(receiver)
    await asyncio.wait_for(receiver.drain(), 10)
    versions = seen.order_versions()
    assert len(versions) == 3 and len(set(versions)) == 3
    assert [i for i, _ in versions].count(ids[0]) == 2


def attrs_evolve(order, **changes):  # type: ignore[no-untyped-def]
    import attrs

    return attrs.evolve(order, **changes)


async def test_duplicate_batch_is_answered_but_queued_once(
    receiver: WebhookReceiver, sandbox: Sandbox
) -> None:
    receiver.on("SHIP_NOTIFY", name="seen")(Seen())
    url = f"{sandbox.url}/shipments?batchId=12345&includeShipmentItems=False"
    first = await post(receiver, delivery(url, "SHIP_NOTIFY"))
    second = await post(receiver, delivery(url, "SHIP_NOTIFY"))
    assert first == (200, {"status": 200, "message": "accepted"})
    assert second == (200, {"status": 200, "message": "already received"})


async def test_a_failing_handler_is_retried_and_others_are_not_held(
    receiver: WebhookReceiver, ss: ShipStation, sandbox: Sandbox
) -> None:
    steady = Seen()
    attempts: list[int] = []

    async def flaky(notification: Notification) -> None:
        attempts.append(notification.attempt)
        if len(attempts) < 3:
            raise RuntimeError("downstream is down")

    receiver.on("ORDER_NOTIFY", name="steady")(steady)
    receiver.on("ORDER_NOTIFY", name="flaky")(flaky)
    _, url = await new_orders(ss, sandbox, 2, "C")
    await post(receiver, delivery(url))
    await asyncio.wait_for(receiver.drain(), 10)
    assert attempts == [1, 2, 3]
    assert len(steady.calls) == 1
    assert await receiver.dead_letters() == []


async def test_dead_letter_and_replay(
    ss: ShipStation, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(
        ss, token=TOKEN, store=MemoryStore(), attempts=2, first_retry=0.01, poll_interval=None
    )
    broken = True
    handled: list[int | None] = []

    @receiver.on("ORDER_NOTIFY", name="sink")
    async def sink(notification: Notification) -> None:
        if broken:
            raise RuntimeError(f"cannot write; secret is {ss._credentials.api_secret.reveal()}")
        handled.extend(o.order_id for o in notification.orders)

    ids, url = await new_orders(ss, sandbox, 2, "D")
    caplog.set_level(logging.DEBUG)
    await post(receiver, delivery(url))
    await asyncio.wait_for(receiver.drain(), 10)
    letters = await receiver.dead_letters()
    assert len(letters) == 1 and letters[0].handler == "sink" and letters[0].attempts == 2
    assert sorted(r["orderId"] for r in letters[0].records["orders"]) == sorted(ids)
    secret = sandbox.api_secret
    assert secret not in letters[0].error and "RuntimeError" in letters[0].error
    assert secret not in caplog.text
    broken = False
    assert await receiver.replay() == 1
    await asyncio.wait_for(receiver.drain(), 10)
    assert sorted(handled) == sorted(ids)
    assert await receiver.dead_letters() == []
    await receiver.close()


async def test_tokens_are_checked_and_never_shown(
    ss: ShipStation, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(
        ss, token=[TOKEN, OTHER_TOKEN], store=MemoryStore(), poll_interval=None
    )
    url = receiver.target_url("https://app.example.com/shipstation?x=1")
    assert url == f"https://app.example.com/shipstation?x=1&token={TOKEN}"
    assert receiver.authorized(f"/s?token={OTHER_TOKEN}") and receiver.authorized(
        f"/s?token={TOKEN}"
    )
    assert TOKEN not in repr(receiver) and OTHER_TOKEN not in repr(receiver)
    for bad in ("short", "has space in it 123456", "ünïcode-token-0123456789"):
        with pytest.raises(ConfigurationError) as caught:
            WebhookReceiver(ss, token=bad, store=MemoryStore(), poll_interval=None)
        assert bad not in str(caught.value)
    with pytest.raises(InvalidRequestError):
        receiver.target_url("http://app.example.com/hook")
    await receiver.close()


async def test_token_from_the_environment(ss: ShipStation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPSTATION_WEBHOOK_TOKEN", f"{TOKEN}, {OTHER_TOKEN}")
    receiver = WebhookReceiver(ss, store=MemoryStore(), poll_interval=None)
    assert receiver.authorized(f"/?token={OTHER_TOKEN}")
    assert receiver.target_url("https://a.example/h").endswith(TOKEN)
    monkeypatch.delenv("SHIPSTATION_WEBHOOK_TOKEN")
    with pytest.raises(ConfigurationError):
        WebhookReceiver(ss, store=MemoryStore(), poll_interval=None)


async def test_a_handler_also_for_item_ship_notify_gets_the_items_from_either_delivery(
    ss: ShipStation, sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    """ShipStation sends SHIP_NOTIFY and ITEM_SHIP_NOTIFY for one label; the first to bring the
    shipment's version is the one handed over. A handler registered for ITEM_SHIP_NOTIFY asked
    for items, and got none when SHIP_NOTIFY came first."""
    [order_id], _ = await new_orders(ss, sandbox, 1, "ITEMS")
    await ss.orders.create_label(
        order_id,
        "ups",
        "ups_ground",
        "package",
        date.today(),
        weight=Weight(value=2, units="pounds"),
    )
    [emitted] = [e for e in sandbox.webhook_log() if e.resource_type == "SHIP_NOTIFY"]
    assert "includeShipmentItems=False" in emitted.resource_url
    seen = Seen()
    receiver.on("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY", name="ships")(seen)
    assert (await post(receiver, delivery(emitted.resource_url, "SHIP_NOTIFY")))[0] == 200
    await asyncio.wait_for(receiver.drain(), 5)
    [shipment] = [s for n in seen.calls for s in n.shipments]
    assert shipment.order_id == order_id
    assert shipment.shipment_items is not None and len(shipment.shipment_items) == 1
