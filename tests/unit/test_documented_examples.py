"""ShipStation's documented example payloads: every response parses without loss, and the SDK
sends exactly what every documented request shows."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from shipstation_async import ShipStation
from shipstation_async.models import (
    Carrier,
    CreateOrdersResult,
    MarkAsShippedResult,
    Order,
    Package,
    Service,
    SuccessResult,
    Tag,
    User,
    Warehouse,
    Weight,
    converter,
    strict_converter,
)
from shipstation_async.models import Label as LabelModel

from ..recording import RecordingServer, Reply

REFERENCE = os.environ.get("SHIPSTATION_REFERENCE") or Path(__file__).resolve().parents[3] / "shared" / "reference"
EXAMPLES = Path(REFERENCE) / "examples"
if not EXAMPLES.is_dir():
    if os.environ.get("CI"):
        raise RuntimeError(f"ShipStation's documented examples are missing: {EXAMPLES}")
    pytest.skip("shared/reference is not beside this checkout", allow_module_level=True)

# Response file -> (model, is a bare list, envelope key)
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


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def objects(name: str) -> list[Any]:
    data = load(name)
    shape = RESPONSES[name][1]
    if shape == "[]":
        return list(data)
    if shape is not None:
        return list(data[shape])
    return [data]


def test_every_documented_response_is_covered() -> None:
    files = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*Response.json")}
    assert files == set(RESPONSES)


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


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_response_parses_strictly_and_round_trips_without_loss(name: str) -> None:
    cls = RESPONSES[name][0]
    for raw in objects(name):
        model = strict_converter.structure(raw, cls)  # no unknown key, no unknown enum value
        produced = converter.unstructure(model)
        same_keys(raw, produced, name)  # every key back, nulls included
        assert converter.structure(produced, cls) == model


def test_values_are_typed() -> None:
    order = converter.structure(load("Order/GetOrderResponse.json"), Order)
    assert order.order_total == Decimal("194.43")
    assert order.tax_amount == Decimal(5)
    assert order.ship_date == date(2015, 7, 2)
    assert order.create_date is not None and order.create_date.microsecond == 823000
    assert order.items is not None and order.items[1].unit_price == Decimal("-20.55")
    assert order.ship_to is not None and order.ship_to.residential is False
    carriers = [converter.structure(c, Carrier) for c in load("Carrier/ListAllResponse.json")]
    assert carriers[0].balance == Decimal("24.27")
    assert isinstance(carriers[2].balance, Decimal)


def test_unknown_keys_are_kept_and_strict_mode_refuses_them() -> None:
    raw = dict(load("Order/GetOrderResponse.json"))
    raw["brandNewField"] = {"x": 1}
    raw["orderStatus"] = "teleported"
    order = converter.structure(raw, Order)
    assert order.extra == {"brandNewField": {"x": 1}}
    assert order.order_status == "teleported"
    assert converter.unstructure(order)["brandNewField"] == {"x": 1}
    from shipstation_async import DecodeError

    with pytest.raises(DecodeError):
        strict_converter.structure(raw, Order)


def test_evolve_then_unstructure_changes_only_that_field() -> None:
    raw = load("Warehouse/GetWarehouseResponse.json")
    warehouse = converter.structure(raw, Warehouse)
    changed = converter.unstructure(attrs.evolve(warehouse, warehouse_name="Renamed"))
    expected = converter.unstructure(warehouse)
    expected["warehouseName"] = "Renamed"
    assert changed == expected
    same_keys(raw, changed)


# -- requests ------------------------------------------------------------------------------


def parse_request(name: str) -> tuple[str, str, str, Any]:
    lines = (EXAMPLES / name).read_text().splitlines()
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


def test_every_documented_request_is_covered() -> None:
    files = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*Request.txt")}
    assert files == set(REQUESTS)


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_sdk_sends_the_documented_request(
    name: str, client: ShipStation, recorder: RecordingServer
) -> None:
    method, path, query, body = parse_request(name)
    response_name, call = REQUESTS[name]
    answer = load(response_name) if response_name else {}
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


@pytest.mark.parametrize("name", ["Order/CreateOrderRequest.txt", "Order/CreateOrdersRequest.txt"])
async def test_orders_built_as_models_send_the_documented_body(
    name: str, client: ShipStation, recorder: RecordingServer
) -> None:
    _, _, _, body = parse_request(name)
    answer = load(REQUESTS[name][0])
    recorder.default = Reply(body=json.loads(json.dumps(answer, default=float)))
    if isinstance(body, list):
        await client.orders.create_or_update_many([converter.structure(o, Order) for o in body])
    else:
        await client.orders.create_or_update(converter.structure(body, Order))
    sent = json.loads(recorder.requests[0].body, parse_float=Decimal)
    assert sent == without_empty_arrays(body)
