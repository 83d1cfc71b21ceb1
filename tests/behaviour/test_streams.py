"""Streams against the sandbox: every record once, filters, order, cancellation hygiene."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shipstation_async import (
    DecodeError,
    InvalidRequestError,
    RateLimit,
    RetryPolicy,
    ShipStation,
)
from shipstation_async.sandbox import ThreadedSandbox
from shipstation_async.sandbox.world import World
from shipstation_async.streams import StreamError
from tests.behaviour._helpers import newest_created
from tests.recording import RecordingServer, Reply

LIMIT = RateLimit(1000, 60.0)
ITERATIONS_AFTER_BREAK = 2  # what the streams issue asks; one is enough today
Factory = Callable[..., ThreadedSandbox]


@pytest.fixture
def sandbox(shipstation_sandbox_factory: Factory) -> ThreadedSandbox:
    return shipstation_sandbox_factory(
        orders=3000, seed=5, rate_limit=LIMIT, api_key=f"key-{uuid.uuid4().hex[:10]}"
    )


@pytest.fixture
async def ss(sandbox: ThreadedSandbox) -> AsyncIterator[ShipStation]:
    async with ShipStation(
        sandbox.api_key,
        sandbox.api_secret,
        base_url=sandbox.url,
        rate_limit=LIMIT,
        retry=RetryPolicy(base=0.0),
    ) as client:
        yield client


async def all_ids(ss: ShipStation, **filters: Any) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        result = await ss.orders.list(page=page, page_size=500, **filters)
        ids += [o.order_id or 0 for o in result.items]
        if page >= result.pages:
            return ids
        page += 1


@pytest.mark.cpu_bound
@pytest.mark.parametrize("ordered", [False, True])
async def test_every_order_exactly_once(ss: ShipStation, ordered: bool) -> None:
    expected = await all_ids(ss)
    seen: list[Any] = []
    async with ss.orders.iter(concurrency=4, page_size=100, ordered=ordered) as stream:
        async for order in stream:
            seen.append(order)
    assert sorted(o.order_id for o in seen) == sorted(expected)
    if ordered:
        created = [o.create_date for o in seen]
        assert created == sorted(created)
    # pages + about one request per chunk (probe included), not more
    assert stream.requests <= len(expected) / 100 + 2 * 4 + 8


@pytest.mark.parametrize("ordered", [False, True])
async def test_idle_walkers_split_the_busiest_part(
    shipstation_sandbox_factory: Factory, ordered: bool
) -> None:
    """Orders only in the last 30 days of an 85-day range: two walkers find nothing, one finds
    a little, and the idle ones cut up the busy last part, still yielding every order once."""
    sandbox = shipstation_sandbox_factory(
        world=World(orders=1500, seed=8, span_days=30), rate_limit=LIMIT, api_key="split-key"
    )
    async with ShipStation(
        sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=LIMIT
    ) as ss:
        expected = await all_ids(ss)
        newest = await newest_created(ss)
        stream = ss.orders.iter(
            create_date_start=newest - timedelta(days=85),
            create_date_end=newest,
            concurrency=4,
            page_size=50,
            ordered=ordered,
        )
        seen = [o async for o in stream]
    assert sorted(o.order_id for o in seen) == sorted(expected)
    assert len({o.order_id for o in seen}) == len(seen)
    assert len(stream.parts) > 4  # the busy part was cut up
    if ordered:
        created = [o.create_date for o in seen]
        assert created == sorted(created)
    # A cut is made only where each half still fills two pages: few requests beyond the pages.
    assert stream.requests <= len(expected) / 50 + 2 * len(stream.parts)


async def test_a_dense_second_does_not_inflate_the_estimate_or_the_cuts(
    shipstation_sandbox_factory: Factory,
) -> None:
    """600 orders made in one second: a page inside it is no rate for the rest of the range.

    Taken for one, the records left were estimated in billions (and the command line's ETA
    built a list of that many floats), and sparse parts were cut for nothing.
    """

    async def walk(dense: list[tuple[int, int, int]]) -> tuple[list[int], int, int]:
        sandbox = shipstation_sandbox_factory(
            world=World(orders=3000, seed=3, dense_seconds=dense),
            rate_limit=LIMIT,
            api_key=f"key-{uuid.uuid4().hex[:10]}",
        )
        async with ShipStation(
            sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=LIMIT
        ) as ss:
            newest = await newest_created(ss)
            stream = ss.orders.iter(create_date_end=newest, concurrency=4, page_size=500)
            estimates: list[int] = []
            count = 0
            async for _ in stream:
                count += 1
                if count % 50 == 0 and (left := stream.estimate_left()) is not None:
                    estimates.append(left[0] + count)
        return estimates, count, len(stream.parts)

    estimates, count, parts = await walk([(500, 600, 1)])
    _, _, parts_without = await walk([])
    assert count == 3000
    assert estimates and max(estimates) <= 3 * count  # within a small factor, not billions
    assert parts <= parts_without + 1  # no cuts of parts with little left


async def test_filters_and_ranges_pass_through(ss: ShipStation) -> None:
    shipped = await all_ids(ss, order_status="shipped")
    streamed = [o.order_id async for o in ss.orders.iter(order_status="shipped", page_size=200)]
    assert sorted(streamed) == sorted(shipped)
    middle = (await ss.orders.list(page=3, page_size=500, sort_by="CreateDate")).items[0]
    assert middle.create_date is not None
    start = middle.create_date
    end = start + timedelta(days=40)
    listed = await all_ids(ss, create_date_start=start, create_date_end=end)
    streamed = [
        o.order_id
        async for o in ss.orders.iter(create_date_start=start, create_date_end=end, page_size=50)
    ]
    assert sorted(streamed) == sorted(listed)


async def test_pages_view(ss: ShipStation) -> None:
    total = (await ss.orders.list(page_size=1)).total
    sizes = [len(page) async for page in ss.orders.iter(page_size=250).pages()]
    assert sum(sizes) == total and max(sizes) <= 250


async def test_other_resources_stream_everything(ss: ShipStation) -> None:
    shipments = [s.shipment_id async for s in ss.shipments.iter(page_size=100)]
    assert len(set(shipments)) == len(shipments) == (await ss.shipments.list()).total
    fulfillments = [f.fulfillment_id async for f in ss.fulfillments.iter(page_size=50)]
    assert len(set(fulfillments)) == len(fulfillments) == (await ss.fulfillments.list()).total
    products = [p.product_id async for p in ss.products.iter(page_size=10)]
    assert len(set(products)) == len(products) == (await ss.products.list()).total
    customers = [c.customer_id async for c in ss.customers.iter(page_size=100)]
    assert len(set(customers)) == len(customers) == (await ss.customers.list()).total


async def test_break_cancels_the_walkers_and_stops_requests(
    ss: ShipStation, sandbox: ThreadedSandbox
) -> None:
    await ss.orders.list(page_size=1)  # warm: connections and the cold-start probe
    baseline = asyncio.all_tasks()
    count = 0
    async for _ in ss.orders.iter(concurrency=4, page_size=20):
        count += 1
        if count == 30:
            break
    # The dropped iterator cancelled the walkers at the break; they end in the next iteration.
    for _ in range(ITERATIONS_AFTER_BREAK):
        await asyncio.sleep(0)
    assert asyncio.all_tasks() == baseline
    sent = ss.rate_limit_status().total_sent
    await asyncio.sleep(0.3)
    # Nothing more goes out, and the sandbox saw exactly what went out before the break.
    assert ss.rate_limit_status().total_sent == sent
    assert sandbox.stats().requests == sent


async def test_a_stopped_stream_ends_at_once_when_iterated_again(ss: ShipStation) -> None:
    stream = ss.orders.iter(concurrency=2, page_size=20)
    async for _ in stream:
        break
    # The walkers are gone; iterating again must end, not wait on them forever.
    assert await asyncio.wait_for(anext(aiter(stream), None), 5) is None


def test_leaving_right_after_a_break_is_clean(sandbox: ThreadedSandbox) -> None:
    """No "Task was destroyed but it is pending", no unclosed session or transport, in dev mode
    (asyncio debug, ResourceWarnings shown), when the program ends right after a break."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-X", "dev", "-W", "always", "-m", "tests.behaviour._break_worker"]
    result = subprocess.run(
        [*command, sandbox.url, sandbox.api_key, sandbox.api_secret],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    for trouble in ("destroyed but it is pending", "Unclosed", "ResourceWarning", "Traceback"):
        assert trouble not in result.stderr, result.stderr


async def test_aclose_from_another_task_ends_a_waiting_consumer(
    shipstation_sandbox_factory: Factory,
) -> None:
    slow = RateLimit(1, 60.0)  # the first page comes, the next waits a minute for a slot
    sandbox = shipstation_sandbox_factory(orders=300, rate_limit=slow, api_key="one-a-minute")
    async with ShipStation(
        sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=slow
    ) as ss:
        stream = ss.orders.iter(page_size=20, concurrency=2)
        seen: list[Any] = []

        async def consume() -> None:
            async for order in stream:
                seen.append(order)

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.5)
        await stream.aclose()
        await asyncio.wait_for(consumer, 5)  # woken and finished, not left waiting
    assert len(seen) <= 20


async def test_aclose_and_context_manager_cancel_the_walkers(ss: ShipStation) -> None:
    baseline = asyncio.all_tasks()
    async with ss.orders.iter(concurrency=3, page_size=20) as stream:
        iterator = aiter(stream)
        await anext(iterator)
        assert asyncio.all_tasks() - baseline  # the walkers are running
    # Leaving the block awaited their cancellation: none is left.
    assert asyncio.all_tasks() - baseline == set()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {
                "create_date_start": datetime(2024, 2, 1, tzinfo=UTC),
                "create_date_end": datetime(2024, 1, 1, tzinfo=UTC),
            },
            "create_date_end",
        ),
        ({"create_date_start": datetime(2024, 2, 1)}, "create_date_start"),
        ({"order_status": "lost"}, "order_status"),
        ({"page": 2}, "page"),
        ({"sort_by": "OrderDate"}, "sort_by"),
        ({"page_size": 501}, "page_size"),
        ({"concurrency": 0}, "concurrency"),
    ],
)
async def test_bad_streams_fail_before_any_request(
    ss: ShipStation, sandbox: ThreadedSandbox, kwargs: dict[str, Any], field: str
) -> None:
    before = sandbox.stats().requests
    with pytest.raises(InvalidRequestError) as info:
        ss.orders.iter(**kwargs)
    assert info.value.field == field
    assert sandbox.stats().requests == before


async def test_a_ship_date_range_over_90_days_is_refused_without_promising_a_split(
    ss: ShipStation,
) -> None:
    # iter() splits only a creation-date range; the message said it splits "a longer range".
    with pytest.raises(InvalidRequestError, match="splits only a creation-date range"):
        ss.shipments.iter(
            ship_date_start=datetime(2024, 1, 1, tzinfo=UTC),
            ship_date_end=datetime(2024, 6, 1, tzinfo=UTC),
        )


@pytest.mark.cpu_bound
async def test_a_second_holding_more_than_a_page_is_read_whole(
    ss: ShipStation, sandbox: ThreadedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipstation_async.streams.walker import Walker

    dense_reads: list[datetime] = []
    original = Walker._read_second

    async def counting(self: Any, part: Any, second: datetime) -> list[Any]:
        dense_reads.append(second)
        return await original(self, part, second)

    monkeypatch.setattr(Walker, "_read_second", counting)
    anchor = (await ss.orders.list(page=1, page_size=100, sort_by="CreateDate")).items[50]
    second = str((anchor.raw or {})["createDate"])[:19]
    for i in range(35):  # 35 orders within one second, pages of 10
        sandbox.world.add_order(
            orderNumber=f"DENSE-{i}",
            createDate=f"{second}.{i:03d}0000",
            orderStatus="awaiting_shipment",
        )
    expected = await all_ids(ss)
    streamed = [o.order_id async for o in ss.orders.iter(page_size=10, concurrency=2)]
    assert sorted(streamed) == sorted(expected)
    assert dense_reads  # the page-by-page path was taken


GOOD_RECORD = {
    "orderId": 1,
    "orderNumber": "A-1",
    "orderKey": "k-1",
    "orderDate": "2024-01-01T10:00:00.0000000",
    "createDate": "2024-01-01T10:00:00.0000000",
    "modifyDate": "2024-01-01T10:00:00.0000000",
    "orderStatus": "shipped",
}


@pytest.mark.parametrize(
    "record",
    [
        {**GOOD_RECORD, "createDate": None},
        {**GOOD_RECORD, "createDate": "not a date"},
        {**GOOD_RECORD, "createDate": "2024-13-45T10:00:00.0000000"},
        5,
    ],
    ids=["null date", "garbage date", "impossible date", "not an object"],
)
async def test_a_malformed_record_ends_a_stream_with_a_decode_error(
    recorder: RecordingServer, record: Any
) -> None:
    recorder.default = Reply(body={"orders": [record], "total": 1, "page": 1, "pages": 1})
    async with ShipStation(
        "key-" + uuid.uuid4().hex[:10], "secret", base_url=recorder.url, rate_limit=LIMIT
    ) as client:
        with pytest.raises(DecodeError, match=r"createDate|not an object|not a timestamp"):
            async with client.orders.iter() as stream:
                async for _ in stream:
                    pass
        assert recorder.requests  # it was the answer that failed, not the call


def _client(recorder: RecordingServer) -> ShipStation:
    return ShipStation(
        "key-" + uuid.uuid4().hex[:10], "secret", base_url=recorder.url, rate_limit=LIMIT
    )


def _created_within(request: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records a fake listing's createDate filter lets through (both ends inclusive)."""
    low = request.query["createDateStart"].replace(" ", "T")
    high = request.query["createDateEnd"].replace(" ", "T")
    return [r for r in records if low <= r["createDate"][:19] <= high]


def _page(request: Any, matching: list[Any], envelope: str, cap: int = 500) -> Reply:
    """The page a fake listing answers, by offset (at most ``cap`` records, whatever asked)."""
    page, size = int(request.query["page"]), min(cap, int(request.query["pageSize"]))
    body = {envelope: matching[(page - 1) * size : page * size], "total": len(matching)}
    return Reply(body={**body, "page": page, "pages": -(-len(matching) // size)})


class _DenseSecond:
    """A listing whose records all share one createDate second, paged by offset.

    ``shuffle``: records with equal creation times come in a new order on every request (SQL
    promises no order among ties). ``swap``: after the first request for page 2, one record
    leaves the filter and another joins it, so the total stays the same but page boundaries
    shift. ``grow``: a record joins before every request.
    """

    SECOND = "2024-06-01T12:00:00"

    def __init__(
        self, count: int, *, shuffle: bool = False, swap: bool = False, grow: bool = False
    ) -> None:
        import random

        self.records = [self._record(n, "awaiting_shipment") for n in range(1, count + 1)]
        self.records.append(self._record(count + 1, "on_hold"))
        self.random = random.Random(5) if shuffle else None
        self.swap = swap
        self.grow = grow
        self.swapped = False

    def _record(self, order_id: int, status: str) -> dict[str, Any]:
        return {"orderId": order_id, "createDate": f"{self.SECOND}.0000000", "orderStatus": status}

    def __call__(self, request: Any) -> Reply:
        if self.swap and request.query["page"] == "2" and not self.swapped:
            self.swapped = True
            self.records[99]["orderStatus"] = "shipped"  # order 100 leaves
            self.records[-1]["orderStatus"] = "awaiting_shipment"  # the last one joins
        if self.grow:
            self.records.append(self._record(len(self.records) + 1, "awaiting_shipment"))
        status = request.query.get("orderStatus")
        matching = [r for r in _created_within(request, self.records) if r["orderStatus"] == status]
        if self.random is not None:
            self.random.shuffle(matching)
        return _page(request, matching, "orders")


def _dense_stream(client: ShipStation) -> Any:
    from shipstation_async._time import PACIFIC

    day = datetime(2024, 6, 1, tzinfo=PACIFIC)
    return client.orders.iter(
        create_date_start=day + timedelta(hours=11),
        create_date_end=day + timedelta(hours=13),
        order_status="awaiting_shipment",
        concurrency=1,
    )


@pytest.mark.parametrize(
    ("listing", "must_have"),
    [
        (_DenseSecond(1200, swap=True), set(range(1, 1201)) - {100}),
        (_DenseSecond(1300, shuffle=True), set(range(1, 1301))),
    ],
    ids=["a record leaves and another joins between two pages", "ties in a new order each read"],
)
async def test_a_second_denser_than_a_page_loses_no_record(
    recorder: RecordingServer, listing: _DenseSecond, must_have: set[int]
) -> None:
    recorder.default = listing
    async with _client(recorder) as client:
        got = [order.order_id async for order in _dense_stream(client)]
    assert len(got) == len(set(got))  # none twice
    assert must_have <= set(got)  # none that matched throughout is missing


def _customers(count: int) -> list[dict[str, Any]]:
    return [
        {
            "customerId": n,
            "createDate": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000",
            "tag": 7,
        }
        for n in range(1, count + 1)
    ]


async def test_the_offset_walk_loses_no_customer_when_pages_shift(
    recorder: RecordingServer,
) -> None:
    customers = _customers(1001)
    customers[-1]["tag"] = 8
    shifted = False

    def listing(request: Any) -> Reply:
        nonlocal shifted
        if request.query["page"] == "2" and not shifted:
            shifted = True
            customers[99]["tag"], customers[-1]["tag"] = 8, 7  # one leaves, one joins
        tagged = [c for c in customers if c["tag"] == int(request.query["tagId"])]
        return _page(request, tagged, "customers")

    recorder.default = listing
    async with _client(recorder) as client:
        got = [c.customer_id async for c in client.customers.iter(tag_id=7)]
    assert len(got) == len(set(got))
    assert set(range(1, 1001)) - {100} <= set(got)


async def test_a_listing_that_never_holds_still_is_a_stream_error_not_a_partial_result(
    recorder: RecordingServer,
) -> None:
    recorder.default = _DenseSecond(1200, grow=True)
    async with _client(recorder) as client:
        got: list[Any] = []
        with pytest.raises(StreamError, match="kept changing through 20 reads"):
            async for order in _dense_stream(client):
                got.append(order)
        assert got == []  # nothing of the unsettled second was yielded

        customers = _customers(1200)

        def growing(request: Any) -> Reply:
            customers.extend(_customers(len(customers) + 1)[-1:])
            return _page(request, customers, "customers")

        recorder.default = growing
        with pytest.raises(StreamError, match="kept changing through 20 reads"):
            async for _ in client.customers.iter():
                pass


async def test_a_server_that_sends_shorter_pages_than_asked_is_read_to_the_end(
    recorder: RecordingServer,
) -> None:
    from shipstation_async._time import PACIFIC

    records = [
        {"orderId": n, "createDate": f"2024-06-01T10:{n // 60:02d}:{n % 60:02d}.0000000"}
        for n in range(1200)
    ]
    recorder.default = lambda request: _page(  # at most 100 a page, whatever was asked
        request, _created_within(request, records), "orders", cap=100
    )
    day = datetime(2024, 6, 1, tzinfo=PACIFIC)
    async with _client(recorder) as client:
        stream = client.orders.iter(
            create_date_start=day + timedelta(hours=9), create_date_end=day + timedelta(hours=12)
        )
        got = [order.order_id async for order in stream]
    assert sorted(got) == list(range(1200))


@pytest.mark.parametrize("empties", [1, 5])
async def test_an_empty_page_that_counts_records_is_not_taken_for_the_end(
    recorder: RecordingServer, empties: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the part ended there: every record after it was dropped with no error.
    from shipstation_async._time import PACIFIC
    from shipstation_async.streams import walker

    monkeypatch.setattr(walker, "EMPTY_PAGE_PAUSE", 0.01)

    records = [
        {"orderId": n, "createDate": f"2024-06-01T10:{n // 60:02d}:{n % 60:02d}.0000000"}
        for n in range(60)
    ]
    answers = 0

    def listing(request: Any) -> Reply:
        nonlocal answers
        answers += 1
        if 2 <= answers < 2 + empties:  # a page mid-walk comes back empty, its total kept
            reply = _page(request, _created_within(request, records), "orders")
            return Reply(body={**reply.body, "orders": []})
        return _page(request, _created_within(request, records), "orders", cap=20)

    recorder.default = listing
    day = datetime(2024, 6, 1, tzinfo=PACIFIC)
    async with _client(recorder) as client:
        stream = client.orders.iter(
            create_date_start=day + timedelta(hours=9),
            create_date_end=day + timedelta(hours=12),
            concurrency=1,
        )
        got: list[int] = []
        if empties < 5:
            got = [order.order_id async for order in stream]
            assert sorted(got) == list(range(60))
            return
        with pytest.raises(StreamError, match=r"5 empty pages in a row each counted \d+ records"):
            async for order in stream:
                got.append(order.order_id)
    assert got == list(range(19))  # the first page's (its last second goes with the next)


async def test_a_stream_with_no_end_run_in_the_repeated_hour_ends_after_the_hour(
    recorder: RecordingServer,
) -> None:
    # Its end (T0) is the server's clock less two minutes: at 01:14 PST, 01:12 PST. Orders
    # created at 01:30 and 01:50 PDT, an hour before it, carry later walls: before, T0 was the
    # wall 01:12 and they were left out (a backfill then recorded its range as complete).
    walls = ["00:40", "01:05", "01:30", "01:50"]
    records = [
        {"orderId": n, "createDate": f"2025-11-02T{wall}:00.0000000"}
        for n, wall in enumerate(walls)
    ]

    def listing(request: Any) -> Reply:
        low = request.query.get("createDateStart", "").replace(" ", "T")
        high = request.query.get("createDateEnd", "9999").replace(" ", "T")
        matching = [r for r in records if low <= r["createDate"][:19] <= high]
        reply = _page(request, matching, "orders")
        return Reply(body=reply.body, headers={"Date": "Sun, 02 Nov 2025 09:14:00 GMT"})

    recorder.default = listing
    async with _client(recorder) as client:
        got = [order.order_id async for order in client.orders.iter()]
    assert sorted(got) == [0, 1, 2, 3]


def _without_total(reply: Reply) -> Reply:
    return Reply(body={k: v for k, v in reply.body.items() if k not in ("total", "pages")})


@pytest.mark.parametrize("total", [True, False], ids=["with total", "no total"])
async def test_pages_capped_below_the_size_asked_for_are_read_whole(
    recorder: RecordingServer, total: bool
) -> None:
    # A server that sends 100 a page where 500 were asked, with or without a total. Before:
    # the offset walk and a dense second's read took the asked size for the page count and
    # never settled (a StreamError over data that never changed); with no total, the first
    # short page was taken for the end (1,100 of 1,200 orders dropped without an error).
    from shipstation_async._time import PACIFIC

    def capped(request: Any, matching: list[Any], envelope: str) -> Reply:
        reply = _page(request, matching, envelope, cap=100)
        return reply if total else _without_total(reply)

    customers = _customers(1200)
    # 150 orders in one second, then one a second: a second denser than a capped page.
    orders = [{"orderId": n, "createDate": "2024-06-01T10:00:00.0000000"} for n in range(150)]
    orders += [
        {"orderId": n, "createDate": f"2024-06-01T10:{n // 60 % 60:02d}:{n % 60:02d}.0000000"}
        for n in range(150, 1200)
    ]

    def listing(request: Any) -> Reply:
        if request.path == "/customers":
            return capped(request, customers, "customers")
        return capped(request, _created_within(request, orders), "orders")

    recorder.default = listing
    day = datetime(2024, 6, 1, tzinfo=PACIFIC)
    async with _client(recorder) as client:
        got_customers = [c.customer_id async for c in client.customers.iter()]
        stream = client.orders.iter(
            create_date_start=day + timedelta(hours=9), create_date_end=day + timedelta(hours=12)
        )
        got_orders = [order.order_id async for order in stream]
    assert sorted(got_customers) == list(range(1, 1201))
    assert sorted(got_orders) == list(range(1200))


async def test_a_server_that_ignores_the_page_asked_and_gives_no_total_is_an_error(
    recorder: RecordingServer,
) -> None:
    # Every page is the first; with no total nothing tells that the list is longer: two equal
    # reads must not pass for the whole list (100 of 1,200 customers, no error).
    customers = _customers(1200)

    def first_page_only(request: Any) -> Reply:
        return Reply(body={"customers": customers[:100]})

    recorder.default = first_page_only
    async with _client(recorder) as client:
        with pytest.raises(StreamError, match="page 2 held only records of earlier pages"):
            async for _ in client.customers.iter():
                pass


async def test_a_page_not_sorted_as_asked_ends_the_stream_with_an_error(
    recorder: RecordingServer,
) -> None:
    # A server that ignores sortDir=ASC: before, the cursor jumped to the page's last key and
    # the stream ended with 500 of 1,200 orders and no error.
    from shipstation_async._time import PACIFIC

    orders = [
        {"orderId": n, "createDate": f"2024-06-01T10:{n // 60:02d}:{n % 60:02d}.0000000"}
        for n in range(1200)
    ]

    def newest_first(request: Any) -> Reply:
        matching = sorted(_created_within(request, orders), key=lambda r: -r["orderId"])
        return _page(request, matching, "orders")

    recorder.default = newest_first
    day = datetime(2024, 6, 1, tzinfo=PACIFIC)
    async with _client(recorder) as client:
        stream = client.orders.iter(
            create_date_start=day + timedelta(hours=9), create_date_end=day + timedelta(hours=12)
        )
        with pytest.raises(StreamError, match="did not sort the page by CreateDate ascending"):
            async for _ in stream:
                pass


async def test_a_stream_that_keeps_bytes_yields_records_that_read_as_the_json(
    ss: ShipStation,
) -> None:
    from shipstation_async.resources.streaming import open_stream
    from shipstation_async.streams import RawRecord

    with pytest.raises(InvalidRequestError, match="keep_bytes"):
        open_stream(ss.orders, {}, keep_bytes=True)  # models have no bytes to keep
    async with open_stream(ss.orders, {}, typed=False) as stream:
        decoded = {r["orderId"]: r async for r in stream}
    async with open_stream(ss.orders, {}, typed=False, keep_bytes=True) as stream:
        kept = {r["orderId"]: r async for r in stream}
    assert kept.keys() == decoded.keys() and len(kept) >= 3000
    assert all(type(r) is RawRecord for r in kept.values())
    assert all(kept[i] == decoded[i] for i in decoded)  # the same JSON, read lazily
