"""Dense seconds, tie ordering, list order under every kind of change, worlds across processes,
and scale."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import attrs
import pytest

from shipstation_async.errors import ConfigurationError
from shipstation_async.sandbox import MutationWorkload, Sandbox, World
from shipstation_async.sandbox._time import parse_ts
from shipstation_async.sandbox.standalone import build_parser, serve
from shipstation_async.sandbox.state.shipments import ShipmentQuery
from shipstation_async.sandbox.world import OrderQuery, SortBy

from .conftest import ROOMY
from .helpers import FIXED_END, auth_headers, call, ts

Order = dict[str, Any]
SPEC = ((500, 620), (2000, 700, 1), (2800, 120, 12))


def test_dense_seconds_share_one_second_and_never_fall() -> None:
    w = World(orders=3000, seed=4, end=FIXED_END, dense_seconds=SPEC)
    creates = [w.orders.create_ms(i) for i in range(3000)]
    assert all(a <= b for a, b in itertools.pairwise(creates))
    for index, count, *rest in SPEC:
        run = creates[index : index + count]
        assert len({c // 1000 for c in run}) == 1, (index, count)
        assert run[0] % 1000 == 0  # the run opens a whole second
        distinct = rest[0] if rest else min(count, 1000)
        assert len(set(run)) == distinct
        assert creates[index - 1] < run[0] and run[-1] < creates[index + count]
    outside = [c for i, c in enumerate(creates) if not any(a <= i < a + n for a, n, *_ in SPEC)]
    assert all(a < b for a, b in itertools.pairwise(outside))
    # The orders themselves say so, and their other dates stay consistent.
    o = w.orders.at(2000)
    assert all(w.orders.at(i)["createDate"] == o["createDate"] for i in (2001, 2350, 2699))
    for i in (499, 500, 1119, 1120, 2699):
        order = w.orders.at(i)
        assert ts(order["orderDate"]) <= ts(order["createDate"]) <= ts(order["modifyDate"])
    assert w.orders.dense_seconds == [(500, 620, 620), (2000, 700, 1), (2800, 120, 12)]


def test_dense_shipments_fall_in_the_next_second_and_filters_bisect() -> None:
    w = World(orders=3000, seed=4, end=FIXED_END, dense_seconds=SPEC)
    ships = [w.orders.ship_ms(i) for i in range(3000)]
    assert all(a <= b for a, b in itertools.pairwise(ships))
    assert all(s >= w.orders.create_ms(i) for i, s in enumerate(ships))
    run_second = w.orders.create_ms(500) // 1000
    assert {ships[i] // 1000 for i in range(500, 1120)} == {run_second + 1}
    labelled = [i for i in range(500, 1120) if w.orders.ship_kind(i) == "label"]
    lo, hi = (run_second + 1) * 1000, (run_second + 1) * 1000 + 999
    page, total = w.shipments.query(ShipmentQuery(create_start=lo, create_end=hi, page_size=500))
    assert total == len(labelled) > 200
    assert [s["orderId"] for s in page] == [w.orders.order_id(i) for i in labelled[:500]]


def test_bad_dense_seconds_are_refused() -> None:
    for spec in (
        ((10, 0),),  # empty
        ((-1, 5),),
        ((95, 10),),  # past the end
        ((10, 20), (25, 5)),  # overlapping
        ((10, 20, 0),),
        ((10, 20, 21),),  # more distinct stamps than orders
    ):
        with pytest.raises(ValueError):
            World(orders=100, seed=1, end=FIXED_END, dense_seconds=spec)
    # Too little room: 100 orders over one day leave 864 s per order; 2 orders cover < 2 s.
    with pytest.raises(ValueError, match="more than two seconds"):
        World(orders=100_000, seed=1, end=FIXED_END, span_days=1, dense_seconds=((10, 2),))
    with pytest.raises(ConfigurationError):
        Sandbox(orders=100, dense_seconds=((95, 10),))
    with pytest.raises(ConfigurationError):
        Sandbox(world=World(orders=5, seed=1, end=FIXED_END), world_end=FIXED_END)


Row = tuple[int, int, int | None, int | None, str]  # orderId, create, modify, order, status


def snapshot(world: World) -> list[Row]:
    """Every live order as (orderId, createDate, modifyDate, orderDate, status), from JSON."""
    orders = world.orders

    def ms(value: str | None) -> int | None:
        return None if value is None else parse_ts(value)

    rows = []
    for i in range(len(orders)):
        if orders.is_live(i):
            o = orders.at(i)
            rows.append(
                (
                    o["orderId"],
                    parse_ts(o["createDate"]),
                    ms(o["modifyDate"]),
                    ms(o["orderDate"]),
                    o["orderStatus"],
                )
            )
    return rows


def brute_force(rows: list[Row], q: OrderQuery) -> tuple[list[int], int]:
    """The documented order: live matching orders by (key, orderId); DESC reverses it."""
    lo, hi = q.create_start, q.create_end
    kept = [
        r
        for r in rows
        if (lo is None or r[1] >= lo)
        and (hi is None or r[1] <= hi)
        and (q.order_status is None or r[4] == q.order_status)
    ]
    column = {None: None, "CreateDate": 1, "ModifyDate": 2, "OrderDate": 3}[q.sort_by]

    def key(r: Row) -> tuple[int, int]:
        value = r[column] if column is not None else 0
        return (-1 if value is None else value, r[0])

    kept.sort(key=key)
    if q.sort_desc:
        kept.reverse()
    first = (q.page - 1) * q.page_size
    return [r[0] for r in kept[first : first + q.page_size]], len(kept)


@pytest.mark.cpu_bound
def test_list_order_matches_a_brute_force_reference_under_changes() -> None:
    w = World(orders=3000, seed=4, end=FIXED_END, dense_seconds=SPEC)
    orders = w.orders
    rng = random.Random(99)
    # Orders added by hand with createDates among the generated ones: equal ones (ties on
    # createDate, decided by orderId either way), and orderIds below and above.
    for k in range(12):
        i = rng.randrange(3000)
        free = next(x for x in range(orders.order_id(i) - 4, 10**9) if orders.get(x) is None)
        order_id = free if k % 2 else 1_000 + k
        w.add_order(
            orderId=order_id,
            orderNumber=f"HAND-{k}",
            orderStatus="awaiting_shipment",
            createDate=orders.at(i)["createDate"],
        )
    workload = MutationWorkload(seed=3, per_request=6, ships=0.5, burst_after=2, burst_size=40)
    for _ in range(8):
        workload.apply(w, "/orders")
    for _ in range(40):
        orders.delete(orders.order_id(rng.randrange(3000)))
    assert len(orders._deleted_gen) > 30 and orders._patches
    rows = snapshot(w)
    lo_ms = orders.create_ms(400)
    checked = 0
    sorts: tuple[SortBy | None, ...] = (None, "CreateDate", "ModifyDate", "OrderDate")
    for sort_by, desc, ranged, status in itertools.product(
        sorts, (False, True), (False, True), (None, "awaiting_shipment")
    ):
        for page_size in (1, 7, 500):
            span = orders.create_ms(2100) - lo_ms
            q = OrderQuery(
                create_start=lo_ms if ranged else None,
                create_end=lo_ms + span if ranged else None,
                order_status=status,
                sort_by=sort_by,
                sort_desc=desc,
                page_size=page_size,
                page=1,
            )
            _, total = brute_force(rows, q)
            pages = max(1, -(-total // page_size))
            for page in sorted({1, 2, pages // 2 + 1, pages, pages + 1}):
                q2 = attrs.evolve(q, page=page)
                # The selection alone (materialising 500-order pages would be slow here).
                got, got_total = orders._select(q2)
                expected, _ = brute_force(rows, q2)
                assert got_total == total, q2
                assert [orders.order_id(i) for i in got] == expected, q2
                checked += 1
    assert checked > 200
    page, total = orders.query(OrderQuery(sort_by="CreateDate", page=3, page_size=50))
    expected, expected_total = brute_force(
        rows, OrderQuery(sort_by="CreateDate", page=3, page_size=50)
    )
    assert [o["orderId"] for o in page] == expected and total == expected_total


async def test_ties_come_by_order_id_over_http() -> None:
    world = World(orders=1200, seed=2, end=FIXED_END, dense_seconds=((100, 900, 3),))
    stamp = world.orders.at(400)["createDate"]
    # Two orders added by hand on the same timestamp, one with a lower orderId than all.
    low = world.add_order(orderId=777, orderNumber="LOW", createDate=stamp)
    high = world.add_order(orderNumber="HIGH", createDate=stamp)
    tied = [
        world.orders.order_id(i) for i in range(1200) if world.orders.at(i)["createDate"] == stamp
    ]
    expected = sorted([*tied, low["orderId"], high["orderId"]])
    assert expected[0] == 777 and len(expected) == 302
    async with (
        Sandbox(world=world, rate_limit=ROOMY) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        when = stamp.replace("T", " ")[:23]
        params = {"createDateStart": when, "createDateEnd": when, "sortBy": "CreateDate"}
        _, body = await call(s, "GET", "/orders", pageSize=200, **params)
        _, body2 = await call(s, "GET", "/orders", pageSize=200, page=2, **params)
        assert body["total"] == 302
        assert [o["orderId"] for o in body["orders"] + body2["orders"]] == expected
        _, desc = await call(s, "GET", "/orders", pageSize=5, sortDir="DESC", **params)
        assert [o["orderId"] for o in desc["orders"]] == expected[::-1][:5]
        # The whole second: 900 orders over 3 timestamps, by (createDate, orderId).
        second = stamp[:19].replace("T", " ")
        params = {"createDateStart": second, "createDateEnd": second + ".999"}
        _, body = await call(s, "GET", "/orders", pageSize=500, sortBy="CreateDate", **params)
        assert body["total"] == 902 and body["pages"] == 2
        keys = [(o["createDate"], o["orderId"]) for o in body["orders"]]
        assert keys == sorted(keys) and len({k[0] for k in keys}) >= 2


def world_digest(orders: int, seed: int, end: datetime, dense: Any) -> str:
    """A digest of a world's orders, shipments, fulfillments, customers and stores."""
    w = World(orders=orders, seed=seed, end=end, dense_seconds=dense)
    parts: list[Any] = [w.stores, w.warehouses, w.list_carriers(), w.list_users()]
    parts += [
        w.orders.query(OrderQuery(page=p, page_size=500, sort_by="CreateDate")) for p in (1, 4)
    ]
    parts.append(w.shipments.query(ShipmentQuery(page=2, page_size=200)))
    parts.append([w.customers.get(w.orders.at(i)["customerId"]) for i in (0, 999, 1999)])
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@pytest.mark.cpu_bound
def test_same_seed_orders_and_end_give_the_same_world_in_another_process() -> None:
    dense = ((700, 620),)
    here = world_digest(2000, 5, FIXED_END, dense)
    code = (
        "import sys; from datetime import datetime; sys.path.insert(0, sys.argv[1]);"
        "from tests.sandbox.test_dense_and_order import world_digest;"
        "print(world_digest(2000, 5, datetime(2025, 6, 1, 12), ((700, 620),)))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "TZ": "Asia/Tokyo", "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, root], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == here
    assert world_digest(2000, 6, FIXED_END, dense) != here
    assert world_digest(2000, 5, FIXED_END + timedelta(hours=1), dense) != here
    # An aware end is the same instant in Pacific wall-clock time.
    aware = datetime(2025, 6, 1, 19, 0, tzinfo=UTC)  # 12:00 PDT
    assert world_digest(2000, 5, aware, dense) == here


async def test_sandbox_world_end_and_the_end_option() -> None:
    a = Sandbox(orders=50, seed=3, world_end=FIXED_END)
    b = World(orders=50, seed=3, end=FIXED_END)
    assert (
        a.world.orders.at(49) == b.orders.at(49) and a.world.orders.end_iso == "2025-06-01T12:00:00"
    )
    args = build_parser().parse_args(["--end", "2025-06-01T12:00:00", "--dense", "10:20:2"])
    assert args.end == FIXED_END and args.dense == [(10, 20, 2)]
    args = build_parser().parse_args(["--end", "2025-06-01 19:00+00:00", "--dense", "3:4"])
    assert args.end == datetime(2025, 6, 1, 19, tzinfo=UTC) and args.dense == [(3, 4)]
    for bad in (["--end", "June 1st"], ["--dense", "3"], ["--dense", "a:b"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(bad)
    import asyncio

    started: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(port=0, orders=50, seed=3, end=FIXED_END, ready=started.set_result)
    )
    try:
        sb = await asyncio.wait_for(started, 5)
        async with aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s:
            _, body = await call(s, "GET", "/orders", sortDir="DESC", pageSize=1)
        assert body["orders"] == [b.orders.at(49)]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.cpu_bound
async def test_a_million_orders_with_a_dense_second_and_a_workload_page_fast() -> None:
    world = World(orders=1_000_000, seed=3, end=FIXED_END, dense_seconds=((600_000, 620),))
    workload = MutationWorkload(seed=1, per_request=3, deletes=1.0, burst_after=0)
    second = world.orders.at(600_000)["createDate"][:19].replace("T", " ")
    start = parse_ts(second)
    params = {
        "createDateStart": second,
        "createDateEnd": (ts(second) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S"),
        "sortBy": "CreateDate",
        "sortDir": "ASC",
        "pageSize": 500,
    }
    pages = []
    timings = []
    async with (
        Sandbox(world=world, rate_limit=ROOMY, max_date_range_days=None, mutations=workload) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        for page in (1, 2, 3):
            t0 = time.perf_counter()
            status, body = await call(s, "GET", "/orders", page=page, **params)
            timings.append(time.perf_counter() - t0)
            assert status == 200 and len(body["orders"]) == 500
            pages.append(body)
    assert min(timings) < 0.25, timings  # about 0.05 s on a 2-core machine
    assert len(workload.log) == 600 + 3 * 3 and workload.counts()["burst"] == 600
    # Page 1 and the start of page 2 are the dense second, by orderId, less the deleted.
    deleted = set(workload.order_ids("delete"))
    run = [world.orders.order_id(i) for i in range(600_000, 600_620)]
    live_run = [x for x in run if x not in deleted]
    listed = [o["orderId"] for p in pages for o in p["orders"]]
    assert listed[: len(live_run)] == live_run
    assert {o["createDate"][:19] for o in pages[0]["orders"]} == {second.replace(" ", "T")}
    creates = [o["createDate"] for p in pages for o in p["orders"]]
    assert creates == sorted(creates)
    # The total is the 30 days' orders less the deleted ones in them (bisected, not scanned).
    lo = world.orders.index_of(run[0])
    end = parse_ts(params["createDateEnd"])
    hi = next(i for i in range(lo, 1_000_000) if world.orders.create_ms(i) > end)
    dead = sum(1 for x in deleted if lo <= (world.orders.index_of(x) or -1) < hi)
    assert pages[-1]["total"] == hi - lo - dead > 20_000
    assert start == world.orders.create_ms(600_000)
