"""The control API, the Python seeding API, the label ledger and write counts under faults."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Faults, Sandbox, ThreadedSandbox, World
from shipstation_async.sandbox.world import ORDER_KEYS

from .helpers import FIXED_END, auth_headers, call, example


@pytest.fixture
async def anonymous(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sandbox.url) as s:
        yield s


async def test_seed_and_read_through_the_control_api(
    sandbox: Sandbox, session: aiohttp.ClientSession, anonymous: aiohttp.ClientSession
) -> None:
    status, index = await call(anonymous, "GET", "/__sandbox")
    assert status == 200 and "orders" in index["seedable"]
    status, body = await call(
        anonymous, "POST", "/__sandbox/seed/products", {"sku": "NEW-SKU-1", "name": "New"}
    )
    assert status == 200
    (product,) = body["created"]
    _, listed = await call(session, "GET", "/products", sku="NEW-SKU-1")
    assert listed["products"] == [product]
    status, body = await call(
        anonymous,
        "POST",
        "/__sandbox/seed/customers",
        {"name": "Grace Hopper", "email": "grace@example.com", "state": "VA"},
    )
    (customer,) = body["created"]
    _, got = await call(session, "GET", f"/customers/{customer['customerId']}")
    assert got == customer and got["marketplaceUsernames"][0]["username"] == "grace@example.com"
    _, body = await call(anonymous, "POST", "/__sandbox/seed/tags", [{"name": "Rush"}])
    (tag,) = body["created"]
    _, body = await call(anonymous, "POST", "/__sandbox/seed/users", {"userName": "night-shift"})
    (user,) = body["created"]
    _, body = await call(
        anonymous,
        "POST",
        "/__sandbox/seed/orders",
        [
            {
                "orderNumber": "SEEDED-1",
                "customerEmail": "grace@example.com",
                "tagIds": [tag["tagId"]],
                "userId": user["userId"],
                "items": [{"sku": "NEW-SKU-1", "name": "New", "quantity": 2, "unitPrice": 5}],
            },
            {"orderNumber": "SEEDED-2", "orderStatus": "on_hold"},
        ],
    )
    first, second = body["created"]
    assert list(first) == list(ORDER_KEYS)
    assert first["customerId"] == customer["customerId"]
    assert first["items"][0]["productId"] == product["productId"]
    assert first["tagIds"] == [tag["tagId"]] and first["userId"] == user["userId"]
    assert first["orderTotal"] == 10
    _, fetched = await call(session, "GET", f"/orders/{second['orderId']}")
    assert fetched == second and second["orderStatus"] == "on_hold"
    _, tagged = await call(
        session, "GET", "/orders/listbytag", orderStatus="awaiting_shipment", tagId=tag["tagId"]
    )
    assert [o["orderId"] for o in tagged["orders"]] == [first["orderId"]]
    _, users = await call(session, "GET", "/users")
    assert user in users
    _, body = await call(
        anonymous,
        "POST",
        "/__sandbox/seed/stores",
        {"storeName": "Woo", "marketplaceName": "WooCommerce"},
    )
    (store,) = body["created"]
    _, stores = await call(session, "GET", "/stores")
    assert store["storeId"] in {s["storeId"] for s in stores}
    _, body = await call(
        anonymous, "POST", "/__sandbox/seed/warehouses", {"warehouseName": "Overflow"}
    )
    (warehouse,) = body["created"]
    _, one = await call(session, "GET", f"/warehouses/{warehouse['warehouseId']}")
    assert one == warehouse and one["originAddress"]["city"]  # the default's address
    # Conflicts and unknown resources.
    status, body = await call(anonymous, "POST", "/__sandbox/seed/products", {"sku": "NEW-SKU-1"})
    assert status == 400 and "already exists" in body["Message"]
    status, _ = await call(anonymous, "POST", "/__sandbox/seed/shipments", {})
    assert status == 400
    # Records of any kind, deleted ones included.
    await call(session, "DELETE", f"/orders/{second['orderId']}")
    status, record = await call(anonymous, "GET", f"/__sandbox/records/orders/{second['orderId']}")
    assert status == 200 and record["orderNumber"] == "SEEDED-2"
    status, carrier = await call(anonymous, "GET", "/__sandbox/records/carriers/stamps_com")
    assert status == 200 and carrier["code"] == "stamps_com"
    status, _ = await call(anonymous, "GET", "/__sandbox/records/orders/1")
    assert status == 404
    status, _ = await call(anonymous, "GET", "/__sandbox/records/planets/1")
    assert status == 404


async def test_labels_writes_and_stats(
    sandbox: Sandbox, session: aiohttp.ClientSession, anonymous: aiohttp.ClientSession
) -> None:
    order = next(
        o
        for o in (sandbox.world.orders.at(i) for i in range(400))
        if o["orderStatus"] == "awaiting_shipment"
    )
    request = {**example("Order/CreateLabelForOrderRequest.txt"), "orderId": order["orderId"]}
    _, label = await call(session, "POST", "/orders/createlabelfororder", request)
    status, body = await call(anonymous, "GET", "/__sandbox/labels")
    assert status == 200
    (entry,) = body["labels"]
    assert entry["request"] == request and entry["shipmentId"] == label["shipmentId"]
    assert entry["trackingNumber"] == label["trackingNumber"] and entry["sequence"] == 1
    assert entry["shipmentCost"] == label["shipmentCost"]
    _, body = await call(anonymous, "GET", "/__sandbox/writes")
    assert body == {"writes": {"POST /orders/createlabelfororder": 1}}
    _, stats = await call(anonymous, "GET", "/__sandbox/stats")
    assert stats["requests"] == 1 and stats["by_path"] == {"/orders/createlabelfororder": 1}
    assert stats["by_status"] == {"200": 1}  # control requests are not counted
    status, _ = await call(anonymous, "POST", "/__sandbox/reset-stats")
    assert status == 200 and sandbox.stats().requests == 0


async def test_the_control_api_ignores_the_rate_limit_and_faults() -> None:
    faults = Faults(error_rate=1.0, error_statuses=(503,))
    world = World(orders=20, seed=1, end=FIXED_END)
    async with (
        Sandbox(world=world, rate_limit=RateLimit(1, 60.0), faults=faults) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        status, _ = await call(s, "GET", "/orders")
        assert status == 503  # admitted, then the fault
        status, _ = await call(s, "GET", "/orders")
        assert status == 429
        for _ in range(5):
            status, stats = await call(s, "GET", "/__sandbox/stats")
            assert status == 200
        assert stats["requests"] == 2 and stats["rate_limited"] == 1
        status, body = await call(s, "POST", "/__sandbox/seed/tags", {"name": "Late"})
        assert status == 200 and world.tag(body["created"][0]["tagId"]) is not None


async def test_a_dropped_label_purchase_happened_exactly_once(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    order = next(
        o
        for o in (sandbox.world.orders.at(i) for i in range(400))
        if o["orderStatus"] == "awaiting_shipment"
    )
    request = {**example("Order/CreateLabelForOrderRequest.txt"), "orderId": order["orderId"]}
    sandbox.faults.script("drop_after", path="/orders/createlabelfororder")
    with pytest.raises(aiohttp.ClientError):
        await call(session, "POST", "/orders/createlabelfororder", request)
    # The client saw no answer, yet the label was bought, once.
    (purchase,) = sandbox.labels()
    assert purchase.order_id == order["orderId"]
    assert sandbox.write_counts() == {"POST /orders/createlabelfororder": 1}
    assert sandbox.stats().dropped == 1
    _, listed = await call(session, "GET", "/shipments", orderId=order["orderId"])
    assert [s["shipmentId"] for s in listed["shipments"]] == [purchase.shipment_id]
    # A blind retry buys a second label: exactly what the ledger lets a test catch.
    status, _ = await call(session, "POST", "/orders/createlabelfororder", request)
    assert status == 200 and len(sandbox.labels()) == 2
    # A drop before the handler runs buys nothing.
    sandbox.faults.script("drop_before", path="/orders/createlabelfororder")
    with pytest.raises(aiohttp.ClientError):
        await call(session, "POST", "/orders/createlabelfororder", request)
    assert len(sandbox.labels()) == 2
    assert sandbox.write_counts()["POST /orders/createlabelfororder"] == 2


def test_threaded_sandbox_python_api_is_thread_safe() -> None:
    world = World(orders=50, seed=2, end=FIXED_END)
    with ThreadedSandbox(world=world, rate_limit=RateLimit(100_000, 60.0)) as tsb:
        errors: list[BaseException] = []
        created: list[int] = []
        lock = threading.Lock()

        def seed(n: int) -> None:
            try:
                for k in range(20):
                    o = tsb.world.add_order(orderNumber=f"T{n}-{k}")
                    with lock:
                        created.append(o["orderId"])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        async def over_http() -> list[int]:
            ids = []
            async with aiohttp.ClientSession(tsb.url, headers=auth_headers(tsb)) as s:
                for k in range(20):
                    body: dict[str, Any] = {
                        "orderNumber": f"HTTP-{k}",
                        "orderDate": "2025-06-01",
                        "orderStatus": "awaiting_shipment",
                        "billTo": {"name": "A"},
                        "shipTo": {"name": "A"},
                    }
                    status, order = await call(s, "POST", "/orders/createorder", body)
                    assert status == 200
                    ids.append(order["orderId"])
            return ids

        threads = [threading.Thread(target=seed, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        http_ids = asyncio.run(over_http())
        for t in threads:
            t.join()
        assert not errors
        every = created + http_ids
        assert len(set(every)) == len(every) == 80
        assert len(tsb.world.orders) == 50 + 80
        assert tsb.write_counts() == {"POST /orders/createorder": 20}
        assert tsb.labels() == []
        assert tsb.world.get("orders", created[0]) is not None
