"""The small, stored part of a generated account.

Stores, warehouses, carriers, products, tags and users, each a pure function of the world's
key, so the same in every process.
"""

from __future__ import annotations

from typing import Any

import attrs

from .. import normalize
from .._time import MS_PER_DAY, MS_PER_HOUR, format_item_ts, format_order_ts
from . import catalog
from . import seed_tables as tables
from .hashing import guid, mix

JSON = dict[str, Any]


@attrs.frozen
class SeedIds:
    """The ids the stored records and the generated orders share."""

    warehouse_ids: list[int]
    store_ids: list[int]
    user_ids: list[str]


def distinct_ids(key: int, offset: int, n: int, base: int, spread: int) -> list[int]:
    """``n`` distinct ids in ``base .. base + spread`` (about), hashed from ``key``."""
    out: list[int] = []
    for k in range(n):
        value = base + mix(key + offset + k) % spread
        while value in out:
            value += 1
        out.append(value)
    return out


def seed_ids(key: int) -> SeedIds:
    """The warehouse, store and user ids of the world with ``key``."""
    n_stores = len(tables.STORE_KINDS) + len(catalog.EXTRA_STORES)
    return SeedIds(
        warehouse_ids=distinct_ids(key, 100, len(catalog.WAREHOUSES), 20_000, 70_000),
        store_ids=distinct_ids(key, 0, n_stores, 10_000, 90_000),
        user_ids=[
            guid(mix(key + 200 + k) << 64 | mix(key + 300 + k)) for k in range(len(catalog.USERS))
        ],
    )


def order_store_records(ids: SeedIds) -> list[JSON]:
    """The generation records of the stores generated orders belong to."""
    return [
        {
            "storeId": ids.store_ids[k],
            "_prefix": prefix,
            "_source": source,
            "_warehouseId": ids.warehouse_ids[k % len(ids.warehouse_ids)],
        }
        for k, (_name, _mp, prefix, source) in enumerate(tables.STORE_KINDS)
    ]


def seed_tags() -> dict[int, JSON]:
    """The account's tags by tagId."""
    return {t: {"tagId": t, "name": name, "color": color} for t, name, color in catalog.TAGS}


def seed_users(user_ids: list[str]) -> tuple[dict[str, JSON], set[str]]:
    """The account's users by userId, and the ids of the inactive ones."""
    users: dict[str, JSON] = {}
    inactive: set[str] = set()
    for uid, (user_name, name, active) in zip(user_ids, catalog.USERS, strict=True):
        users[uid] = {"userId": uid, "userName": user_name, "name": name}
        if not active:
            inactive.add(uid)
    return users, inactive


def seed_warehouses(key: int, warehouse_ids: list[int], start: int) -> dict[int, JSON]:
    """The account's warehouses by warehouseId (the first is the default)."""
    out: dict[int, JSON] = {}
    for k, (wname, aname, street, city, state, postal, phone) in enumerate(catalog.WAREHOUSES):
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
        out[warehouse_ids[k]] = {
            "warehouseId": warehouse_ids[k],
            "warehouseName": wname,
            "originAddress": origin,
            "returnAddress": {**origin, "name": wname, "residential": None},
            "createDate": format_order_ts(
                start - (500 - 90 * k) * MS_PER_DAY + mix(key + 700 + k) % MS_PER_DAY
            ),
            "isDefault": k == 0,
        }
    return out


def seed_stores(key: int, store_ids: list[int], start: int, end: int) -> dict[int, JSON]:
    """The account's stores by storeId (with statusMappings)."""
    kinds = [(name, mp, True) for name, mp, _p, _s in tables.STORE_KINDS]
    kinds += list(catalog.EXTRA_STORES)
    return {
        store_ids[k]: _store(key, store_ids[k], name, mp_name, active, k, start, end)
        for k, (name, mp_name, active) in enumerate(kinds)
    }


def _store(
    key: int,
    store_id: int,
    name: str,
    marketplace_name: str,
    active: bool,
    k: int,
    start: int,
    end: int,
) -> JSON:
    mp = catalog.MARKETPLACE_BY_NAME[marketplace_name]
    h = mix(key + 1_000 + k)
    create = start - (400 - 7 * k) * MS_PER_DAY + h % MS_PER_DAY
    modify = create + (h >> 24) % max(1, end - create)
    manual = mp[0] == catalog.MANUAL_MARKETPLACE_ID
    refreshed = None if manual else format_item_ts(end - (h >> 40) % (6 * MS_PER_HOUR))
    slug = name.lower().replace(" ", "-")
    mappings = catalog.STATUS_KEYS.get(marketplace_name)
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
        "createDate": format_item_ts(create),
        "modifyDate": format_item_ts(modify),
        "autoRefresh": bool(mp[2]) and active,
        "statusMappings": (
            None
            if mappings is None
            else [{"orderStatus": s, "statusKey": key} for s, key in mappings]
        ),
    }


def seed_carriers(key: int) -> tuple[dict[str, JSON], dict[str, int]]:
    """The connected carriers by code, and their balances in cents."""
    carriers: dict[str, JSON] = {}
    balances: dict[str, int] = {}
    for n, spec in enumerate(catalog.CARRIERS):
        h = mix(key + 800 + n)
        if spec.code == "stamps_com":
            account: str | int = f"SS{100_000 + h % 900_000}"
        elif spec.code == "ups":
            account = "".join(
                "ABCDEFGHJKLMNPRSTUVWXY0123456789"[(h >> (5 * j)) % 32] for j in range(6)
            )
        else:
            # A number, not a string: the API returns the account as it was connected (its
            # published list has FedEx's as a number), so a client must take either.
            account = 100_000_000 + h % 900_000_000
        carriers[spec.code] = {
            "name": spec.name,
            "code": spec.code,
            "accountNumber": account,
            "requiresFundedAccount": spec.requires_funded_account,
            "balance": 0,
            # A nickname only where the merchant gave one (here: the FedEx account).
            "nickname": "Main FedEx" if spec.code == "fedex" else None,
            "shippingProviderId": 10_000 + (h >> 32) % 90_000,
            "primary": True,
        }
        balances[spec.code] = 10_000 + (h >> 40) % 40_000 if spec.requires_funded_account else 0
    return carriers, balances


def seed_products(key: int, tags: dict[int, JSON], start: int, end: int) -> dict[int, JSON]:
    """The catalog's products by productId (the discontinued ones inactive)."""
    out: dict[int, JSON] = {}
    for k, (sku, pname, oz, price, _opts, loc, pid) in enumerate(tables.PRODUCTS):
        out[pid] = _product(key, tags, k, sku, pname, oz, price, loc, pid, True, start, end)
    for k, (sku, pname, oz, price, loc, pid) in enumerate(catalog.DISCONTINUED):
        n = len(tables.PRODUCTS) + k
        out[pid] = _product(key, tags, n, sku, pname, oz, price, loc, pid, False, start, end)
    return out


def _product(
    key: int,
    tags: dict[int, JSON],
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
    h = mix(key + 2_000 + product_id)
    create = start - (200 - k) * MS_PER_DAY + h % MS_PER_DAY
    modify = create if h % 3 else create + (h >> 24) % max(1, end - create)
    prefix = sku.split("-", 1)[0]
    category = catalog.CATEGORIES.get(prefix, catalog.DEFAULT_CATEGORY)
    kind = catalog.PRODUCT_TYPES[1 if oz >= 32 else 0]
    refs: list[JSON] = []
    if prefix in ("MUG", "CDL", "PLN", "LMP"):
        refs.append({"tagId": tags[8336]["tagId"], "name": tags[8336]["name"]})
    if (h >> 50) % 6 == 0:
        refs.append({"tagId": tags[8362]["tagId"], "name": tags[8362]["name"]})
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
        "createDate": format_item_ts(create),
        "modifyDate": format_item_ts(modify),
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
        "tags": refs or None,
        "aliases": None,
    }
