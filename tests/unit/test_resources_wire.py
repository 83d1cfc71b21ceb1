"""Every endpoint without a documented example: method, path, query and body on the wire, the
answer's typing, and bad input refused before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from shipstation_async import BadRequestError, DecodeError, InvalidRequestError, ShipStation
from shipstation_async._time import PACIFIC
from shipstation_async.models import (
    Address,
    Customer,
    Dimensions,
    Fulfillment,
    Label,
    MarkAsShippedResult,
    Marketplace,
    Order,
    Page,
    Product,
    Rate,
    RefreshStatus,
    RegisterAccountResult,
    Shipment,
    Store,
    SubscribeResult,
    SuccessResult,
    VoidResult,
    Warehouse,
    Webhook,
    Weight,
)

from ..recording import RecordingServer, Reply

ADDRESS = Address(
    name="A", street1="1 Main", city="Austin", state="TX", postal_code="78703", country="US"
)
FROM = {
    "name": "W",
    "street1": "2 Elm",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}
WEIGHT = Weight(value=Decimal("2.5"), units="pounds")
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)  # 00:00 PST


def _fedex_rates(ss: ShipStation, **options: Any) -> Awaitable[Any]:
    """Rates for a 2.5 lb parcel by FedEx from postal code 1 to 2 (US) with ``options``."""
    return ss.shipments.get_rates("fedex", "1", "US", "2", WEIGHT, **options)


def _create_order(ss: ShipStation, **fields: Any) -> Awaitable[Any]:
    """createorder with a minimal order mapping (numbered A, awaiting shipment) and ``fields``."""
    order = {
        "orderNumber": "A",
        "orderDate": T0,
        "orderStatus": "awaiting_shipment",
        "billTo": {"name": "x"},
        "shipTo": {"name": "x"},
    }
    return ss.orders.create_or_update({**order, **fields})


def _order_label(ss: ShipStation, **options: Any) -> Awaitable[Any]:
    """Buy a label for order 1 (UPS ground, a package, 2024-01-01) with ``options``."""
    return ss.orders.create_label(1, "ups", "ups_ground", "package", date(2024, 1, 1), **options)


Case = tuple[Callable[[ShipStation], Awaitable[Any]], Any, str, str, str, Any, type | None]

PAGE = {"total": 1, "page": 1, "pages": 1}
CASES: dict[str, Case] = {
    "shipments.list": (
        lambda ss: ss.shipments.list(
            page=2,
            page_size=50,
            order_id=7,
            create_date_start=T0,
            include_shipment_items=True,
            sort_by="ShipDate",
            sort_dir="DESC",
            batch_id=9,
        ),
        {"shipments": [{"shipmentId": 1, "shipmentCost": 7.3, "shipDate": "2024-03-02"}], **PAGE},
        "GET",
        "/shipments",
        "orderId=7&createDateStart=2024-03-01%2000%3A00%3A00&includeShipmentItems=true"
        "&sortBy=ShipDate&sortDir=DESC&batchId=9&page=2&pageSize=50",
        None,
        Page,
    ),
    "shipments.create_label": (
        lambda ss: ss.shipments.create_label(
            "ups",
            "ups_ground",
            "package",
            date(2024, 3, 4),
            WEIGHT,
            FROM,
            ADDRESS,
            confirmation="delivery",
            dimensions=Dimensions(
                length=Decimal(1), width=Decimal(2), height=Decimal(3), units="inches"
            ),
        ),
        {"shipmentId": 5, "shipmentCost": 9.1, "trackingNumber": "1Z", "labelData": "JVBERg=="},
        "POST",
        "/shipments/createlabel",
        "",
        {
            "carrierCode": "ups",
            "serviceCode": "ups_ground",
            "packageCode": "package",
            "confirmation": "delivery",
            "shipDate": "2024-03-04",
            "weight": {"value": 2.5, "units": "pounds"},
            "dimensions": {"length": 1, "width": 2, "height": 3, "units": "inches"},
            "shipFrom": FROM,
            "shipTo": {
                "name": "A",
                "street1": "1 Main",
                "city": "Austin",
                "state": "TX",
                "postalCode": "78703",
                "country": "US",
            },
            "insuranceOptions": None,
            "internationalOptions": None,
            "advancedOptions": None,
            "testLabel": False,
        },
        Label,
    ),
    "shipments.get_rates": (
        lambda ss: ss.shipments.get_rates(
            "ups", "78703", "US", "20500", WEIGHT, to_state="DC", residential=True
        ),
        [
            {
                "serviceName": "UPS Ground",
                "serviceCode": "ups_ground",
                "shipmentCost": 9.1,
                "otherCost": 0.5,
            }
        ],
        "POST",
        "/shipments/getrates",
        "",
        {
            "carrierCode": "ups",
            "fromPostalCode": "78703",
            "toState": "DC",
            "toCountry": "US",
            "toPostalCode": "20500",
            "weight": {"value": 2.5, "units": "pounds"},
            "residential": True,
        },
        list,
    ),
    "shipments.get_rates from a warehouse": (
        lambda ss: ss.shipments.get_rates(
            "fedex",
            "78703",
            "US",
            "20500",
            WEIGHT,
            from_city="Austin",
            from_state="TX",
            from_warehouse_id=12,
        ),
        [],
        "POST",
        "/shipments/getrates",
        "",
        {
            "carrierCode": "fedex",
            "fromPostalCode": "78703",
            "toCountry": "US",
            "toPostalCode": "20500",
            "weight": {"value": 2.5, "units": "pounds"},
            "fromCity": "Austin",
            "fromState": "TX",
            "fromWarehouseId": 12,
        },
        list,
    ),
    "shipments.void_label": (
        lambda ss: ss.shipments.void_label(55),
        {"approved": True, "message": "Label voided successfully"},
        "POST",
        "/shipments/voidlabel",
        "",
        {"shipmentId": 55},
        VoidResult,
    ),
    "products.list": (
        lambda ss: ss.products.list(
            sku="AB", start_date=date(2024, 1, 1), show_inactive=False, sort_by="SKU"
        ),
        {"products": [{"productId": 3, "price": 1.5}], **PAGE},
        "GET",
        "/products",
        "sku=AB&startDate=2024-01-01%2000%3A00%3A00&showInactive=false&sortBy=SKU&page=1"
        "&pageSize=100",
        None,
        Page,
    ),
    "products.get": (
        lambda ss: ss.products.get(3),
        {"productId": 3},
        "GET",
        "/products/3",
        "",
        None,
        Product,
    ),
    "products.update": (
        lambda ss: ss.products.update({"productId": 3, "sku": "AB", "name": "Thing"}),
        {"success": True, "message": "The requested product has been updated"},
        "PUT",
        "/products/3",
        "",
        {"productId": 3, "sku": "AB", "name": "Thing"},
        SuccessResult,
    ),
    "warehouses.create.address": (
        lambda ss: ss.warehouses.create(FROM, warehouse_name="East", is_default=False),
        {"warehouseId": 4, "warehouseName": "East"},
        "POST",
        "/warehouses/createwarehouse",
        "",
        {"warehouseName": "East", "originAddress": FROM, "isDefault": False},
        Warehouse,
    ),
    "warehouses.create.model": (
        lambda ss: ss.warehouses.create(
            Warehouse(warehouse_name="East", origin_address=ADDRESS, return_address=ADDRESS)
        ),
        {"warehouseId": 4, "warehouseName": "East"},
        "POST",
        "/warehouses/createwarehouse",
        "",
        {
            "warehouseName": "East",
            "originAddress": {
                "name": "A",
                "street1": "1 Main",
                "city": "Austin",
                "state": "TX",
                "postalCode": "78703",
                "country": "US",
            },
            "returnAddress": {
                "name": "A",
                "street1": "1 Main",
                "city": "Austin",
                "state": "TX",
                "postalCode": "78703",
                "country": "US",
            },
        },
        Warehouse,
    ),
    "warehouses.create.mapping": (
        lambda ss: ss.warehouses.create({"warehouseName": "East", "originAddress": FROM}),
        {"warehouseId": 4, "warehouseName": "East"},
        "POST",
        "/warehouses/createwarehouse",
        "",
        {"warehouseName": "East", "originAddress": FROM},
        Warehouse,
    ),
    "warehouses.update.mapping": (
        lambda ss: ss.warehouses.update(
            {"warehouseId": 4, "warehouseName": "East", "originAddress": FROM}
        ),
        {"warehouseId": 4, "warehouseName": "East"},
        "PUT",
        "/warehouses/4",
        "",
        {"warehouseId": 4, "warehouseName": "East", "originAddress": FROM},
        Warehouse,
    ),
    "stores.update.mapping": (
        lambda ss: ss.stores.update({"storeId": 1, "storeName": "Web"}),
        {"storeId": 1, "storeName": "Web"},
        "PUT",
        "/stores/1",
        "",
        {"storeId": 1, "storeName": "Web"},
        Store,
    ),
    "customers.list": (
        lambda ss: ss.customers.list(state_code="TX", country_code="US", sort_by="Name"),
        {"customers": [{"customerId": 1, "marketplaceUsernames": [], "tags": []}], **PAGE},
        "GET",
        "/customers",
        "stateCode=TX&countryCode=US&sortBy=Name&page=1&pageSize=100",
        None,
        Page,
    ),
    "customers.get": (
        lambda ss: ss.customers.get(12),
        {"customerId": 12},
        "GET",
        "/customers/12",
        "",
        None,
        Customer,
    ),
    "fulfillments.list": (
        lambda ss: ss.fulfillments.list(order_number="A-1", ship_date_end=T0),
        {"fulfillments": [{"fulfillmentId": 1, "fulfillmentFee": 0}], **PAGE},
        "GET",
        "/fulfillments",
        "orderNumber=A-1&shipDateEnd=2024-03-01%2000%3A00%3A00&page=1&pageSize=100",
        None,
        Page,
    ),
    "stores.list": (
        lambda ss: ss.stores.list(show_inactive=True, marketplace_id=2),
        [{"storeId": 1, "storeName": "Web"}],
        "GET",
        "/stores",
        "showInactive=true&marketplaceId=2",
        None,
        list,
    ),
    "stores.get": (
        lambda ss: ss.stores.get(1),
        {"storeId": 1, "statusMappings": [{"orderStatus": "awaiting_shipment", "statusKey": "x"}]},
        "GET",
        "/stores/1",
        "",
        None,
        Store,
    ),
    "stores.update": (
        lambda ss: ss.stores.update(Store(store_id=1, store_name="Web")),
        {"storeId": 1, "storeName": "Web"},
        "PUT",
        "/stores/1",
        "",
        {"storeId": 1, "storeName": "Web"},
        Store,
    ),
    "stores.refresh": (
        lambda ss: ss.stores.refresh(12345, date(2014, 8, 13)),
        {"success": True, "message": "A store refresh has been initiated for Store ID 12345"},
        "POST",
        "/stores/refreshstore",
        "storeId=12345&refreshDate=2014-08-13%2000%3A00%3A00",
        {"storeId": 12345, "refreshDate": "2014-08-13 00:00:00"},
        SuccessResult,
    ),
    "stores.get_refresh_status": (
        lambda ss: ss.stores.get_refresh_status(12345),
        {
            "storeId": 12345,
            "refreshStatusId": 2,
            "refreshStatus": "Updating orders",
            "lastRefreshAttempt": "8-13-2014",
            "refreshDate": "8-13-2014",
        },
        "GET",
        "/stores/getrefreshstatus",
        "storeId=12345",
        None,
        RefreshStatus,
    ),
    "stores.list_marketplaces": (
        lambda ss: ss.stores.list_marketplaces(),
        [{"name": "Amazon", "marketplaceId": 2, "canRefresh": True}],
        "GET",
        "/stores/marketplaces",
        "",
        None,
        list,
    ),
    "stores.deactivate": (
        lambda ss: ss.stores.deactivate(9),
        {"success": "true", "message": "The requested store has been reactivated."},
        "POST",
        "/stores/deactivate",
        "",
        {"storeId": 9},
        SuccessResult,
    ),
    "stores.reactivate": (
        lambda ss: ss.stores.reactivate(9),
        {"success": "true", "message": "The requested store has been reactivated."},
        "POST",
        "/stores/reactivate",
        "",
        {"storeId": 9},
        SuccessResult,
    ),
    "users.list": (
        lambda ss: ss.users.list(show_inactive=False),
        {"userId": "123456AB-ab12-3c4d-5e67-89f1abc1defa", "userName": "u", "name": "U"},
        "GET",
        "/users",
        "showInactive=false",
        None,
        list,
    ),
    "accounts.register_account": (
        lambda ss: ss.accounts.register_account(
            first_name="Ann",
            last_name="Lee",
            email="a@example.com",
            password="pw",
            company_name="Co",
            country_code="US",
        ),
        {"message": "ok", "sellerId": 1, "success": True, "apiKey": "k", "apiSecret": "s"},
        "POST",
        "/accounts/registeraccount",
        "",
        {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "a@example.com",
            "password": "pw",
            "companyName": "Co",
            "countryCode": "US",
        },
        RegisterAccountResult,
    ),
    "webhooks.list.envelope": (
        lambda ss: ss.webhooks.list(),
        {
            "webhooks": [
                {"WebHookID": 5, "HookType": "SHIP_NOTIFY", "Url": "https://x", "Active": True}
            ]
        },
        "GET",
        "/webhooks",
        "",
        None,
        list,
    ),
    "webhooks.list.bare": (
        lambda ss: ss.webhooks.list(),
        [{"WebHookID": 5, "HookType": "SHIP_NOTIFY"}],
        "GET",
        "/webhooks",
        "",
        None,
        list,
    ),
    "webhooks.subscribe": (
        lambda ss: ss.webhooks.subscribe(
            "https://example.com/hook", "ORDER_NOTIFY", store_id=3, friendly_name="orders"
        ),
        {"id": 123456},
        "POST",
        "/webhooks/subscribe",
        "",
        {
            "target_url": "https://example.com/hook",
            "event": "ORDER_NOTIFY",
            "store_id": 3,
            "friendly_name": "orders",
        },
        SubscribeResult,
    ),
    "webhooks.unsubscribe": (
        lambda ss: ss.webhooks.unsubscribe(123456),
        None,
        "DELETE",
        "/webhooks/123456",
        "",
        None,
        SuccessResult,
    ),
    "orders.mark_as_shipped.bare": (
        lambda ss: ss.orders.mark_as_shipped(7, "usps"),
        {"orderId": 7, "orderNumber": "A-7"},
        "POST",
        "/orders/markasshipped",
        "",
        {"orderId": 7, "carrierCode": "usps", "notifyCustomer": False, "notifySalesChannel": False},
        MarkAsShippedResult,
    ),
    "orders.mark_as_shipped.full": (
        lambda ss: ss.orders.mark_as_shipped(
            7, "usps", ship_date=date(2024, 5, 2), tracking_number="9400", notify_customer=True
        ),
        {"orderId": 7, "orderNumber": "A-7"},
        "POST",
        "/orders/markasshipped",
        "",
        {
            "orderId": 7,
            "carrierCode": "usps",
            "shipDate": "2024-05-02",
            "trackingNumber": "9400",
            "notifyCustomer": True,
            "notifySalesChannel": False,
        },
        MarkAsShippedResult,
    ),
    "orders.list.import_batch": (
        lambda ss: ss.orders.list(store_id=5, import_batch="abc-123"),
        {"orders": [], "total": 0, "page": 1, "pages": 0},
        "GET",
        "/orders",
        "storeId=5&importBatch=abc-123&page=1&pageSize=100",
        None,
        Page,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_wire(name: str, client: ShipStation, recorder: RecordingServer) -> None:
    call, answer, method, path, query, body, result_type = CASES[name]
    recorder.default = Reply(body=answer) if answer is not None else Reply(raw=b"")
    result = await call(client)
    (request,) = recorder.requests
    assert (request.method, request.path, request.query_string) == (method, path, query)
    if body is None:
        assert request.body == b""
    else:
        assert json.loads(request.body) == body
    if result_type is not None:
        assert isinstance(result, result_type)


async def test_answers_are_typed(client: ShipStation, recorder: RecordingServer) -> None:
    recorder.default = Reply(body=CASES["shipments.get_rates"][1])
    (rate,) = await client.shipments.get_rates("fedex", "78703", "US", "20500", WEIGHT)
    assert isinstance(rate, Rate) and rate.total == Decimal("9.6")
    recorder.default = Reply(body=CASES["stores.deactivate"][1])
    assert (await client.stores.deactivate(9)).success is True  # "true" as a string
    recorder.default = Reply(body=CASES["webhooks.list.envelope"][1])
    (hook,) = await client.webhooks.list()
    assert isinstance(hook, Webhook) and hook.webhook_id == 5 and hook.hook_type == "SHIP_NOTIFY"
    recorder.default = Reply(body=CASES["shipments.list"][1])
    page = await client.shipments.list()
    assert isinstance(page.items[0], Shipment) and page.items[0].ship_date == date(2024, 3, 2)
    recorder.default = Reply(body=CASES["fulfillments.list"][1])
    assert isinstance((await client.fulfillments.list()).items[0], Fulfillment)
    recorder.default = Reply(body=CASES["stores.list_marketplaces"][1])
    assert isinstance((await client.stores.list_marketplaces())[0], Marketplace)
    recorder.default = Reply(body=CASES["accounts.register_account"][1])
    account = await client.accounts.register_account(
        first_name="A", last_name="B", email="e@x", password="p"
    )
    assert "apiSecret" not in repr(account) and "'s'" not in repr(account)


BAD: dict[str, tuple[Callable[[ShipStation], Awaitable[Any]], str]] = {
    "page_size over 500": (lambda ss: ss.shipments.list(page_size=501), "page_size"),
    "page_size zero": (lambda ss: ss.customers.list(page_size=0), "page_size"),
    "more than 100 orders": (
        lambda ss: ss.orders.create_or_update_many([{"orderNumber": str(i)} for i in range(101)]),
        "orders",
    ),
    "update without orderKey": (
        lambda ss: ss.orders.create_or_update(
            Order(
                order_id=5,
                order_number="A",
                order_date=T0,
                order_status="awaiting_shipment",
                bill_to=ADDRESS,
                ship_to=ADDRESS,
            )
        ),
        "order.orderKey",
    ),
    "order missing shipTo": (
        lambda ss: ss.orders.create_or_update(
            Order(
                order_number="A", order_date=T0, order_status="awaiting_shipment", bill_to=ADDRESS
            )
        ),
        "order.shipTo",
    ),
    "negative order item weight": (
        lambda ss: ss.orders.create_or_update(
            {
                "orderNumber": "A",
                "orderDate": T0,
                "orderStatus": "awaiting_shipment",
                "billTo": {"name": "x"},
                "shipTo": {"name": "x"},
                "items": [{"name": "i", "weight": {"value": -1, "units": "ounces"}}],
            }
        ),
        "order.items[0].weight.value",
    ),
    "negative label weight": (
        lambda ss: _order_label(ss, weight=Weight(value=Decimal(-2), units="pounds")),
        "label.weight.value",
    ),
    "negative rate dimensions": (
        lambda ss: _fedex_rates(
            ss, dimensions=Dimensions(length=Decimal(-1), width=Decimal(1), height=Decimal(1))
        ),
        "rates.dimensions.length",
    ),
    "funds under $10": (lambda ss: ss.carriers.add_funds("ups", Decimal("9.99")), "amount"),
    "funds over $10,000": (lambda ss: ss.carriers.add_funds("ups", 10001), "amount"),
    "funds as float": (lambda ss: ss.carriers.add_funds("ups", 20.5), "amount"),  # type: ignore[arg-type]
    "range end before start": (
        lambda ss: ss.fulfillments.list(create_date_start=T0, create_date_end=date(2024, 1, 1)),
        "create_date_end",
    ),
    "product range reversed": (
        lambda ss: ss.products.list(start_date=date(2024, 2, 1), end_date=date(2024, 1, 1)),
        "end_date",
    ),
    "naive datetime": (
        lambda ss: ss.shipments.list(ship_date_start=datetime(2024, 1, 1)),
        "ship_date_start",
    ),
    "naive datetime in a mapping body": (
        lambda ss: ss.orders.create_or_update(
            {
                "orderNumber": "A",
                "orderDate": datetime(2024, 1, 1),
                "orderStatus": "awaiting_shipment",
                "billTo": {},
                "shipTo": {},
            }
        ),
        "order.orderDate",
    ),
    "unknown order status": (lambda ss: ss.orders.list_by_tag("lost", 1), "order_status"),  # type: ignore[arg-type]
    "UPS rates without toState": (
        lambda ss: ss.shipments.get_rates("ups", "1", "US", "2", WEIGHT),
        "to_state",
    ),
    "unknown webhook event": (
        lambda ss: ss.webhooks.subscribe("https://x", "ORDER_SHIPPED"),  # type: ignore[arg-type]
        "event",
    ),
    "no label filter": (lambda ss: ss.shipments.find_labels(), "order_id"),
    "empty order id list": (lambda ss: ss.orders.assign_user([], "u"), "order_ids"),
    "hold with a datetime": (
        lambda ss: ss.orders.hold_until(1, T0),  # type: ignore[arg-type]
        "hold_until_date",
    ),
    "warehouse without an origin": (
        lambda ss: ss.warehouses.create(Warehouse(warehouse_name="East")),
        "warehouse.originAddress",
    ),
    "warehouse with its fields beside it": (
        lambda ss: ss.warehouses.create(Warehouse(origin_address=ADDRESS), warehouse_name="East"),
        "warehouse_name",
    ),
    "warehouse mapping without originAddress": (
        lambda ss: ss.warehouses.create(
            {"warehouseName": "East", "origin_address": FROM, "isDefault": True}
        ),
        "origin_address",
    ),
    "label weight of zero": (
        lambda ss: _order_label(ss, weight=Weight(value=Decimal(0), units="ounces")),
        "weight.value",
    ),
    "label weight without a value": (
        lambda ss: _order_label(ss, weight=Weight(units="ounces")),
        "weight.value",
    ),
    "label weight without units": (
        lambda ss: _order_label(ss, weight=Weight(value=Decimal(3))),
        "weight.units",
    ),
    "rates weight without units": (
        lambda ss: ss.shipments.get_rates("fedex", "1", "US", "2", Weight(value=Decimal(3))),
        "weight.units",
    ),
    "label to an address without a country": (
        lambda ss: ss.shipments.create_label(
            "ups",
            "ups_ground",
            "package",
            date(2024, 3, 4),
            WEIGHT,
            FROM,
            attrs.evolve(ADDRESS, country=None),
        ),
        "ship_to.country",
    ),
    "order date as text the API cannot read": (
        lambda ss: _create_order(ss, orderDate="yesterday"),
        "order.orderDate",
    ),
    "order date as text with a UTC offset": (
        lambda ss: _create_order(ss, orderDate="2024-01-01T00:00:00+00:00"),
        "order.orderDate",
    ),
    "order date as text with an hours-only UTC offset": (
        lambda ss: _create_order(ss, orderDate="2015-06-29T08:46:27.123+02"),
        "order.orderDate",
    ),
    "order item of a negative quantity": (
        lambda ss: _create_order(ss, items=[{"sku": "S", "name": "N", "quantity": -3}]),
        "order.items[0].quantity",
    ),
    "product update without id": (
        lambda ss: ss.products.update(Product(sku="x")),
        "product.productId",
    ),
    "unknown label confirmation": (
        lambda ss: _order_label(ss, confirmation="maybe"),
        "confirmation",
    ),
    "unknown rate confirmation": (
        lambda ss: _fedex_rates(ss, confirmation="yes"),
        "confirmation",
    ),
    "label weight in kilograms": (
        lambda ss: _order_label(ss, weight=Weight(value=Decimal(2), units="kilograms")),  # type: ignore[arg-type]
        "Weight.units",  # refused when the model is built
    ),
    "rate dimensions in feet": (
        lambda ss: _fedex_rates(
            ss,
            dimensions=Dimensions(
                length=Decimal(1),
                width=Decimal(1),
                height=Decimal(1),
                units="feet",  # type: ignore[arg-type]
            ),
        ),
        "Dimensions.units",
    ),
    "label without a ship date": (
        lambda ss: ss.orders.create_label(1, "ups", "ups_ground", "package", None),  # type: ignore[arg-type]
        "ship_date",
    ),
    "label test flag as text": (
        lambda ss: _order_label(ss, test_label="no"),
        "test_label",
    ),
    "order number over 50 characters": (
        lambda ss: _create_order(ss, orderNumber="N" * 51),
        "order.orderNumber",
    ),
    "funds NaN": (lambda ss: ss.carriers.add_funds("ups", "NaN"), "amount"),
    "funds signalling NaN": (lambda ss: ss.carriers.add_funds("ups", Decimal("sNaN")), "amount"),
    "funds in fractions of a cent": (
        lambda ss: ss.carriers.add_funds("ups", Decimal("20.001")),
        "amount",
    ),
    "store id as text": (lambda ss: ss.orders.list(store_id="abc"), "store_id"),  # type: ignore[arg-type]
    "notify customer as text": (
        lambda ss: ss.orders.mark_as_shipped(1, "usps", notify_customer="no"),  # type: ignore[arg-type]
        "notify_customer",
    ),
    "tracking number as a number": (
        lambda ss: ss.orders.mark_as_shipped(1, "usps", tracking_number=9400),  # type: ignore[arg-type]
        "tracking_number",
    ),
    "order status as a list": (
        lambda ss: ss.orders.list(order_status=["shipped"]),  # type: ignore[arg-type]
        "order_status",
    ),
    "orders range over 90 days": (
        lambda ss: ss.orders.list(
            modify_date_start=date(2024, 1, 1),
            modify_date_end=datetime(2024, 3, 31, 0, 0, 1, tzinfo=PACIFIC),
        ),
        "modify_date_end",
    ),
    "shipments range over 90 days": (
        lambda ss: ss.shipments.list(ship_date_start=T0, ship_date_end=T0 + timedelta(days=91)),
        "ship_date_end",
    ),
    "a stream's unsplit filter range over 90 days": (
        lambda ss: anext(
            aiter(
                ss.orders.iter(
                    create_date_start=T0,
                    create_date_end=T0 + timedelta(days=400),
                    modify_date_start=T0,
                    modify_date_end=T0 + timedelta(days=91),
                )
            )
        ),
        "modify_date_end",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
async def test_bad_input_sends_nothing(
    name: str, client: ShipStation, recorder: RecordingServer
) -> None:
    call, field = BAD[name]
    with pytest.raises(InvalidRequestError) as info:
        await call(client)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)
    assert recorder.requests == []


async def test_find_labels_reads_every_page_and_skips_voided(
    client: ShipStation, recorder: RecordingServer
) -> None:
    def shipment(i: int, voided: bool = False) -> dict[str, Any]:
        return {"shipmentId": i, "orderId": 7, "voided": voided, "trackingNumber": f"T{i}"}

    recorder.reply(
        Reply(
            body={"shipments": [shipment(1), shipment(2, True)], "total": 3, "page": 1, "pages": 2}
        ),
        Reply(body={"shipments": [shipment(3)], "total": 3, "page": 2, "pages": 2}),
    )
    labels = await client.shipments.find_labels(order_id=7, created_after=T0)
    assert [s.shipment_id for s in labels] == [1, 3]
    first, second = recorder.requests
    assert "orderId=7" in first.query_string and "createDateStart=2024-03-01" in first.query_string
    assert "page=2" in second.query_string and "pageSize=500" in second.query_string


async def test_void_retried_after_ambiguous_attempt_counts_already_voided_as_approved(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(
        Reply(drop=True),
        Reply(body={"approved": False, "message": "This label has already been voided."}),
    )
    result = await client.shipments.void_label(55)
    assert result.approved is True
    # Without an ambiguous attempt, the server's answer stands.
    recorder.reply(
        Reply(body={"approved": False, "message": "This label has already been voided."})
    )
    assert (await client.shipments.void_label(55)).approved is False


async def test_a_restore_retried_after_an_ambiguous_attempt_counts_not_on_hold_as_done(
    client: ShipStation, recorder: RecordingServer
) -> None:
    refused = Reply(
        status=400,
        body={
            "Message": "The request is invalid.",
            "ModelState": {"request.orderId": ["Order 5 is not on hold."]},
        },
    )
    recorder.reply(Reply(drop=True), refused)
    assert (await client.orders.restore_from_hold(5)).success is True
    # Without an ambiguous attempt, the server's answer stands.
    recorder.reply(refused)
    with pytest.raises(BadRequestError, match="not on hold"):
        await client.orders.restore_from_hold(5)


async def test_label_purchase_is_never_retried_after_ambiguity(
    client: ShipStation, recorder: RecordingServer
) -> None:
    from shipstation_async import AmbiguousRequestError

    recorder.default = Reply(502, raw=b"<html>Bad Gateway</html>")
    with pytest.raises(AmbiguousRequestError):
        await client.orders.create_label(1, "ups", "ups_ground", "package", date(2024, 1, 1))
    with pytest.raises(AmbiguousRequestError):
        await client.shipments.create_label(
            "ups", "ups_ground", "package", date(2024, 1, 1), WEIGHT, FROM, ADDRESS
        )
    with pytest.raises(AmbiguousRequestError):
        await client.orders.mark_as_shipped(1, "usps")
    recorder.reply(Reply(body={"code": "stamps_com", "balance": 1}))  # the balance read first
    with pytest.raises(AmbiguousRequestError) as funds:
        await client.carriers.add_funds("stamps_com", 20)
    assert funds.value.attempt is not None and funds.value.attempt.baseline is not None
    with pytest.raises(AmbiguousRequestError):
        await client.webhooks.subscribe("https://x/y", "SHIP_NOTIFY")
    assert [r.method for r in recorder.requests] == ["POST"] * 3 + ["GET", "POST", "POST"]


async def test_createorder_retries_only_with_an_order_key(
    client: ShipStation, recorder: RecordingServer
) -> None:
    from shipstation_async import AmbiguousRequestError

    order = Order(
        order_number="A",
        order_date=T0,
        order_status="awaiting_shipment",
        bill_to=ADDRESS,
        ship_to=ADDRESS,
    )
    recorder.reply(Reply(500, {"Message": "x"}))
    with pytest.raises(AmbiguousRequestError):
        await client.orders.create_or_update(order)
    assert len(recorder.requests) == 1
    recorder.reply(Reply(500, {"Message": "x"}))
    recorder.default = Reply(body={"orderId": 1, "orderKey": "k-1"})
    saved = await client.orders.create_or_update(attrs.evolve(order, order_key="k-1"))
    assert saved.order_key == "k-1"
    assert len(recorder.requests) == 3


async def test_return_label_flag_is_sent_only_when_asked(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(body={"shipmentId": 5})
    args = ("ups", "ups_ground", "package", date(2024, 3, 4), WEIGHT, FROM, ADDRESS)
    await client.shipments.create_label(*args)
    await client.shipments.create_label(*args, is_return_label=True)
    plain, returned = (json.loads(r.body) for r in recorder.requests)
    assert "isReturnLabel" not in plain
    assert returned["isReturnLabel"] is True


async def test_subscribe_reads_the_id_in_either_documented_shape(
    client: ShipStation, recorder: RecordingServer
) -> None:
    answers = [
        {"id": 123456},
        {"WebHookID": 123457, "HookType": "ORDER_NOTIFY", "Url": "https://x/h", "Name": "n"},
    ]
    for answer, expected in zip(answers, (123456, 123457), strict=True):
        recorder.default = Reply(body=answer)
        result = await client.webhooks.subscribe("https://x/h", "ORDER_NOTIFY")
        assert result.id == expected


async def test_a_range_of_exactly_90_days_goes_out(
    client: ShipStation, recorder: RecordingServer
) -> None:
    # 90 days of wall-clock time across the start of daylight saving (an hour less in
    # elapsed time) is what the server measures, and what it accepts.
    recorder.default = Reply(body={"orders": [], **PAGE})
    await client.orders.list(order_date_start=date(2024, 1, 1), order_date_end=date(2024, 3, 31))
    (request,) = recorder.requests
    assert "orderDateEnd=2024-03-31%2000%3A00%3A00" in request.query_string


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"webhooks": None}, []),
        ({"Webhooks": [{"WebHookID": 5, "Name": "n"}]}, [5]),
        ([{"WebHookID": 6}], [6]),
        ({"WebHookID": 7, "Name": "one"}, [7]),  # a single object where a list is expected
    ],
)
async def test_list_answers_in_every_plausible_shape(
    answer: Any, expected: list[int], client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(body=answer)
    assert [w.webhook_id for w in await client.webhooks.list()] == expected


@pytest.mark.parametrize("answer", [{}, {"webhooks": {"x": 1}}, {"message": "nope"}, "text"])
async def test_a_list_answer_of_another_shape_is_a_decode_error_not_a_blank_record(
    answer: Any, client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(body=answer)
    with pytest.raises(DecodeError):
        await client.webhooks.list()


async def test_empty_strings_for_booleans_and_a_timed_fulfillment_ship_date(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(
        Reply(
            body=[
                {
                    "warehouseId": 3,
                    "registerFedexMeter": "",
                    "returnAddress": {"name": "R", "residential": ""},
                    "originAddress": {"name": "O", "residential": True},
                }
            ]
        ),
        Reply(
            body={
                "fulfillments": [
                    {"fulfillmentId": 1, "shipDate": "2020-06-24T10:32:33.6870000"},
                    {"fulfillmentId": 2, "shipDate": "2020-06-25"},
                ],
                **PAGE,
            }
        ),
    )
    (warehouse,) = await client.warehouses.list()
    assert warehouse.register_fedex_meter is None
    assert warehouse.return_address is not None and warehouse.return_address.residential is None
    assert warehouse.origin_address is not None and warehouse.origin_address.residential is True
    timed, plain_day = (await client.fulfillments.list()).items
    assert timed.ship_date == datetime(2020, 6, 24, 10, 32, 33, 687000, tzinfo=PACIFIC)
    assert plain_day.ship_date == date(2020, 6, 25)


async def test_a_write_answered_done_but_unreadable_is_ambiguous_not_a_decode_error(
    client: ShipStation, recorder: RecordingServer
) -> None:
    from shipstation_async import AmbiguousRequestError, DecodeError

    for reply in (Reply(body={"shipmentId": "not a number"}), Reply(raw=b'{"shipmentId": 1')):
        recorder.reply(reply)
        with pytest.raises(AmbiguousRequestError) as info:
            await client.orders.create_label(1, "ups", "ups_ground", "package", date(2024, 1, 1))
        # The label was bought; what came back cannot say which: settle finds it.
        assert isinstance(info.value.cause, DecodeError) and info.value.attempt is not None
    recorder.reply(Reply(body={"orderId": "x"}))
    with pytest.raises(DecodeError):  # a read stays a plain DecodeError
        await client.orders.get(1)
