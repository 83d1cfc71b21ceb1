"""Every endpoint through the SDK against the stateful sandbox: the documented behaviour, with
the typed answers read strictly (no key the models do not know)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from shipstation_async import (
    AmbiguousRequestError,
    BadRequestError,
    NotFoundError,
    RateLimit,
    RetryPolicy,
    ShipStation,
)
from shipstation_async.models import Address, Order, OrderItem, Weight, strict_converter
from shipstation_async.sandbox import Faults, ThreadedSandbox

LIMIT = RateLimit(1000, 60.0)
Factory = Callable[..., ThreadedSandbox]
CUSTOMER = Address(
    name="Ada Lovelace",
    street1="1600 Pennsylvania Ave",
    city="Washington",
    state="DC",
    postal_code="20500",
    country="US",
    residential=True,
)
NOW = datetime.now(UTC)


def strict(model: Any) -> Any:
    """Re-read a model from the raw JSON with the strict converter: fails on unknown keys."""
    return strict_converter.structure(model.raw, type(model))


@pytest.fixture
def sandbox(shipstation_sandbox_factory: Factory) -> ThreadedSandbox:
    return shipstation_sandbox_factory(
        orders=80, rate_limit=LIMIT, api_key=f"key-{uuid.uuid4().hex[:10]}", faults=Faults()
    )


@pytest.fixture
async def ss(sandbox: ThreadedSandbox) -> AsyncIterator[ShipStation]:
    async with ShipStation(
        sandbox.api_key,
        sandbox.api_secret,
        base_url=sandbox.url,
        rate_limit=LIMIT,
        retry=RetryPolicy(base=0.0),
    ) as client:
        yield client


def new_order(number: str, key: str | None = None, **changes: Any) -> Order:
    order = Order(
        order_number=number,
        order_key=key,
        order_date=NOW,
        order_status="awaiting_shipment",
        bill_to=CUSTOMER,
        ship_to=CUSTOMER,
        items=[OrderItem(sku="TS-BLK-M", name="T-shirt", quantity=1, unit_price=Decimal("20"))],
        weight=Weight(value=Decimal(12), units="ounces"),
    )
    return attrs.evolve(order, **changes)


async def test_orders_list_get_and_filters(ss: ShipStation) -> None:
    page = await ss.orders.list(page_size=10, order_status="shipped", sort_by="CreateDate")
    assert page.total > 0 and all(o.order_status == "shipped" for o in page.items)
    created = [o.create_date for o in page.items]
    assert created == sorted(created)  # type: ignore[type-var]
    one = await ss.orders.get(page.items[0].order_id or 0)
    assert strict(one).order_id == page.items[0].order_id
    with pytest.raises(NotFoundError):
        await ss.orders.get(1)


async def test_createorder_upserts_by_order_key(ss: ShipStation) -> None:
    first = await ss.orders.create_or_update(new_order("WEB-1", "key-web-1"))
    again = await ss.orders.create_or_update(
        new_order("WEB-1", "key-web-1", customer_notes="leave at the door")
    )
    assert again.order_id == first.order_id
    assert strict(await ss.orders.get(first.order_id or 0)).customer_notes == "leave at the door"
    listed = await ss.orders.list(order_number="WEB-1")
    assert [o.order_id for o in listed.items] == [first.order_id]


async def test_shipped_orders_are_locked(ss: ShipStation) -> None:
    shipped = (await ss.orders.list(order_status="shipped", page_size=1)).items[0]
    with pytest.raises(BadRequestError) as info:
        await ss.orders.create_or_update(attrs.evolve(shipped, internal_notes="edit"))
    assert info.value.details  # ModelState names the field


async def test_createorders_reports_each_order(ss: ShipStation) -> None:
    shipped = (await ss.orders.list(order_status="shipped", page_size=1)).items[0]
    result = await ss.orders.create_or_update_many(
        [
            new_order("BULK-1", "bulk-1"),
            attrs.evolve(shipped, internal_notes="cannot change a shipped order"),
        ]
    )
    assert result.has_errors is True
    assert [r.success for r in result.results or []] == [True, False]
    assert len(result.failed) == 1 and result.failed[0].error_message


async def test_delete_hold_restore(ss: ShipStation) -> None:
    order = await ss.orders.create_or_update(new_order("HOLD-1", "hold-1"))
    order_id = order.order_id or 0
    assert (await ss.orders.hold_until(order_id, date.today() + timedelta(days=3))).success
    held = await ss.orders.get(order_id)
    assert held.order_status == "on_hold" and held.hold_until_date == date.today() + timedelta(3)
    assert (await ss.orders.restore_from_hold(order_id)).success
    assert (await ss.orders.get(order_id)).order_status == "awaiting_shipment"
    assert (await ss.orders.delete(order_id)).success
    with pytest.raises(NotFoundError):
        await ss.orders.get(order_id)


async def test_tags_and_users(ss: ShipStation) -> None:
    order = await ss.orders.create_or_update(new_order("TAG-1", "tag-1"))
    order_id = order.order_id or 0
    tag = (await ss.accounts.list_tags())[0]
    await ss.orders.add_tag(order_id, tag.tag_id or 0)
    assert tag.tag_id in ((await ss.orders.get(order_id)).tag_ids or [])
    tagged = await ss.orders.list_by_tag("awaiting_shipment", tag.tag_id or 0)
    assert order_id in [o.order_id for o in tagged.items]
    await ss.orders.remove_tag(order_id, tag.tag_id or 0)
    assert tag.tag_id not in ((await ss.orders.get(order_id)).tag_ids or [])
    user = (await ss.users.list())[0]
    await ss.orders.assign_user([order_id], user.user_id or "")
    assert (await ss.orders.get(order_id)).user_id == user.user_id
    # All or nothing: one unknown order and nobody is assigned.
    other = await ss.orders.create_or_update(new_order("TAG-2", "tag-2"))
    with pytest.raises((BadRequestError, NotFoundError)):
        await ss.orders.assign_user([other.order_id or 0, 999], user.user_id or "")
    assert (await ss.orders.get(other.order_id or 0)).user_id is None
    await ss.orders.unassign_user([order_id])
    assert (await ss.orders.get(order_id)).user_id is None


async def test_mark_as_shipped_makes_a_fulfillment_not_a_shipment(ss: ShipStation) -> None:
    order = await ss.orders.create_or_update(new_order("MAS-1", "mas-1"))
    order_id = order.order_id or 0
    result = await ss.orders.mark_as_shipped(order_id, "usps", tracking_number="9400")
    assert result.order_id == order_id
    assert (await ss.orders.get(order_id)).order_status == "shipped"
    fulfillments = await ss.fulfillments.list(order_id=order_id)
    assert [strict(f).tracking_number for f in fulfillments.items] == ["9400"]
    assert (await ss.shipments.list(order_id=order_id)).total == 0


async def test_label_for_order_is_bought_once_and_found(
    ss: ShipStation, sandbox: ThreadedSandbox
) -> None:
    order = await ss.orders.create_or_update(new_order("LBL-1", "lbl-1"))
    order_id = order.order_id or 0
    before = datetime.now(UTC) - timedelta(seconds=2)
    label = await ss.orders.create_label(
        order_id,
        "ups",
        "ups_ground",
        "package",
        date.today(),
        weight=Weight(value=Decimal(2), units="pounds"),
    )
    assert strict(label).tracking_number and label.shipment_cost and label.shipment_cost > 0
    assert label.label_pdf() is not None and label.label_pdf()[:4] == b"%PDF"  # type: ignore[index]
    found = await ss.shipments.find_labels(order_id=order_id, created_after=before)
    assert [s.shipment_id for s in found] == [label.shipment_id]
    assert [p.order_id for p in sandbox.labels()] == [order_id]


async def test_ambiguous_label_purchase_is_sent_exactly_once(
    ss: ShipStation, sandbox: ThreadedSandbox
) -> None:
    order = await ss.orders.create_or_update(new_order("LBL-2", "lbl-2"))
    order_id = order.order_id or 0
    before = datetime.now(UTC) - timedelta(seconds=2)
    sandbox.faults.script("drop_after", path="/orders/createlabelfororder")
    with pytest.raises(AmbiguousRequestError) as info:
        await ss.orders.create_label(
            order_id,
            "fedex",
            "fedex_ground",
            "package",
            date.today(),
            weight=Weight(value=Decimal(1), units="pounds"),
        )
    assert "Settle it (ss.settle(exc)) before sending it again" in str(info.value)
    assert len(sandbox.labels()) == 1  # bought once, by the one request that went out
    assert sandbox.write_counts()["POST /orders/createlabelfororder"] == 1
    found = await ss.shipments.find_labels(order_id=order_id, created_after=before)
    assert len(found) == 1  # the reconciliation shows it exists: do not buy again


async def test_rates_depend_on_weight_and_distance(ss: ShipStation) -> None:
    async def cheapest(weight: int, to_postal: str) -> Decimal:
        rates = await ss.shipments.get_rates(
            "fedex", "78703", "US", to_postal, Weight(value=Decimal(weight), units="ounces")
        )
        assert rates and all(strict(r).total > 0 for r in rates)
        return min(r.total for r in rates)

    assert await cheapest(80, "78704") > await cheapest(8, "78704")
    assert await cheapest(8, "98101") > await cheapest(8, "78704")
    with pytest.raises(BadRequestError):  # the server's own check, bypassing the SDK's
        await ss.request(
            __import__("shipstation_async").Operation(
                "POST",
                "/shipments/getrates",
                body={
                    "carrierCode": "ups",
                    "fromPostalCode": "1",
                    "toCountry": "US",
                    "toPostalCode": "2",
                    "weight": {"value": 1, "units": "ounces"},
                },
            )
        )


async def test_shipment_label_return_label_and_void(
    ss: ShipStation, sandbox: ThreadedSandbox
) -> None:
    warehouse = (await ss.warehouses.list())[0]
    assert warehouse.origin_address is not None
    label = await ss.shipments.create_label(
        "stamps_com",
        "usps_priority_mail",
        "package",
        date.today(),
        Weight(value=Decimal(1), units="pounds"),
        ship_from=CUSTOMER,
        ship_to=warehouse.origin_address,
        is_return_label=True,
    )
    assert label.shipment_id and len(sandbox.labels()) == 1
    listed = await ss.shipments.list(
        tracking_number=label.tracking_number, include_shipment_items=True
    )
    assert [strict(s).shipment_id for s in listed.items] == [label.shipment_id]
    assert listed.items[0].is_return_label is True
    voided = await ss.shipments.void_label(label.shipment_id)
    assert voided.approved is True
    again = await ss.shipments.void_label(label.shipment_id)
    assert again.approved is False and "already" in (again.message or "").lower()
    assert (await ss.shipments.list(tracking_number=label.tracking_number)).items[0].voided


async def test_product_put_after_get_changes_only_the_edited_field(ss: ShipStation) -> None:
    product = (await ss.products.list(page_size=1)).items[0]
    fetched = await ss.products.get(product.product_id or 0)
    assert (await ss.products.update(attrs.evolve(fetched, name="Renamed"))).success
    after = await ss.products.get(product.product_id or 0)
    before_raw = dict(fetched.raw or {})
    after_raw = dict(after.raw or {})
    assert after_raw.pop("name") == "Renamed"
    before_raw.pop("name")
    after_raw.pop("modifyDate", None)
    before_raw.pop("modifyDate", None)
    assert after_raw == before_raw


async def test_warehouse_crud_and_put_after_get(ss: ShipStation) -> None:
    created = await ss.warehouses.create(
        Address(
            name="East",
            street1="1 Harbor Way",
            city="Newark",
            state="NJ",
            postal_code="07102",
            country="US",
        ),
        warehouse_name="East DC",
    )
    assert strict(created).return_address == created.origin_address  # defaults to origin
    fetched = await ss.warehouses.get(created.warehouse_id or 0)
    updated = await ss.warehouses.update(attrs.evolve(fetched, warehouse_name="East coast DC"))
    assert updated.warehouse_name == "East coast DC"
    assert attrs.evolve(updated, warehouse_name=fetched.warehouse_name) == fetched
    assert (await ss.warehouses.delete(created.warehouse_id or 0)).success
    assert created.warehouse_id not in [w.warehouse_id for w in await ss.warehouses.list()]


async def test_carriers_services_packages_and_funds(ss: ShipStation) -> None:
    carriers = await ss.carriers.list()
    funded = next(c for c in carriers if c.requires_funded_account)
    services = await ss.carriers.list_services(funded.code or "")
    packages = await ss.carriers.list_packages(funded.code or "")
    assert services and packages and all(strict(s).carrier_code == funded.code for s in services)
    after = await ss.carriers.add_funds(funded.code or "", Decimal("25.00"))
    assert after.balance == (funded.balance or 0) + Decimal("25.00")
    assert (await ss.carriers.get(funded.code or "")).balance == after.balance


async def test_customers_and_fulfillments(ss: ShipStation) -> None:
    customers = await ss.customers.list(page_size=5, sort_by="Name")
    assert customers.total > 0
    one = await ss.customers.get(customers.items[0].customer_id or 0)
    assert strict(one).customer_id == customers.items[0].customer_id
    fulfillments = await ss.fulfillments.list(page_size=5)
    assert all(strict(f).fulfillment_id for f in fulfillments.items)


async def test_stores(ss: ShipStation) -> None:
    stores = await ss.stores.list()
    marketplace_store = next(s for s in stores if s.marketplace_name != "ShipStation")
    store = await ss.stores.get(marketplace_store.store_id or 0)
    assert strict(store).status_mappings
    renamed = await ss.stores.update(attrs.evolve(store, store_name="Renamed store"))
    assert renamed.store_name == "Renamed store"
    refreshed = await ss.stores.refresh(store.store_id, date.today())
    assert refreshed.success
    status = await ss.stores.get_refresh_status(store.store_id or 0)
    assert strict(status).store_id == store.store_id
    assert (await ss.stores.deactivate(store.store_id or 0)).success is True
    assert store.store_id not in [s.store_id for s in await ss.stores.list()]
    assert store.store_id in [s.store_id for s in await ss.stores.list(show_inactive=True)]
    assert (await ss.stores.reactivate(store.store_id or 0)).success is True
    assert [strict(m).name for m in await ss.stores.list_marketplaces()]


async def test_register_account_credentials_work(ss: ShipStation, sandbox: ThreadedSandbox) -> None:
    account = await ss.accounts.register_account(
        first_name="Ann", last_name="Lee", email="ann@example.com", password="pw"
    )
    assert account.api_key and account.api_secret
    async with ShipStation(
        account.api_key, account.api_secret, base_url=sandbox.url, rate_limit=LIMIT
    ) as other:
        assert isinstance(await other.accounts.list_tags(), list)


async def test_webhooks(ss: ShipStation) -> None:
    subscribed = await ss.webhooks.subscribe(
        "https://example.com/hook", "SHIP_NOTIFY", friendly_name="ships"
    )
    hooks = await ss.webhooks.list()
    assert [(h.webhook_id, h.hook_type) for h in hooks] == [(subscribed.id, "SHIP_NOTIFY")]
    assert all(strict(h) for h in hooks)
    assert (await ss.webhooks.unsubscribe(subscribed.id or 0)).success
    assert await ss.webhooks.list() == []
