"""The sandbox's data: one consistent, seeded ShipStation account.

A :class:`World` holds stores (with marketplaces and status mappings, one active Manual
Store), warehouses (one default), carriers (with services, packages and balances), products,
customers, tags, users, orders, shipments, fulfillments, webhooks and the label ledger. Every
reference resolves: an order's storeId is a store, its items' productIds are products, its
tagIds tags, its userId a user, its customerId a customer; a shipment's orderId is a shipped
order. Orders, shipments, fulfillments and customers are derived on demand from
(seed, index), so a world of 1,000,000 orders costs no more to create than one of 100
(see :mod:`.state.orders`, :mod:`.state.shipments`, :mod:`.state.customers`); everything
else is small and stored.

The world is a facade: each resource kind has its own backend in :mod:`.state` (as moto
keeps one backend per service), all sharing one lock, one clock and one change feed
(:attr:`World.changes`, recorded in :attr:`World.change_log`). The shipping rules (labels,
mark-as-shipped, voids) are :attr:`World.shipping`.

Seeding and inspection from Python (all thread-safe, all taking and returning ShipStation
JSON dicts): ``add_store``, ``add_warehouse``, ``add_product``, ``add_customer``,
``add_order``, ``add_tag``, ``add_user`` (or ``add(resource, record)``), ``get(resource, id)``
for any record (inactive and deleted ones included), ``labels()`` for the label ledger and
``write_counts()`` for how many times each write endpoint took effect.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from ._time import MS_PER_HOUR, PACIFIC, naive_to_ms, now_ms
from .data import catalog, seed_tables
from .data.generated_orders import DEFAULT_SPAN_DAYS, ORDER_ID_BASE, STORE_TABLE
from .data.hashing import M64, mix
from .data.order_json import ORDER_KEYS, ORDER_STATUSES, UPDATABLE_STATUSES
from .data.seed_world import (
    order_store_records,
    seed_carriers,
    seed_ids,
    seed_products,
    seed_stores,
    seed_tags,
    seed_users,
    seed_warehouses,
)
from .labels import LabelPurchase
from .state.accounts import AccountBackend
from .state.base import Shared, merge
from .state.carriers import CarrierBackend
from .state.changes import ChangeFeed, ChangeLog
from .state.customers import CustomerStore
from .state.fulfillments import FulfillmentStore
from .state.ledger import LabelLedger
from .state.order_input import OrderIntake
from .state.order_reads import OrderQuery, SortBy
from .state.orders import OrderStore
from .state.products import PRODUCT_KEYS, ProductBackend, ProductQuery, ProductSortBy
from .state.shipments import ShipmentStore
from .state.shipping import Shipping
from .state.stores import STORE_KEYS, StoreBackend
from .state.warehouses import WAREHOUSE_KEYS, WarehouseBackend
from .state.webhook_triggers import WebhookTriggers
from .state.webhooks import WEBHOOK_EVENTS, WebhookBackend

__all__ = [
    "ORDER_ID_BASE",
    "ORDER_KEYS",
    "ORDER_STATUSES",
    "PRODUCT_KEYS",
    "STORE_KEYS",
    "UPDATABLE_STATUSES",
    "WAREHOUSE_KEYS",
    "WEBHOOK_EVENTS",
    "OrderQuery",
    "OrderStore",
    "ProductQuery",
    "ProductSortBy",
    "Resource",
    "SortBy",
    "World",
]

JSON = dict[str, Any]

Resource = Literal[
    "stores",
    "warehouses",
    "products",
    "customers",
    "orders",
    "tags",
    "users",
    "shipments",
    "fulfillments",
    "carriers",
    "webhooks",
]
"""The record kinds :meth:`World.get` reads; the first seven can be added."""
RESOURCES: tuple[str, ...] = get_args(Resource)
SEEDABLE: tuple[str, ...] = RESOURCES[:7]


def _end_ms(end: datetime | None) -> int:
    """The world's end in Pacific wall-clock ms (default: the start of the current hour)."""
    if end is None:
        return now_ms() // MS_PER_HOUR * MS_PER_HOUR
    if end.tzinfo is not None:
        end = end.astimezone(PACIFIC).replace(tzinfo=None)
    return naive_to_ms(end)


class World:
    """Everything the sandbox serves (see the module docstring).

    ``orders`` generated orders are derived from ``seed``; their createDates rise strictly
    with the index and span ``span_days`` (default 3 years) ending at ``end`` (a naive
    Pacific or aware datetime; default: the start of the current hour, Pacific, so give it
    for worlds that must match across processes and hours). Two worlds with the same
    ``orders``, ``seed``, ``end``, ``span_days`` and ``dense_seconds`` are identical, in any
    process, time zone or hour. ``dense_seconds``: ``((index, count), ...)`` or
    ``((index, count, distinct), ...)``: the ``count`` orders from ``index`` on all get
    createDates inside one wall-clock second, rising or equal with the index (see
    ``OrderStore``; e.g. ``((500_000, 620),)`` puts 620 orders, more than a page, in one
    second; ``distinct=1`` makes their createDates identical). ``refresh_seconds``: how long a
    store refresh reports "Updating orders".

    Attributes: the backends ``orders`` (``OrderStore``), ``shipments``
    (``ShipmentStore``), ``fulfillments`` (``FulfillmentStore``), ``customers``
    (``CustomerStore``), ``store_backend``, ``warehouse_backend``, ``products``,
    ``carriers``, ``accounts``, ``webhook_backend``, ``ledger``; the rules ``shipping`` and
    ``intake`` (createorder); ``changes`` and ``change_log``; ``webhook_triggers`` (what
    webhooks announce, and the batches their URLs name); and ``lock`` (the re-entrant
    lock every part of the world shares; hold it to make several changes atomic).
    """

    def __init__(
        self,
        *,
        orders: int = 1000,
        seed: int = 0,
        end: datetime | None = None,
        span_days: int = DEFAULT_SPAN_DAYS,
        refresh_seconds: float = 0.5,
        dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
    ) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.changes = ChangeFeed()
        self.change_log = ChangeLog(self.changes)
        end_ms = _end_ms(end)
        key = mix(seed & M64 ^ 0x0A11CE)
        ids = seed_ids(key)
        users, inactive_users = seed_users(ids.user_ids)
        self.orders = OrderStore(
            count=orders,
            seed=seed,
            stores=order_store_records(ids),
            warehouse_ids=ids.warehouse_ids,
            tag_ids=[t[0] for t in catalog.TAGS],
            user_ids=[u for u in ids.user_ids if u not in inactive_users],
            end_ms=end_ms,
            span_days=span_days,
            lock=self.lock,
            dense_seconds=dense_seconds,
            changes=self.changes,
        )
        start = self.orders.start_ms
        shared = Shared(self.lock, self.orders.stamp, self.changes)
        tags = seed_tags()
        self.accounts = AccountBackend(
            shared,
            key=key,
            seller_id=100_000 + mix(key + 600) % 900_000,
            tags=tags,
            users=users,
            inactive_users=inactive_users,
        )
        self.seller_id = self.accounts.seller_id
        warehouses = seed_warehouses(key, ids.warehouse_ids, start)
        self.warehouse_backend = WarehouseBackend(shared, warehouses, key)
        stores = seed_stores(key, ids.store_ids, start, end_ms)
        self.store_backend = StoreBackend(shared, stores, refresh_seconds)
        self.carriers = CarrierBackend(shared, *seed_carriers(key))
        self.products = ProductBackend(shared, seed_products(key, tags, start, end_ms))
        self._init_derived(shared, ids.store_ids, stores, warehouses, inactive_users)
        self.webhook_backend = WebhookBackend(shared, key=key, seller_id=self.seller_id)
        self.ledger = LabelLedger(self.lock)
        self.shipping = Shipping(
            shared,
            seed=seed,
            orders=self.orders,
            shipments=self.shipments,
            fulfillments=self.fulfillments,
            carriers=self.carriers,
            ledger=self.ledger,
        )
        self.webhook_triggers = WebhookTriggers(
            shared,
            seed=seed,
            orders=self.orders,
            shipments=self.shipments,
            fulfillments=self.fulfillments,
        )
        self._writes: Counter[str] = Counter()

    def _init_derived(
        self,
        shared: Shared,
        store_ids: list[int],
        stores: dict[int, JSON],
        warehouses: dict[int, JSON],
        inactive_users: set[str],
    ) -> None:
        """The customers, shipments and fulfillments derived from the orders, and intake."""
        home = [
            (
                int(stores[store_ids[s]]["marketplaceId"]),
                str(stores[store_ids[s]]["marketplaceName"]),
            )
            for s in STORE_TABLE
            if s < len(seed_tables.STORE_KINDS)
        ]
        self.customers = CustomerStore(
            self.orders,
            lock=self.lock,
            marketplaces=home,
            tags={
                str(t["name"]): (int(t["tagId"]), str(t["name"])) for t in self.accounts.list_tags()
            },
        )
        self.shipments = ShipmentStore(
            self.orders,
            lock=self.lock,
            origin_zips={
                wid: str(w["originAddress"]["postalCode"]) for wid, w in warehouses.items()
            },
            user_ids=[u for u in self.accounts.user_ids() if u not in inactive_users],
            manual_store_ids={
                sid
                for sid, s in stores.items()
                if s["marketplaceId"] == catalog.MANUAL_MARKETPLACE_ID
            },
        )
        self.fulfillments = FulfillmentStore(self.orders, lock=self.lock)
        self.intake = OrderIntake(
            shared,
            orders=self.orders,
            products=self.products,
            accounts=self.accounts,
            stores=self.store_backend,
            warehouses=self.warehouse_backend,
            customers=self.customers,
        )

    # -- the clock and ids ------------------------------------------------------------------

    def now_ms(self) -> int:
        """The world's present: Pacific wall-clock ms, never before its end."""
        return self.orders.stamp()

    def allocate_item_id(self) -> int:
        """A new orderItemId, as createorder assigns them."""
        return self.intake.allocate_item_id()

    def allocate_customs_item_id(self) -> int:
        """A new customsItemId, as createorder assigns them."""
        return self.intake.allocate_customs_item_id()

    @property
    def refresh_seconds(self) -> float:
        """How long a store refresh reports "Updating orders"."""
        return self.store_backend.refresh_seconds

    @refresh_seconds.setter
    def refresh_seconds(self, value: float) -> None:
        self.store_backend.refresh_seconds = value

    # -- read-only views ---------------------------------------------------------------------

    @property
    def stores(self) -> list[JSON]:
        """Every store (inactive ones too), with statusMappings (fresh dicts)."""
        return self.store_backend.all()

    @property
    def store_ids(self) -> list[int]:
        """The ids of the world's stores (inactive ones too)."""
        return self.store_backend.ids()

    @property
    def warehouses(self) -> list[JSON]:
        """The warehouses not deleted (fresh dicts)."""
        return self.warehouse_backend.list_warehouses()

    @property
    def tag_ids(self) -> list[int]:
        """The ids of the account's tags."""
        return self.accounts.tag_ids()

    @property
    def user_ids(self) -> list[str]:
        """The ids (GUIDs) of the account's users (inactive ones too)."""
        return self.accounts.user_ids()

    @property
    def manual_store_id(self) -> int | None:
        """The first active Manual Store's id (orders default to it), or None."""
        return self.store_backend.manual_store_id

    @property
    def default_warehouse_id(self) -> int | None:
        """The default warehouse's id, or None when there is none."""
        return self.warehouse_backend.default_id

    # -- generic inspection and seeding ------------------------------------------------------

    def get(self, resource: Resource, record_id: int | str) -> JSON | None:
        """Any record by id, inactive and deleted ones included (a fresh dict), or None.

        ``record_id`` is an int, except for users (a GUID) and carriers (a carrier code).
        """
        with self.lock:
            if resource == "carriers":
                return self.carriers.get(str(record_id))
            if resource == "users":
                return self.accounts.user_by_id(str(record_id))
            try:
                rid = int(record_id)
            except ValueError:
                return None
            if resource == "orders":
                i = self.orders.index_of(rid)
                return None if i is None else self.orders.at(i)
            readers: dict[str, Callable[[int], JSON | None]] = {
                "shipments": self.shipments.get,
                "fulfillments": self.fulfillments.get,
                "customers": self.customers.get,
                "stores": self.store_backend.get,
                "warehouses": self.warehouse_backend.get_any,
                "products": self.products.get,
                "tags": self.accounts.tag,
                "webhooks": self.webhook_backend.get,
            }
            reader = readers.get(resource)
            if reader is None:
                raise ValueError(f"unknown resource {resource!r}; one of {RESOURCES}")
            return reader(rid)

    def add(self, resource: Resource, record: Mapping[str, Any]) -> JSON:
        """Add one record of a seedable resource (``SEEDABLE``); returns it as stored."""
        adders = {
            "stores": self.add_store,
            "warehouses": self.add_warehouse,
            "products": self.add_product,
            "customers": self.add_customer,
            "orders": self.add_order,
            "tags": self.add_tag,
            "users": self.add_user,
        }
        adder = adders.get(resource)
        if adder is None:
            raise ValueError(f"cannot add {resource!r}; one of {SEEDABLE}")
        return adder(record)

    def add_store(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a store from Store JSON (``record`` and/or keyword fields, camelCase keys).

        Defaults: a new storeId, storeName "Store N", marketplace ShipStation (a Manual
        Store; give ``marketplaceId`` or ``marketplaceName`` for another), active, dates now.
        Raises ValueError for a storeId in use or an unknown marketplace.
        """
        return self.store_backend.add(merge(record, fields))

    def add_warehouse(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a warehouse from Warehouse JSON (``record`` and/or keyword fields).

        ``originAddress`` defaults to the default warehouse's; ``returnAddress`` to the
        origin; ``warehouseName`` to the origin's name. ``isDefault`` true makes it the only
        default. This is also what ``POST /warehouses/createwarehouse`` does.
        """
        return self.warehouse_backend.add(merge(record, fields))

    def add_product(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a product from Product JSON (``record`` and/or keyword fields).

        ``sku`` is required and must be new; defaults: a new productId, name = sku, active,
        dates now. Orders created afterwards with that SKU get its productId.
        """
        return self.products.add(merge(record, fields))

    def add_customer(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a customer from Customer JSON (``record`` and/or keyword fields).

        Defaults: a new customerId, dates now, countryCode US, one ShipStation marketplace
        username (the email). Orders created afterwards with that customerEmail get its
        customerId.
        """
        return self.customers.add(merge(record, fields))

    def add_tag(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a tag ``{tagId?, name, color?}``; returns it."""
        return self.accounts.add_tag(merge(record, fields))

    def add_user(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a user ``{userId?, userName, name?}`` (a GUID is assigned); returns it.

        The extra key ``active`` (default true) adds an inactive user, listed only with
        ``showInactive=true``.
        """
        return self.accounts.add_user(merge(record, fields))

    def add_order(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add (or, by orderKey, replace) an order from Order JSON; returns it as stored.

        The order is completed as createorder completes it: every documented key, item ids,
        productIds by SKU, known tagIds only, the Manual Store and default warehouse unless
        given, orderTotal computed.

        Unlike createorder it also accepts ``orderId``, ``createDate`` and ``modifyDate``, and
        updates locked (shipped, cancelled) orders. For raw control, use ``orders.put``.
        """
        return self.intake.add(merge(record, fields))

    # -- orders --------------------------------------------------------------------------------

    def resolve_product_id(self, product_id: Any, sku: Any) -> int | None:
        """The productId an order item gets (see ``ProductBackend.resolve_id``)."""
        return self.products.resolve_id(product_id, sku)

    def build_order(self, data: Mapping[str, Any], existing: JSON | None) -> JSON:
        """A complete Order from createorder's body (see ``OrderIntake.build``)."""
        return self.intake.build(data, existing)

    # -- stores --------------------------------------------------------------------------------

    def list_stores(
        self, *, show_inactive: bool = False, marketplace_id: int | None = None
    ) -> list[JSON]:
        """Stores as ``GET /stores`` lists them: no statusMappings, active only by default."""
        return self.store_backend.list_stores(
            show_inactive=show_inactive, marketplace_id=marketplace_id
        )

    def store(self, store_id: int) -> JSON | None:
        """One store with statusMappings (inactive ones too), or None."""
        return self.store_backend.get(store_id)

    def replace_store(self, store_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a store with ``data`` (see ``StoreBackend.replace``)."""
        return self.store_backend.replace(store_id, data)

    def set_store_active(self, store_id: int, active: bool) -> bool:
        """Deactivate or reactivate a store; False when it does not exist."""
        return self.store_backend.set_active(store_id, active)

    def refreshable(self, store_id: int) -> bool:
        """Whether a store can be refreshed (active, and its marketplace can refresh)."""
        return self.store_backend.refreshable(store_id)

    def refresh_stores(self, store_ids: list[int], refresh_ms: int | None) -> None:
        """Start a refresh of these stores (``refresh_ms``: the date to import from)."""
        self.store_backend.refresh(store_ids, refresh_ms)

    def refresh_status(self, store_id: int) -> JSON | None:
        """``GET /stores/getrefreshstatus``'s answer for a store, or None if unknown."""
        return self.store_backend.refresh_status(store_id)

    @staticmethod
    def marketplaces() -> list[JSON]:
        """The marketplaces ShipStation integrates with (``GET /stores/marketplaces``)."""
        return StoreBackend.marketplaces()

    # -- warehouses ----------------------------------------------------------------------------

    def list_warehouses(self) -> list[JSON]:
        """The warehouses not deleted (fresh dicts)."""
        return self.warehouse_backend.list_warehouses()

    def warehouse(self, warehouse_id: int) -> JSON | None:
        """A warehouse not deleted, or None."""
        return self.warehouse_backend.get(warehouse_id)

    def replace_warehouse(self, warehouse_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a warehouse with ``data`` (see ``WarehouseBackend.replace``)."""
        return self.warehouse_backend.replace(warehouse_id, data)

    def delete_warehouse(self, warehouse_id: int) -> bool:
        """Soft-delete a warehouse (no longer listed or fetched); False if unknown."""
        return self.warehouse_backend.delete(warehouse_id)

    # -- carriers --------------------------------------------------------------------------------

    def list_carriers(self) -> list[JSON]:
        """The connected carriers with their current balances."""
        return self.carriers.list_carriers()

    def carrier(self, code: str) -> JSON | None:
        """One carrier by code (with its balance), or None."""
        return self.carriers.get(code)

    def balance(self, code: str) -> Decimal:
        """A carrier's balance in dollars (0 for an unknown carrier)."""
        return self.carriers.balance(code)

    def add_funds(self, code: str, cents: int) -> JSON | None:
        """Add to a carrier's balance; returns the carrier, or None if unknown."""
        return self.carriers.add_funds(code, cents)

    def charge(self, code: str, cents: int) -> bool:
        """Take ``cents`` from a funded carrier's balance (see ``CarrierBackend.charge``)."""
        return self.carriers.charge(code, cents)

    # -- products --------------------------------------------------------------------------------

    def product(self, product_id: int, *, include_inactive: bool = True) -> JSON | None:
        """One product (inactive ones too unless told), or None."""
        return self.products.get(product_id, include_inactive=include_inactive)

    def query_products(self, q: ProductQuery) -> tuple[list[JSON], int]:
        """The page of products matching ``q`` and the total that match."""
        return self.products.query(q)

    def replace_product(self, product_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a product with ``data`` (see ``ProductBackend.replace``)."""
        return self.products.replace(product_id, data)

    # -- tags, users, webhooks, accounts ----------------------------------------------------------

    def list_tags(self) -> list[JSON]:
        """The account's tags ``[{tagId, name, color}]``."""
        return self.accounts.list_tags()

    def tag(self, tag_id: int) -> JSON | None:
        """One tag, or None."""
        return self.accounts.tag(tag_id)

    def list_users(self, *, show_inactive: bool = False) -> list[JSON]:
        """The account's users (active only unless told)."""
        return self.accounts.list_users(show_inactive=show_inactive)

    def user(self, user_id: str, *, include_inactive: bool = False) -> JSON | None:
        """One user by GUID (case-insensitive), or None (inactive ones unless told)."""
        return self.accounts.user(user_id, include_inactive=include_inactive)

    def subscribe(
        self, *, target_url: str, event: str, store_id: int | None, friendly_name: str | None
    ) -> int:
        """Record a webhook subscription; returns its id (later notifications reach it)."""
        return self.webhook_backend.subscribe(
            target_url=target_url, event=event, store_id=store_id, friendly_name=friendly_name
        )

    def unsubscribe(self, webhook_id: int) -> bool:
        """Remove a webhook subscription; False when it does not exist."""
        return self.webhook_backend.unsubscribe(webhook_id)

    def webhooks(self) -> list[JSON]:
        """The webhook subscriptions, in ``GET /webhooks`` item form (PascalCase keys)."""
        return self.webhook_backend.list_webhooks()

    def register_account(self) -> tuple[int, str, str]:
        """Mint a new account's (sellerId, apiKey, apiSecret); the server accepts them."""
        return self.accounts.register_account()

    # -- the label ledger and write counts ------------------------------------------------------

    def record_label(self, **fields: Any) -> LabelPurchase:
        """Append a purchase to the ledger; returns it.

        Takes the fields of :class:`LabelPurchase` except ``sequence``.
        """
        return self.ledger.record(**fields)

    def labels(self) -> list[LabelPurchase]:
        """Every label bought so far, oldest first (test labels included, flagged)."""
        return self.ledger.labels()

    def count_write(self, operation: str) -> None:
        """Count one execution of a write endpoint that took effect.

        ``operation`` is ``"METHOD /path"``, e.g. ``"POST /orders/createlabelfororder"``.
        """
        with self.lock:
            self._writes[operation] += 1

    def write_counts(self) -> dict[str, int]:
        """How many times each write endpoint took effect, by ``"METHOD /path"``.

        A request the handler refused (4xx) does not count; one whose connection a
        ``drop_after`` fault closed does (its effect happened).
        """
        with self.lock:
            return dict(self._writes)
