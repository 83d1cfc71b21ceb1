"""The mutation workload: each kind through real HTTP, the log, determinism, naive clients."""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from shipstation_async.sandbox import (
    Mutation,
    MutationWorkload,
    Sandbox,
    ThreadedSandbox,
    World,
)
from shipstation_async.sandbox.mutations import TRANSITIONS

from .conftest import ROOMY
from .helpers import FIXED_END, auth_headers, call, ts

Order = dict[str, Any]
PACIFIC = ZoneInfo("America/Los_Angeles")
END_TEXT = FIXED_END.strftime("%Y-%m-%d %H:%M:%S")


def pacific_now() -> datetime:
    return datetime.now(PACIFIC).replace(tzinfo=None)


def only(kind: str, **kwargs: Any) -> MutationWorkload:
    """A workload doing one kind of mutation."""
    weights = {"inserts": 0.0, "modifies": 0.0, "status_changes": 0.0, "deletes": 0.0}
    weights["ships"] = 0.0
    weights[kind] = 1.0
    return MutationWorkload(**{**weights, **kwargs})


def make_sandbox(orders: int = 300, seed: int = 7, **kwargs: Any) -> Sandbox:
    world = World(orders=orders, seed=seed, end=FIXED_END)
    return Sandbox(world=world, rate_limit=ROOMY, max_date_range_days=None, **kwargs)


async def session_for(sb: Sandbox) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(sb.url, headers=auth_headers(sb))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with make_sandbox() as sb:
        yield sb


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with await session_for(sandbox) as s:
        yield s


async def orders_page(session: aiohttp.ClientSession, **params: Any) -> Any:
    status, body = await call(session, "GET", "/orders", **params)
    assert status == 200, body
    return body


def ids(orders: list[Order]) -> list[int]:
    return [o["orderId"] for o in orders]


def sort_key(field: str) -> Callable[[Order], tuple[datetime, int]]:
    return lambda o: (ts(o[field]), o["orderId"])


async def test_inserts_appear_at_the_end_of_a_create_date_listing(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.mutations = workload = only("inserts", seed=3, per_request=2)
    before = pacific_now()
    body = await orders_page(session, sortBy="CreateDate", pageSize=500)
    after = pacific_now()
    assert workload.requests == 1 and [m.kind for m in workload.log] == ["insert", "insert"]
    assert body["total"] == 302 and len(body["orders"]) == 302
    listed = body["orders"]
    assert ids(listed[-2:]) == workload.order_ids()
    assert listed == sorted(listed, key=sort_key("createDate"))
    for m, o in zip(workload.log, listed[-2:], strict=True):
        assert (m.request, m.path) == (1, "/orders")
        assert o["createDate"] == o["modifyDate"] == m.create_date == m.modify_date
        created = ts(o["createDate"])
        # The sandbox stamps createDate to the millisecond.
        floor = before.replace(microsecond=before.microsecond // 1000 * 1000)
        assert created > FIXED_END and floor <= created <= after
        assert ts(o["orderDate"]) < created and o["orderDate"] == m.order_date
        assert o["orderStatus"] == m.order_status in ("awaiting_payment", "awaiting_shipment")
        assert o["shipDate"] is None and o["orderNumber"].startswith("MUT-")
        products = [it["productId"] for it in o["items"] if not it["adjustment"]]
        assert products and all(sandbox.world.product(p) is not None for p in products)
    # Each request adds two more, always at the end; DESC lists the newest first.
    body = await orders_page(session, sortBy="CreateDate", sortDir="DESC", pageSize=3)
    assert body["total"] == 304
    assert ids(body["orders"]) == workload.order_ids()[::-1][:3]
    # Outside a createDate range that ends at the world's end, they never show.
    body = await orders_page(session, sortBy="CreateDate", createDateEnd=END_TEXT, pageSize=500)
    assert body["total"] == 300 and not set(ids(body["orders"])) & set(workload.order_ids())
    got = await call(session, "GET", f"/orders/{workload.log[-1].order_id}")
    assert got[0] == 200 and got[1]["orderKey"]


async def test_modified_orders_move_in_modify_date_order_and_keep_create_date(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    world = sandbox.world
    original = {o["orderId"]: o for o in (world.orders.at(i) for i in range(300))}
    by_create = ids(sorted(original.values(), key=sort_key("createDate")))
    sandbox.mutations = workload = only("modifies", seed=5, per_request=4)
    body = await orders_page(session, sortBy="ModifyDate", pageSize=500)
    moved = workload.order_ids()
    assert len(moved) == 4 and len(set(moved)) == 4
    # The modified orders are the last in ModifyDate order (touched within one millisecond,
    # they tie on modifyDate and then come by orderId).
    log = sorted(workload.log, key=lambda m: (ts(m.modify_date), m.order_id))
    assert ids(body["orders"][-4:]) == [m.order_id for m in log]
    assert body["orders"] == sorted(body["orders"], key=sort_key("modifyDate"))
    for m, o in zip(log, body["orders"][-4:], strict=True):
        assert m.kind == "modify" and o["modifyDate"] == m.modify_date
        assert ts(o["modifyDate"]) > max(ts(x["modifyDate"]) for x in original.values())
        assert o["createDate"] == original[o["orderId"]]["createDate"] == m.create_date
        assert o["orderStatus"] == original[o["orderId"]]["orderStatus"] == m.order_status
    # createDate order is untouched: the same orders at the same places.
    body = await orders_page(session, sortBy="CreateDate", pageSize=500)
    assert ids(body["orders"]) == by_create
    assert workload.requests == 2 and len(workload.log) == 8
    # modifyDateStart finds exactly the modified ones.
    since = min(ts(m.modify_date) for m in workload.log).strftime("%Y-%m-%d %H:%M:%S")
    sandbox.mutations = None
    body = await orders_page(session, modifyDateStart=since, pageSize=500)
    assert set(ids(body["orders"])) == set(workload.order_ids())
    assert workload.requests == 2  # detached: no more batches


async def test_status_changes_move_orders_between_status_filters(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.mutations = workload = only("status_changes", seed=11, per_request=6)
    await orders_page(session, pageSize=1)
    sandbox.mutations = None
    assert [m.kind for m in workload.log] == ["status"] * 6
    for m in workload.log:
        assert m.previous_status is not None
        assert m.order_status in TRANSITIONS[m.previous_status]
        now_in = await orders_page(session, orderStatus=m.order_status, pageSize=500)
        was_in = await orders_page(session, orderStatus=m.previous_status, pageSize=500)
        assert m.order_id in ids(now_in["orders"]) and m.order_id not in ids(was_in["orders"])
        _, order = await call(session, "GET", f"/orders/{m.order_id}")
        assert order["modifyDate"] == m.modify_date and order["createDate"] == m.create_date
        if m.previous_status == "awaiting_payment":
            assert order["paymentDate"] is not None and order["amountPaid"] == order["orderTotal"]


async def test_deleted_orders_vanish_from_lists_and_gets(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.mutations = workload = only("deletes", seed=2, per_request=5)
    body = await orders_page(session, sortBy="CreateDate", pageSize=500)
    gone = workload.order_ids("delete")
    assert len(set(gone)) == 5
    assert body["total"] == 295 and len(body["orders"]) == 295
    assert not set(gone) & set(ids(body["orders"]))
    sandbox.mutations = None
    for order_id in gone:
        status, _ = await call(session, "GET", f"/orders/{order_id}")
        assert status == 404
        assert sandbox.world.get("orders", order_id) is not None  # soft: still stored
    body = await orders_page(session, pageSize=100, page=3)
    assert (body["total"], body["pages"]) == (295, 3) and len(body["orders"]) == 95


async def test_the_burst_puts_more_than_a_page_in_one_second(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.mutations = workload = MutationWorkload(
        seed=1, per_request=0, burst_after=1, burst_size=600
    )
    body = await orders_page(session, pageSize=1)
    assert body["total"] == 300 and workload.log == []
    body = await orders_page(session, pageSize=1)
    assert body["total"] == 900
    sandbox.mutations = None
    burst = workload.log
    assert len(burst) == 600 and {(m.kind, m.request) for m in burst} == {("burst", 2)}
    seconds = {m.create_date[:19] for m in burst}
    assert len(seconds) == 1
    creates = [ts(m.create_date) for m in burst]
    assert all(a <= b for a, b in itertools.pairwise(creates))
    assert [m.order_id for m in burst] == sorted(m.order_id for m in burst)
    # Listed by createDate within that second: two pages, ties by orderId.
    second = seconds.pop().replace("T", " ")
    params = {"createDateStart": second, "createDateEnd": second + ".999", "sortBy": "CreateDate"}
    first = await orders_page(session, pageSize=500, **params)
    rest = await orders_page(session, pageSize=500, page=2, **params)
    assert (first["total"], first["pages"]) == (600, 2)
    assert ids(first["orders"] + rest["orders"]) == [m.order_id for m in burst]


async def test_a_burst_with_one_timestamp_ties_on_order_id() -> None:
    workload = MutationWorkload(per_request=0, burst_after=0, burst_size=520, burst_distinct=1)
    async with make_sandbox(orders=20, mutations=workload) as sb, await session_for(sb) as s:
        body = await orders_page(s, sortBy="CreateDate", sortDir="DESC", pageSize=500)
        assert body["total"] == 540
        assert len({m.create_date for m in workload.log}) == 1
        burst_ids = [m.order_id for m in workload.log]
        assert ids(body["orders"][:500]) == burst_ids[::-1][:500]  # DESC: exact reverse
        body = await orders_page(s, sortBy="CreateDate", pageSize=500, page=2)
        assert ids(body["orders"])[-20:] == burst_ids[-20:]
        stamp = workload.log[0].create_date.replace("T", " ")[:23]
        body = await orders_page(s, createDateStart=stamp, createDateEnd=stamp, pageSize=500)
        assert body["total"] == 520


async def test_ships_add_shipments_and_fulfillments_at_the_end() -> None:
    workload = only("ships", seed=4, per_request=12)
    async with make_sandbox(mutations=workload) as sb, await session_for(sb) as s:
        _, shipments = await call(s, "GET", "/shipments", sortBy="CreateDate", pageSize=500)
        sb.mutations = None
        shipped = workload.log
        assert {m.kind for m in shipped} == {"ship"} and len(shipped) == 12
        labels = [m for m in shipped if m.shipment_id is not None]
        marks = [m for m in shipped if m.fulfillment_id is not None]
        assert labels and len(labels) + len(marks) == 12
        assert [x["shipmentId"] for x in shipments["shipments"][-len(labels) :]] == [
            m.shipment_id for m in labels
        ]
        _, fulfillments = await call(s, "GET", "/fulfillments", sortDir="DESC", pageSize=500)
        newest = [f["fulfillmentId"] for f in fulfillments["fulfillments"][: len(marks)]]
        assert newest == [m.fulfillment_id for m in marks][::-1]
        for m in shipped:
            assert m.previous_status == "awaiting_shipment" and m.order_status == "shipped"
            _, order = await call(s, "GET", f"/orders/{m.order_id}")
            assert order["orderStatus"] == "shipped" and order["shipDate"] is not None
            assert ts(order["modifyDate"]) > FIXED_END
        shipment_orders = {x["orderId"] for x in shipments["shipments"]}
        assert {m.order_id for m in labels} <= shipment_orders


def signature(log: list[Mutation]) -> list[tuple[Any, ...]]:
    """What a seed decides: everything but the clock's timestamps."""
    return [
        (m.request, m.kind, m.order_id, m.order_status, m.previous_status, m.shipment_id)
        for m in log
    ]


def run_workload(seed: int, requests: int = 12) -> MutationWorkload:
    world = World(orders=500, seed=9, end=FIXED_END)
    workload = MutationWorkload(seed=seed, per_request=4, ships=0.5, burst_after=5, burst_size=30)
    for k in range(requests):
        workload.apply(world, ("/orders", "/shipments/", "/FULFILLMENTS")[k % 3])
    return workload


def test_same_seed_same_mutations_different_seed_different() -> None:
    a, b, c = run_workload(1), run_workload(1), run_workload(2)
    assert a.requests == 12 and len(a.log) == 12 * 4 + 30
    assert set(a.counts()) == {"insert", "modify", "status", "delete", "ship", "burst"}
    assert signature(a.log) == signature(b.log)
    assert signature(a.log) != signature(c.log)
    assert [m.path for m in a.log[:5]] == ["/orders"] * 4 + ["/shipments"]
    # Untouched paths and detached workloads count nothing.
    assert a.apply(World(orders=5, seed=1, end=FIXED_END), "/products") == []
    assert a.requests == 12


async def test_same_seed_same_mutations_through_http() -> None:
    logs = []
    for _ in range(2):
        workload = MutationWorkload(seed=8, per_request=3, burst_after=2, burst_size=10)
        async with make_sandbox(mutations=workload) as sb, await session_for(sb) as s:
            for page in (1, 2, 3, 4):
                await orders_page(s, sortBy="ModifyDate", page=page, pageSize=50)
        logs.append(signature(workload.log))
    assert logs[0] == logs[1] and len(logs[0]) == 4 * 3 + 10


async def keyset_walk(
    session: aiohttp.ClientSession, start: str, end: str, page_size: int
) -> list[Order]:
    """List by a createDate cursor: each page starts at the last createDate seen."""
    out: list[Order] = []
    seen: set[int] = set()
    cursor = start
    while True:
        body = await orders_page(
            session,
            sortBy="CreateDate",
            sortDir="ASC",
            createDateStart=cursor,
            createDateEnd=end,
            page=1,
            pageSize=page_size,
        )
        page = body["orders"]
        out += [o for o in page if o["orderId"] not in seen]
        seen |= set(ids(page))
        if len(page) < page_size:
            return out
        assert page[-1]["createDate"] != cursor, "a tie group larger than a page"
        cursor = page[-1]["createDate"]


async def offset_walk(session: aiohttp.ClientSession, page_size: int, **params: Any) -> list[int]:
    """The naive client: page 1, 2, ... of one sorted, filtered listing."""
    out: list[int] = []
    page, pages = 1, 1
    while page <= pages:
        body = await orders_page(session, page=page, pageSize=page_size, **params)
        out += ids(body["orders"])
        pages = math.ceil(body["total"] / page_size)
        page += 1
    return out


MIXED = {"per_request": 3, "inserts": 1.0, "modifies": 2.0, "status_changes": 2.0}


async def test_a_create_date_keyset_walk_lists_each_lasting_order_once() -> None:
    workload = MutationWorkload(seed=21, deletes=0.5, **MIXED)
    async with make_sandbox(orders=1200, mutations=workload) as sb, await session_for(sb) as s:
        generated = [sb.world.orders.at(i) for i in range(1200)]
        start = generated[0]["createDate"]
        walked = await keyset_walk(s, start, END_TEXT, page_size=100)
    deleted = set(workload.order_ids("delete"))
    lasting = set(ids(generated)) - deleted
    assert workload.requests >= 12 and deleted and workload.counts()["insert"] > 0
    walked_ids = ids(walked)
    assert len(walked_ids) == len(set(walked_ids))  # no duplicates
    assert lasting <= set(walked_ids) <= set(ids(generated))  # nothing lost, nothing new
    assert walked == sorted(walked, key=sort_key("createDate"))


async def test_naive_offset_walks_lose_orders_under_the_same_workload() -> None:
    # Without changes the naive walks are exact: what follows is the workload's doing.
    async with make_sandbox(orders=1200) as sb, await session_for(sb) as s:
        walked = await offset_walk(s, 100, sortBy="ModifyDate")
        assert sorted(walked) == [sb.world.orders.order_id(i) for i in range(1200)]
    # Sorted by ModifyDate: every modified order jumps to the end, shifting later pages.
    workload = MutationWorkload(seed=21, deletes=0.0, **MIXED)
    async with make_sandbox(orders=1200, mutations=workload) as sb, await session_for(sb) as s:
        generated = set(ids([sb.world.orders.at(i) for i in range(1200)]))
        walked = await offset_walk(s, 100, sortBy="ModifyDate")
    assert generated - set(walked), "a ModifyDate offset walk lost nothing"
    assert len(walked) != len(set(walked)), "modified orders are listed twice"
    # Filtered by status: orders leaving awaiting_shipment shift the pages behind them.
    workload = only("status_changes", seed=5, per_request=10)
    async with make_sandbox(orders=1200, mutations=workload) as sb, await session_for(sb) as s:
        waiting = {
            sb.world.orders.order_id(i)
            for i in range(1200)
            if sb.world.orders.status(i) == "awaiting_shipment"
        }
        walked = await offset_walk(s, 50, orderStatus="awaiting_shipment")
    still_waiting = waiting - set(workload.order_ids())
    assert still_waiting - set(walked), "a status-filtered offset walk lost nothing"


async def test_totals_and_pages_follow_the_changes(sandbox: Sandbox) -> None:
    sandbox.mutations = MutationWorkload(seed=13, per_request=5, deletes=1.0)
    async with await session_for(sandbox) as s:
        for _ in range(6):
            body = await orders_page(s, sortBy="CreateDate", pageSize=70)
            live = sandbox.world.orders.live_count()
            assert body["total"] == live and body["pages"] == math.ceil(live / 70)
            body = await orders_page(s, orderStatus="awaiting_shipment", pageSize=500)
            expected = [
                sandbox.world.orders.order_id(i)
                for i in range(len(sandbox.world.orders))
                if sandbox.world.orders.is_live(i)
                and sandbox.world.orders.status(i) == "awaiting_shipment"
            ]
            assert sorted(ids(body["orders"])) == sorted(expected)
            assert body["total"] == len(expected)


async def test_the_log_over_the_control_api(sandbox: Sandbox) -> None:
    async with await session_for(sandbox) as s:
        _, body = await call(s, "GET", "/__sandbox/mutations")
        assert body == {"attached": False, "requests": 0, "counts": {}, "log": []}
        sandbox.mutations = workload = MutationWorkload(seed=1, per_request=2)
        await orders_page(s, pageSize=1)
        _, body = await call(s, "GET", "/__sandbox/mutations")
    assert body["attached"] is True and body["requests"] == 1
    assert body["log"] == [m.to_json() for m in workload.log] and len(body["log"]) == 2
    assert sum(body["counts"].values()) == 2


def test_threaded_sandbox_takes_and_swaps_a_workload() -> None:
    world = World(orders=40, seed=1, end=FIXED_END)
    workload = only("inserts", per_request=1)
    with ThreadedSandbox(world=world, rate_limit=ROOMY, mutations=workload) as sb:
        assert sb.mutations is workload
        import urllib.request

        request = urllib.request.Request(
            f"{sb.url}/orders?pageSize=1", headers=auth_headers(sb.sandbox)
        )
        with urllib.request.urlopen(request) as r:
            assert r.status == 200
        sb.mutations = None
        with urllib.request.urlopen(request) as r:
            assert r.status == 200
    assert workload.requests == 1 and len(world.orders) == 41


def test_workload_arguments_are_checked() -> None:
    for bad in (
        {"per_request": -1},
        {"inserts": -1.0},
        {"inserts": 0.0, "modifies": 0.0, "status_changes": 0.0, "deletes": 0.0},
        {"burst_after": -1},
        {"burst_size": 0},
        {"burst_distinct": 1001},
        {"max_backdate_days": 0},
    ):
        with pytest.raises(ValueError):
            MutationWorkload(**bad)  # type: ignore[arg-type]
    assert MutationWorkload(per_request=0, inserts=0.0, modifies=0.0, status_changes=0.0)


def test_touch_patches_generated_orders_without_materialising_them() -> None:
    world = World(orders=50, seed=1, end=FIXED_END)
    orders = world.orders
    before = orders.at(10)
    changed = orders.touch(before["orderId"], {"modifyDate": "2030-01-01T00:00:00.0000000"})
    assert changed == {**before, "modifyDate": "2030-01-01T00:00:00.0000000"}
    assert orders.get(before["orderId"]) == changed
    with pytest.raises(ValueError):
        orders.touch(before["orderId"], {"createDate": "2001-01-01"})
    with pytest.raises(KeyError):
        orders.touch(1, {"modifyDate": "2030-01-01"})
    # A later put starts from the patched order and keeps createDate.
    stored = orders.put({"orderId": before["orderId"], "internalNotes": "x"})
    assert stored["createDate"] == before["createDate"] and stored["internalNotes"] == "x"
    assert ts(stored["modifyDate"]) > FIXED_END
