"""Order endpoints that change state, over real HTTP, checked through the read endpoints."""

from __future__ import annotations

import base64
import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from shipstation_async.sandbox import Sandbox
from shipstation_async.sandbox.world import ORDER_KEYS

from .helpers import DATE, ITEM_TS, ORDER_TS, call, example, model_state_keys

Order = dict[str, Any]


def first(sandbox: Sandbox, status: str, skip: int = 0) -> Order:
    """The ``skip``-th generated order with this status."""
    found = [
        o
        for o in (sandbox.world.orders.at(i) for i in range(sandbox.world.orders.count))
        if o["orderStatus"] == status
    ]
    return found[skip]


def new_order(number: str, **extra: Any) -> Order:
    body = copy.deepcopy(example("Order/CreateOrderRequest.txt"))
    body["orderNumber"] = number
    body.pop("orderKey")
    body.update(extra)
    return body


async def test_createorder_with_the_documented_request(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    body = example("Order/CreateOrderRequest.txt")
    status, order = await call(session, "POST", "/orders/createorder", body)
    assert status == 200, order
    doc = example("Order/CreateOrderResponse.json")
    # The create example predates externallyFulfilledById/Name; GetOrder has them.
    assert set(doc) < set(order) and list(order) == list(ORDER_KEYS)
    for key in ("billTo", "shipTo", "advancedOptions", "insuranceOptions", "weight"):
        assert set(order[key]) == set(doc[key]), key
    assert [set(i) for i in order["items"]] == [set(i) for i in doc["items"]]
    # What ShipStation does to the same request, as its example response shows.
    for key in ("orderNumber", "orderKey", "orderDate", "paymentDate", "shipByDate", "shipDate"):
        assert order[key] == doc[key], key
    assert order["orderTotal"] == doc["orderTotal"] == 41.45
    assert order["tagIds"] is None  # tag 777001 does not exist in this account
    assert order["items"][0]["productId"] is None  # nor product 990001, nor SKU FX-MUG-01
    assert order["customerId"] is None
    assert order["internationalOptions"] == doc["internationalOptions"]
    assert ORDER_TS.match(order["createDate"]) and order["createDate"] == order["modifyDate"]
    assert all(ITEM_TS.match(i["createDate"]) for i in order["items"])
    # Defaults: the Manual Store, the default warehouse.
    assert order["advancedOptions"]["storeId"] == sandbox.world.manual_store_id
    assert order["advancedOptions"]["warehouseId"] == sandbox.world.default_warehouse_id
    status, fetched = await call(session, "GET", f"/orders/{order['orderId']}")
    assert status == 200 and fetched == order


async def test_createorder_upserts_by_order_key(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    body = example("Order/CreateOrderRequest.txt")
    _, created = await call(session, "POST", "/orders/createorder", body)
    changed = {**body, "internalNotes": "changed", "items": body["items"][:1]}
    status, updated = await call(session, "POST", "/orders/createorder", changed)
    assert status == 200
    assert updated["orderId"] == created["orderId"]
    assert updated["createDate"] == created["createDate"]
    assert updated["modifyDate"] >= created["modifyDate"]
    assert updated["internalNotes"] == "changed" and len(updated["items"]) == 1
    # The item with the same lineItemKey keeps its orderItemId; the whole order is replaced.
    assert updated["items"][0]["orderItemId"] == created["items"][0]["orderItemId"]
    assert updated["orderTotal"] == round(2 * 12.5 + 2.7 + 5, 2)
    _, page = await call(session, "GET", "/orders", orderNumber="FX-20250314-01")
    assert page["total"] == 1
    # With the matching orderId too (split orders), still an update.
    status, again = await call(
        session, "POST", "/orders/createorder", {**changed, "orderId": created["orderId"]}
    )
    assert status == 200 and again["orderId"] == created["orderId"]


async def test_createorder_without_a_key_creates_a_new_order_each_time(
    session: aiohttp.ClientSession,
) -> None:
    body = new_order("NO-KEY-1", items=[{"sku": "TS-BLK-M", "name": "Tee", "quantity": 1}])
    _, a = await call(session, "POST", "/orders/createorder", body)
    _, b = await call(session, "POST", "/orders/createorder", body)
    assert a["orderId"] != b["orderId"] and a["orderKey"] != b["orderKey"]
    assert len(a["orderKey"]) >= 32
    # A known SKU resolves to its product.
    assert a["items"][0]["productId"] == 7239901
    _, page = await call(session, "GET", "/orders", orderNumber="NO-KEY-1")
    assert page["total"] == 2


async def test_createorder_refuses_bad_input(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await call(session, "POST", "/orders/createorder", {})
    assert status == 400
    assert {
        "apiOrder.orderNumber",
        "apiOrder.orderDate",
        "apiOrder.orderStatus",
        "apiOrder.billTo",
        "apiOrder.shipTo",
    } <= model_state_keys(body)
    status, body = await call(session, "POST", "/orders/createorder", [new_order("A")])
    assert status == 400 and model_state_keys(body) == {"apiOrder"}
    status, body = await call(
        session, "POST", "/orders/createorder", new_order("B", orderId=123, orderKey="k-1")
    )
    assert status == 400 and model_state_keys(body) == {"apiOrder.orderId"}
    bad_store = new_order("C", advancedOptions={"storeId": 1})
    status, body = await call(session, "POST", "/orders/createorder", bad_store)
    assert status == 400 and model_state_keys(body) == {"apiOrder.advancedOptions.storeId"}
    status, body = await call(
        session, "POST", "/orders/createorder", new_order("D", orderStatus="lost")
    )
    assert status == 400 and model_state_keys(body) == {"apiOrder.orderStatus"}
    async with session.post(
        "/orders/createorder", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400 and model_state_keys(await r.json()) == {"apiOrder"}
    _, page = await call(session, "GET", "/orders", pageSize=1)
    assert page["total"] == 400  # nothing was created


@pytest.mark.parametrize("status", ["shipped", "cancelled"])
async def test_createorder_refuses_to_update_locked_orders(
    sandbox: Sandbox, session: aiohttp.ClientSession, status: str
) -> None:
    locked = first(sandbox, status)
    body = new_order("LOCKED", orderKey=locked["orderKey"], orderStatus="awaiting_shipment")
    code, answer = await call(session, "POST", "/orders/createorder", body)
    assert code == 400 and model_state_keys(answer) == {"apiOrder.orderKey"}
    assert status in answer["ModelState"]["apiOrder.orderKey"][0]
    _, fetched = await call(session, "GET", f"/orders/{locked['orderId']}")
    assert fetched == locked


async def test_createorders_with_the_documented_request(session: aiohttp.ClientSession) -> None:
    status, body = await call(
        session, "POST", "/orders/createorders", example("Order/CreateOrdersRequest.txt")
    )
    assert status == 200
    doc = example("Order/CreateOrdersResponse.json")
    assert set(body) == set(doc) and body["hasErrors"] is False
    assert [set(r) for r in body["results"]] == [set(r) for r in doc["results"]]
    for got, want in zip(body["results"], doc["results"], strict=True):
        assert (got["orderNumber"], got["orderKey"]) == (want["orderNumber"], want["orderKey"])
        assert got["success"] is True and got["errorMessage"] is None
        _, order = await call(session, "GET", f"/orders/{got['orderId']}")
        assert order["orderKey"] == want["orderKey"]


async def test_createorders_reports_each_order(session: aiohttp.ClientSession) -> None:
    good = new_order("BATCH-OK")
    bad = new_order("BATCH-BAD")
    del bad["orderNumber"], bad["shipTo"]
    status, body = await call(session, "POST", "/orders/createorders", [good, bad])
    assert status == 200 and body["hasErrors"] is True
    ok, failed = body["results"]
    assert ok["success"] is True and ok["orderId"] > 0
    assert failed["success"] is False and failed["orderId"] == 0
    assert "orderNumber" in failed["errorMessage"] and "shipTo" in failed["errorMessage"]
    _, page = await call(session, "GET", "/orders", orderNumber="BATCH-")
    assert [o["orderNumber"] for o in page["orders"]] == ["BATCH-OK"]


async def test_createorders_refuses_a_non_array_and_more_than_100(
    session: aiohttp.ClientSession,
) -> None:
    status, body = await call(session, "POST", "/orders/createorders", new_order("OBJ"))
    assert status == 400
    assert list(body) == ["Message", "ModelState"]
    assert model_state_keys(body) == {"apiOrders.orderNumber"}
    assert "JSON array" in body["ModelState"]["apiOrders.orderNumber"][0]
    status, body = await call(
        session, "POST", "/orders/createorders", [new_order(f"M-{k}") for k in range(101)]
    )
    assert status == 400 and model_state_keys(body) == {"apiOrders"}
    _, page = await call(session, "GET", "/orders", orderNumber="M-")
    assert page["total"] == 0


async def test_delete_is_a_soft_delete(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    target = first(sandbox, "awaiting_shipment")
    status, body = await call(session, "DELETE", f"/orders/{target['orderId']}")
    assert status == 200 and body == example("Order/DeleteOrderResponse.json")
    status, body = await call(session, "GET", f"/orders/{target['orderId']}")
    assert status == 404 and body == {"Message": "Order not found"}
    _, page = await call(session, "GET", "/orders", orderNumber=target["orderNumber"])
    assert page["total"] == 0
    _, page = await call(session, "GET", "/orders", pageSize=500)
    assert page["total"] == 399 and target["orderId"] not in {o["orderId"] for o in page["orders"]}
    assert sandbox.world.get("orders", target["orderId"]) == target  # still stored
    status, _ = await call(session, "DELETE", f"/orders/{target['orderId']}")
    assert status == 404
    assert sandbox.write_counts()["DELETE /orders/{orderId}"] == 1


async def test_hold_until_then_restore(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    target = first(sandbox, "awaiting_shipment")
    later = datetime.now(ZoneInfo("America/Los_Angeles")) + timedelta(days=2)
    tomorrow = later.date().isoformat()
    status, body = await call(
        session,
        "POST",
        "/orders/holduntil",
        {"orderId": target["orderId"], "holdUntilDate": tomorrow},
    )
    assert status == 200 and body == example("Order/HoldUntilResponse.json")
    _, held = await call(session, "GET", f"/orders/{target['orderId']}")
    assert held["orderStatus"] == "on_hold" and held["holdUntilDate"] == tomorrow
    _, page = await call(
        session, "GET", "/orders", orderStatus="on_hold", orderNumber=target["orderNumber"]
    )
    assert page["total"] == 1
    status, body = await call(
        session, "POST", "/orders/restorefromhold", {"orderId": target["orderId"]}
    )
    assert status == 200 and body == example("Order/RestoreFromHoldResponse.json")
    _, restored = await call(session, "GET", f"/orders/{target['orderId']}")
    assert restored["orderStatus"] == "awaiting_shipment" and restored["holdUntilDate"] is None
    status, body = await call(
        session, "POST", "/orders/restorefromhold", {"orderId": target["orderId"]}
    )
    assert status == 400 and model_state_keys(body) == {"request.orderId"}


async def test_a_hold_ends_by_itself_on_its_date(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    target = first(sandbox, "awaiting_payment")
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date().isoformat()
    status, _ = await call(
        session,
        "POST",
        "/orders/holduntil",
        {"orderId": target["orderId"], "holdUntilDate": today},
    )
    assert status == 200
    # The date has come: the next read finds the order awaiting shipment again.
    _, page = await call(
        session, "GET", "/orders", orderStatus="on_hold", orderNumber=target["orderNumber"]
    )
    assert page["total"] == 0
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["orderStatus"] == "awaiting_shipment" and order["holdUntilDate"] is None


async def test_hold_refusals(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    shipped = first(sandbox, "shipped")
    status, body = await call(
        session,
        "POST",
        "/orders/holduntil",
        {"orderId": shipped["orderId"], "holdUntilDate": "2030-01-01"},
    )
    assert status == 400 and model_state_keys(body) == {"request.orderId"}
    status, body = await call(session, "POST", "/orders/holduntil", {"orderId": "x"})
    assert status == 400
    assert model_state_keys(body) == {"request.orderId", "request.holdUntilDate"}
    status, body = await call(
        session, "POST", "/orders/holduntil", {"orderId": 1, "holdUntilDate": "2030-01-01"}
    )
    assert status == 404


async def test_tags_add_remove_and_list_by_tag(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    target = next(
        o
        for o in (sandbox.world.orders.at(i) for i in range(400))
        if o["orderStatus"] == "awaiting_shipment" and not o["tagIds"]
    )
    tag = 8336
    request = {"orderId": target["orderId"], "tagId": tag}
    status, body = await call(session, "POST", "/orders/addtag", request)
    assert status == 200 and body == example("Order/AddTagResponse.json")
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["tagIds"] == [tag]
    status, page = await call(
        session, "GET", "/orders/listbytag", orderStatus="awaiting_shipment", tagId=tag
    )
    assert status == 200 and set(page) == {"orders", "total", "page", "pages"}
    expected = [
        o["orderId"]
        for o in (sandbox.world.orders.at(i) for i in range(400))
        if o["orderStatus"] == "awaiting_shipment" and tag in (o["tagIds"] or ())
    ]
    assert [o["orderId"] for o in page["orders"]] == expected
    assert target["orderId"] in expected and page["total"] == len(expected)
    status, body = await call(session, "POST", "/orders/removetag", request)
    assert status == 200 and body == example("Order/RemoveTagResponse.json")
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["tagIds"] is None
    _, page = await call(
        session, "GET", "/orders/listbytag", orderStatus="awaiting_shipment", tagId=tag
    )
    assert page["total"] == len(expected) - 1
    status, _ = await call(
        session, "POST", "/orders/addtag", {"orderId": target["orderId"], "tagId": 1}
    )
    assert status == 404
    status, body = await call(session, "POST", "/orders/addtag", {"orderId": target["orderId"]})
    assert status == 400 and model_state_keys(body) == {"request.tagId"}
    status, body = await call(session, "GET", "/orders/listbytag")
    assert status == 400 and model_state_keys(body) == {"orderStatus", "tagId"}


async def test_assign_user_is_all_or_nothing(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    a, b = first(sandbox, "awaiting_shipment", 0), first(sandbox, "awaiting_shipment", 1)
    user = sandbox.world.list_users()[1]["userId"]
    status, body = await call(
        session,
        "POST",
        "/orders/assignuser",
        {"orderIds": [a["orderId"], b["orderId"], 1], "userId": user},
    )
    assert status == 404 and "1" in body["Message"]
    for o in (a, b):
        _, got = await call(session, "GET", f"/orders/{o['orderId']}")
        assert got["userId"] == o["userId"]  # unchanged
    status, body = await call(
        session,
        "POST",
        "/orders/assignuser",
        {"orderIds": [a["orderId"], b["orderId"]], "userId": user.upper()},
    )
    assert status == 200 and body == example("Order/AssignUserResponse.json")
    for o in (a, b):
        _, got = await call(session, "GET", f"/orders/{o['orderId']}")
        assert got["userId"] == user
    status, body = await call(
        session, "POST", "/orders/unassignuser", {"orderIds": [a["orderId"], 2]}
    )
    assert status == 404
    status, body = await call(
        session, "POST", "/orders/unassignuser", {"orderIds": [a["orderId"], b["orderId"]]}
    )
    assert status == 200 and body == example("Order/UnassignUserResponse.json")
    _, got = await call(session, "GET", f"/orders/{a['orderId']}")
    assert got["userId"] is None
    status, _ = await call(
        session,
        "POST",
        "/orders/assignuser",
        {"orderIds": [a["orderId"]], "userId": "00000000-0000-0000-0000-000000000000"},
    )
    assert status == 404
    status, body = await call(session, "POST", "/orders/assignuser", {"orderIds": []})
    assert status == 400 and model_state_keys(body) == {"request.orderIds", "request.userId"}


async def test_mark_as_shipped_makes_a_fulfillment_and_no_shipment(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    target = first(sandbox, "awaiting_shipment")
    request = {**example("Order/MarkAsShippedRequest.txt"), "orderId": target["orderId"]}
    status, body = await call(session, "POST", "/orders/markasshipped", request)
    assert status == 200
    assert set(body) == set(example("Order/MarkAsShippedResponse.json"))
    assert body == {"orderId": target["orderId"], "orderNumber": target["orderNumber"]}
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["orderStatus"] == "shipped" and order["shipDate"] == "2025-05-20"
    assert order["carrierCode"] == "usps"
    _, ful = await call(session, "GET", "/fulfillments", orderId=target["orderId"])
    assert ful["total"] == 1
    f = ful["fulfillments"][0]
    assert f["trackingNumber"] == request["trackingNumber"] and f["shipDate"] == "2025-05-20"
    assert f["shipTo"] == target["shipTo"] and f["marketplaceNotified"] is True
    _, shipments = await call(session, "GET", "/shipments", orderId=target["orderId"])
    assert shipments["total"] == 0
    assert sandbox.labels() == []
    status, again = await call(session, "POST", "/orders/markasshipped", request)
    assert status == 400 and model_state_keys(again) == {"request.orderId"}
    status, body = await call(session, "POST", "/orders/markasshipped", {"orderId": 5})
    assert status == 400 and model_state_keys(body) == {"request.carrierCode"}


async def test_create_label_for_order(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    target = first(sandbox, "awaiting_shipment")
    request = {**example("Order/CreateLabelForOrderRequest.txt"), "orderId": target["orderId"]}
    status, label = await call(session, "POST", "/orders/createlabelfororder", request)
    assert status == 200, label
    assert set(label) == set(example("Order/CreateLabelForOrderResponse.json"))
    pdf = base64.b64decode(label["labelData"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    assert label["trackingNumber"].encode() in pdf
    assert label["shipmentCost"] > 0
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["orderStatus"] == "shipped" and order["shipDate"] == request["shipDate"]
    assert (order["carrierCode"], order["serviceCode"]) == ("stamps_com", "usps_priority_mail")
    _, listed = await call(
        session, "GET", "/shipments", orderId=target["orderId"], includeShipmentItems=True
    )
    assert listed["total"] == 1
    shipment = listed["shipments"][0]
    assert shipment["shipmentId"] == label["shipmentId"]
    assert shipment["trackingNumber"] == label["trackingNumber"]
    assert shipment["shipmentCost"] == label["shipmentCost"]
    assert shipment["weight"] == {"value": 24, "units": "ounces", "WeightUnits": 1}
    assert shipment["shipmentItems"] == order["items"]
    assert shipment["labelData"] is None and shipment["shipDate"] == request["shipDate"]
    (purchase,) = sandbox.labels()
    assert purchase.request == request and purchase.shipment_id == label["shipmentId"]
    assert purchase.order_id == target["orderId"] and purchase.endpoint.endswith("fororder")
    assert float(purchase.shipment_cost) == label["shipmentCost"]
    assert sandbox.write_counts()["POST /orders/createlabelfororder"] == 1


async def test_create_label_for_order_refusals(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    request = example("Order/CreateLabelForOrderRequest.txt")
    cancelled = first(sandbox, "cancelled")
    status, body = await call(
        session, "POST", "/orders/createlabelfororder", {**request, "orderId": cancelled["orderId"]}
    )
    assert status == 400 and model_state_keys(body) == {"request.orderId"}
    status, _ = await call(session, "POST", "/orders/createlabelfororder", request)
    assert status == 404  # order 170000013 does not exist here
    target = first(sandbox, "awaiting_shipment")
    for change, key in [
        ({"carrierCode": "dhl"}, "request.carrierCode"),
        ({"serviceCode": "ups_ground"}, "request.serviceCode"),
        ({"packageCode": "ups_pak"}, "request.packageCode"),
        ({"shipDate": None}, "request.shipDate"),
        ({"weight": {"value": 0, "units": "ounces"}}, "request.weight.value"),
        ({"confirmation": "hand_delivery"}, "request.confirmation"),
    ]:
        bad = {**request, "orderId": target["orderId"], **change}
        status, body = await call(session, "POST", "/orders/createlabelfororder", bad)
        assert status == 400 and model_state_keys(body) == {key}, change
    assert sandbox.labels() == []
    assert "POST /orders/createlabelfororder" not in sandbox.write_counts()


async def test_funded_carrier_balance_pays_for_labels(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    target = first(sandbox, "awaiting_shipment")
    heavy = {
        **example("Order/CreateLabelForOrderRequest.txt"),
        "orderId": target["orderId"],
        "carrierCode": "stamps_com",
        "serviceCode": "usps_priority_mail_express",
        "weight": {"value": 150, "units": "pounds"},
    }
    _, carrier = await call(session, "GET", "/carriers/getcarrier", carrierCode="stamps_com")
    status, body = await call(session, "POST", "/orders/createlabelfororder", heavy)
    assert status == 400 and model_state_keys(body) == {"request.carrierCode"}
    assert "Insufficient funds" in body["ModelState"]["request.carrierCode"][0]
    status, funded = await call(
        session, "POST", "/carriers/addfunds", {"carrierCode": "stamps_com", "amount": 2000}
    )
    assert status == 200 and funded["balance"] == pytest.approx(carrier["balance"] + 2000)
    status, label = await call(session, "POST", "/orders/createlabelfororder", heavy)
    assert status == 200
    _, after = await call(session, "GET", "/carriers/getcarrier", carrierCode="stamps_com")
    cost = label["shipmentCost"] + label["insuranceCost"]
    assert after["balance"] == pytest.approx(funded["balance"] - cost)
    assert float(sandbox.labels()[0].charged) == pytest.approx(cost)


async def test_test_labels_are_recorded_but_buy_nothing(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    target = first(sandbox, "awaiting_shipment")
    request = {
        **example("Order/CreateLabelForOrderRequest.txt"),
        "orderId": target["orderId"],
        "testLabel": True,
    }
    status, label = await call(session, "POST", "/orders/createlabelfororder", request)
    assert status == 200 and label["shipmentId"] == 0
    assert b"TEST LABEL" in base64.b64decode(label["labelData"])
    _, order = await call(session, "GET", f"/orders/{target['orderId']}")
    assert order["orderStatus"] == "awaiting_shipment"
    _, listed = await call(session, "GET", "/shipments", orderId=target["orderId"])
    assert listed["total"] == 0
    (purchase,) = sandbox.labels()
    assert purchase.test_label and purchase.shipment_id is None and purchase.charged == 0


async def test_order_dates_keep_shipstation_formats(session: aiohttp.ClientSession) -> None:
    body = new_order("FORMATS", orderDate="2024-03-10 02:30:00", shipDate="2024-03-12T10:00:00")
    _, order = await call(session, "POST", "/orders/createorder", body)
    assert order["orderDate"] == "2024-03-10T02:30:00.0000000"
    assert DATE.match(order["shipDate"]) and order["shipDate"] == "2024-03-12"
