"""Orders served as kept JSON bytes: the same bytes as the dicts, never stale after a write."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import aiohttp
import pytest

from shipstation_async.sandbox import Sandbox, World
from shipstation_async.sandbox.data import order_bytes
from shipstation_async.sandbox.data.order_builder import build_generated_order
from shipstation_async.sandbox.data.order_bytes import OrderBytes
from shipstation_async.sandbox.encoding import encode_json, join_paged
from shipstation_async.sandbox.state import order_cache, order_reads
from shipstation_async.sandbox.state.order_cache import EncodedOrders
from shipstation_async.sandbox.world import OrderQuery

from .conftest import ROOMY
from .helpers import FIXED_END, auth_headers


def dumped(value: Any) -> bytes:
    """What the sandbox's responses wrote before orders were kept as bytes."""
    return json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("orders", "seed", "dense"),
    [(2000, 3, ()), (30_000, 1, ((12_000, 900, 7),)), (400_000, 99, ())],
)
def test_generated_order_bytes_are_the_dicts_encoded(
    orders: int, seed: int, dense: tuple[tuple[int, int, int], ...]
) -> None:
    world = World(orders=orders, seed=seed, end=FIXED_END, dense_seconds=dense)
    writer = OrderBytes(world.orders)
    step = max(1, orders // 1500)
    indices = [*range(0, orders, step), orders - 1, *range(12_000, 12_050)]
    for i in (i for i in indices if i < orders):
        assert writer.order(i) == dumped(build_generated_order(world.orders, i)), i


def page_of(world: World, q: OrderQuery) -> bytes:
    encoded, total = world.orders.query_encoded(q)
    return join_paged("orders", encoded, total=total, page=q.page, pages=1)


def reference(world: World, q: OrderQuery) -> bytes:
    orders, total = world.orders.query(q)
    return dumped({"orders": orders, "total": total, "page": q.page, "pages": 1})


QUERIES = [
    OrderQuery(page_size=500),
    OrderQuery(sort_by="CreateDate", page=2, page_size=300),
    OrderQuery(sort_by="ModifyDate", sort_desc=True, page_size=200),
    OrderQuery(order_status="on_hold", page_size=100),
    OrderQuery(item_keyword="mug", page_size=100),
]


def test_pages_match_the_dicts_and_follow_every_kind_of_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(orders=1200, seed=4, end=FIXED_END)
    orders = world.orders
    for q in QUERIES:  # read once: every order on these pages is now kept
        assert page_of(world, q) == reference(world, q)
    assert len(orders.encoded) > 0
    # touch (a patch over a generated order), put (an overlay), delete, a new order
    orders.touch(orders.order_id(0), {"orderStatus": "on_hold", "internalNotes": "caf\u00e9"})
    changed = orders.at(1)
    changed["customerNotes"] = "new \u2603 note"
    orders.put(changed)
    orders.delete(orders.order_id(2))
    added = orders.at(3)
    for key in ("orderId", "orderKey"):
        added.pop(key)
    added["orderNumber"] = "ADDED-1"
    orders.put(added)
    for q in QUERIES:
        assert page_of(world, q) == reference(world, q)
    first = json.loads(page_of(world, QUERIES[0]))["orders"]
    assert first[0]["orderStatus"] == "on_hold" and first[0]["internalNotes"] == "caf\u00e9"
    assert first[1]["customerNotes"] == "new \u2603 note"
    assert orders.order_id(2) not in {o["orderId"] for o in first}
    # A hold that ends on its own (at a read) changes the order the cache kept.
    held = orders.at(5)
    held.update(orderStatus="on_hold", holdUntilDate="2030-01-01T00:00:00.0000000")
    orders.put(held)
    assert json.loads(page_of(world, QUERIES[0]))["orders"][4]["orderStatus"] == "on_hold"
    later = order_reads.now_ms() + 10 * 365 * 86_400_000
    monkeypatch.setattr(order_reads, "now_ms", lambda: later)
    assert json.loads(page_of(world, QUERIES[0]))["orders"][4]["orderStatus"] == (
        "awaiting_shipment"
    )
    for q in QUERIES:
        assert page_of(world, q) == reference(world, q)


def test_the_next_page_is_built_ahead_and_a_write_still_shows() -> None:
    world = World(orders=6000, seed=8, end=FIXED_END)
    orders = world.orders
    q = OrderQuery(sort_by="CreateDate", page=2, page_size=500)
    page_of(world, q)
    assert orders.encoded.settle()
    # A page read out of the blue: only the next one is built ahead.
    assert all(i in orders.encoded for i in range(1000, 1500))  # page 3, not read yet
    assert 1500 not in orders.encoded
    built = orders.encoded.built
    target = orders.order_id(1200)
    orders.touch(target, {"orderStatus": "cancelled"})
    nxt = OrderQuery(sort_by="CreateDate", page=3, page_size=500)
    assert page_of(world, nxt) == reference(world, nxt)
    assert orders.encoded.settle()
    # Page 3 went on from page 2: a walking reader, with AHEAD_PAGES pages built ahead of it.
    # Only the changed order was encoded again, besides those pages.
    ahead = order_reads.AHEAD_PAGES * 500
    assert orders.encoded.built == built + 1 + ahead
    assert all(i in orders.encoded for i in range(1500, 1500 + ahead))
    assert 1500 + ahead not in orders.encoded
    descending = OrderQuery(sort_by="CreateDate", sort_desc=True, page=1, page_size=500)
    page_of(world, descending)
    assert orders.encoded.settle()
    assert all(i in orders.encoded for i in range(5000, 5500))
    assert 4999 not in orders.encoded
    filtered = OrderQuery(sort_by="CreateDate", order_status="shipped", page_size=100)
    before = set(range(6000)) - {i for i in range(6000) if i in orders.encoded}
    page_of(world, filtered)
    assert orders.encoded.settle()
    # A filtered page is kept, but nothing is built ahead of it (its next page is unknown).
    shown = {orders.index_of(o["orderId"]) for o in orders.query(filtered)[0]}
    assert {i for i in before if i in orders.encoded} == shown & before


def test_a_page_read_again_is_not_a_walk() -> None:
    """Reading the same pages again builds one page ahead of each, as a first read does."""
    world = World(orders=6000, seed=8, end=FIXED_END)
    orders = world.orders
    for page in (2, 6, 2, 6):
        page_of(world, OrderQuery(sort_by="CreateDate", page=page, page_size=500))
        assert orders.encoded.settle()
    kept = {i for i in range(6000) if i in orders.encoded}
    assert kept == {*range(500, 1500), *range(2500, 3500)}


def test_a_keyset_walker_finds_its_next_pages_built() -> None:
    """A walker moving its createDate start (as the streams do) counts as walking."""
    world = World(orders=8000, seed=4, end=FIXED_END)
    orders = world.orders
    start = orders.create_ms(1000)
    for step in range(3):
        q = OrderQuery(sort_by="CreateDate", create_start=start, page_size=500)
        got, _total = orders.query_encoded(q)
        assert orders.encoded.settle()
        last = orders.index_of(json.loads(got[-1])["orderId"])
        assert last is not None
        ahead = (order_reads.AHEAD_PAGES if step else 1) * 500
        assert all(i in orders.encoded for i in range(last + 1, last + 1 + ahead)), step
        assert last + 1 + ahead not in orders.encoded
        start = orders.create_ms(last)  # the next request starts within the page just read


def test_the_kept_bytes_stay_within_their_budget() -> None:
    world = World(orders=2000, seed=2, end=FIXED_END)
    world.orders.encoded.budget = 200_000  # about 70 orders
    for page in range(1, 9):
        q = OrderQuery(sort_by="CreateDate", page=page, page_size=250)
        assert page_of(world, q) == reference(world, q)
        assert world.orders.encoded.settle()
        assert world.orders.encoded._size <= 200_000
        assert 0 < len(world.orders.encoded) <= 100


async def test_list_bodies_are_the_envelope_encoded() -> None:
    world = World(orders=1500, seed=6, end=FIXED_END)
    async with (
        Sandbox(world=world, rate_limit=ROOMY) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as session,
    ):
        tag = world.tag_ids[0]
        for path, params, q in (
            ("/orders", {"pageSize": "500", "page": "2"}, OrderQuery(page=2, page_size=500)),
            (
                "/orders/listbytag",
                {"orderStatus": "shipped", "tagId": str(tag)},
                OrderQuery(order_status="shipped", tag_id=tag),
            ),
        ):
            for _ in range(2):  # built, then kept
                async with session.get(path, params=params) as r:
                    assert r.status == 200
                    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
                    body = await r.read()
                orders, total = world.orders.query(q)
                pages = math.ceil(total / q.page_size)
                envelope = {"orders": orders, "total": total, "page": q.page, "pages": pages}
                assert body == dumped(envelope) == encode_json(envelope)


def test_a_page_with_no_orders_is_an_empty_list() -> None:
    assert join_paged("orders", [], total=0, page=1, pages=0) == dumped(
        {"orders": [], "total": 0, "page": 1, "pages": 0}
    )
    world = World(orders=10, seed=1, end=FIXED_END)
    q = OrderQuery(create_start=0, create_end=1)
    assert page_of(world, q) == reference(world, q)


def test_the_read_ahead_builds_every_readers_next_page_first() -> None:
    """Concurrent walkers: each one's next page is built before any page after a next page."""
    lock = threading.RLock()
    built: list[int] = []

    def build(i: int) -> bytes:
        built.append(i)
        return b"{}"

    cache = EncodedOrders(build, lambda i: True, lock)
    with lock:  # both readers queued before the worker builds anything
        cache.read_ahead(range(0, 400), 100)
        cache.read_ahead(range(1000, 1400), 100)
    assert cache.settle()
    assert sorted(built) == [*range(0, 400), *range(1000, 1400)]
    position = {i: n for n, i in enumerate(built)}
    next_pages = [*range(0, 100), *range(1000, 1100)]
    later_pages = [*range(100, 400), *range(1100, 1400)]
    assert max(position[i] for i in next_pages) < min(position[i] for i in later_pages)
    # Each reader's pages come in order: its second page before its third.
    assert max(position[i] for i in range(100, 200)) < min(position[i] for i in range(200, 300))


def test_customers_written_from_their_hash_are_the_people_encoded() -> None:
    """Every first and last name, city and company: as make_person's Person encodes."""
    gen = World(orders=60_000, seed=12, end=FIXED_END).orders
    for c in range(0, 2 * gen.customer_pool, 3):
        person = gen.customer(c)
        written = order_bytes._Customer(c, gen.customer_hash_of(c))
        assert written.address.encode() == dumped(person.address()), c
        bill_to = {**person.address(), "addressVerified": None}
        assert written.bill_to_full.encode() == dumped(bill_to), c
        name_only = {"name": person.name, **dict.fromkeys(list(bill_to)[1:])}
        assert written.bill_to_name.encode() == dumped(name_only), c
        assert (written.id, written.email) == (str(person.customer_id), json.dumps(person.email))
        assert written.us == (person.country == "US")


def test_a_prebuild_comes_after_every_page_a_reader_is_owed() -> None:
    lock = threading.RLock()
    built: list[int] = []

    def build(i: int) -> bytes:
        built.append(i)
        return b"{}"

    cache = EncodedOrders(build, lambda i: i != 7, lock)
    with lock:  # both queued before the worker builds anything
        cache.prebuild(range(0, 300))
        cache.read_ahead(range(200, 300), 100)
    assert cache.settle()
    assert built[:100] == list(range(200, 300))  # the reader's page first
    assert sorted(built) == [i for i in range(300) if i != 7]  # each once, none unwanted


def test_a_prebuild_stops_short_of_the_budget() -> None:
    lock = threading.RLock()
    cache = EncodedOrders(lambda i: b"x" * 1000, lambda i: True, lock)
    cache.budget = order_cache.PREBUILD_HEADROOM + 20_000
    cache.prebuild(range(0, 1000))
    assert cache.settle()
    assert 20 <= len(cache) <= 20 + order_cache.AHEAD_BATCH
    assert 0 not in cache or len(cache) < 1000  # nothing pushed out to make room
    assert all(i in cache for i in range(20))


async def test_a_prebuilt_sandbox_serves_the_same_bytes_and_shows_a_write() -> None:
    world = World(orders=1200, seed=8, end=FIXED_END)
    async with Sandbox(world=world, rate_limit=ROOMY, prebuild=True) as sb:
        assert world.orders.encoded.settle()
        assert len(world.orders.encoded) == 1200  # every order built before any read
        built = world.orders.encoded.built
        q = OrderQuery(page=2, page_size=500)
        assert page_of(world, q) == reference(world, q)
        assert world.orders.encoded.built == built  # read from what was built
        order_id = json.loads(page_of(world, q))["orders"][0]["orderId"]
        world.orders.touch(order_id, {"internalNotes": "changed after the prebuild"})
        async with (
            aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as session,
            session.get("/orders", params={"page": "2", "pageSize": "500"}) as r,
        ):
            served = await r.read()
        assert json.loads(served)["orders"][0]["internalNotes"] == "changed after the prebuild"
        assert page_of(world, q) == reference(world, q)
        assert served.startswith(page_of(world, q).rpartition(b',"total"')[0])


async def test_closing_a_sandbox_stops_its_prebuild() -> None:
    world = World(orders=20_000, seed=2, end=FIXED_END)  # all of it fits the cache
    async with Sandbox(world=world, rate_limit=ROOMY, prebuild=True):
        pass
    assert world.orders.encoded.settle(timeout=5.0)  # the worker ended soon after
    assert len(world.orders.encoded) < 20_000
