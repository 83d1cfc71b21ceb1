"""The sandbox's webhooks: real POSTs to a loopback receiver, by ShipStation's trigger rules."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import attrs
import pytest
from aiohttp import web

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import MutationWorkload, Sandbox, ThreadedSandbox, World
from shipstation_async.sandbox.standalone import build_parser
from shipstation_async.sandbox.state.changes import ChangeFeed, ChangeRecord
from shipstation_async.sandbox.webhook_delivery import (
    WebhookDelivery,
    WebhookEmission,
    is_loopback_url,
)

from .helpers import FIXED_END, auth_headers, call

ROOMY = RateLimit(100_000, 60.0)
Record = dict[str, Any]

SHIP_TO = {
    "name": "Ada Lovelace",
    "street1": "1 Main St",
    "city": "Seattle",
    "state": "WA",
    "postalCode": "98101",
    "country": "US",
}
LABEL = {
    "carrierCode": "ups",
    "serviceCode": "ups_ground",
    "packageCode": "package",
    "shipDate": "2025-06-02",
    "weight": {"value": 3, "units": "pounds"},
}


def new_order(number: str, status: str = "awaiting_shipment", **changes: Any) -> Record:
    return {
        "orderNumber": number,
        "orderDate": "2025-06-01T08:00:00",
        "orderStatus": status,
        "billTo": {"name": "Ada Lovelace"},
        "shipTo": SHIP_TO,
        "items": [{"name": "Widget", "sku": "W-1", "quantity": 2, "unitPrice": 4.5}],
        **changes,
    }


@attrs.define
class Post:
    """One POST the receiver got."""

    path_qs: str
    headers: dict[str, str]
    body: Any
    at: float


@attrs.define
class Receiver:
    """A loopback webhook receiver: records each POST, answers the queued statuses (else 200)."""

    url: str
    posts: list[Post] = attrs.field(factory=list)
    statuses: list[int] = attrs.field(factory=list)

    def bodies(self, resource_type: str | None = None) -> list[Record]:
        return [
            p.body
            for p in self.posts
            if resource_type is None or p.body["resource_type"] == resource_type
        ]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box: list[Receiver] = []

    async def hook(request: web.Request) -> web.Response:
        rec = box[0]
        rec.posts.append(
            Post(request.path_qs, dict(request.headers), await request.json(), time.time())
        )
        return web.Response(status=rec.statuses.pop(0) if rec.statuses else 200, text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    box.append(Receiver(f"http://127.0.0.1:{runner.addresses[0][1]}/hook?token=s3cret"))
    yield box[0]
    await runner.cleanup()


async def subscribe(
    session: aiohttp.ClientSession, url: str, event: str, store_id: int | None = None
) -> int:
    body: Record = {"target_url": url, "event": event}
    if store_id is not None:
        body["store_id"] = store_id
    status, answer = await call(session, "POST", "/webhooks/subscribe", body)
    assert status == 200, answer
    return int(answer["id"])


async def settle(sb: Sandbox, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        await sb.settle_webhooks()


async def fetch(session: aiohttp.ClientSession, url: str) -> Record:
    """Follow a resource_url with the account's credentials (the session carries them)."""
    async with session.get(url) as r:
        assert r.status == 200
        body: Record = await r.json()
        return body


async def test_awaiting_payment_orders_notify_only_once_paid(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await subscribe(session, receiver.url, "ORDER_NOTIFY")
    status, unpaid = await call(
        session, "POST", "/orders/createorder", new_order("U-1", "awaiting_payment")
    )
    assert status == 200
    status, other = await call(
        session, "POST", "/orders/createorder", new_order("U-2", "awaiting_payment")
    )
    await settle(sandbox)
    assert receiver.posts == [] and sandbox.webhook_log() == []
    # Cancelling an unpaid order announces nothing; paying one announces it.
    cancel = new_order("U-2", "cancelled", orderKey=other["orderKey"])
    assert (await call(session, "POST", "/orders/createorder", cancel))[0] == 200
    paid = new_order("U-1", "awaiting_shipment", orderKey=unpaid["orderKey"])
    assert (await call(session, "POST", "/orders/createorder", paid))[0] == 200
    # An edit of a paid order announces nothing more.
    note = {**paid, "internalNotes": "edited"}
    assert (await call(session, "POST", "/orders/createorder", note))[0] == 200
    await settle(sandbox)
    (body,) = receiver.bodies()
    listed = await fetch(session, body["resource_url"])
    assert [o["orderId"] for o in listed["orders"]] == [unpaid["orderId"]]
    assert listed["orders"][0]["orderStatus"] == "awaiting_shipment"


async def test_createorders_is_one_payload_listing_exactly_its_orders(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    hook_id = await subscribe(session, receiver.url, "ORDER_NOTIFY")
    await subscribe(session, receiver.url, "ITEM_ORDER_NOTIFY")
    batch = [new_order(f"B-{k}") for k in range(3)]
    batch.append(new_order("B-unpaid", "awaiting_payment"))
    batch.append({"orderNumber": "B-invalid"})  # refused: not part of the import
    status, answer = await call(session, "POST", "/orders/createorders", batch)
    assert status == 200 and answer["hasErrors"]
    created = [r["orderId"] for r in answer["results"][:3]]
    await settle(sandbox)

    assert len(receiver.posts) == 2
    post = next(p for p in receiver.posts if p.body["resource_type"] == "ORDER_NOTIFY")
    assert post.path_qs == "/hook?token=s3cret"
    assert post.headers["Content-Type"].startswith("application/json")
    assert post.headers["User-Agent"]
    assert "Authorization" not in post.headers
    assert set(post.body) == {"resource_url", "resource_type"}
    url = post.body["resource_url"]
    assert url.startswith(sandbox.url + "/orders?") and len(url) <= 200
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"storeID", "importBatch"}
    listed = await fetch(session, url)
    assert sorted(o["orderId"] for o in listed["orders"]) == sorted(created)
    assert listed["total"] == 3
    # The item variant names the same batch; every order carries its items.
    (items_body,) = receiver.bodies("ITEM_ORDER_NOTIFY")
    assert items_body["resource_url"] == url

    # What the sandbox decided, and the record ids and versions it covers.
    log = [e for e in sandbox.webhook_log() if e.webhook_id == hook_id]
    (entry,) = log
    assert entry.outcome == "delivered" and entry.delivered == 1
    assert entry.resource == "orders" and entry.batch == query["importBatch"][0]
    assert sorted(entry.record_ids) == sorted(created)
    modified = {o["orderId"]: o["modifyDate"] for o in listed["orders"]}
    assert dict(zip(entry.record_ids, entry.versions, strict=True)) == modified
    assert entry.target == receiver.url.split("/hook")[0]  # no path, no token
    assert "s3cret" not in repr(entry) and "s3cret" not in str(entry.to_json())

    # Unknown batches list nothing; the batch pages like any list.
    empty = await fetch(session, f"{sandbox.url}/orders?importBatch=not-a-batch")
    assert empty["orders"] == [] and empty["total"] == 0
    page = await fetch(session, url + "&pageSize=2&page=2&sortBy=CreateDate&sortDir=DESC")
    assert page["total"] == 3 and page["pages"] == 2 and len(page["orders"]) == 1


async def test_one_import_across_stores_sends_one_payload_per_store(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    first, second = (sandbox.world.add_store(storeName=f"Store {k}")["storeId"] for k in (1, 2))
    await subscribe(session, receiver.url, "ORDER_NOTIFY")
    batch = [
        new_order(f"S-{k}", advancedOptions={"storeId": store})
        for k, store in enumerate((first, second, first))
    ]
    status, answer = await call(session, "POST", "/orders/createorders", batch)
    assert status == 200 and not answer["hasErrors"]
    ids = [r["orderId"] for r in answer["results"]]
    await settle(sandbox)
    by_store: dict[int, list[int]] = {}
    guids = set()
    for body in receiver.bodies():
        query = parse_qs(urlsplit(body["resource_url"]).query)
        guids.add(query["importBatch"][0])
        listed = await fetch(session, body["resource_url"])
        by_store[int(query["storeID"][0])] = sorted(o["orderId"] for o in listed["orders"])
    assert len(guids) == 1  # the orders of one import share one batch
    assert by_store == {first: sorted([ids[0], ids[2]]), second: [ids[1]]}


async def test_a_label_sends_ship_notify_for_that_one_shipment(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await subscribe(session, receiver.url, "SHIP_NOTIFY")
    await subscribe(session, receiver.url, "ITEM_SHIP_NOTIFY")
    await subscribe(session, receiver.url, "ORDER_NOTIFY")
    _, order = await call(session, "POST", "/orders/createorder", new_order("L-1"))
    await settle(sandbox)
    receiver.posts.clear()
    status, label = await call(
        session, "POST", "/orders/createlabelfororder", {"orderId": order["orderId"], **LABEL}
    )
    assert status == 200
    await settle(sandbox)
    # One of each ship event; the order shipping is no new order.
    assert sorted(b["resource_type"] for b in receiver.bodies()) == [
        "ITEM_SHIP_NOTIFY",
        "SHIP_NOTIFY",
    ]
    (plain,) = receiver.bodies("SHIP_NOTIFY")
    (items,) = receiver.bodies("ITEM_SHIP_NOTIFY")
    assert plain["resource_url"].endswith("&includeShipmentItems=False")
    assert items["resource_url"].endswith("&includeShipmentItems=True")
    shipped = await fetch(session, plain["resource_url"])
    assert [s["shipmentId"] for s in shipped["shipments"]] == [label["shipmentId"]]
    assert shipped["shipments"][0]["shipmentItems"] is None
    with_items = await fetch(session, items["resource_url"])
    assert with_items["shipments"][0]["shipmentItems"]

    # Another label (createlabel, no order) is its own batch; test labels and voids are none.
    receiver.posts.clear()
    create = {**LABEL, "shipFrom": SHIP_TO, "shipTo": SHIP_TO}
    status, other = await call(session, "POST", "/shipments/createlabel", create)
    assert status == 200
    test_label = {**create, "testLabel": True}
    assert (await call(session, "POST", "/shipments/createlabel", test_label))[0] == 200
    void = {"shipmentId": label["shipmentId"]}
    assert (await call(session, "POST", "/shipments/voidlabel", void))[0] == 200
    await settle(sandbox)
    (again,) = receiver.bodies("SHIP_NOTIFY")
    assert again["resource_url"] != plain["resource_url"]
    listed = await fetch(session, again["resource_url"])
    assert [s["shipmentId"] for s in listed["shipments"]] == [other["shipmentId"]]


async def test_mark_as_shipped_and_edits_send_no_ship_notify(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    await subscribe(session, receiver.url, "SHIP_NOTIFY")
    await subscribe(session, receiver.url, "ORDER_NOTIFY")
    await subscribe(session, receiver.url, "FULFILLMENT_SHIPPED")
    _, order = await call(session, "POST", "/orders/createorder", new_order("M-1"))
    _, held = await call(session, "POST", "/orders/createorder", new_order("M-2"))
    await settle(sandbox)
    receiver.posts.clear()
    oid = order["orderId"]
    hold = {"orderId": held["orderId"], "holdUntilDate": "2030-01-01"}
    assert (await call(session, "POST", "/orders/holduntil", hold))[0] == 200
    tag = {"orderId": oid, "tagId": sandbox.world.tag_ids[0]}
    assert (await call(session, "POST", "/orders/addtag", tag))[0] == 200
    mark = {"orderId": oid, "carrierCode": "ups", "shipDate": "2025-06-02"}
    assert (await call(session, "POST", "/orders/markasshipped", mark))[0] == 200
    await settle(sandbox)
    # Only the (guessed) fulfillment event: no SHIP_NOTIFY, no ORDER_NOTIFY.
    assert [b["resource_type"] for b in receiver.bodies()] == ["FULFILLMENT_SHIPPED"]
    (body,) = receiver.bodies()
    assert body["resource_url"] == f"{sandbox.url}/fulfillments?orderId={oid}"
    listed = await fetch(session, body["resource_url"])
    assert [f["orderId"] for f in listed["fulfillments"]] == [oid]


async def test_a_subscription_store_id_filters_to_that_store(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    mine, other = (sandbox.world.add_store(storeName=f"Shop {k}")["storeId"] for k in (1, 2))
    await subscribe(session, receiver.url, "ORDER_NOTIFY", store_id=mine)
    for k, store in enumerate((other, mine, other)):
        order = new_order(f"F-{k}", advancedOptions={"storeId": store})
        assert (await call(session, "POST", "/orders/createorder", order))[0] == 200
    await settle(sandbox)
    (body,) = receiver.bodies()
    assert f"storeID={mine}&" in body["resource_url"]
    # The world announced all three; only one matched the subscription.
    notes = sandbox.world.webhook_triggers.notifications()
    assert [n.store_id for n in notes] == [other, mine, other]


def unreliable(seed: int) -> WebhookDelivery:
    """30% dropped, 20% of the rest duplicated, 30% of copies delayed up to 0.4 s."""
    return WebhookDelivery(
        delay_rate=0.3, max_delay=0.4, drop_rate=0.3, duplicate_rate=0.2, seed=seed
    )


async def run_with_faults(receiver: Receiver, options: WebhookDelivery) -> list[WebhookEmission]:
    """60 orders created one by one in a new sandbox with these faults: its settled log."""
    world = World(orders=50, seed=3, end=FIXED_END)
    async with Sandbox(world=world, rate_limit=ROOMY, webhooks=options) as sb:
        world.subscribe(
            target_url=receiver.url, event="ORDER_NOTIFY", store_id=None, friendly_name=None
        )
        for k in range(60):
            world.add_order(new_order(f"R-{k}"))
        await settle(sb, 15.0)
        return sb.webhook_log()


async def test_drop_duplicate_and_delay_faults_follow_their_seed(receiver: Receiver) -> None:
    log = await run_with_faults(receiver, unreliable(11))
    assert len(log) == 60
    dropped = [e for e in log if e.dropped]
    duplicated = [e for e in log if e.duplicated]
    delayed = [e for e in log if e.delayed]
    assert 10 <= len(dropped) <= 26 and 4 <= len(duplicated) <= 20 and 6 <= len(delayed) <= 26
    assert all(e.outcome == "delivered" for e in log if not e.dropped)
    assert all(e.attempts == () and e.delays == () for e in dropped)
    # Every copy sent arrived: drops never, duplicates twice, and delayed ones late enough.
    sent = sum(len(e.delays) for e in log)
    assert len(receiver.posts) == sent
    arrivals: dict[str, int] = {}
    for body in receiver.bodies():
        arrivals[body["resource_url"]] = arrivals.get(body["resource_url"], 0) + 1
    assert all(arrivals.get(e.resource_url, 0) == len(e.delays) for e in log)
    for e in delayed:
        for attempt in e.attempts:
            assert attempt.at - e.emitted_at >= e.delays[attempt.copy] - 0.01

    # The same seed decides the same; another seed otherwise.
    receiver.posts.clear()
    again = await run_with_faults(receiver, unreliable(11))
    assert [(e.dropped, e.delays) for e in again] == [(e.dropped, e.delays) for e in log]
    receiver.posts.clear()
    other = await run_with_faults(receiver, unreliable(12))
    assert [(e.dropped, e.delays) for e in other] != [(e.dropped, e.delays) for e in log]


async def test_failed_deliveries_are_retried_with_backoff(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    sandbox.webhooks = WebhookDelivery(retries=2, retry_backoff=0.05)
    await subscribe(session, receiver.url, "ORDER_NOTIFY")
    receiver.statuses = [500, 302]
    assert (await call(session, "POST", "/orders/createorder", new_order("T-1")))[0] == 200
    await settle(sandbox)
    (entry,) = sandbox.webhook_log()
    assert [a.status for a in entry.attempts] == [500, 302, 200]
    assert entry.outcome == "delivered" and len(receiver.posts) == 3
    gaps = [b.at - a.at for a, b in zip(receiver.posts, receiver.posts[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09  # 0.05 s, then 0.1 s

    # Retries run out: failed. A closed port: status 0 and the failure's name.
    receiver.statuses = [503] * 3
    assert (await call(session, "POST", "/orders/createorder", new_order("T-2")))[0] == 200
    await settle(sandbox)
    assert sandbox.webhook_log()[-1].outcome == "failed"
    assert [a.status for a in sandbox.webhook_log()[-1].attempts] == [503] * 3
    async with aiohttp.ClientSession() as probe:  # find a port nobody listens on
        closed = await _closed_port(probe)
    sandbox.webhooks = WebhookDelivery(retries=0)
    await subscribe(session, f"http://127.0.0.1:{closed}/gone", "ORDER_NOTIFY")
    assert (await call(session, "POST", "/orders/createorder", new_order("T-3")))[0] == 200
    await settle(sandbox)
    gone = sandbox.webhook_log()[-1]
    assert gone.outcome == "failed" and gone.attempts[0].status == 0
    assert gone.attempts[0].error


async def _closed_port(_: aiohttp.ClientSession) -> int:
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    await runner.cleanup()
    return port


@pytest.mark.parametrize(
    "target",
    [
        "http://example.com/hook",
        "https://10.0.0.1/hook",
        "http://127.0.0.1@example.com/hook",
        "http://localhost.example.com/hook",
        "http://127.0.0.1.nip.io/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0:8000/hook",
    ],
)
async def test_non_loopback_targets_are_refused(
    sandbox: Sandbox, session: aiohttp.ClientSession, target: str
) -> None:
    await subscribe(session, target, "ORDER_NOTIFY")
    assert (await call(session, "POST", "/orders/createorder", new_order("X-1")))[0] == 200
    await settle(sandbox)
    (entry,) = sandbox.webhook_log()
    assert entry.outcome == "refused" and entry.attempts == () and entry.delays == ()
    assert sandbox.emitter.pending() == 0
    assert not is_loopback_url(target)
    assert WebhookDelivery(allow_remote=True).allows(target)


def test_loopback_targets() -> None:
    for url in (
        "http://127.0.0.1:8000/x",
        "http://127.8.9.10/",
        "http://[::1]:80/",
        "https://LOCALHOST/",
    ):
        assert is_loopback_url(url), url
    for url in ("ftp://127.0.0.1/", "http:///x", "http://127.0.0.1:99999/", "not a url"):
        assert not is_loopback_url(url), url


async def test_settings_and_log_through_the_control_api(
    sandbox: Sandbox, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    async with aiohttp.ClientSession(sandbox.url) as anonymous:
        status, settings = await call(anonymous, "GET", "/__sandbox/webhooks")
        assert status == 200 and settings["drop_rate"] == 0 and settings["pending"] == 0
        status, settings = await call(
            anonymous, "POST", "/__sandbox/webhooks", {"drop_rate": 1, "seed": 4}
        )
        assert status == 200 and settings["drop_rate"] == 1 and settings["seed"] == 4
        assert sandbox.webhooks.drop_rate == 1
        for bad in ({"drop_rate": 2}, {"speed": 1}, {"allow_remote": True}, [1]):
            status, body = await call(anonymous, "POST", "/__sandbox/webhooks", bad)
            assert status == 400 and body["Message"], bad
        assert sandbox.webhooks.drop_rate == 1 and not sandbox.webhooks.allow_remote
        await subscribe(session, receiver.url, "ORDER_NOTIFY")
        assert (await call(session, "POST", "/orders/createorder", new_order("C-1")))[0] == 200
        await settle(sandbox)
        assert receiver.posts == []
        status, log = await call(anonymous, "GET", "/__sandbox/webhooks/log")
        assert status == 200
        (emission,) = log["emissions"]
        assert emission == sandbox.webhook_log()[0].to_json()
        assert emission["outcome"] == "dropped" and emission["dropped"] is True
        (note,) = log["notifications"]
        assert note["recordIds"] == emission["recordIds"] and note["resource"] == "orders"


async def test_close_cancels_pending_deliveries(receiver: Receiver) -> None:
    world = World(orders=20, seed=1, end=FIXED_END)
    options = WebhookDelivery(delay_rate=1.0, max_delay=3600.0, seed=2)
    before = len(asyncio.all_tasks())
    async with Sandbox(world=world, rate_limit=ROOMY, webhooks=options) as sb:
        world.subscribe(
            target_url=receiver.url, event="ORDER_NOTIFY", store_id=None, friendly_name=None
        )
        for k in range(5):
            world.add_order(new_order(f"P-{k}"))
        await asyncio.sleep(0.05)
        assert sb.emitter.pending() == 5
        assert all(e.outcome == "pending" for e in sb.webhook_log())
    assert [e.outcome for e in sb.webhook_log()] == ["cancelled"] * 5
    assert sb.emitter.pending() == 0 and receiver.posts == []
    assert len(asyncio.all_tasks()) == before
    # After close nothing is emitted.
    world.add_order(new_order("P-late"))
    assert len(sb.webhook_log()) == 5


async def test_workload_inserts_bursts_and_ships_are_actions(receiver: Receiver) -> None:
    world = World(orders=300, seed=9, end=FIXED_END)
    workload = MutationWorkload(
        seed=3, per_request=4, inserts=1, modifies=1, ships=2, burst_after=0, burst_size=120
    )
    async with Sandbox(world=world, rate_limit=ROOMY, mutations=workload) as sb:
        for event in ("ORDER_NOTIFY", "SHIP_NOTIFY"):
            world.subscribe(target_url=receiver.url, event=event, store_id=None, friendly_name=None)
        async with aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as session:
            for _ in range(3):
                assert (await call(session, "GET", "/orders", pageSize=1))[0] == 200
            await settle(sb)
            burst = [m for m in workload.log if m.kind == "burst"]
            paid = {m.order_id for m in burst if m.order_status != "awaiting_payment"}
            burst_entries = [e for e in sb.webhook_log() if set(e.record_ids) & paid]
            assert len({e.batch for e in burst_entries}) == 1  # one import, one batch
            assert len(burst_entries) == len({e.store_id for e in burst_entries}) >= 2
            assert {i for e in burst_entries for i in e.record_ids} == paid
            listed = await fetch(  # a list request: the workload's batch runs before it
                session, f"{sb.url}/orders?importBatch={burst_entries[0].batch}&pageSize=500"
            )
            assert {o["orderId"] for o in listed["orders"]} == paid
            await settle(sb)
            log = sb.webhook_log()
            inserts = [m for m in workload.log if m.kind == "insert"]
            for m in inserts:  # each insert its own import, announced when paid
                mine = [
                    e
                    for e in log
                    if (m.order_id, m.modify_date) in zip(e.record_ids, e.versions, strict=True)
                ]
                assert len(mine) == (m.order_status != "awaiting_payment")
                assert all(e.record_ids == (m.order_id,) for e in mine)
            labels = [m.shipment_id for m in workload.log if m.shipment_id is not None]
            ship_entries = [e for e in log if e.resource_type == "SHIP_NOTIFY"]
            assert [e.record_ids for e in ship_entries] == [(s,) for s in labels]
            assert len(receiver.posts) == len(log)


async def test_a_threaded_sandbox_emits_and_reports(receiver: Receiver) -> None:
    options = WebhookDelivery(duplicate_rate=1.0, seed=1)
    with ThreadedSandbox(orders=20, rate_limit=ROOMY, webhooks=options) as sb:
        assert sb.webhooks is options
        sb.world.subscribe(
            target_url=receiver.url, event="ORDER_NOTIFY", store_id=None, friendly_name=None
        )
        order = sb.world.add_order(new_order("TH-1"))
        assert await asyncio.to_thread(sb.settle_webhooks, 10.0)
        (entry,) = sb.webhook_log()
        assert entry.record_ids == (order["orderId"],) and entry.duplicated
        assert entry.outcome == "delivered" and entry.delivered == 2
        assert len(receiver.posts) == 2
        sb.webhooks = WebhookDelivery(drop_rate=1.0)
        sb.world.add_order(new_order("TH-2"))
        assert await asyncio.to_thread(sb.settle_webhooks, 10.0)
        assert sb.webhook_log()[-1].dropped and len(receiver.posts) == 2


def test_change_feed_actions_group_writes() -> None:
    feed = ChangeFeed()
    records: list[ChangeRecord] = []
    ended: list[int] = []
    feed.subscribe(records.append)
    feed.on_action_end(ended.append)
    with feed.action() as outer:
        feed.emit("orders", 1, "create")
        with feed.action() as inner:  # nested: the same action
            feed.emit("orders", 2, "create")
        assert inner == outer and ended == []
    feed.emit("orders", 3, "create")  # alone: an action of its own
    with feed.action():  # no write: no end
        pass
    assert [r.action_id for r in records[:2]] == [outer, outer]
    assert records[2].action_id not in (0, outer)
    assert ended == [outer, records[2].action_id]


def test_serve_options_set_the_webhook_faults() -> None:
    args = build_parser().parse_args(
        ["--webhook-drop-rate", "0.3", "--webhook-delay-rate", "0.5", "--webhook-seed", "4"]
    )
    assert (args.webhook_drop_rate, args.webhook_delay_rate, args.webhook_seed) == (0.3, 0.5, 4)
    assert (args.webhook_duplicate_rate, args.webhook_max_delay) == (0.0, 10.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--webhook-duplicate-rate", "1.5"])
