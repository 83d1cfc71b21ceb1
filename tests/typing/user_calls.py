"""Every resource method of ShipStation called as the README and docstrings show.

Required arguments by position and the rest by keyword, as the README writes them; results
are bound to annotated names so that a changed return type is an error here. These coroutines
are type-checked, never run.
"""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs

from shipstation_async import (
    AmbiguousRequestError,
    APIError,
    NotFoundError,
    RateLimit,
    RateLimitError,
    RateLimitStatus,
    RedisBudget,
    Settlement,
    ShipStation,
    ShipStationError,
    TransportError,
)
from shipstation_async.backfill import Backfill
from shipstation_async.events import BudgetDegraded, BudgetShared, Event
from shipstation_async.models import (
    Address,
    Carrier,
    CreateOrdersResult,
    Customer,
    Fulfillment,
    Label,
    MarkAsShippedResult,
    Marketplace,
    Order,
    Package,
    Page,
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
)
from shipstation_async.streams import StreamError

from .user_models import BOX, CUSTOMER, WEIGHT

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


async def orders(ss: ShipStation) -> None:
    """Every method of ``ss.orders``."""
    page: Page[Order] = await ss.orders.list(
        page=1,
        page_size=100,
        order_status="awaiting_shipment",
        create_date_start=SINCE,
        create_date_end=SINCE + timedelta(days=30),
        sort_by="OrderDate",
        sort_dir="DESC",
        max_wait=10.0,
    )
    first: Order = page.items[0]
    for each in page:  # a page iterates as its items, typed (not Any)
        typing.assert_type(each, Order)
    tagged: Page[Order] = await ss.orders.list_by_tag("on_hold", 1, page=1, page_size=25)
    order: Order = await ss.orders.get(1)
    saved: Order = await ss.orders.create_or_update(attrs.evolve(order, internal_notes="rush"))
    many: CreateOrdersResult = await ss.orders.create_or_update_many(
        [first, {"orderNumber": "WEB-2", "orderDate": "2026-01-02T00:00:00"}]
    )
    results: list[SuccessResult] = [
        await ss.orders.delete(1),
        await ss.orders.add_tag(1, 2),
        await ss.orders.remove_tag(1, 2),
        await ss.orders.assign_user([1, 2], "1e7d0e4b"),
        await ss.orders.unassign_user([1, 2]),
        await ss.orders.hold_until(1, date(2026, 2, 1)),
        await ss.orders.restore_from_hold(1),
    ]
    shipped: MarkAsShippedResult = await ss.orders.mark_as_shipped(
        1,
        "usps",
        ship_date=date(2026, 1, 3),
        tracking_number="9400",
        notify_customer=True,
        notify_sales_channel=True,
    )
    label: Label = await ss.orders.create_label(
        1,
        "ups",
        "ups_ground",
        "package",
        date(2026, 1, 3),
        confirmation="delivery",
        weight=WEIGHT,
        dimensions=BOX,
        test_label=True,
    )
    once: Label = await ss.orders.create_label_once(
        1, "ups", "ups_ground", "package", date(2026, 1, 3), weight=WEIGHT
    )
    print(saved, many.failed, tagged.total, results, shipped.order_id, label, once)


async def shipments(ss: ShipStation) -> None:
    """Every method of ``ss.shipments``."""
    page: Page[Shipment] = await ss.shipments.list(
        page=1,
        page_size=100,
        create_date_start=SINCE,
        include_shipment_items=True,
        sort_dir="ASC",
    )
    label: Label = await ss.shipments.create_label(
        "fedex",
        "fedex_ground",
        "package",
        date(2026, 1, 3),
        Weight(value=Decimal(3), units="pounds"),
        ship_from=CUSTOMER,
        ship_to={"name": "Grace Hopper", "country": "US", "postalCode": "10001"},
        confirmation="signature",
        dimensions=BOX,
        is_return_label=True,
    )
    once: Label = await ss.shipments.create_label_once(
        "fedex",
        "fedex_ground",
        "package",
        date(2026, 1, 3),
        WEIGHT,
        ship_from=CUSTOMER,
        ship_to=CUSTOMER,
    )
    rates: list[Rate] = await ss.shipments.get_rates(
        "ups",
        "78701",
        "US",
        "10001",
        WEIGHT,
        to_state="NY",
        dimensions=BOX,
        residential=True,
    )
    cheapest: Decimal = min(rate.total for rate in rates)
    found: list[Shipment] = await ss.shipments.find_labels(order_id=1, include_voided=True)
    voided: VoidResult = await ss.shipments.void_label(page.items[0].shipment_id or 0)
    print(label.label_pdf(), once, cheapest, found, voided.approved)


async def catalog(ss: ShipStation) -> None:
    """Products, customers, fulfillments and their fields."""
    products: Page[Product] = await ss.products.list(page=1, page_size=100, sku="TS-BLK-M")
    product: Product = await ss.products.get(1)
    updated: SuccessResult = await ss.products.update(attrs.evolve(product, price=Decimal(15)))
    customers: Page[Customer] = await ss.customers.list(page=1, country_code="US")
    customer: Customer = await ss.customers.get(1)
    fulfillments: Page[Fulfillment] = await ss.fulfillments.list(
        page=1, order_number="WEB-1001", create_date_start=SINCE
    )
    print(products.pages, updated.success, customers, customer.email, fulfillments.items)


async def account(ss: ShipStation) -> None:
    """Warehouses, stores, carriers, users, webhooks and the account."""
    warehouses: list[Warehouse] = await ss.warehouses.list()
    created: Warehouse = await ss.warehouses.create(
        CUSTOMER, warehouse_name="Main", is_default=False
    )
    warehouse: Warehouse = await ss.warehouses.get(created.warehouse_id or 0)
    renamed: Warehouse = await ss.warehouses.update(attrs.evolve(warehouse, warehouse_name="B"))
    gone: SuccessResult = await ss.warehouses.delete(1)
    stores: list[Store] = await ss.stores.list(show_inactive=False, marketplace_id=2)
    store: Store = await ss.stores.get(1)
    kept: Store = await ss.stores.update(attrs.evolve(store, store_name="Shop"))
    marketplaces: list[Marketplace] = await ss.stores.list_marketplaces()
    status: RefreshStatus = await ss.stores.get_refresh_status(1)
    store_calls: list[SuccessResult] = [
        await ss.stores.refresh(store_id=1, refresh_date=date(2026, 1, 1)),
        await ss.stores.deactivate(1),
        await ss.stores.reactivate(1),
    ]
    carriers: list[Carrier] = await ss.carriers.list()
    carrier: Carrier = await ss.carriers.get("stamps_com")
    funded: Carrier = await ss.carriers.add_funds("stamps_com", Decimal(20))
    services: list[Service] = await ss.carriers.list_services("ups")
    packages: list[Package] = await ss.carriers.list_packages("ups")
    users: list[User] = await ss.users.list(show_inactive=True)
    hooks: list[Webhook] = await ss.webhooks.list()
    subscribed: SubscribeResult = await ss.webhooks.subscribe(
        "https://example.com/hook", "SHIP_NOTIFY", store_id=1, friendly_name="x"
    )
    unsubscribed: SuccessResult = await ss.webhooks.unsubscribe(subscribed.id or 0)
    tags: list[Tag] = await ss.accounts.list_tags()
    registered: RegisterAccountResult = await ss.accounts.register_account(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", password="secret"
    )
    print(warehouses, renamed, gone, stores, kept, marketplaces, status, store_calls)
    print(carrier, funded.balance, services, packages, users, hooks, unsubscribed, tags)
    print(carriers, registered.api_key)


async def streams(ss: ShipStation) -> None:
    """Every ``iter()`` consumed item by item and page by page."""
    async with ss.orders.iter(create_date_start=SINCE, order_status="shipped") as orders:
        async for order in orders:
            ship_to: Address | None = order.ship_to
            print(order.order_number, ship_to)
    async with ss.shipments.iter(create_date_start=SINCE, concurrency=2) as shipments:
        async for page in shipments.pages():
            costs: list[Decimal | None] = [s.shipment_cost for s in page]
            print(costs)
    async for fulfillment in ss.fulfillments.iter(create_date_start=SINCE, ordered=True):
        print(fulfillment.tracking_number)
    async with ss.products.iter(start_date=date(2026, 1, 1), lane="bulk") as products:
        async for product in products:
            print(product.sku)
    async with ss.customers.iter(page_size=200) as customers:
        async for customer in customers:
            print(customer.customer_id)


async def errors(ss: ShipStation, address: Address) -> Label | None:
    """The typed errors a caller catches, and settling an ambiguous label purchase."""
    try:
        return await ss.shipments.create_label(
            "ups",
            "ups_ground",
            "package",
            date(2026, 1, 3),
            WEIGHT,
            ship_from=address,
            ship_to=address,
        )
    except AmbiguousRequestError as error:
        settlement: Settlement = await ss.settle(error, max_wait=60.0)
        return settlement.label() if settlement.outcome == "bought" else None
    except RateLimitError as error:
        wait: float | None = error.retry_after
        print(wait, error.status)
    except NotFoundError as error:
        print(error.path, error.details)
    except APIError as error:
        print(error.status, error.message)
    except TransportError as error:
        print(error)
    except StreamError:
        raise
    except ShipStationError:
        raise
    return None


async def client() -> None:
    """A client with its options, its budget status and a backfill."""
    async with ShipStation(
        "key", "secret", rate_limit=RateLimit(requests=40, period=60.0), timeout=30.0
    ) as ss:
        status: RateLimitStatus = ss.rate_limit_status()
        summary = await Backfill(ss, "orders", start=date(2024, 1, 1), sink="orders.jsonl").run()
        print(status, summary.records, summary.requests)


async def shared_budget() -> None:
    """A worker whose budget is shared in Redis, and the events of its switches."""
    budget = RedisBudget("redis://localhost:6379/0", lease=10.0, on_unavailable="wait")

    def hook(event: Event) -> None:
        if isinstance(event, BudgetDegraded):
            print("local share", event.share, "of", event.processes, "processes")
        elif isinstance(event, BudgetShared):
            print("shared again")

    async with ShipStation("key", "secret", budget=budget, hooks=[hook]) as ss:
        status = ss.rate_limit_status()
        shared: bool = status.shared
        processes: int = status.processes
        degraded: bool = status.degraded
        print(shared, processes, degraded)
    await budget.aclose()
