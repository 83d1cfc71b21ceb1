"""Shipments, labels, rates, voids and fulfillments over real HTTP."""

from __future__ import annotations

import base64
import itertools
import math
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from shipstation_async.sandbox import Sandbox
from shipstation_async.sandbox.state.fulfillments import FULFILLMENT_KEYS
from shipstation_async.sandbox.state.shipments import SHIPMENT_KEYS

from .helpers import DATE, ORDER_TS, call, model_state_keys, ts

Record = dict[str, Any]

SHIP_FROM = {
    "name": "Warehouse",
    "street1": "2815 Exposition Blvd",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78703",
    "country": "US",
}
SHIP_TO = {
    "name": "Ada Lovelace",
    "street1": "1 Main St",
    "city": "Seattle",
    "state": "WA",
    "postalCode": "98101",
    "country": "US",
    "residential": True,
}


def label_request(**changes: Any) -> Record:
    return {
        "carrierCode": "ups",
        "serviceCode": "ups_ground",
        "packageCode": "package",
        "confirmation": "delivery",
        "shipDate": "2025-06-02",
        "weight": {"value": 3, "units": "pounds"},
        "dimensions": {"length": 10, "width": 8, "height": 4, "units": "inches"},
        "shipFrom": SHIP_FROM,
        "shipTo": SHIP_TO,
        "testLabel": False,
        **changes,
    }


def rate_request(**changes: Any) -> Record:
    return {
        "carrierCode": "stamps_com",
        "fromPostalCode": "78703",
        "toState": "WA",
        "toCountry": "US",
        "toPostalCode": "98101",
        "weight": {"value": 2, "units": "pounds"},
        **changes,
    }


async def all_pages(session: aiohttp.ClientSession, path: str, key: str, **params: Any) -> list:
    out: list[Record] = []
    page = 1
    while True:
        status, body = await call(session, "GET", path, page=page, pageSize=200, **params)
        assert status == 200, body
        assert set(body) == {key, "total", "page", "pages"}
        assert body["pages"] == math.ceil(body["total"] / 200)
        out += body[key]
        if page >= body["pages"]:
            assert len(out) == body["total"]
            return out
        page += 1


async def test_shipments_list_shape_and_consistency(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    shipments = await all_pages(session, "/shipments", "shipments")
    assert len(shipments) > 100
    creates = [ts(s["createDate"]) for s in shipments]
    assert all(a < b for a, b in itertools.pairwise(creates))  # default: createDate order
    for s in shipments:
        assert list(s) == list(SHIPMENT_KEYS)
        assert ORDER_TS.match(s["createDate"]) and DATE.match(s["shipDate"])
        assert s["shipmentItems"] is None and s["labelData"] is None and s["formData"] is None
        assert set(s["advancedOptions"]) == {
            "billToParty",
            "billToAccount",
            "billToPostalCode",
            "billToCountryCode",
            "storeId",
        }
        order = sandbox.world.orders.get(s["orderId"])
        assert order is not None and order["orderStatus"] == "shipped"
        assert order["shipDate"] == s["shipDate"] and order["orderNumber"] == s["orderNumber"]
        assert order["carrierCode"] == s["carrierCode"]
        assert ts(order["createDate"]) <= ts(s["createDate"]) <= ts(order["modifyDate"])
        assert s["advancedOptions"]["storeId"] == order["advancedOptions"]["storeId"]
        assert s["warehouseId"] in {w["warehouseId"] for w in sandbox.world.warehouses}
        assert s["userId"] in sandbox.world.user_ids
        assert s["shipmentCost"] > 0 and not s["voided"]
    # Every shipped order has a shipment or a fulfillment, never both.
    fulfillments = await all_pages(session, "/fulfillments", "fulfillments")
    shipped = {
        o["orderId"]
        for o in (sandbox.world.orders.at(i) for i in range(400))
        if o["orderStatus"] == "shipped"
    }
    by_label = {s["orderId"] for s in shipments}
    by_mark = {f["orderId"] for f in fulfillments}
    assert by_label | by_mark == shipped and not by_label & by_mark
    assert by_mark and all(list(f) == list(FULFILLMENT_KEYS) for f in fulfillments)


async def test_shipment_filters(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    everything = await all_pages(session, "/shipments", "shipments")
    sample = everything[40]
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"orderId": sample["orderId"]}, lambda s: s["orderId"] == sample["orderId"]),
        ({"orderNumber": sample["orderNumber"]}, lambda s: s["orderId"] == sample["orderId"]),
        ({"carrierCode": "ups"}, lambda s: s["carrierCode"] == "ups"),
        (
            {"serviceCode": sample["serviceCode"]},
            lambda s: s["serviceCode"] == sample["serviceCode"],
        ),
        (
            {"trackingNumber": sample["trackingNumber"]},
            lambda s: s["trackingNumber"] == sample["trackingNumber"],
        ),
        (
            {"storeId": sample["advancedOptions"]["storeId"]},
            lambda s: s["advancedOptions"]["storeId"] == sample["advancedOptions"]["storeId"],
        ),
        (
            {"recipientName": sample["shipTo"]["name"].split()[-1].lower()},
            lambda s: sample["shipTo"]["name"].split()[-1].lower() in s["shipTo"]["name"].lower(),
        ),
        ({"recipientCountryCode": "CA"}, lambda s: s["shipTo"]["country"] == "CA"),
        (
            {"shipDateStart": sample["shipDate"], "shipDateEnd": sample["shipDate"]},
            lambda s: s["shipDate"] == sample["shipDate"],
        ),
    ]
    for params, pred in cases:
        got = await all_pages(session, "/shipments", "shipments", **params)
        expected = [s["shipmentId"] for s in everything if pred(s)]
        assert expected, params
        assert [s["shipmentId"] for s in got] == expected, params
    batched = next(s for s in everything if s["batchNumber"])
    got = await all_pages(session, "/shipments", "shipments", batchId=batched["batchNumber"])
    assert [s["shipmentId"] for s in got] == [
        s["shipmentId"] for s in everything if s["batchNumber"] == batched["batchNumber"]
    ]
    middle = ts(everything[100]["createDate"])
    start, end = middle - timedelta(days=30), middle + timedelta(days=30)
    got = await all_pages(
        session,
        "/shipments",
        "shipments",
        createDateStart=start.strftime("%Y-%m-%d %H:%M:%S"),
        createDateEnd=end.strftime("%Y-%m-%d %H:%M:%S"),
    )
    assert [s["shipmentId"] for s in got] == [
        s["shipmentId"] for s in everything if start <= ts(s["createDate"]) <= end
    ]
    _, desc = await call(session, "GET", "/shipments", sortBy="ShipDate", sortDir="DESC")
    assert [s["shipmentId"] for s in desc["shipments"]] == [
        s["shipmentId"] for s in everything[::-1][:100]
    ]
    _, items = await call(
        session, "GET", "/shipments", orderId=sample["orderId"], includeShipmentItems=True
    )
    order = sandbox.world.orders.get(sample["orderId"])
    assert order is not None and items["shipments"][0]["shipmentItems"] == order["items"]


async def test_shipment_list_validation(session: aiohttp.ClientSession) -> None:
    start = datetime(2024, 1, 1)
    for field in ("createDate", "shipDate", "voidDate"):
        status, body = await call(
            session,
            "GET",
            "/shipments",
            **{
                f"{field}Start": start.strftime("%Y-%m-%d"),
                f"{field}End": (start + timedelta(days=91)).strftime("%Y-%m-%d"),
            },
        )
        assert status == 400 and model_state_keys(body) == {f"{field}End"}
        assert "90 days" in body["ModelState"][f"{field}End"][0]
    status, body = await call(
        session, "GET", "/shipments", pageSize=501, sortBy="Cost", includeShipmentItems="maybe"
    )
    assert status == 400
    assert model_state_keys(body) == {"pageSize", "sortBy", "includeShipmentItems"}


async def test_createlabel_buys_a_label(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, label = await call(session, "POST", "/shipments/createlabel", label_request())
    assert status == 200, label
    assert set(label) == {
        "shipmentId",
        "shipmentCost",
        "insuranceCost",
        "trackingNumber",
        "labelData",
        "formData",
    }
    assert label["trackingNumber"].startswith("1Z") and len(label["trackingNumber"]) == 18
    assert base64.b64decode(label["labelData"]).startswith(b"%PDF")
    assert label["formData"] is None  # domestic
    _, listed = await call(session, "GET", "/shipments", trackingNumber=label["trackingNumber"])
    (shipment,) = listed["shipments"]
    assert shipment["shipmentId"] == label["shipmentId"] and shipment["orderId"] is None
    assert shipment["advancedOptions"]["storeId"] == sandbox.world.manual_store_id
    assert shipment["shipTo"]["name"] == "Ada Lovelace"
    assert shipment["weight"] == {"value": 48, "units": "ounces", "WeightUnits": 1}
    (purchase,) = sandbox.labels()
    assert purchase.endpoint == "/shipments/createlabel" and purchase.order_id is None
    assert purchase.request == label_request()
    # Rates and labels agree: the label costs what getrates quoted.
    rates = await call(
        session,
        "POST",
        "/shipments/getrates",
        rate_request(
            carrierCode="ups",
            serviceCode="ups_ground",
            weight={"value": 3, "units": "pounds"},
            dimensions={"length": 10, "width": 8, "height": 4, "units": "inches"},
            confirmation="delivery",
            residential=True,
        ),
    )
    (rate,) = rates[1]
    assert label["shipmentCost"] == pytest.approx(rate["shipmentCost"] + rate["otherCost"])
    intl = label_request(
        shipTo={**SHIP_TO, "country": "GB", "state": "", "postalCode": "NW1 6XE"},
        serviceCode="ups_worldwide_expedited",
    )
    status, label = await call(session, "POST", "/shipments/createlabel", intl)
    assert status == 200 and base64.b64decode(label["formData"]).startswith(b"%PDF")


async def test_createlabel_needs_an_active_manual_store(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    manual = sandbox.world.manual_store_id
    status, _ = await call(session, "POST", "/stores/deactivate", {"storeId": manual})
    assert status == 200
    status, body = await call(session, "POST", "/shipments/createlabel", label_request())
    assert status == 400 and model_state_keys(body) == {"shipment"}
    assert "Manual Store" in body["ModelState"]["shipment"][0]
    assert sandbox.labels() == []
    await call(session, "POST", "/stores/reactivate", {"storeId": manual})
    status, _ = await call(session, "POST", "/shipments/createlabel", label_request())
    assert status == 200 and len(sandbox.labels()) == 1


async def test_createlabel_validation(session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "POST", "/shipments/createlabel", {})
    assert status == 400
    assert {
        "shipment.carrierCode",
        "shipment.serviceCode",
        "shipment.packageCode",
        "shipment.shipDate",
        "shipment.weight",
        "shipment.shipFrom",
        "shipment.shipTo",
    } == model_state_keys(body)
    no_city = label_request(shipTo={**SHIP_TO, "city": ""})
    status, body = await call(session, "POST", "/shipments/createlabel", no_city)
    assert status == 400 and model_state_keys(body) == {"shipment.shipTo.city"}
    # A domestic service cannot ship abroad.
    abroad = label_request(shipTo={**SHIP_TO, "country": "DE", "postalCode": "10115"})
    status, body = await call(session, "POST", "/shipments/createlabel", abroad)
    assert status == 400 and model_state_keys(body) == {"shipment.serviceCode"}


async def test_rates_depend_on_weight_distance_and_service(
    session: aiohttp.ClientSession,
) -> None:
    status, rates = await call(session, "POST", "/shipments/getrates", rate_request())
    assert status == 200 and isinstance(rates, list) and rates
    for r in rates:
        assert set(r) == {"serviceName", "serviceCode", "shipmentCost", "otherCost"}
    by_code = {r["serviceCode"]: r for r in rates}
    assert "usps_first_class_mail" not in by_code  # 32 oz is over first class's limit
    assert (
        by_code["usps_priority_mail_express"]["shipmentCost"]
        > (by_code["usps_priority_mail"]["shipmentCost"])
    )
    assert not any("international" in code for code in by_code)

    async def cost(**changes: Any) -> float:
        status, rates = await call(
            session,
            "POST",
            "/shipments/getrates",
            rate_request(serviceCode="usps_priority_mail", **changes),
        )
        assert status == 200 and len(rates) == 1, rates
        return float(rates[0]["shipmentCost"])

    near = await cost(toPostalCode="78745")  # Austin to Austin
    far = await cost(toPostalCode="98101")  # Austin to Seattle
    assert near < far
    assert await cost(weight={"value": 10, "units": "pounds"}) > far
    assert await cost(weight={"value": 32, "units": "ounces"}) == far  # same weight
    flat = {"packageCode": "medium_flat_rate_box"}
    assert await cost(**flat, toPostalCode="78745") == await cost(**flat) == 18.40
    status, intl = await call(
        session,
        "POST",
        "/shipments/getrates",
        rate_request(toCountry="GB", toPostalCode="NW1 6XE", toState=None),
    )
    assert status == 200 and {r["serviceCode"] for r in intl} == {
        "usps_first_class_package_international",
        "usps_priority_mail_international",
        "usps_priority_mail_express_international",
    }
    _, ups = await call(session, "POST", "/shipments/getrates", rate_request(carrierCode="ups"))
    assert all(r["otherCost"] > 0 for r in ups)  # fuel surcharge


async def test_rates_validation(session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "POST", "/shipments/getrates", {})
    assert status == 400
    assert model_state_keys(body) == {
        "rateOptions.carrierCode",
        "rateOptions.fromPostalCode",
        "rateOptions.toCountry",
        "rateOptions.toPostalCode",
        "rateOptions.weight",
    }
    status, body = await call(
        session, "POST", "/shipments/getrates", rate_request(carrierCode="ups", toState=None)
    )
    assert status == 400 and model_state_keys(body) == {"rateOptions.toState"}
    for change, key in [
        ({"carrierCode": "dhl"}, "rateOptions.carrierCode"),
        ({"serviceCode": "ups_ground"}, "rateOptions.serviceCode"),
        ({"toPostalCode": "ABCDE"}, "rateOptions.toPostalCode"),
        ({"fromPostalCode": "7870"}, "rateOptions.fromPostalCode"),
        ({"weight": {"value": 2, "units": "stone"}}, "rateOptions.weight.units"),
        ({"weight": {"value": -1, "units": "ounces"}}, "rateOptions.weight.value"),
    ]:
        status, body = await call(session, "POST", "/shipments/getrates", rate_request(**change))
        assert status == 400 and model_state_keys(body) == {key}, change


async def test_void_then_void_again(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    _, label = await call(session, "POST", "/shipments/createlabel", label_request())
    request = {"shipmentId": label["shipmentId"]}
    status, body = await call(session, "POST", "/shipments/voidlabel", request)
    assert status == 200 and body == {"approved": True, "message": "Label voided successfully"}
    _, listed = await call(session, "GET", "/shipments", trackingNumber=label["trackingNumber"])
    shipment = listed["shipments"][0]
    assert shipment["voided"] is True and ORDER_TS.match(shipment["voidDate"])
    day = shipment["voidDate"][:10]
    _, voided = await call(session, "GET", "/shipments", voidDateStart=day)
    assert [s["shipmentId"] for s in voided["shipments"]] == [label["shipmentId"]]
    status, body = await call(session, "POST", "/shipments/voidlabel", request)
    assert status == 200 and body["approved"] is False and "already voided" in body["message"]
    status, body = await call(session, "POST", "/shipments/voidlabel", {"shipmentId": 1})
    assert status == 404
    status, body = await call(session, "POST", "/shipments/voidlabel", {})
    assert status == 400 and model_state_keys(body) == {"request.shipmentId"}


async def test_voiding_a_generated_label_reopens_its_order(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, page = await call(session, "GET", "/shipments", pageSize=1)
    shipment = page["shipments"][0]
    status, body = await call(
        session, "POST", "/shipments/voidlabel", {"shipmentId": shipment["shipmentId"]}
    )
    assert status == 200 and body["approved"] is True
    _, order = await call(session, "GET", f"/orders/{shipment['orderId']}")
    assert order["orderStatus"] == "awaiting_shipment" and order["shipDate"] is None
    _, again = await call(session, "GET", "/shipments", orderId=shipment["orderId"])
    assert again["shipments"][0]["voided"] is True


async def test_fulfillment_filters(session: aiohttp.ClientSession) -> None:
    everything = await all_pages(session, "/fulfillments", "fulfillments")
    creates = [ts(f["createDate"]) for f in everything]
    assert creates == sorted(creates)  # default: ascending createDate
    sample = everything[len(everything) // 2]
    for params, pred in [
        ({"fulfillmentId": sample["fulfillmentId"]}, lambda f: f is sample),
        ({"orderId": sample["orderId"]}, lambda f: f["orderId"] == sample["orderId"]),
        ({"orderNumber": sample["orderNumber"]}, lambda f: f["orderId"] == sample["orderId"]),
        (
            {"recipientName": sample["shipTo"]["name"]},
            lambda f: sample["shipTo"]["name"].lower() in f["shipTo"]["name"].lower(),
        ),
        (
            {"createDateStart": sample["createDate"]},
            lambda f: ts(f["createDate"]) >= ts(sample["createDate"]),
        ),
    ]:
        got = await all_pages(session, "/fulfillments", "fulfillments", **params)
        assert [f["fulfillmentId"] for f in got] == [
            f["fulfillmentId"] for f in everything if pred(f)
        ], params
    _, desc = await call(session, "GET", "/fulfillments", sortDir="DESC", pageSize=3)
    assert [f["fulfillmentId"] for f in desc["fulfillments"]] == [
        f["fulfillmentId"] for f in everything[::-1][:3]
    ]
