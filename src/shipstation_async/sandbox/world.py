"""The sandbox's data: one consistent, seeded ShipStation account.

A :class:`World` holds stores (with marketplaces and status mappings, one active Manual
Store), warehouses (one default), carriers (with services, packages and balances), products,
customers, tags, users, orders, shipments, fulfillments, webhooks and the label ledger. Every
reference resolves: an order's storeId is a store, its items' productIds are products, its
tagIds tags, its userId a user, its customerId a customer; a shipment's orderId is a shipped
order. Orders, shipments, fulfillments and customers are derived on demand from
(seed, index), so a world of 1,000,000 orders costs no more to create than one of 100
(see :mod:`.orderstore`, :mod:`.shipping`, :mod:`.customers`); everything else is small and
stored.

Seeding and inspection from Python (all thread-safe, all taking and returning ShipStation
JSON dicts): ``add_store``, ``add_warehouse``, ``add_product``, ``add_customer``,
``add_order``, ``add_tag``, ``add_user`` (or ``add(resource, record)``), ``get(resource, id)``
for any record (inactive and deleted ones included), ``labels()`` for the label ledger and
``write_counts()`` for how many times each write endpoint took effect.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

import attrs

from . import normalize
from ._time import (
    MS_PER_DAY,
    MS_PER_HOUR,
    PACIFIC,
    format_item_ts,
    format_order_ts,
    ms_to_naive,
    naive_to_ms,
    now_ms,
    parse_ts,
)
from .data import catalog as _catalog
from .data import seed_tables as _data
from .data.generated_orders import DEFAULT_SPAN_DAYS, ORDER_ID_BASE, STORE_TABLE
from .data.hashing import M64, guid, mix
from .data.order_json import ORDER_KEYS, ORDER_STATUSES
from .labels import LabelPurchase
from .rates import to_ounces
from .state.customers import CustomerStore
from .state.order_reads import OrderQuery, SortBy
from .state.orders import OrderStore
from .state.shipments import FulfillmentStore, ShipmentStore

__all__ = [
    "ORDER_ID_BASE",
    "ORDER_KEYS",
    "ORDER_STATUSES",
    "PRODUCT_KEYS",
    "STORE_KEYS",
    "UPDATABLE_STATUSES",
    "WAREHOUSE_KEYS",
    "OrderQuery",
    "OrderStore",
    "ProductQuery",
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

UPDATABLE_STATUSES: tuple[str, ...] = (
    "awaiting_payment",
    "awaiting_shipment",
    "on_hold",
    "pending_fulfillment",
)
"""Statuses in which createorder may update an order (shipped and cancelled are locked)."""

STORE_KEYS: tuple[str, ...] = (
    "storeId",
    "storeName",
    "marketplaceId",
    "marketplaceName",
    "accountName",
    "email",
    "integrationUrl",
    "active",
    "companyName",
    "phone",
    "publicEmail",
    "website",
    "refreshDate",
    "lastRefreshAttempt",
    "createDate",
    "modifyDate",
    "autoRefresh",
    "statusMappings",
)
"""The keys of a Store (reference §3); lists leave out ``statusMappings``."""

WAREHOUSE_KEYS: tuple[str, ...] = (
    "warehouseId",
    "warehouseName",
    "originAddress",
    "returnAddress",
    "createDate",
    "isDefault",
)
"""The keys of a Warehouse, as the docs' examples show them."""

PRODUCT_KEYS: tuple[str, ...] = (
    "productId",
    "sku",
    "name",
    "price",
    "defaultCost",
    "length",
    "width",
    "height",
    "weightOz",
    "internalNotes",
    "fulfillmentSku",
    "createDate",
    "modifyDate",
    "active",
    "productCategory",
    "productType",
    "warehouseLocation",
    "defaultCarrierCode",
    "defaultServiceCode",
    "defaultPackageCode",
    "defaultIntlCarrierCode",
    "defaultIntlServiceCode",
    "defaultIntlPackageCode",
    "defaultConfirmation",
    "defaultIntlConfirmation",
    "customsDescription",
    "customsValue",
    "customsTariffNo",
    "customsCountryCode",
    "noCustoms",
    "tags",
    "aliases",
)
"""The keys of a Product (reference §3)."""

CARRIER_KEYS: tuple[str, ...] = (
    "name",
    "code",
    "accountNumber",
    "requiresFundedAccount",
    "balance",
    "nickname",
    "shippingProviderId",
    "primary",
)
"""The keys of a Carrier, as the docs' examples show them."""

WEBHOOK_EVENTS: tuple[str, ...] = (
    "ORDER_NOTIFY",
    "ITEM_ORDER_NOTIFY",
    "SHIP_NOTIFY",
    "ITEM_SHIP_NOTIFY",
    "FULFILLMENT_SHIPPED",
    "FULFILLMENT_REJECTED",
)
"""The webhook events ShipStation V1 offers (reference §6)."""

REFRESH_UPDATING = (2, "Updating orders")
"""getrefreshstatus while a refresh runs (the documented example's values)."""
REFRESH_IDLE = (4, "Idle")
"""getrefreshstatus when no refresh runs (the real value set is unconfirmed: a sandbox choice)."""

ProductSortBy = Literal["SKU", "ModifyDate", "CreateDate"]


@attrs.frozen
class ProductQuery:
    """The parsed parameters of ``GET /products``.

    ``sku`` and ``name`` are case-insensitive "contains" matches; ``start``/``end`` bound
    createDate (Pacific wall-clock ms, inclusive). ``sort_by`` None is productId order.
    """

    sku: str | None = None
    name: str | None = None
    product_category_id: int | None = None
    product_type_id: int | None = None
    tag_id: int | None = None
    start: int | None = None
    end: int | None = None
    show_inactive: bool = False
    sort_by: ProductSortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100


@attrs.define
class _Refresh:
    started: float  # time.monotonic()
    attempt_ms: int
    refresh_ms: int


def _store_ts(ms: int) -> str:
    return format_item_ts(ms)


def _refresh_date(ms: int) -> str:
    d = ms_to_naive(ms)
    return f"{d.month}-{d.day}-{d.year}"


def _merge(record: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> JSON:
    out = dict(record or {})
    out.update(fields)
    return out


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
    :class:`OrderStore`; e.g. ``((500_000, 620),)`` puts 620 orders, more than a page, in one
    second; ``distinct=1`` makes their createDates identical). ``refresh_seconds``: how long a
    store refresh reports "Updating orders".

    Attributes: ``orders`` (:class:`OrderStore`), ``shipments`` (:class:`ShipmentStore`),
    ``fulfillments`` (:class:`FulfillmentStore`), ``customers`` (:class:`CustomerStore`) and
    ``lock`` (the re-entrant lock every part of the world shares; hold it to make several
    changes atomic).
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
        self.refresh_seconds = refresh_seconds
        self.lock = threading.RLock()
        if end is None:
            end_ms = now_ms() // MS_PER_HOUR * MS_PER_HOUR
        else:
            if end.tzinfo is not None:
                end = end.astimezone(PACIFIC).replace(tzinfo=None)
            end_ms = naive_to_ms(end)
        key = mix(seed & M64 ^ 0x0A11CE)
        self._key = key
        warehouse_ids = self._distinct_ids(key, 100, len(_catalog.WAREHOUSES), 20_000, 70_000)
        n_stores = len(_data.STORE_KINDS) + len(_catalog.EXTRA_STORES)
        store_ids = self._distinct_ids(key, 0, n_stores, 10_000, 90_000)
        gens: list[JSON] = [
            {
                "storeId": store_ids[k],
                "_prefix": prefix,
                "_source": source,
                "_warehouseId": warehouse_ids[k % len(warehouse_ids)],
            }
            for k, (_name, _mp, prefix, source) in enumerate(_data.STORE_KINDS)
        ]
        user_ids = [
            guid(mix(key + 200 + k) << 64 | mix(key + 300 + k)) for k in range(len(_catalog.USERS))
        ]
        self.orders = OrderStore(
            count=orders,
            seed=seed,
            stores=gens,
            warehouse_ids=warehouse_ids,
            tag_ids=[t[0] for t in _catalog.TAGS],
            user_ids=[u for u, spec in zip(user_ids, _catalog.USERS, strict=True) if spec[2]],
            end_ms=end_ms,
            span_days=span_days,
            lock=self.lock,
            dense_seconds=dense_seconds,
        )
        start = self.orders.start_ms
        self.seller_id = 100_000 + mix(key + 600) % 900_000
        self._tags: dict[int, JSON] = {
            t: {"tagId": t, "name": name, "color": color} for t, name, color in _catalog.TAGS
        }
        self._users: dict[str, JSON] = {}
        self._inactive_users: set[str] = set()
        for uid, (user_name, name, active) in zip(user_ids, _catalog.USERS, strict=True):
            self._users[uid] = {"userId": uid, "userName": user_name, "name": name}
            if not active:
                self._inactive_users.add(uid)
        self._warehouses: dict[int, JSON] = {}
        self._deleted_warehouses: set[int] = set()
        for k, (wname, aname, street, city, state, postal, phone) in enumerate(_catalog.WAREHOUSES):
            origin = {
                "name": aname,
                "company": "Sandbox Goods Co.",
                "street1": street,
                "street2": None,
                "street3": None,
                "city": city,
                "state": state,
                "postalCode": postal,
                "country": "US",
                "phone": phone,
                "residential": False,
                "addressVerified": None,
            }
            self._warehouses[warehouse_ids[k]] = {
                "warehouseId": warehouse_ids[k],
                "warehouseName": wname,
                "originAddress": origin,
                "returnAddress": {**origin, "name": wname, "residential": None},
                "createDate": format_order_ts(
                    start - (500 - 90 * k) * MS_PER_DAY + mix(key + 700 + k) % MS_PER_DAY
                ),
                "isDefault": k == 0,
            }
        self._stores: dict[int, JSON] = {}
        kinds = [(name, mp, True) for name, mp, _p, _s in _data.STORE_KINDS]
        kinds += list(_catalog.EXTRA_STORES)
        for k, (name, mp_name, active) in enumerate(kinds):
            self._stores[store_ids[k]] = self._seed_store(
                store_ids[k], name, mp_name, active, k, start, end_ms
            )
        self._carriers: dict[str, JSON] = {}
        self._balances: dict[str, int] = {}
        for n, spec in enumerate(_catalog.CARRIERS):
            h = mix(key + 800 + n)
            if spec.code == "stamps_com":
                account = f"SS{100_000 + h % 900_000}"
            elif spec.code == "ups":
                account = "".join(
                    "ABCDEFGHJKLMNPRSTUVWXY0123456789"[(h >> (5 * j)) % 32] for j in range(6)
                )
            else:
                account = str(100_000_000 + h % 900_000_000)
            self._carriers[spec.code] = {
                "name": spec.name,
                "code": spec.code,
                "accountNumber": account,
                "requiresFundedAccount": spec.requires_funded_account,
                "balance": 0,
                "nickname": None,
                "shippingProviderId": 10_000 + (h >> 32) % 90_000,
                "primary": True,
            }
            self._balances[spec.code] = (
                10_000 + (h >> 40) % 40_000 if spec.requires_funded_account else 0
            )
        self._products: dict[int, JSON] = {}
        for k, (sku, pname, oz, price, _opts, loc, pid) in enumerate(_data.PRODUCTS):
            self._products[pid] = self._seed_product(
                k, sku, pname, oz, price, loc, pid, True, start, end_ms
            )
        for k, (sku, pname, oz, price, loc, pid) in enumerate(_catalog.DISCONTINUED):
            self._products[pid] = self._seed_product(
                len(_data.PRODUCTS) + k, sku, pname, oz, price, loc, pid, False, start, end_ms
            )
        self._skus: dict[str, int] = {
            str(p["sku"]).lower(): pid for pid, p in self._products.items()
        }
        home = [
            (
                int(self._stores[store_ids[s]]["marketplaceId"]),
                str(self._stores[store_ids[s]]["marketplaceName"]),
            )
            for s in STORE_TABLE
            if s < len(_data.STORE_KINDS)
        ]
        self.customers = CustomerStore(
            self.orders,
            lock=self.lock,
            marketplaces=home,
            tags={str(t["name"]): (int(t["tagId"]), str(t["name"])) for t in self._tags.values()},
        )
        self.shipments = ShipmentStore(
            self.orders,
            lock=self.lock,
            origin_zips={
                wid: str(w["originAddress"]["postalCode"]) for wid, w in self._warehouses.items()
            },
            user_ids=[u for u in user_ids if u not in self._inactive_users],
            manual_store_ids={
                sid
                for sid, s in self._stores.items()
                if s["marketplaceId"] == _catalog.MANUAL_MARKETPLACE_ID
            },
        )
        self.fulfillments = FulfillmentStore(self.orders, lock=self.lock)
        self._webhooks: dict[int, JSON] = {}
        self._next_webhook = 100_000 + mix(key + 900) % 100_000
        self._labels: list[LabelPurchase] = []
        self._writes: Counter[str] = Counter()
        self._refreshes: dict[int, _Refresh] = {}
        self._next_item_id = 400_000_000
        self._next_customs_id = 20_000_000
        self._next_small_id = 1_000_000
        self._accounts = 0

    # -- seeding helpers -------------------------------------------------------------------

    @staticmethod
    def _distinct_ids(key: int, offset: int, n: int, base: int, spread: int) -> list[int]:
        out: list[int] = []
        for k in range(n):
            value = base + mix(key + offset + k) % spread
            while value in out:
                value += 1
            out.append(value)
        return out

    def _seed_store(
        self,
        store_id: int,
        name: str,
        marketplace_name: str,
        active: bool,
        k: int,
        start: int,
        end: int,
    ) -> JSON:
        mp = _catalog.MARKETPLACE_BY_NAME[marketplace_name]
        h = mix(self._key + 1_000 + k)
        create = start - (400 - 7 * k) * MS_PER_DAY + h % MS_PER_DAY
        modify = create + (h >> 24) % max(1, end - create)
        manual = mp[0] == _catalog.MANUAL_MARKETPLACE_ID
        refreshed = None if manual else _store_ts(end - (h >> 40) % (6 * MS_PER_HOUR))
        slug = name.lower().replace(" ", "-")
        mappings = _catalog.STATUS_KEYS.get(marketplace_name)
        return {
            "storeId": store_id,
            "storeName": name,
            "marketplaceId": mp[0],
            "marketplaceName": mp[1],
            "accountName": None if manual else f"{slug}-seller",
            "email": None if manual else f"{slug}@sandbox-goods.example.com",
            "integrationUrl": None if manual else f"https://{slug}.example.com",
            "active": active,
            "companyName": "Sandbox Goods Co.",
            "phone": "512-555-0100",
            "publicEmail": "support@sandbox-goods.example.com",
            "website": "https://www.sandbox-goods.example.com",
            "refreshDate": refreshed,
            "lastRefreshAttempt": refreshed,
            "createDate": _store_ts(create),
            "modifyDate": _store_ts(modify),
            "autoRefresh": bool(mp[2]) and active,
            "statusMappings": (
                None
                if mappings is None
                else [{"orderStatus": s, "statusKey": key} for s, key in mappings]
            ),
        }

    def _seed_product(
        self,
        k: int,
        sku: str,
        name: str,
        oz: int,
        price: int,
        location: str | None,
        product_id: int,
        active: bool,
        start: int,
        end: int,
    ) -> JSON:
        h = mix(self._key + 2_000 + product_id)
        create = start - (200 - k) * MS_PER_DAY + h % MS_PER_DAY
        modify = create if h % 3 else create + (h >> 24) % max(1, end - create)
        prefix = sku.split("-", 1)[0]
        category = _catalog.CATEGORIES.get(prefix, _catalog.DEFAULT_CATEGORY)
        kind = _catalog.PRODUCT_TYPES[1 if oz >= 32 else 0]
        tags: list[JSON] = []
        if prefix in ("MUG", "CDL", "PLN", "LMP"):
            tags.append(self._tag_ref(8336))
        if (h >> 50) % 6 == 0:
            tags.append(self._tag_ref(8362))
        return {
            "productId": product_id,
            "sku": sku,
            "name": name,
            "price": normalize.money(price),
            "defaultCost": normalize.money(price * 45 // 100),
            "length": 4 + (h >> 8) % 12,
            "width": 3 + (h >> 16) % 9,
            "height": 1 + (h >> 20) % 6,
            "weightOz": oz,
            "internalNotes": None,
            "fulfillmentSku": None,
            "createDate": _store_ts(create),
            "modifyDate": _store_ts(modify),
            "active": active,
            "productCategory": {"categoryId": category[0], "name": category[1]},
            "productType": (
                {"productTypeId": kind[0], "name": kind[1]} if (h >> 30) % 10 < 7 else None
            ),
            "warehouseLocation": location,
            "defaultCarrierCode": None,
            "defaultServiceCode": None,
            "defaultPackageCode": None,
            "defaultIntlCarrierCode": None,
            "defaultIntlServiceCode": None,
            "defaultIntlPackageCode": None,
            "defaultConfirmation": None,
            "defaultIntlConfirmation": None,
            "customsDescription": name,
            "customsValue": normalize.money(price),
            "customsTariffNo": None,
            "customsCountryCode": "US",
            "noCustoms": False,
            "tags": tags or None,
            "aliases": None,
        }

    def _tag_ref(self, tag_id: int) -> JSON:
        t = self._tags[tag_id]
        return {"tagId": t["tagId"], "name": t["name"]}

    def _now(self) -> int:
        """Now as Pacific wall-clock ms, never before the world's end nor an earlier now."""
        return self.orders.stamp()

    def allocate_item_id(self) -> int:
        """A new orderItemId, as createorder assigns them."""
        with self.lock:
            self._next_item_id += 1
            return self._next_item_id

    def allocate_customs_item_id(self) -> int:
        """A new customsItemId, as createorder assigns them."""
        with self.lock:
            value = self._next_customs_id
            self._next_customs_id += 1
            return value

    def _small_id(self) -> int:
        self._next_small_id += 1 + mix(self._key + self._next_small_id) % 7
        return self._next_small_id

    # -- read-only views ---------------------------------------------------------------------

    @property
    def stores(self) -> list[JSON]:
        """Every store (inactive ones too), with statusMappings (fresh dicts)."""
        with self.lock:
            return [copy.deepcopy(s) for s in self._stores.values()]

    @property
    def store_ids(self) -> list[int]:
        """The ids of the world's stores (inactive ones too)."""
        with self.lock:
            return list(self._stores)

    @property
    def warehouses(self) -> list[JSON]:
        """The warehouses not deleted (fresh dicts)."""
        return self.list_warehouses()

    @property
    def tag_ids(self) -> list[int]:
        """The ids of the account's tags."""
        with self.lock:
            return list(self._tags)

    @property
    def user_ids(self) -> list[str]:
        """The ids (GUIDs) of the account's users (inactive ones too)."""
        with self.lock:
            return list(self._users)

    @property
    def manual_store_id(self) -> int | None:
        """The first active Manual Store's id (orders default to it), or None."""
        with self.lock:
            for s in self._stores.values():
                if s["active"] and s["marketplaceId"] == _catalog.MANUAL_MARKETPLACE_ID:
                    return int(s["storeId"])
            return None

    @property
    def default_warehouse_id(self) -> int | None:
        """The default warehouse's id, or None when there is none."""
        with self.lock:
            for wid, w in self._warehouses.items():
                if w["isDefault"] and wid not in self._deleted_warehouses:
                    return wid
            return None

    # -- generic inspection and seeding ------------------------------------------------------

    def get(self, resource: Resource, record_id: int | str) -> JSON | None:
        """Any record by id, inactive and deleted ones included (a fresh dict), or None.

        ``record_id`` is an int, except for users (a GUID) and carriers (a carrier code).
        """
        with self.lock:
            if resource == "carriers":
                return self.carrier(str(record_id))
            if resource == "users":
                user = self._users.get(str(record_id))
                return None if user is None else copy.deepcopy(user)
            try:
                rid = int(record_id)
            except ValueError:
                return None
            if resource == "orders":
                i = self.orders.index_of(rid)
                return None if i is None else self.orders.at(i)
            if resource == "shipments":
                return self.shipments.get(rid)
            if resource == "fulfillments":
                return self.fulfillments.get(rid)
            if resource == "customers":
                return self.customers.get(rid)
            table: dict[int, JSON] | None = {
                "stores": self._stores,
                "warehouses": self._warehouses,
                "products": self._products,
                "tags": self._tags,
                "webhooks": self._webhooks,
            }.get(resource)
            if table is None:
                raise ValueError(f"unknown resource {resource!r}; one of {RESOURCES}")
            record = table.get(rid)
            return None if record is None else copy.deepcopy(record)

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
        data = _merge(record, fields)
        with self.lock:
            out = normalize.pick(data, STORE_KEYS)
            if out["storeId"] is None:
                out["storeId"] = max(self._stores, default=10_000) + 1 + len(self._stores)
            store_id = int(out["storeId"])
            if store_id in self._stores:
                raise ValueError(f"storeId {store_id} already exists")
            mp = None
            if out["marketplaceId"] is not None:
                mp = _catalog.MARKETPLACE_BY_ID.get(int(out["marketplaceId"]))
            elif out["marketplaceName"] is not None:
                mp = _catalog.MARKETPLACE_BY_NAME.get(str(out["marketplaceName"]))
            else:
                mp = _catalog.MARKETPLACE_BY_ID[_catalog.MANUAL_MARKETPLACE_ID]
            if mp is None:
                raise ValueError("unknown marketplace: see GET /stores/marketplaces")
            out["marketplaceId"], out["marketplaceName"] = mp[0], mp[1]
            out["storeName"] = out["storeName"] or f"Store {store_id}"
            out["active"] = True if out["active"] is None else bool(out["active"])
            out["autoRefresh"] = bool(out["autoRefresh"])
            now = _store_ts(self._now())
            out["createDate"] = out["createDate"] or now
            out["modifyDate"] = out["modifyDate"] or now
            self._stores[store_id] = out
            return copy.deepcopy(out)

    def add_warehouse(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a warehouse from Warehouse JSON (``record`` and/or keyword fields).

        ``originAddress`` defaults to the default warehouse's; ``returnAddress`` to the
        origin; ``warehouseName`` to the origin's name. ``isDefault`` true makes it the only
        default. This is also what ``POST /warehouses/createwarehouse`` does.
        """
        data = _merge(record, fields)
        with self.lock:
            out = normalize.pick(data, WAREHOUSE_KEYS)
            if out["warehouseId"] is None:
                out["warehouseId"] = (
                    max(self._warehouses, default=20_000) + 1 + self._small_id() % 97
                )
            wid = int(out["warehouseId"])
            if wid in self._warehouses:
                raise ValueError(f"warehouseId {wid} already exists")
            origin_src = out["originAddress"]
            if origin_src is None:
                default = self.default_warehouse_id
                origin_src = self._warehouses[default]["originAddress"] if default else {}
            origin = normalize.address(origin_src)
            out["originAddress"] = origin
            ret = out["returnAddress"]
            out["returnAddress"] = normalize.address(ret) if ret is not None else dict(origin)
            out["warehouseName"] = out["warehouseName"] or origin["name"]
            out["createDate"] = out["createDate"] or format_order_ts(self._now())
            out["isDefault"] = bool(out["isDefault"])
            if out["isDefault"]:
                for w in self._warehouses.values():
                    w["isDefault"] = False
            self._warehouses[wid] = out
            return copy.deepcopy(out)

    def add_product(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a product from Product JSON (``record`` and/or keyword fields).

        ``sku`` is required and must be new; defaults: a new productId, name = sku, active,
        dates now. Orders created afterwards with that SKU get its productId.
        """
        data = _merge(record, fields)
        with self.lock:
            out = normalize.pick(data, PRODUCT_KEYS)
            if not out["sku"]:
                raise ValueError("a product needs a sku")
            if str(out["sku"]).lower() in self._skus:
                raise ValueError(f"sku {out['sku']!r} already exists")
            if out["productId"] is None:
                out["productId"] = max(self._products, default=7_000_000) + 1
            pid = int(out["productId"])
            if pid in self._products:
                raise ValueError(f"productId {pid} already exists")
            out["name"] = out["name"] or out["sku"]
            out["active"] = True if out["active"] is None else bool(out["active"])
            now = _store_ts(self._now())
            out["createDate"] = out["createDate"] or now
            out["modifyDate"] = out["modifyDate"] or now
            self._products[pid] = out
            self._skus[str(out["sku"]).lower()] = pid
            return copy.deepcopy(out)

    def add_customer(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a customer from Customer JSON (``record`` and/or keyword fields).

        Defaults: a new customerId, dates now, countryCode US, one ShipStation marketplace
        username (the email). Orders created afterwards with that customerEmail get its
        customerId.
        """
        return self.customers.add(_merge(record, fields))

    def add_tag(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a tag ``{tagId?, name, color?}``; returns it."""
        data = _merge(record, fields)
        with self.lock:
            out = normalize.pick(data, ("tagId", "name", "color"))
            if not out["name"]:
                raise ValueError("a tag needs a name")
            if out["tagId"] is None:
                out["tagId"] = max(self._tags, default=8000) + 1
            tid = int(out["tagId"])
            if tid in self._tags:
                raise ValueError(f"tagId {tid} already exists")
            out["color"] = out["color"] or "#808080"
            self._tags[tid] = out
            return copy.deepcopy(out)

    def add_user(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add a user ``{userId?, userName, name?}`` (a GUID is assigned); returns it.

        The extra key ``active`` (default true) adds an inactive user, listed only with
        ``showInactive=true``.
        """
        data = _merge(record, fields)
        with self.lock:
            out = normalize.pick(data, ("userId", "userName", "name"))
            if not out["userName"]:
                raise ValueError("a user needs a userName")
            if out["userId"] is None:
                n = len(self._users)
                out["userId"] = guid(mix(self._key + 5_000 + n) << 64 | mix(self._key + n))
            uid = str(out["userId"])
            if uid in self._users:
                raise ValueError(f"userId {uid} already exists")
            out["name"] = out["name"] or out["userName"]
            self._users[uid] = out
            if normalize.ci(data, "active", True) is False:
                self._inactive_users.add(uid)
            return copy.deepcopy(out)

    def add_order(self, record: Mapping[str, Any] | None = None, /, **fields: Any) -> JSON:
        """Add (or, by orderKey, replace) an order from Order JSON; returns it as stored.

        The order is completed as createorder completes it: every documented key, item ids,
        productIds by SKU, known tagIds only, the Manual Store and default warehouse unless
        given, orderTotal computed.

        Unlike createorder it also accepts ``orderId``, ``createDate`` and ``modifyDate``, and
        updates locked (shipped, cancelled) orders. For raw control, use ``orders.put``.
        """
        data = _merge(record, fields)
        with self.lock:
            existing = None
            key = normalize.ci(data, "orderKey")
            if key is not None:
                existing = self.orders.find_by_key(str(key))
            order = self.build_order(data, existing)
            for field in ("orderId", "createDate", "modifyDate"):
                value = normalize.ci(data, field)
                if value is not None and existing is None:
                    order[field] = value if field == "orderId" else normalize.order_ts(value)
            if existing is None and normalize.ci(data, "orderId") is None:
                order.pop("orderId", None)
            return self.orders.put(order)

    # -- orders --------------------------------------------------------------------------------

    def resolve_product_id(self, product_id: Any, sku: Any) -> int | None:
        """The productId an order item gets.

        The given one when it exists, else the product with this SKU, else None (ShipStation
        drops unknown productIds).
        """
        with self.lock:
            if product_id is not None:
                try:
                    pid = int(product_id)
                except (TypeError, ValueError):
                    pid = -1
                if pid in self._products:
                    return pid
            if sku:
                return self._skus.get(str(sku).lower())
            return None

    def build_order(self, data: Mapping[str, Any], existing: JSON | None) -> JSON:
        """A complete Order from createorder's body (``existing``: the order it updates).

        An update keeps orderId, orderKey, createDate, advancedOptions.storeId and
        customerId, and each item's orderItemId where its lineItemKey (else SKU) matches.
        """
        ci = normalize.ci
        with self.lock:
            now = self._now()
            order: JSON = dict.fromkeys(ORDER_KEYS)
            order["orderNumber"] = ci(data, "orderNumber")
            order["orderKey"] = ci(data, "orderKey")
            for field in ("orderDate", "paymentDate", "shipByDate"):
                order[field] = normalize.order_ts(ci(data, field))
            order["orderStatus"] = str(ci(data, "orderStatus") or "awaiting_shipment").lower()
            order["customerUsername"] = ci(data, "customerUsername")
            order["customerEmail"] = ci(data, "customerEmail")
            bill = ci(data, "billTo")
            order["billTo"] = normalize.address(bill if isinstance(bill, Mapping) else None)
            ship = ci(data, "shipTo")
            ship_to = normalize.address(ship if isinstance(ship, Mapping) else None)
            ship_to["addressVerified"] = normalize.verify(ship_to)
            order["shipTo"] = ship_to
            old_items: dict[str, int] = {}
            if existing is not None:
                for it in existing.get("items") or ():
                    ident = it.get("lineItemKey") or f"sku:{it.get('sku')}"
                    old_items.setdefault(str(ident), int(it["orderItemId"]))
            items: list[JSON] = []
            subtotal = 0
            ounces = 0.0
            raw_items = ci(data, "items")
            for raw in raw_items if isinstance(raw_items, list) else []:
                if not isinstance(raw, Mapping):
                    continue
                ident = ci(raw, "lineItemKey") or f"sku:{ci(raw, 'sku')}"
                item_id = old_items.pop(str(ident), None)
                if item_id is None:
                    self._next_item_id += 1
                    item_id = self._next_item_id
                entry = normalize.item(
                    raw,
                    item_id=item_id,
                    now_ms=now,
                    product_id=self.resolve_product_id(ci(raw, "productId"), ci(raw, "sku")),
                )
                qty = int(entry["quantity"] or 0)
                subtotal += normalize.cents(entry["unitPrice"]) * qty
                w = entry["weight"]
                with contextlib.suppress(ValueError):
                    ounces += to_ounces(float(w["value"] or 0), str(w["units"])) * qty
                items.append(entry)
            order["items"] = items
            tax = normalize.cents(ci(data, "taxAmount"))
            shipping = normalize.cents(ci(data, "shippingAmount"))
            order["orderTotal"] = normalize.money(subtotal + tax + shipping)
            order["amountPaid"] = ci(data, "amountPaid", 0) or 0
            order["taxAmount"] = ci(data, "taxAmount", 0) or 0
            order["shippingAmount"] = ci(data, "shippingAmount", 0) or 0
            for field in (
                "customerNotes",
                "internalNotes",
                "giftMessage",
                "paymentMethod",
                "requestedShippingService",
                "carrierCode",
                "serviceCode",
                "packageCode",
                "externallyFulfilledBy",
                "externallyFulfilledById",
                "externallyFulfilledByName",
            ):
                order[field] = ci(data, field)
            order["gift"] = bool(ci(data, "gift", False))
            order["confirmation"] = ci(data, "confirmation") or "none"
            order["shipDate"] = normalize.plain_date(ci(data, "shipDate"))
            order["holdUntilDate"] = normalize.plain_date(ci(data, "holdUntilDate"))
            order["weight"] = normalize.weight(ci(data, "weight")) or {
                "value": round(ounces, 2),
                "units": "ounces",
            }
            order["dimensions"] = normalize.dimensions(ci(data, "dimensions"))
            order["insuranceOptions"] = normalize.insurance(ci(data, "insuranceOptions"))
            counter = [self._next_customs_id]
            order["internationalOptions"] = normalize.international(
                ci(data, "internationalOptions"), counter
            )
            self._next_customs_id = counter[0]
            adv = ci(data, "advancedOptions")
            adv = adv if isinstance(adv, Mapping) else {}
            if existing is not None:
                store_id = (existing.get("advancedOptions") or {}).get("storeId")
            else:
                given = ci(adv, "storeId")
                store_id = int(given) if given is not None else self.manual_store_id
            wid = ci(adv, "warehouseId")
            warehouse_id = int(wid) if wid is not None else self.default_warehouse_id
            order["advancedOptions"] = normalize.advanced(
                adv, store_id=store_id, warehouse_id=warehouse_id
            )
            tags = ci(data, "tagIds")
            known = [int(t) for t in tags or () if isinstance(t, int) and t in self._tags]
            order["tagIds"] = sorted(set(known)) or None
            user = ci(data, "userId")
            order["userId"] = user if user in self._users else None
            order["externallyFulfilled"] = bool(ci(data, "externallyFulfilled", False))
            if existing is not None:
                for field in ("orderId", "orderKey", "createDate", "customerId"):
                    order[field] = existing[field]
            else:
                email = order["customerEmail"]
                found = self.customers.find_by_email(str(email)) if email else None
                order["customerId"] = None if found is None else found["customerId"]
                order["createDate"] = format_order_ts(now)
            order["modifyDate"] = format_order_ts(now)
            order["orderDate"] = order["orderDate"] or order["createDate"]
            return order

    # -- stores --------------------------------------------------------------------------------

    def list_stores(
        self, *, show_inactive: bool = False, marketplace_id: int | None = None
    ) -> list[JSON]:
        """Stores as ``GET /stores`` lists them: no statusMappings, active only by default."""
        with self.lock:
            out = []
            for s in self._stores.values():
                if not show_inactive and not s["active"]:
                    continue
                if marketplace_id is not None and s["marketplaceId"] != marketplace_id:
                    continue
                record = copy.deepcopy(s)
                record.pop("statusMappings", None)
                out.append(record)
            return out

    def store(self, store_id: int) -> JSON | None:
        """One store with statusMappings (inactive ones too), or None."""
        return self.get("stores", store_id)

    def replace_store(self, store_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a store with ``data``; returns it, or None when it does not exist.

        As PUT does: absent fields become null, absent booleans false; storeId, marketplace,
        createDate and refresh dates are kept.
        """
        with self.lock:
            current = self._stores.get(store_id)
            if current is None:
                return None
            out = normalize.pick(data, STORE_KEYS)
            for field in (
                "storeId",
                "marketplaceId",
                "marketplaceName",
                "createDate",
                "refreshDate",
                "lastRefreshAttempt",
            ):
                out[field] = current[field]
            out["active"] = bool(out["active"])
            out["autoRefresh"] = bool(out["autoRefresh"])
            mappings = out["statusMappings"]
            out["statusMappings"] = (
                [normalize.pick(m, ("orderStatus", "statusKey")) for m in mappings]
                if isinstance(mappings, list)
                else None
            )
            out["modifyDate"] = _store_ts(self._now())
            self._stores[store_id] = out
            return copy.deepcopy(out)

    def set_store_active(self, store_id: int, active: bool) -> bool:
        """Deactivate or reactivate a store; False when it does not exist."""
        with self.lock:
            s = self._stores.get(store_id)
            if s is None:
                return False
            if s["active"] != active:
                s["active"] = active
                s["modifyDate"] = _store_ts(self._now())
            return True

    def refreshable(self, store_id: int) -> bool:
        """Whether a store can be refreshed (active, and its marketplace can refresh)."""
        with self.lock:
            s = self._stores.get(store_id)
            if s is None or not s["active"]:
                return False
            mp = _catalog.MARKETPLACE_BY_ID.get(int(s["marketplaceId"]))
            return bool(mp and mp[2])

    def refresh_stores(self, store_ids: list[int], refresh_ms: int | None) -> None:
        """Start a refresh of these stores (``refresh_ms``: the date to import from)."""
        with self.lock:
            now = self._now()
            for sid in store_ids:
                s = self._stores[sid]
                since = refresh_ms if refresh_ms is not None else now
                self._refreshes[sid] = _Refresh(time.monotonic(), now, since)
                s["lastRefreshAttempt"] = _store_ts(now)
                s["refreshDate"] = _store_ts(since)

    def refresh_status(self, store_id: int) -> JSON | None:
        """``GET /stores/getrefreshstatus``'s answer for a store, or None if unknown.

        "Updating orders" for ``refresh_seconds`` after a refresh starts, "Idle" otherwise.
        """
        with self.lock:
            s = self._stores.get(store_id)
            if s is None:
                return None
            r = self._refreshes.get(store_id)
            attempt: str | None = None
            since: str | None = None
            if r is not None:
                running = time.monotonic() - r.started < self.refresh_seconds
                sid, text = REFRESH_UPDATING if running else REFRESH_IDLE
                attempt = _refresh_date(r.attempt_ms)
                since = _refresh_date(r.refresh_ms)
            else:
                sid, text = REFRESH_IDLE
                if s["lastRefreshAttempt"]:
                    attempt = _refresh_date(parse_ts(str(s["lastRefreshAttempt"])))
                if s["refreshDate"]:
                    since = _refresh_date(parse_ts(str(s["refreshDate"])))
            return {
                "storeId": store_id,
                "refreshStatusId": sid,
                "refreshStatus": text,
                "lastRefreshAttempt": attempt,
                "refreshDate": since,
            }

    @staticmethod
    def marketplaces() -> list[JSON]:
        """The marketplaces ShipStation integrates with (``GET /stores/marketplaces``)."""
        return [
            {
                "name": name,
                "marketplaceId": mid,
                "canRefresh": refresh,
                "supportsCustomMappings": mappings,
                "supportsCustomStatuses": statuses,
                "canConfirmShipments": confirms,
            }
            for mid, name, refresh, mappings, statuses, confirms in _catalog.MARKETPLACES
        ]

    def has_active_manual_store(self) -> bool:
        """Whether an active Manual Store exists (createlabel requires one)."""
        return self.manual_store_id is not None

    # -- warehouses ----------------------------------------------------------------------------

    def list_warehouses(self) -> list[JSON]:
        """The warehouses not deleted (fresh dicts)."""
        with self.lock:
            return [
                copy.deepcopy(w)
                for wid, w in self._warehouses.items()
                if wid not in self._deleted_warehouses
            ]

    def warehouse(self, warehouse_id: int) -> JSON | None:
        """A warehouse not deleted, or None."""
        with self.lock:
            if warehouse_id in self._deleted_warehouses:
                return None
            return self.get("warehouses", warehouse_id)

    def replace_warehouse(self, warehouse_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a warehouse with ``data``; returns it, or None if unknown or deleted.

        As PUT does: absent fields become null, absent isDefault false; warehouseId and
        createDate are kept.
        """
        with self.lock:
            if self.warehouse(warehouse_id) is None:
                return None
            current = self._warehouses[warehouse_id]
            out = normalize.pick(data, WAREHOUSE_KEYS)
            out["warehouseId"] = warehouse_id
            out["createDate"] = current["createDate"]
            for field in ("originAddress", "returnAddress"):
                value = out[field]
                out[field] = (
                    normalize.pick(value, normalize.ADDRESS_KEYS)
                    if isinstance(value, Mapping)
                    else None
                )
            out["isDefault"] = bool(out["isDefault"])
            if out["isDefault"]:
                for w in self._warehouses.values():
                    w["isDefault"] = False
            self._warehouses[warehouse_id] = out
            return copy.deepcopy(out)

    def delete_warehouse(self, warehouse_id: int) -> bool:
        """Soft-delete a warehouse (no longer listed or fetched); False if unknown."""
        with self.lock:
            if self.warehouse(warehouse_id) is None:
                return False
            self._deleted_warehouses.add(warehouse_id)
            return True

    # -- carriers --------------------------------------------------------------------------------

    def list_carriers(self) -> list[JSON]:
        """The connected carriers with their current balances."""
        with self.lock:
            return [self._carrier_json(code) for code in self._carriers]

    def _carrier_json(self, code: str) -> JSON:
        out = copy.deepcopy(self._carriers[code])
        out["balance"] = normalize.money(self._balances[code])
        return out

    def carrier(self, code: str) -> JSON | None:
        """One carrier by code (with its balance), or None."""
        with self.lock:
            return self._carrier_json(code) if code in self._carriers else None

    def balance(self, code: str) -> Decimal:
        """A carrier's balance in dollars (0 for an unknown carrier)."""
        with self.lock:
            return Decimal(self._balances.get(code, 0)) / 100

    def add_funds(self, code: str, cents: int) -> JSON | None:
        """Add to a carrier's balance; returns the carrier, or None if unknown."""
        with self.lock:
            if code not in self._carriers:
                return None
            self._balances[code] += cents
            return self._carrier_json(code)

    def charge(self, code: str, cents: int) -> bool:
        """Take ``cents`` from a funded carrier's balance; False when it is too low.

        Carriers that need no funded account are billed elsewhere: always True.
        """
        with self.lock:
            if not self._carriers[code]["requiresFundedAccount"]:
                return True
            if self._balances[code] < cents:
                return False
            self._balances[code] -= cents
            return True

    # -- products --------------------------------------------------------------------------------

    def product(self, product_id: int, *, include_inactive: bool = True) -> JSON | None:
        """One product (inactive ones too unless told), or None."""
        with self.lock:
            p = self._products.get(product_id)
            if p is None or (not include_inactive and not p["active"]):
                return None
            return copy.deepcopy(p)

    def query_products(self, q: ProductQuery) -> tuple[list[JSON], int]:
        """The page of products matching ``q`` and the total that match."""
        with self.lock:
            rows = []
            for p in self._products.values():
                if not q.show_inactive and not p["active"]:
                    continue
                if q.sku is not None and q.sku.lower() not in str(p["sku"] or "").lower():
                    continue
                if q.name is not None and q.name.lower() not in str(p["name"] or "").lower():
                    continue
                if q.product_category_id is not None and (
                    (p["productCategory"] or {}).get("categoryId") != q.product_category_id
                ):
                    continue
                if q.product_type_id is not None and (
                    (p["productType"] or {}).get("productTypeId") != q.product_type_id
                ):
                    continue
                if q.tag_id is not None and not any(
                    t.get("tagId") == q.tag_id for t in p["tags"] or ()
                ):
                    continue
                if q.start is not None or q.end is not None:
                    created = parse_ts(str(p["createDate"]))
                    if (q.start is not None and created < q.start) or (
                        q.end is not None and created > q.end
                    ):
                        continue
                rows.append(copy.deepcopy(p))
        if q.sort_by == "SKU":
            rows.sort(key=lambda p: (str(p["sku"]).lower(), p["productId"]))
        elif q.sort_by == "ModifyDate":
            rows.sort(key=lambda p: (parse_ts(str(p["modifyDate"])), p["productId"]))
        elif q.sort_by == "CreateDate":
            rows.sort(key=lambda p: (parse_ts(str(p["createDate"])), p["productId"]))
        else:
            rows.sort(key=lambda p: int(p["productId"]))
        if q.sort_desc:
            rows.reverse()
        first = (q.page - 1) * q.page_size
        return rows[first : first + q.page_size], len(rows)

    def replace_product(self, product_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a product with ``data``; returns it, or None when it does not exist.

        As PUT does: absent fields become null, absent ``active`` false; productId and
        createDate are kept.
        """
        with self.lock:
            current = self._products.get(product_id)
            if current is None:
                return None
            out = normalize.pick(data, PRODUCT_KEYS)
            out["productId"] = product_id
            out["createDate"] = current["createDate"]
            out["modifyDate"] = _store_ts(self._now())
            out["active"] = bool(out["active"])
            self._skus.pop(str(current["sku"]).lower(), None)
            if out["sku"]:
                self._skus[str(out["sku"]).lower()] = product_id
            self._products[product_id] = out
            return copy.deepcopy(out)

    # -- tags, users, webhooks ------------------------------------------------------------------

    def list_tags(self) -> list[JSON]:
        """The account's tags ``[{tagId, name, color}]``."""
        with self.lock:
            return [copy.deepcopy(t) for t in self._tags.values()]

    def tag(self, tag_id: int) -> JSON | None:
        """One tag, or None."""
        return self.get("tags", tag_id)

    def list_users(self, *, show_inactive: bool = False) -> list[JSON]:
        """The account's users (active only unless told)."""
        with self.lock:
            return [
                copy.deepcopy(u)
                for uid, u in self._users.items()
                if show_inactive or uid not in self._inactive_users
            ]

    def user(self, user_id: str, *, include_inactive: bool = False) -> JSON | None:
        """One user by GUID (case-insensitive), or None (inactive ones unless told)."""
        with self.lock:
            for uid, u in self._users.items():
                if uid.lower() == user_id.strip().lower():
                    if uid in self._inactive_users and not include_inactive:
                        return None
                    return copy.deepcopy(u)
            return None

    def subscribe(
        self, *, target_url: str, event: str, store_id: int | None, friendly_name: str | None
    ) -> int:
        """Record a webhook subscription; returns its id (nothing is delivered yet)."""
        with self.lock:
            self._next_webhook += 1 + mix(self._key + self._next_webhook) % 13
            hook_id = self._next_webhook
            self._webhooks[hook_id] = {
                "IsLabelAPIHook": False,
                "WebHookID": hook_id,
                "SellerID": self.seller_id,
                "StoreID": store_id,
                "HookType": event,
                "MessageFormat": "Json",
                "Url": target_url,
                "Name": friendly_name,
                "BulkCopyBatchID": None,
                "BulkCopyRecordID": None,
                "Active": True,
                "WebhookLogs": [],
                "Seller": None,
                "Store": None,
            }
            return hook_id

    def unsubscribe(self, webhook_id: int) -> bool:
        """Remove a webhook subscription; False when it does not exist."""
        with self.lock:
            return self._webhooks.pop(webhook_id, None) is not None

    def webhooks(self) -> list[JSON]:
        """The webhook subscriptions, in ``GET /webhooks`` item form (PascalCase keys)."""
        with self.lock:
            return [copy.deepcopy(w) for w in self._webhooks.values()]

    def register_account(self) -> tuple[int, str, str]:
        """Mint a new account's (sellerId, apiKey, apiSecret); the server accepts them."""
        with self.lock:
            self._accounts += 1
            n = self._accounts
            seller = self.seller_id + n
            api_key = f"{mix(self._key + 7_000 + n):016x}{mix(self._key + 7_500 + n):016x}"
            api_secret = f"{mix(self._key + 8_000 + n):016x}{mix(self._key + 8_500 + n):016x}"
            return seller, api_key, api_secret

    # -- the label ledger and write counts ------------------------------------------------------

    def record_label(self, **fields: Any) -> LabelPurchase:
        """Append a purchase to the ledger; returns it.

        Takes the fields of :class:`LabelPurchase` except ``sequence``.
        """
        with self.lock:
            purchase = LabelPurchase(sequence=len(self._labels) + 1, **fields)
            self._labels.append(purchase)
            return purchase

    def labels(self) -> list[LabelPurchase]:
        """Every label bought so far, oldest first (test labels included, flagged)."""
        with self.lock:
            return list(self._labels)

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

    def now_ms(self) -> int:
        """The world's present: Pacific wall-clock ms, never before its end."""
        return self._now()
