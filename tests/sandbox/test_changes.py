"""The change feed: every write endpoint, and every workload mutation, emits one record."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from shipstation_async.sandbox import MutationWorkload, Sandbox, World
from shipstation_async.sandbox.state.changes import ChangeFeed, ChangeRecord
from shipstation_async.sandbox.world import ProductQuery

from .helpers import FIXED_END, call

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
ADDRESS = {
    "name": "Dock 9",
    "street1": "9 Harbour Rd",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78703",
    "country": "US",
}


def _awaiting(world: World, n: int) -> list[int]:
    orders = world.orders
    ids = [
        orders.order_id(i) for i in range(orders.count) if orders.status(i) == "awaiting_shipment"
    ]
    return ids[:n]


async def test_each_write_endpoint_emits_exactly_one_change_record(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    world = sandbox.world
    log = world.change_log
    a, b, c, d = _awaiting(world, 4)
    shop = next(s for s in world.stores if s["marketplaceName"] != "ShipStation")
    product = next(iter(world.query_products(ProductQuery(page_size=1))[0]))
    tag = world.tag_ids[0]
    user = world.list_users()[0]["userId"]
    seen: list[tuple[str, str, ChangeRecord]] = []

    async def write(method: str, path: str, body: Any = None, **params: Any) -> Any:
        before = len(log.records())
        status, answer = await call(session, method, path, body, **params)
        assert status == 200, (method, path, answer)
        new = log.records()[before:]
        assert len(new) == 1, (method, path, new)
        seen.append((method, path, new[0]))
        return answer

    order = await write(
        "POST",
        "/orders/createorder",
        {
            "orderNumber": "CHG-1",
            "orderDate": "2025-06-01T08:00:00",
            "orderStatus": "awaiting_shipment",
            "billTo": {"name": "Ada"},
            "shipTo": SHIP_TO,
        },
    )
    await write(
        "POST",
        "/orders/createorders",
        [
            {
                "orderNumber": "CHG-2",
                "orderDate": "2025-06-01T08:00:00",
                "orderStatus": "awaiting_payment",
                "billTo": {"name": "Ada"},
                "shipTo": SHIP_TO,
            }
        ],
    )
    await write("POST", "/orders/holduntil", {"orderId": a, "holdUntilDate": "2031-01-01"})
    await write("POST", "/orders/restorefromhold", {"orderId": a})
    await write("POST", "/orders/addtag", {"orderId": a, "tagId": tag})
    await write("POST", "/orders/removetag", {"orderId": a, "tagId": tag})
    await write("POST", "/orders/assignuser", {"orderIds": [a], "userId": user})
    await write("POST", "/orders/unassignuser", {"orderIds": [a]})
    await write(
        "POST",
        "/orders/markasshipped",
        {"orderId": b, "carrierCode": "usps", "shipDate": "2025-06-02"},
    )
    await write("POST", "/orders/createlabelfororder", {"orderId": c, **LABEL})
    await write("POST", "/orders/createlabelfororder", {"orderId": d, **LABEL, "testLabel": True})
    label = await write(
        "POST", "/shipments/createlabel", {**LABEL, "shipFrom": ADDRESS, "shipTo": SHIP_TO}
    )
    await write("POST", "/shipments/voidlabel", {"shipmentId": label["shipmentId"]})
    await write("DELETE", f"/orders/{order['orderId']}")
    await write("PUT", f"/products/{product['productId']}", {**product, "name": "Renamed"})
    store = world.store(shop["storeId"])
    await write("PUT", f"/stores/{shop['storeId']}", {**(store or {}), "storeName": "Renamed"})
    await write("POST", "/stores/refreshstore", storeId=shop["storeId"])
    await write("POST", "/stores/deactivate", {"storeId": shop["storeId"]})
    await write("POST", "/stores/reactivate", {"storeId": shop["storeId"]})
    warehouse = await write(
        "POST", "/warehouses/createwarehouse", {"warehouseName": "Dock", "originAddress": ADDRESS}
    )
    wid = warehouse["warehouseId"]
    await write("PUT", f"/warehouses/{wid}", {**warehouse, "warehouseName": "Dock 2"})
    await write("DELETE", f"/warehouses/{wid}")
    await write("POST", "/carriers/addfunds", {"carrierCode": "stamps_com", "amount": 25})
    hook = await write(
        "POST",
        "/webhooks/subscribe",
        {"target_url": "https://example.com/hook", "event": "ORDER_NOTIFY"},
    )
    await write("DELETE", f"/webhooks/{hook['id']}")
    async with aiohttp.ClientSession(sandbox.url) as anonymous:
        before = len(log.records())
        status, _ = await call(
            anonymous,
            "POST",
            "/accounts/registeraccount",
            {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "ada@example.com",
                "password": "correct horse",
                "companyName": "Engines",
                "countryCode": "GB",
            },
        )
        assert status == 200 and len(log.records()) == before + 1

    # Every write endpoint was exercised (write_counts keys them by "METHOD /pattern").
    assert len(world.write_counts()) == 25
    by_path = {p: r for _m, p, r in seen}
    assert by_path["/orders/createorder"].resource == "orders"
    assert by_path["/orders/createlabelfororder"].resource == "labels"  # the later, test label
    assert by_path["/orders/markasshipped"].resource == "fulfillments"
    assert by_path["/shipments/voidlabel"] == ChangeRecord(
        "shipments", label["shipmentId"], "void", by_path["/shipments/voidlabel"].at_ms
    )
    assert by_path["/carriers/addfunds"].record_id == "stamps_com"


def test_an_operation_emits_one_record_and_a_failed_one_none() -> None:
    feed = ChangeFeed()
    got: list[ChangeRecord] = []
    unsubscribe = feed.subscribe(got.append)
    with feed.operation() as done:
        feed.emit("orders", 1, "update")
        with feed.operation() as inner:
            inner("shipments", 2, "create")
        done("shipments", 3, "create")
    with pytest.raises(RuntimeError), feed.operation() as done:
        done("labels", 4, "create")
        raise RuntimeError
    with feed.operation():
        pass
    feed.emit("stores", 5, "update")
    unsubscribe()
    feed.emit("stores", 6, "update")
    assert [(r.resource, r.record_id, r.action) for r in got] == [
        ("shipments", 3, "create"),
        ("stores", 5, "update"),
    ]


@pytest.mark.parametrize("per_request", [1, 5])
def test_each_workload_mutation_emits_exactly_one_record(per_request: int) -> None:
    world = World(orders=300, seed=4, end=FIXED_END)
    workload = MutationWorkload(seed=2, per_request=per_request, ships=2.0, burst_after=None)
    for _ in range(6):
        before = len(world.change_log.records())
        done = workload.apply(world, "/orders")
        assert len(world.change_log.records()) - before == len(done) == per_request
