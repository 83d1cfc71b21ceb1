"""API payloads in ShipStation's documented shapes: every response parses without loss, and the
SDK sends exactly what every documented request shows.

The project's own fixtures (tests/fixtures/shipstation, written for these tests) are always
checked. ShipStation's published examples are checked too when a ``shared/reference`` folder
sits beside the checkout, or ``SHIPSTATION_REFERENCE`` names one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from shipstation_async import ShipStation
from shipstation_async._time import PACIFIC
from shipstation_async.models import (
    Carrier,
    CreateOrdersResult,
    Customer,
    Fulfillment,
    MarkAsShippedResult,
    Marketplace,
    Order,
    Package,
    Product,
    Rate,
    RefreshStatus,
    RegisterAccountResult,
    Service,
    Shipment,
    Store,
    SubscribeResult,
    SuccessResult,
    Tag,
    User,
    VoidResult,
    Warehouse,
    Webhook,
    Weight,
    converter,
    strict_converter,
)
from shipstation_async.models import Label as LabelModel

from ..recording import RecordingServer, Reply

OWN = Path(__file__).resolve().parents[1] / "fixtures" / "shipstation"


def _published_examples() -> Path | None:
    """ShipStation's published examples: beside the checkout, or where the variable says."""
    configured = os.environ.get("SHIPSTATION_REFERENCE")
    checkout = Path(__file__).resolve().parents[2]
    reference = Path(configured) if configured else checkout.parent / "shared" / "reference"
    examples = reference / "examples"
    return examples if examples.is_dir() else None


PUBLISHED = _published_examples()
NO_PUBLISHED = pytest.mark.skipif(
    PUBLISHED is None, reason="ShipStation's published examples are not beside this checkout"
)


# Response file -> (model, "[]" for a bare list or the envelope's key, None for one object)
RESPONSES: dict[str, tuple[type[Any], str | None]] = {
    "Carrier/AddFundsResponse.json": (Carrier, None),
    "Carrier/GetByIdResponse.json": (Carrier, None),
    "Carrier/ListAllResponse.json": (Carrier, "[]"),
    "Carrier/ListPackagesResponse.json": (Package, "[]"),
    "Carrier/ListServicesResponse.json": (Service, "[]"),
    "Order/AddTagResponse.json": (SuccessResult, None),
    "Order/AssignUserResponse.json": (SuccessResult, None),
    "Order/CreateLabelForOrderResponse.json": (LabelModel, None),
    "Order/CreateOrderResponse.json": (Order, None),
    "Order/CreateOrdersResponse.json": (CreateOrdersResult, None),
    "Order/DeleteOrderResponse.json": (SuccessResult, None),
    "Order/GetOrderResponse.json": (Order, None),
    "Order/HoldUntilResponse.json": (SuccessResult, None),
    "Order/ListByTagResponse.json": (Order, "orders"),
    "Order/ListOrdersResponse.json": (Order, "orders"),
    "Order/MarkAsShippedResponse.json": (MarkAsShippedResult, None),
    "Order/RemoveTagResponse.json": (SuccessResult, None),
    "Order/RestoreFromHoldResponse.json": (SuccessResult, None),
    "Order/UnassignUserResponse.json": (SuccessResult, None),
    "Tag/ListTagsResponse.json": (Tag, "[]"),
    "User/ListUsersResponse.json": (User, "[]"),
    "Warehouse/CreateWarehouseResponse.json": (Warehouse, None),
    "Warehouse/DeleteWarehouseResponse.json": (SuccessResult, None),
    "Warehouse/GetWarehouseResponse.json": (Warehouse, None),
    "Warehouse/ListWarehousesResponse.json": (Warehouse, "[]"),
    "Warehouse/UpdateWarehouseResponse.json": (Warehouse, None),
}
# The project's own fixtures cover the same responses and the other resources' too.
OWN_RESPONSES: dict[str, tuple[type[Any], str | None]] = RESPONSES | {
    "Account/RegisterAccountResponse.json": (RegisterAccountResult, None),
    "Customer/ListCustomersResponse.json": (Customer, "customers"),
    "Fulfillment/ListFulfillmentsResponse.json": (Fulfillment, "fulfillments"),
    "Product/GetProductResponse.json": (Product, None),
    "Product/ListProductsResponse.json": (Product, "products"),
    "Product/UpdateProductResponse.json": (SuccessResult, None),
    "Shipment/GetRatesResponse.json": (Rate, "[]"),
    "Shipment/ListShipmentsResponse.json": (Shipment, "shipments"),
    "Shipment/VoidLabelResponse.json": (VoidResult, None),
    "Store/DeactivateStoreResponse.json": (SuccessResult, None),
    "Store/GetRefreshStatusResponse.json": (RefreshStatus, None),
    "Store/GetStoreResponse.json": (Store, None),
    "Store/ListMarketplacesResponse.json": (Marketplace, "[]"),
    "Store/ListStoresResponse.json": (Store, "[]"),
    "Webhook/ListWebhooksResponse.json": (Webhook, "webhooks"),
    "Webhook/SubscribeResponse.json": (SubscribeResult, None),
}
SOURCES = {"own": (OWN, OWN_RESPONSES), "published": (PUBLISHED, RESPONSES)}


def folder_of(source: str) -> Path:
    folder = SOURCES[source][0]
    assert folder is not None
    return folder


def each_source(*names: str) -> list[Any]:
    """Parameters (source, name...) for the own fixtures and, when present, the published ones."""
    own = pytest.param("own", *names, id="own")
    return [own, pytest.param("published", *names, id="published", marks=NO_PUBLISHED)]


def each_response() -> list[Any]:
    params = [pytest.param("own", name, id=f"own-{name}") for name in sorted(OWN_RESPONSES)]
    params += [
        pytest.param("published", name, id=f"published-{name}", marks=NO_PUBLISHED)
        for name in sorted(RESPONSES)
    ]
    return params


def load(source: str, name: str) -> Any:
    return json.loads((folder_of(source) / name).read_text(), parse_float=Decimal)


def objects(source: str, name: str) -> list[Any]:
    data = load(source, name)
    shape = SOURCES[source][1][name][1]
    if shape == "[]":
        return list(data)
    if shape is not None:
        return list(data[shape])
    return [data]


@pytest.mark.parametrize("source", each_source())
def test_every_documented_response_is_covered(source: str) -> None:
    folder = folder_of(source)
    files = {str(p.relative_to(folder)) for p in folder.glob("*/*Response.json")}
    assert files == set(SOURCES[source][1])


def same_keys(original: Any, produced: Any, where: str = "") -> None:
    if isinstance(original, dict):
        assert isinstance(produced, dict), where
        assert set(produced) == set(original), where
        for key, value in original.items():
            same_keys(value, produced[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(produced, list) and len(produced) == len(original), where
        for index, (a, b) in enumerate(zip(original, produced, strict=True)):
            same_keys(a, b, f"{where}[{index}]")


@pytest.mark.parametrize(("source", "name"), each_response())
def test_response_parses_strictly_and_round_trips_without_loss(source: str, name: str) -> None:
    cls = SOURCES[source][1][name][0]
    for raw in objects(source, name):
        model = strict_converter.structure(raw, cls)  # no unknown key, no unknown enum value
        produced = converter.unstructure(model)
        same_keys(raw, produced, name)  # every key back, nulls included
        assert converter.structure(produced, cls) == model


@NO_PUBLISHED
def test_values_are_typed() -> None:
    order = converter.structure(load("published", "Order/GetOrderResponse.json"), Order)
    assert order.order_total == Decimal("194.43")
    assert order.tax_amount == Decimal(5)
    assert order.ship_date == date(2015, 7, 2)
    assert order.create_date is not None and order.create_date.microsecond == 823000
    assert order.items is not None and order.items[1].unit_price == Decimal("-20.55")
    assert order.ship_to is not None and order.ship_to.residential is False
    listed = load("published", "Carrier/ListAllResponse.json")
    carriers = [converter.structure(c, Carrier) for c in listed]
    assert carriers[0].balance == Decimal("24.27")
    assert isinstance(carriers[2].balance, Decimal)


@pytest.mark.parametrize("source", each_source())
def test_unknown_keys_are_kept_and_strict_mode_refuses_them(source: str) -> None:
    raw = dict(load(source, "Order/GetOrderResponse.json"))
    raw["brandNewField"] = {"x": 1}
    raw["orderStatus"] = "teleported"
    order = converter.structure(raw, Order)
    assert order.extra == {"brandNewField": {"x": 1}}
    assert order.order_status == "teleported"
    assert converter.unstructure(order)["brandNewField"] == {"x": 1}
    from shipstation_async import DecodeError

    with pytest.raises(DecodeError):
        strict_converter.structure(raw, Order)


@pytest.mark.parametrize("source", each_source())
def test_evolve_then_unstructure_changes_only_that_field(source: str) -> None:
    raw = load(source, "Warehouse/GetWarehouseResponse.json")
    warehouse = converter.structure(raw, Warehouse)
    changed = converter.unstructure(attrs.evolve(warehouse, warehouse_name="Renamed"))
    expected = converter.unstructure(warehouse)
    expected["warehouseName"] = "Renamed"
    assert changed == expected
    same_keys(raw, changed)


# -- requests ------------------------------------------------------------------------------


def parse_request(source: str, name: str) -> tuple[str, str, str, Any]:
    lines = (folder_of(source) / name).read_text().splitlines()
    method, target, _ = lines[0].split(" ")
    target = target.removeprefix("https://ssapi.shipstation.com")
    path, _, query = target.partition("?")
    blank = lines.index("") if "" in lines else len(lines)
    text = "\n".join(lines[blank + 1 :]).strip()
    body = json.loads(text, parse_float=Decimal) if text else None
    return method, path, query, body


Call = Callable[[ShipStation, Any], Awaitable[Any]]


def _label_call(ss: ShipStation, b: Any) -> Awaitable[Any]:
    return ss.orders.create_label(
        b["orderId"],
        b["carrierCode"],
        b["serviceCode"],
        b["packageCode"],
        date.fromisoformat(b["shipDate"]),
        confirmation=b["confirmation"],
        weight=converter.structure(b["weight"], Weight),
        test_label=b["testLabel"],
    )


REQUESTS = {
    "Carrier/AddFundsRequest.txt": (
        "Carrier/AddFundsResponse.json",
        lambda ss, b: ss.carriers.add_funds(b["carrierCode"], b["amount"]),
    ),
    "Carrier/GetByIdRequest.txt": (
        "Carrier/GetByIdResponse.json",
        lambda ss, b: ss.carriers.get("stamps_com"),
    ),
    "Carrier/ListAllRequest.txt": (
        "Carrier/ListAllResponse.json",
        lambda ss, b: ss.carriers.list(),
    ),
    "Carrier/ListPackagesRequest.txt": (
        "Carrier/ListPackagesResponse.json",
        lambda ss, b: ss.carriers.list_packages("stamps_com"),
    ),
    "Carrier/ListServicesRequest.txt": (
        "Carrier/ListServicesResponse.json",
        lambda ss, b: ss.carriers.list_services("fedex"),
    ),
    "Order/AddTagRequest.txt": (
        "Order/AddTagResponse.json",
        lambda ss, b: ss.orders.add_tag(b["orderId"], b["tagId"]),
    ),
    "Order/AssignUserRequest.txt": (
        "Order/AssignUserResponse.json",
        lambda ss, b: ss.orders.assign_user(b["orderIds"], b["userId"]),
    ),
    "Order/CreateLabelForOrderRequest.txt": ("Order/CreateLabelForOrderResponse.json", _label_call),
    # A plain mapping with the API's keys goes out exactly as given (migrating code).
    "Order/CreateOrderRequest.txt": (
        "Order/CreateOrderResponse.json",
        lambda ss, b: ss.orders.create_or_update(b),
    ),
    "Order/CreateOrdersRequest.txt": (
        "Order/CreateOrdersResponse.json",
        lambda ss, b: ss.orders.create_or_update_many(b),
    ),
    "Order/DeleteOrderRequest.txt": (
        "Order/DeleteOrderResponse.json",
        lambda ss, b: ss.orders.delete(4242),
    ),
    "Order/GetOrderRequest.txt": ("Order/GetOrderResponse.json", lambda ss, b: ss.orders.get(4242)),
    "Order/HoldUntilRequest.txt": (
        "Order/HoldUntilResponse.json",
        lambda ss, b: ss.orders.hold_until(b["orderId"], date.fromisoformat(b["holdUntilDate"])),
    ),
    "Order/ListByTagRequest.txt": (
        "Order/ListByTagResponse.json",
        lambda ss, b: ss.orders.list_by_tag("awaiting_shipment", 1234, page=1, page_size=25),
    ),
    "Order/ListOrdersRequest.txt": (
        "Order/ListOrdersResponse.json",
        lambda ss, b: ss.orders.list(),
    ),
    "Order/MarkAsShippedRequest.txt": (
        "Order/MarkAsShippedResponse.json",
        lambda ss, b: ss.orders.mark_as_shipped(
            b["orderId"],
            b["carrierCode"],
            ship_date=date.fromisoformat(b["shipDate"]),
            tracking_number=b["trackingNumber"],
            notify_customer=b["notifyCustomer"],
            notify_sales_channel=b["notifySalesChannel"],
        ),
    ),
    "Order/RemoveTagRequest.txt": (
        "Order/RemoveTagResponse.json",
        lambda ss, b: ss.orders.remove_tag(b["orderId"], b["tagId"]),
    ),
    "Order/RestoreFromHoldRequest.txt": (
        "Order/RestoreFromHoldResponse.json",
        lambda ss, b: ss.orders.restore_from_hold(b["orderId"]),
    ),
    "Order/UnassignUserRequest.txt": (
        "Order/UnassignUserResponse.json",
        lambda ss, b: ss.orders.unassign_user(b["orderIds"]),
    ),
    "Tag/ListTagsRequest.txt": ("Tag/ListTagsResponse.json", lambda ss, b: ss.accounts.list_tags()),
    "User/ListUsersRequest.txt": ("User/ListUsersResponse.json", lambda ss, b: ss.users.list()),
    "Warehouse/CreateWarehouseRequest.txt": (
        "Warehouse/CreateWarehouseResponse.json",
        lambda ss, b: ss.warehouses.create(
            b["originAddress"], warehouse_name=b["warehouseName"], is_default=b["isDefault"]
        ),
    ),
    "Warehouse/DeleteWarehouseRequest.txt": (
        "Warehouse/DeleteWarehouseResponse.json",
        lambda ss, b: ss.warehouses.delete(4242),
    ),
    "Warehouse/GetWarehouseRequest.txt": (
        "Warehouse/GetWarehouseResponse.json",
        lambda ss, b: ss.warehouses.get(4242),
    ),
    "Warehouse/ListWarehousesRequest.txt": (
        "Warehouse/ListWarehousesResponse.json",
        lambda ss, b: ss.warehouses.list(),
    ),
    "Warehouse/UpdateWarehouseRequest.txt": (
        "Warehouse/UpdateWarehouseResponse.json",
        lambda ss, b: ss.warehouses.update(converter.structure(b, Warehouse)),
    ),
}
# Placeholders in documented paths ("/orders/orderId") stand for the id the test passes.
PLACEHOLDERS = {"orderId": "4242", "warehouseId": "4242"}


@pytest.mark.parametrize("source", each_source())
def test_every_documented_request_is_covered(source: str) -> None:
    folder = folder_of(source)
    files = {str(p.relative_to(folder)) for p in folder.glob("*/*Request.txt")}
    assert files == set(REQUESTS)


def each_request(names: Any) -> list[Any]:
    return [
        pytest.param(source, name, id=f"{source}-{name}", marks=marks)
        for source, marks in (("own", ()), ("published", NO_PUBLISHED))
        for name in sorted(names)
    ]


@pytest.mark.parametrize(("source", "name"), each_request(REQUESTS))
async def test_sdk_sends_the_documented_request(
    source: str, name: str, client: ShipStation, recorder: RecordingServer
) -> None:
    method, path, query, body = parse_request(source, name)
    response_name, call = REQUESTS[name]
    answer = load(source, response_name) if response_name else {}
    recorder.default = Reply(body=json.loads(json.dumps(answer, default=float)))
    await call(client, body)
    *before, request = recorder.requests
    if name == "Carrier/AddFundsRequest.txt":
        # The balance is read first, so that an ambiguous funding can be settled.
        assert [(r.method, r.path) for r in before] == [("GET", "/carriers/getcarrier")]
    else:
        assert before == []
    for placeholder, value in PLACEHOLDERS.items():
        if isinstance(body, dict) and placeholder in body:
            value = str(body[placeholder])  # an update names its record in the body
        path = path.replace(f"/{placeholder}", f"/{value}")
    assert request.method == method
    assert request.path == path
    if name == "Order/ListOrdersRequest.txt":
        # The example lists every parameter as a placeholder; with none given the SDK sends
        # only the paging it defaults to.
        assert request.query_string == "page=1&pageSize=100"
    elif name == "Order/ListByTagRequest.txt":
        assert request.query_string == "orderStatus=awaiting_shipment&tagId=1234&page=1&pageSize=25"
    else:
        assert request.query_string == query
    if body is None:
        assert request.body == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.body, parse_float=Decimal) == body


def without_empty_arrays(value: Any) -> Any:
    """The documented PHP-made bodies write an empty object as []; models send {}."""
    if isinstance(value, dict):
        return {
            k: ({} if v == [] and k.endswith("Options") else without_empty_arrays(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_empty_arrays(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("source", "name"),
    each_request(["Order/CreateOrderRequest.txt", "Order/CreateOrdersRequest.txt"]),
)
async def test_orders_built_as_models_send_the_documented_body(
    source: str, name: str, client: ShipStation, recorder: RecordingServer
) -> None:
    _, _, _, body = parse_request(source, name)
    answer = load(source, REQUESTS[name][0])
    recorder.default = Reply(body=json.loads(json.dumps(answer, default=float)))
    if isinstance(body, list):
        await client.orders.create_or_update_many([converter.structure(o, Order) for o in body])
    else:
        await client.orders.create_or_update(converter.structure(body, Order))
    sent = json.loads(recorder.requests[0].body, parse_float=Decimal)
    assert sent == without_empty_arrays(body)


# -- the project's own fixtures: values and the shapes the reference leaves open ---------------


def own(name: str, cls: type[Any]) -> list[Any]:
    return [converter.structure(raw, cls) for raw in objects("own", name)]


def test_own_fixtures_read_as_typed_values() -> None:
    (order,) = own("Order/GetOrderResponse.json", Order)
    assert order.order_total == Decimal("63.85") and order.tax_amount == Decimal(3)
    assert isinstance(order.tax_amount, Decimal)
    assert order.ship_date == date(2021, 3, 6)
    # Seven fractional digits on orders, three on their items, six in a list.
    assert order.create_date == datetime(2021, 3, 4, 10, 20, 1, 127000, tzinfo=PACIFIC)
    assert order.items is not None and order.items[0].create_date == order.create_date
    assert order.items[1].unit_price == Decimal("-5.75")
    assert order.items[0].weight is not None and order.items[0].weight.weight_units == 1
    second = own("Order/ListOrdersResponse.json", Order)[1]
    assert second.order_date == datetime(2021, 3, 5, 17, 45, 12, 250000, tzinfo=PACIFIC)
    assert second.international_options is not None
    assert second.international_options.customs_items is not None
    assert second.international_options.customs_items[0].value == Decimal("18.25")
    carriers = own("Carrier/ListAllResponse.json", Carrier)
    assert carriers[0].balance == Decimal("61.08") and carriers[1].balance == Decimal(0)
    (result,) = own("Order/CreateOrdersResponse.json", CreateOrdersResult)
    assert [r.order_number for r in result.failed] == ["LAKE-21002"]


def test_own_fixtures_hold_the_tolerated_shapes() -> None:
    (warehouse,) = own("Warehouse/GetWarehouseResponse.json", Warehouse)
    assert warehouse.return_address is not None
    assert warehouse.return_address.residential is None  # "" reads as unknown
    (deactivated,) = own("Store/DeactivateStoreResponse.json", SuccessResult)
    assert deactivated.success is True  # "true" as a string
    (status,) = own("Store/GetRefreshStatusResponse.json", RefreshStatus)
    assert status.refresh_date is not None and status.refresh_date.date() == date(2021, 3, 9)
    fulfillments = own("Fulfillment/ListFulfillmentsResponse.json", Fulfillment)
    assert fulfillments[0].ship_date == datetime(2021, 3, 6, tzinfo=PACIFIC)
    assert fulfillments[1].ship_date == date(2021, 3, 7)
    (hook,) = own("Webhook/ListWebhooksResponse.json", Webhook)
    assert (hook.webhook_id, hook.hook_type, hook.active) == (40301, "SHIP_NOTIFY", True)
    (product,) = own("Product/GetProductResponse.json", Product)[:1]
    assert product.thumbnail_url == "https://img.example.net/mug-blu-small.png"
    assert product.product_category is not None and product.product_category.category_id == 81
    shipments = own("Shipment/ListShipmentsResponse.json", Shipment)
    assert shipments[0].shipment_items is None and shipments[1].ship_to is None
    assert shipments[1].void_date is not None and shipments[1].voided is True
    rates = own("Shipment/GetRatesResponse.json", Rate)
    assert [rate.total for rate in rates] == [Decimal("12.36"), Decimal(27)]
    (customer,) = own("Customer/ListCustomersResponse.json", Customer)
    assert customer.marketplace_usernames is not None
    assert customer.marketplace_usernames[0].username == "rowanlake"
    (account,) = own("Account/RegisterAccountResponse.json", RegisterAccountResult)
    assert "s-fedcba" not in repr(account)
