"""The sandbox answers as the real API would where a client tested only against it could break.

Typed binding of bodies (Json.NET's conversions), timestamps' precision, documented response
keys, server-assigned read-only ids, Json.NET-style syntax errors, the 401, and the 90-day
range rule as a setting.
"""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from shipstation_async.cli import build_parser as cli_parser
from shipstation_async.sandbox import Sandbox, World
from shipstation_async.sandbox._time import format_item_ts
from shipstation_async.sandbox.standalone import build_parser, serve_arguments

from .conftest import ROOMY
from .helpers import FIXED_END, ITEM_TS, auth_headers, call, example, model_state_keys
from .test_shipping import SHIP_FROM, SHIP_TO, label_request

Record = dict[str, Any]


def order_body(number: str, **changes: Any) -> Record:
    body: Record = copy.deepcopy(example("Order/CreateOrderRequest.txt"))
    body["orderNumber"] = number
    body.pop("orderKey")
    body.pop("customerId")
    body.update(changes)
    return body


def one_item(**changes: Any) -> Record:
    return {"sku": "FX-ONE", "name": "One", "quantity": 1, "unitPrice": 5, **changes}


# -- 1. numbers and booleans sent as strings -------------------------------------------------


async def test_numeric_and_boolean_strings_bind_to_numbers_and_booleans(
    session: aiohttp.ClientSession,
) -> None:
    body = order_body(
        "FID-TYPED-1",
        amountPaid="19.98",
        taxAmount=" 1.5 ",
        shippingAmount="0",
        gift="false",
        items=[one_item(quantity="2", unitPrice="4.25", weight={"value": "12", "units": "ounces"})],
    )
    body["shipTo"]["residential"] = "True"
    body["weight"] = {"value": "26.5", "units": "ounces"}
    body["advancedOptions"]["saturdayDelivery"] = "true"
    status, order = await call(session, "POST", "/orders/createorder", body)
    assert status == 200, order
    assert order["amountPaid"] == 19.98 and isinstance(order["amountPaid"], float)
    assert order["taxAmount"] == 1.5 and order["shippingAmount"] == 0
    assert order["gift"] is False
    item = order["items"][0]
    assert item["quantity"] == 2 and type(item["quantity"]) is int
    assert item["unitPrice"] == 4.25
    assert item["weight"]["value"] == 12 and type(item["weight"]["value"]) is int
    assert order["weight"]["value"] == 26.5
    assert order["shipTo"]["residential"] is True
    assert order["advancedOptions"]["saturdayDelivery"] is True
    assert order["orderTotal"] == 10  # 2 x 4.25 + 1.5 tax + 0 shipping: computed on numbers
    status, fetched = await call(session, "GET", f"/orders/{order['orderId']}")
    assert status == 200 and fetched == order


async def test_whole_numbers_are_written_bare_however_they_were_sent(
    session: aiohttp.ClientSession,
) -> None:
    """The API's examples write whole numbers bare (``"taxAmount": 5``): a JSON 10.0 comes
    back as 10, as "10.00" does, and a label's weight in ounces too."""
    body = order_body(
        "FID-WHOLE-1",
        amountPaid=10.0,
        items=[one_item(unitPrice=10.0, weight={"value": 8.0, "units": "ounces"})],
    )
    body.pop("weight")  # the order's weight: its items', computed
    status, order = await call(session, "POST", "/orders/createorder", body)
    assert status == 200, order
    item = order["items"][0]
    for value in (order["amountPaid"], item["unitPrice"], item["weight"]["value"]):
        assert type(value) is int, order
    assert order["weight"]["value"] == 8 and type(order["weight"]["value"]) is int
    request = label_request(weight={"value": 2, "units": "pounds"})
    status, label = await call(session, "POST", "/shipments/createlabel", request)
    assert status == 200, label
    status, listed = await call(session, "GET", "/shipments", pageSize=500, sortBy="CreateDate")
    [shipment] = [s for s in listed["shipments"] if s["shipmentId"] == label["shipmentId"]]
    assert shipment["weight"]["value"] == 32 and type(shipment["weight"]["value"]) is int


async def test_json_net_conversions_of_numbers_to_strings_and_booleans(
    session: aiohttp.ClientSession,
) -> None:
    body = order_body("FID-TYPED-2", items=[one_item(sku=12345, adjustment=0)])
    body["orderNumber"] = 777123
    body["shipTo"]["residential"] = 1
    body["shipTo"]["postalCode"] = 22201
    status, order = await call(session, "POST", "/orders/createorder", body)
    assert status == 200, order
    assert order["orderNumber"] == "777123"
    assert order["shipTo"]["postalCode"] == "22201" and order["shipTo"]["residential"] is True
    assert order["items"][0]["sku"] == "12345" and order["items"][0]["adjustment"] is False


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"shipTo": {"name": "A", "residential": "yes"}}, "apiOrder.shipTo.residential", "boolean"),
        ({"amountPaid": "19,98,x"}, "apiOrder.amountPaid", "decimal"),
        ({"amountPaid": "NaN"}, "apiOrder.amountPaid", "decimal"),
        ({"amountPaid": True}, "apiOrder.amountPaid", "decimal"),
        ({"items": [one_item(quantity="2.5")]}, "apiOrder.items[0].quantity", "integer"),
        ({"items": [one_item(quantity=2.5)]}, "apiOrder.items[0].quantity", "integer"),
        ({"items": [one_item(quantity=2**31)]}, "apiOrder.items[0].quantity", "Int32"),
        (
            {"items": [one_item(weight={"value": "heavy"})]},
            "apiOrder.items[0].weight.value",
            "decimal",
        ),
        ({"gift": "sometimes"}, "apiOrder.gift", "boolean"),
        ({"orderDate": "yesterday"}, "apiOrder.orderDate", "DateTime"),
        ({"orderDate": 20250101}, "apiOrder.orderDate", "date"),
        ({"shipTo": "17 Harbor View Rd"}, "apiOrder.shipTo", "Address"),
        ({"tagIds": {"a": 1}}, "apiOrder.tagIds.a", "List"),
        ({"customerNotes": {"a": 1}}, "apiOrder.customerNotes", "string"),
    ],
)
async def test_a_value_that_does_not_convert_is_a_model_state_400(
    session: aiohttp.ClientSession, change: Record, key: str, words: str
) -> None:
    status, body = await call(
        session, "POST", "/orders/createorder", order_body("FID-BAD", **change)
    )
    assert status == 400, body
    assert key in model_state_keys(body)
    (message,) = body["ModelState"][key]
    assert words in message and "Path '" in message
    assert "Traceback" not in message and "Expecting" not in message


@pytest.mark.parametrize("user_id", ["not-a-guid", 123, "a1b2c3", True])
async def test_a_user_id_must_be_a_guid(
    sandbox: Sandbox, session: aiohttp.ClientSession, user_id: object
) -> None:
    # userId is a .NET Guid: a name or a number is a conversion error, not an unknown user.
    status, body = await call(
        session, "POST", "/orders/createorder", order_body("FID-GUID", userId=user_id)
    )
    assert status == 400 and model_state_keys(body) == {"apiOrder.userId"}, body
    assert "'System.Guid'" in body["ModelState"]["apiOrder.userId"][0]
    order_id = sandbox.world.orders.order_id(0)
    request = {"orderIds": [order_id], "userId": user_id}
    status, body = await call(session, "POST", "/orders/assignuser", request)
    assert status == 400 and model_state_keys(body) == {"request.userId"}, body


async def test_a_guid_binds_in_every_spelling_dotnet_reads(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    user = sandbox.world.list_users()[0]["userId"]
    order_id = sandbox.world.orders.order_id(0)
    for spelling in (f"{{{user.upper()}}}", f"({user})", user.replace("-", "")):
        request = {"orderIds": [order_id], "userId": spelling}
        status, body = await call(session, "POST", "/orders/assignuser", request)
        assert status == 200, body
        _, got = await call(session, "GET", f"/orders/{order_id}")
        assert got["userId"] == user
    status, order = await call(
        session, "POST", "/orders/createorder", order_body("FID-GUID-OK", userId=user.upper())
    )
    assert status == 200 and order["userId"] == user


async def test_binding_errors_come_with_the_other_problems(session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "POST", "/orders/holduntil", {"orderId": "x"})
    assert status == 400
    assert model_state_keys(body) == {"request.orderId", "request.holdUntilDate"}
    assert body["ModelState"]["request.orderId"] == [
        "Could not convert string to integer: x. Path 'orderId'."
    ]


async def test_createorders_binds_every_order(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    good = order_body("FID-MANY-1", amountPaid="3.10", items=[one_item(quantity="3")])
    status, body = await call(session, "POST", "/orders/createorders", [good])
    assert status == 200 and body["results"][0]["success"], body
    order = sandbox.world.orders.get(body["results"][0]["orderId"])
    assert order is not None and order["amountPaid"] == 3.1 and order["items"][0]["quantity"] == 3
    bad = order_body("FID-MANY-2", amountPaid="three")
    before = len(sandbox.world.orders)
    status, body = await call(
        session, "POST", "/orders/createorders", [order_body("FID-MANY-3"), bad]
    )
    assert status == 400 and model_state_keys(body) == {"apiOrders[1].amountPaid"}
    assert len(sandbox.world.orders) == before  # the list did not bind: nothing was created


async def test_label_bodies_bind_types(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    request = label_request(weight={"value": "3", "units": "pounds"}, testLabel="true")
    request["dimensions"] = {"length": "10", "width": "8", "height": "4", "units": "inches"}
    status, label = await call(session, "POST", "/shipments/createlabel", request)
    assert status == 200, label
    assert label["shipmentId"] == 0  # "true" bound to true: a test label
    bad = label_request(shipTo={**SHIP_TO, "residential": "yes"})
    status, body = await call(session, "POST", "/shipments/createlabel", bad)
    assert status == 400 and "shipment.shipTo.residential" in model_state_keys(body)
    status, rates = await call(
        session,
        "POST",
        "/shipments/getrates",
        {
            "carrierCode": "stamps_com",
            "fromPostalCode": 78703,
            "toCountry": "US",
            "toPostalCode": "98101",
            "weight": {"value": "32", "units": "ounces"},
            "residential": "false",
        },
    )
    assert status == 200 and rates, rates
    status, body = await call(session, "POST", "/shipments/voidlabel", {"shipmentId": "abc"})
    assert status == 400 and model_state_keys(body) == {"request.shipmentId"}


async def test_products_warehouses_stores_and_funds_bind_types(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, listed = await call(session, "GET", "/products")
    product = listed["products"][0]
    update = {**product, "price": "12.50", "weightOz": "7", "active": "false", "noCustoms": 0}
    status, body = await call(session, "PUT", f"/products/{product['productId']}", update)
    assert status == 200, body
    stored = sandbox.world.product(product["productId"])
    assert stored is not None
    assert (stored["price"], stored["weightOz"], stored["active"], stored["noCustoms"]) == (
        12.5,
        7,
        False,
        False,
    )
    status, body = await call(
        session, "PUT", f"/products/{product['productId']}", {**update, "price": "cheap"}
    )
    assert status == 400 and model_state_keys(body) == {"product.price"}

    origin = {**SHIP_FROM, "residential": "true"}
    status, created = await call(
        session,
        "POST",
        "/warehouses/createwarehouse",
        {"warehouseName": "Typed", "originAddress": origin, "isDefault": "false"},
    )
    assert status == 200, created
    assert created["originAddress"]["residential"] is True and created["isDefault"] is False
    status, body = await call(
        session,
        "POST",
        "/warehouses/createwarehouse",
        {"originAddress": {**SHIP_FROM, "residential": "yes"}},
    )
    assert status == 400 and model_state_keys(body) == {"warehouse.originAddress.residential"}

    store = sandbox.world.list_stores()[0]
    status, updated = await call(
        session,
        "PUT",
        f"/stores/{store['storeId']}",
        {**store, "autoRefresh": "TRUE", "active": "true"},
    )
    assert status == 200 and updated["autoRefresh"] is True and updated["active"] is True

    before = sandbox.world.carrier("stamps_com")
    status, after = await call(
        session, "POST", "/carriers/addfunds", {"carrierCode": "stamps_com", "amount": "20"}
    )
    assert status == 200 and before is not None
    assert after["balance"] == pytest.approx(before["balance"] + 20)


async def test_a_form_body_binds_like_json(session: aiohttp.ClientSession) -> None:
    form = {
        "orderNumber": "FID-FORM-1",
        "orderDate": "2025-03-14 09:26:53",
        "orderStatus": "awaiting_shipment",
        "amountPaid": "9.5",
        "billTo[name]": "Grace Hopper",
        "shipTo.name": "Grace Hopper",
        "shipTo[residential]": "false",
        "items[0][name]": "Mug",
        "items[0][quantity]": "2",
        "items[0][unitPrice]": "4.75",
        "tagIds[]": "1",
    }
    async with session.post("/orders/createorder", data=form) as r:
        order = await r.json()
        assert r.status == 200, order
    assert order["amountPaid"] == 9.5 and order["shipTo"]["residential"] is False
    assert order["billTo"]["name"] == "Grace Hopper"
    assert order["items"][0]["quantity"] == 2 and order["orderTotal"] == 9.5


# -- 2. dates -----------------------------------------------------------------------------------


def test_item_timestamps_drop_the_fractions_trailing_zeros() -> None:
    second = 1_000 * 3_600
    assert format_item_ts(second + 50) == "2000-01-01T01:00:00.05"
    assert format_item_ts(second + 780) == "2000-01-01T01:00:00.78"
    assert format_item_ts(second + 707) == "2000-01-01T01:00:00.707"
    assert format_item_ts(second) == "2000-01-01T01:00:00"


async def test_items_products_and_stores_trim_and_orders_keep_seven_digits(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, page = await call(session, "GET", "/orders", pageSize=500)
    stamps = [i["createDate"] for o in page["orders"] for i in o["items"]]
    _, products = await call(session, "GET", "/products", pageSize=500, showInactive=True)
    stamps += [p["modifyDate"] for p in products["products"]]
    _, stores = await call(session, "GET", "/stores", showInactive=True)
    stamps += [s["createDate"] for s in stores]
    assert len(stamps) > 500 and all(ITEM_TS.match(s) for s in stamps), stamps
    assert not any(re.search(r"\.\d*0$", s) for s in stamps)
    body = order_body(
        "FID-DATES",
        orderDate="2025-03-14T09:26:53.1234567",
        paymentDate="2025-03-14T09:31:10.12",
        shipByDate="2025-03-18T00:00:00.0000001",
    )
    status, order = await call(session, "POST", "/orders/createorder", body)
    assert status == 200, order
    assert order["orderDate"] == "2025-03-14T09:26:53.1234567"
    assert order["paymentDate"] == "2025-03-14T09:31:10.1200000"
    assert order["shipByDate"] == "2025-03-18T00:00:00.0000001"
    # Filters still compare the instants.
    status, found = await call(
        session,
        "GET",
        "/orders",
        orderNumber="FID-DATES",
        orderDateStart="2025-03-14 09:26:53",
        orderDateEnd="2025-03-14 09:26:54",
    )
    assert status == 200 and found["total"] == 1


# -- 3. documented keys, the default return address, read-only ids -----------------------------


async def test_addfunds_answers_exactly_the_documented_keys(
    session: aiohttp.ClientSession,
) -> None:
    status, carrier = await call(
        session, "POST", "/carriers/addfunds", {"carrierCode": "stamps_com", "amount": 20}
    )
    assert status == 200
    assert (
        set(carrier)
        == set(example("Carrier/AddFundsResponse.json"))
        == {
            "name",
            "code",
            "accountNumber",
            "requiresFundedAccount",
            "balance",
        }
    )


@pytest.mark.parametrize("sent", [{"returnAddress": None}, {}])
async def test_a_defaulted_return_address_has_no_residential(
    session: aiohttp.ClientSession, sent: Record
) -> None:
    origin = {**SHIP_FROM, "residential": True}
    status, created = await call(
        session,
        "POST",
        "/warehouses/createwarehouse",
        {"warehouseName": "Return default", "originAddress": origin, **sent},
    )
    assert status == 200, created
    assert created["originAddress"]["residential"] is True
    assert created["returnAddress"]["residential"] is None
    assert created["returnAddress"]["street1"] == origin["street1"]
    update = {**created, "returnAddress": None}
    status, updated = await call(session, "PUT", f"/warehouses/{created['warehouseId']}", update)
    assert status == 200 and updated["returnAddress"]["residential"] is None


async def test_read_only_ids_are_assigned_by_the_server(session: aiohttp.ClientSession) -> None:
    customs = {
        "contents": "merchandise",
        "nonDelivery": "return_to_sender",
        "customsItems": [
            {"customsItemId": 5, "description": "Mug", "quantity": "2", "value": "12.5"},
            {"customsItemId": 5, "description": "Pen", "quantity": 1, "value": 8},
        ],
    }
    ids: list[int] = []
    for number in ("FID-CUSTOMS-1", "FID-CUSTOMS-2"):
        body = order_body(number, internationalOptions=customs)
        body["items"][0]["orderItemId"] = 5
        body["shipTo"].update(street1=None, addressVerified="Address validated successfully")
        status, order = await call(session, "POST", "/orders/createorder", body)
        assert status == 200, order
        assert order["items"][0]["orderItemId"] != 5
        assert order["shipTo"]["addressVerified"] == "Address validation failed"  # no street
        items = order["internationalOptions"]["customsItems"]
        assert [i["quantity"] for i in items] == [2, 1] and items[0]["value"] == 12.5
        ids += [i["customsItemId"] for i in items]
    assert 5 not in ids and len(set(ids)) == 4
    # An update that sends back the ids it was given keeps them.
    order["internationalOptions"]["customsItems"][0]["description"] = "Enamel mug"
    status, again = await call(session, "POST", "/orders/createorder", order)
    assert status == 200
    assert [i["customsItemId"] for i in again["internationalOptions"]["customsItems"]] == ids[2:]


# -- 4. malformed JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "start"),
    [
        (b'{"orderNumber": }', "apiOrder.orderNumber", "Unexpected character encountered"),
        (b'{"billTo": {"name": "x",', "apiOrder.billTo.name", "Unexpected end"),
        (b'{"items": [{"name": "a"}, nope]}', "apiOrder.items[1]", "Unexpected character"),
        (b"not json", "apiOrder", "Unexpected character encountered while parsing value: n."),
        (b'{"amountPaid": NaN}', "apiOrder", "Unexpected character"),
    ],
)
async def test_malformed_json_is_a_model_state_entry_in_json_net_words(
    session: aiohttp.ClientSession, raw: bytes, key: str, start: str
) -> None:
    async with session.post(
        "/orders/createorder", data=raw, headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        body = await r.json()
    assert model_state_keys(body) == {key}
    (message,) = body["ModelState"][key]
    assert message.startswith(start) and "Path '" in message
    for python in ("Expecting", "char ", "(", "delimiter", "JSONDecodeError"):
        assert python not in message


@pytest.mark.parametrize(
    ("raw", "words"),
    [(b"[1, 2]", "JSON array"), (b'"an order"', "Error converting value"), (b"7", "value 7")],
)
async def test_a_body_that_is_not_an_object_is_a_model_state_400(
    session: aiohttp.ClientSession, raw: bytes, words: str
) -> None:
    async with session.post(
        "/orders/createorder", data=raw, headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        body = await r.json()
    assert model_state_keys(body) == {"apiOrder"}
    assert (
        words in body["ModelState"]["apiOrder"][0]
        and "'ApiOrder'" in body["ModelState"]["apiOrder"][0]
    )


# -- 5. the 401 ----------------------------------------------------------------------------------


async def test_every_malformed_basic_token_is_a_401(sandbox: Sandbox) -> None:
    tokens = ["Basic é", "Basic ÿÿÿÿ", "Basic \u2603\u2603==", "basic  ", "Basic =="]
    async with aiohttp.ClientSession() as s:
        for token in tokens:
            async with s.get(f"{sandbox.url}/orders", headers={"Authorization": token}) as r:
                assert r.status == 401, token
                assert await r.text() == "401 Unauthorized"
                assert "X-Rate-Limit-Remaining" not in r.headers


# -- 6. the 90-day rule is a setting -------------------------------------------------------------


async def _range_status(s: aiohttp.ClientSession, url: str, days: int) -> int:
    start = datetime(2025, 1, 1)
    params = {
        "createDateStart": f"{start:%Y-%m-%d %H:%M:%S}",
        "createDateEnd": f"{start + timedelta(days=days):%Y-%m-%d %H:%M:%S}",
    }
    async with s.get(f"{url}/orders", params=params) as r:
        return r.status


async def test_the_date_range_limit_is_a_setting_of_the_sandbox() -> None:
    world = World(orders=20, seed=3, end=FIXED_END)
    async with (
        Sandbox(world=world, rate_limit=ROOMY, max_date_range_days=30) as sb,
        aiohttp.ClientSession(headers=auth_headers(sb)) as s,
    ):
        assert sb.max_date_range_days == 30
        assert await _range_status(s, sb.url, 30) == 200
        assert await _range_status(s, sb.url, 31) == 400
        sb.max_date_range_days = None
        assert await _range_status(s, sb.url, 200) == 200
        async with s.post(f"{sb.url}/__sandbox/settings", json={"max_date_range_days": 90}) as r:
            assert r.status == 200 and (await r.json())["max_date_range_days"] == 90
        assert sb.max_date_range_days == 90
        assert await _range_status(s, sb.url, 91) == 400
        async with s.get(f"{sb.url}/__sandbox/settings") as r:
            assert await r.json() == {"max_date_range_days": 90, "body_timeout": 30.0}
        for bad in ({"max_date_range_days": 0}, {"max_date_range_days": "9"}, {"speed": 1}):
            async with s.post(f"{sb.url}/__sandbox/settings", json=bad) as r:
                assert r.status == 400, bad
        assert sb.max_date_range_days == 90
    assert Sandbox(orders=1).max_date_range_days == 90  # ShipStation's, by default


@pytest.mark.parametrize(("flag", "expected"), [([], 90), (["--max-date-range-days", "0"], None)])
async def test_sandbox_serve_takes_the_date_range_limit(
    flag: list[str], expected: int | None
) -> None:
    args = build_parser().parse_args(["--port", "0", "--orders", "3", *flag])
    started: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_arguments(args, ready=started.set_result))
    try:
        sb = await asyncio.wait_for(started, 10)
        assert sb.max_date_range_days == expected
        async with aiohttp.ClientSession(headers=auth_headers(sb)) as s:
            assert await _range_status(s, sb.url, 120) == (200 if expected is None else 400)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    parsed = cli_parser().parse_args(["sandbox", "serve", *flag])
    assert (parsed.max_date_range_days or None) == expected
