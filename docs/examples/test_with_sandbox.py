"""Tests of your own code against the sandbox that the shipstation-async pytest plugin serves.

The two functions under test stand for your application's code; in a real project they are
imported from it. Run with ``pytest test_with_sandbox.py`` (pytest and pytest-asyncio
installed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest
import pytest_asyncio

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.sandbox import ThreadedSandbox

# -- the code under test ----------------------------------------------------------------------


async def awaiting_count(ss: ShipStation) -> int:
    """How many orders wait to be shipped."""
    page = await ss.orders.list(order_status="awaiting_shipment", page_size=1)
    return page.total


async def ship(ss: ShipStation, order_id: int) -> str | None:
    """Buy an order's label (at most once) and return its tracking number."""
    label = await ss.orders.create_label_once(
        order_id, "ups", "ups_ground", "package", date.today()
    )
    return label.tracking_number


# -- the tests --------------------------------------------------------------------------------

# Every test here: an empty sandbox (the tests seed what they need) whose window is scaled
# down to 40 requests per 2 s, so that a test never waits a real minute.
# What a label needs on a seeded order: where it goes and what it weighs (API JSON).
PARCEL = {
    "shipTo": {
        "name": "Ada Lovelace",
        "street1": "1600 Pennsylvania Ave NW",
        "city": "Washington",
        "state": "DC",
        "postalCode": "20500",
        "country": "US",
    },
    "weight": {"value": 12, "units": "ounces"},
}

pytestmark = pytest.mark.shipstation_sandbox(orders=0, rate_limit=RateLimit(40, 2.0))


@pytest_asyncio.fixture
async def ss(shipstation_sandbox: ThreadedSandbox) -> AsyncIterator[ShipStation]:
    """A client on the test's sandbox, tuned so that tests do not sleep.

    No backoff between retries; and an ambiguous label purchase that did not happen is
    settled seconds after it was sent instead of two minutes (the horizon follows
    ``timeout`` and ``settle_min_horizon``): the sandbox answers in milliseconds.
    """
    sb = shipstation_sandbox
    async with ShipStation(
        sb.api_key,
        sb.api_secret,
        base_url=sb.url,
        rate_limit=sb.rate_limit,
        retry=RetryPolicy(base=0),
        timeout=2.0,
        settle_min_horizon=0,
    ) as client:
        yield client


@pytest.mark.asyncio
async def test_counts_only_orders_awaiting_shipment(
    ss: ShipStation, shipstation_sandbox: ThreadedSandbox
) -> None:
    """Seeded orders are what the code sees."""
    world = shipstation_sandbox.world
    for number in ("A-1", "A-2", "A-3"):
        world.add_order(orderNumber=number, orderStatus="awaiting_shipment")
    world.add_order(orderNumber="S-1", orderStatus="shipped")
    assert await awaiting_count(ss) == 3
    assert shipstation_sandbox.stats().rate_limited == 0


@pytest.mark.asyncio
async def test_a_server_error_is_retried(
    ss: ShipStation, shipstation_sandbox: ThreadedSandbox
) -> None:
    """A read that meets a 503 is sent again; the code still gets its answer."""
    shipstation_sandbox.faults.script("error", status=503, method="GET", path="/orders")
    assert await awaiting_count(ss) == 0
    assert shipstation_sandbox.stats().by_status == {503: 1, 200: 1}


@pytest.mark.asyncio
async def test_a_lost_answer_never_buys_a_second_label(
    ss: ShipStation, shipstation_sandbox: ThreadedSandbox
) -> None:
    """The purchase takes effect but its answer is lost: still one label, and it is found."""
    sb = shipstation_sandbox
    order = sb.world.add_order(orderNumber="L-1", orderStatus="awaiting_shipment", **PARCEL)
    sb.faults.script("drop_after", path="/orders/createlabelfororder")
    tracking = await ship(ss, order["orderId"])
    [label] = sb.labels()  # the sandbox's ledger: every label it sold
    assert tracking == label.tracking_number


@pytest.mark.asyncio
@pytest.mark.shipstation_sandbox(orders=500)  # this test's own size; the module's limit stays
async def test_with_generated_orders(shipstation_sandbox: ThreadedSandbox) -> None:
    """500 generated orders spread over three years (the closest marker wins per argument)."""
    sb = shipstation_sandbox
    async with ShipStation(sb.api_key, sb.api_secret, base_url=sb.url) as client:
        page = await client.orders.list(page_size=1)
    assert page.total == 500


@pytest.mark.asyncio
async def test_two_merchants(shipstation_sandbox_factory: Callable[..., ThreadedSandbox]) -> None:
    """The factory starts as many sandboxes as a test needs, each with its own settings."""
    totals = []
    for orders, key in ((10, "merchant-1"), (20, "merchant-2")):
        sb = shipstation_sandbox_factory(orders=orders, api_key=key)
        async with ShipStation(sb.api_key, sb.api_secret, base_url=sb.url) as client:
            totals.append((await client.orders.list(page_size=1)).total)
    assert totals == [10, 20]
