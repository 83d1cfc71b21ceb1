"""Every model built with keywords, read back, and changed with attrs.evolve."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from shipstation_async import Page
from shipstation_async.models import (
    Address,
    AdvancedOptions,
    Carrier,
    CreateOrdersResult,
    Customer,
    CustomerTag,
    CustomsItem,
    Dimensions,
    Fulfillment,
    InsuranceOptions,
    InternationalOptions,
    ItemOption,
    Label,
    MarkAsShippedResult,
    Marketplace,
    MarketplaceUsername,
    Order,
    OrderItem,
    OrderResult,
    Package,
    Product,
    ProductCategory,
    ProductTag,
    ProductType,
    Rate,
    RefreshStatus,
    RegisterAccountResult,
    Service,
    Shipment,
    StatusMapping,
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
)

CUSTOMER = Address(
    name="Ada Lovelace",
    company="Analytical Engines",
    street1="1 Main St",
    city="Austin",
    state="TX",
    postal_code="78701",
    country="US",
    phone="555-0100",
    residential=True,
)
WEIGHT = Weight(value=Decimal("12.5"), units="ounces")
BOX = Dimensions(length=Decimal(10), width=Decimal(6), height=Decimal(4), units="inches")


def shipping_models() -> list[object]:
    """The value objects of orders, shipments and labels."""
    customs = InternationalOptions(
        contents="merchandise",
        customs_items=[
            CustomsItem(
                description="T-shirt",
                quantity=2,
                value=Decimal("12.50"),
                harmonized_tariff_code="6109.10",
                country_of_origin="US",
            )
        ],
        non_delivery="return_to_sender",
    )
    insurance = InsuranceOptions(
        provider="carrier", insure_shipment=True, insured_value=Decimal(25)
    )
    options = AdvancedOptions(warehouse_id=1, store_id=2, custom_field1="gift", source="web")
    return [CUSTOMER, WEIGHT, BOX, customs, insurance, options]


def order_models() -> list[object]:
    """An order with its items, and the answers of the order endpoints."""
    item = OrderItem(
        line_item_key="line-1",
        sku="TS-BLK-M",
        name="T-shirt",
        quantity=2,
        unit_price=Decimal("12.50"),
        weight=WEIGHT,
        options=[ItemOption(name="Size", value="M")],
    )
    order = Order(
        order_number="WEB-1001",
        order_key="web-1001",
        order_date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        order_status="awaiting_shipment",
        bill_to=CUSTOMER,
        ship_to=CUSTOMER,
        items=[item],
        amount_paid=Decimal("25.00"),
        ship_by_date=datetime(2026, 1, 5, tzinfo=UTC),
        hold_until_date=date(2026, 1, 4),
        weight=WEIGHT,
        dimensions=BOX,
        tag_ids=[1, 2],
    )
    rush: Order = attrs.evolve(order, internal_notes="rush", confirmation="signature")
    results = CreateOrdersResult(
        has_errors=False,
        results=[OrderResult(order_id=1, order_number="WEB-1001", success=True)],
    )
    failed: list[OrderResult] = results.failed
    return [
        order,
        rush,
        results,
        failed,
        MarkAsShippedResult(order_id=1, order_number="WEB-1001"),
        SuccessResult(success=True, message="done"),
    ]


def shipment_models() -> list[object]:
    """Shipments, labels, rates and fulfillments."""
    shipment = Shipment(
        shipment_id=1,
        order_id=1,
        ship_date=date(2026, 1, 3),
        shipment_cost=Decimal("7.25"),
        tracking_number="1Z999",
        ship_to=CUSTOMER,
        weight=WEIGHT,
        voided=False,
    )
    label = Label(shipment_id=1, shipment_cost=Decimal("7.25"), label_data="JVBERi0=")
    pdf: bytes | None = label.label_pdf()
    rate = Rate(service_name="Ground", service_code="ground", shipment_cost=Decimal(7))
    total: Decimal = rate.total
    fulfillment = Fulfillment(fulfillment_id=3, order_id=1, ship_date=date(2026, 1, 3))
    fulfillment_at = attrs.evolve(fulfillment, ship_date=datetime(2026, 1, 3, 9, tzinfo=UTC))
    return [
        shipment,
        label,
        pdf,
        rate,
        total,
        fulfillment,
        fulfillment_at,
        VoidResult(approved=True),
    ]


def account_models() -> list[object]:
    """Products, customers, stores, warehouses, carriers, webhooks and account objects."""
    product = Product(
        sku="TS-BLK-M",
        name="T-shirt",
        price=Decimal("12.50"),
        weight_oz=Decimal(6),
        active=True,
        product_category=ProductCategory(category_id=1, name="Apparel"),
        product_type=ProductType(product_type_id=2, name="Shirt"),
        tags=[ProductTag(tag_id=3, name="summer")],
        thumbnail_url="https://example.com/t.png",
    )
    customer = Customer(
        customer_id=1,
        name="Ada Lovelace",
        email="ada@example.com",
        marketplace_usernames=[MarketplaceUsername(marketplace="Etsy", username="ada")],
        tags=[CustomerTag(tag_id=1, name="VIP")],
    )
    store = Store(
        store_id=1,
        store_name="Web shop",
        active=True,
        status_mappings=[StatusMapping(order_status="shipped", status_key="complete")],
    )
    warehouse = Warehouse(warehouse_name="Main", origin_address=CUSTOMER, is_default=True)
    return [
        product,
        attrs.evolve(product, price=Decimal(15)),
        customer,
        store,
        attrs.evolve(store, store_name="Renamed"),
        Marketplace(name="Etsy", marketplace_id=9, can_refresh=True),
        RefreshStatus(store_id=1, refresh_status="Updating orders"),
        warehouse,
        attrs.evolve(warehouse, return_address=CUSTOMER),
        Carrier(name="Stamps.com", code="stamps_com", balance=Decimal("24.27"), primary=True),
        Service(carrier_code="ups", code="ups_ground", name="UPS Ground", domestic=True),
        Package(carrier_code="ups", code="package", name="Package", international=True),
        Webhook(webhook_id=1, hook_type="ORDER_NOTIFY", url="https://example.com/hook"),
        SubscribeResult(id=7),
        Tag(tag_id=1, name="Rush", color="#FF0000"),
        User(user_id="1e7d0e4b", user_name="ada", name="Ada"),
        RegisterAccountResult(success=True, api_key="key", api_secret="secret", seller_id=1),
        Page(items=[product], total=1, page=1, pages=1),
    ]


def read_models() -> list[object]:
    """Models read from the API's JSON with the SDK's converter, and what they carry."""
    order = converter.structure({"orderId": 1, "orderTotal": "9.99", "newKey": 1}, Order)
    order_id: int | None = order.order_id
    money: Decimal | None = order.order_total
    unknown = order.extra.get("newKey")
    wire: dict[str, object] = converter.unstructure(attrs.evolve(order, order_number="A-1"))
    return [order, order_id, money, unknown, wire]


def mistakes_mypy_catches() -> None:
    """Misspelt fields and wrong types: each line must be an error (strict mode reports an
    ignore that is not needed, so these prove the models are not Any)."""
    Address(nmae="Ada")  # type: ignore[call-arg]
    Weight(value="twelve")  # type: ignore[arg-type]
    attrs.evolve(Order(), order_status=3)  # type: ignore[arg-type]
    Order(order_number="A", items=[Address()])  # type: ignore[list-item]
    Order().order_number = "frozen"  # type: ignore[misc]


def every_model() -> list[object]:
    """One of each model (and a few values read from them)."""
    return [
        *shipping_models(),
        *order_models(),
        *shipment_models(),
        *account_models(),
        *read_models(),
    ]
