"""Turning partial ShipStation JSON into complete records of the documented shapes.

Input keys are matched case-insensitively (ASP.NET binds JSON properties that way); output
keys are the documented camelCase ones, every documented key present (null when unknown).
These functions trust their input's types: the handlers validate requests first.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._time import format_date, format_item_ts, format_order_text, parse_ts

JSON = dict[str, Any]

ADDRESS_KEYS: tuple[str, ...] = (
    "name",
    "company",
    "street1",
    "street2",
    "street3",
    "city",
    "state",
    "postalCode",
    "country",
    "phone",
    "residential",
    "addressVerified",
)
"""The keys of an Address (reference §3)."""

ITEM_KEYS: tuple[str, ...] = (
    "orderItemId",
    "lineItemKey",
    "sku",
    "name",
    "imageUrl",
    "weight",
    "quantity",
    "unitPrice",
    "taxAmount",
    "shippingAmount",
    "warehouseLocation",
    "options",
    "productId",
    "fulfillmentSku",
    "adjustment",
    "upc",
    "createDate",
    "modifyDate",
)
"""The keys of an OrderItem (reference §3), in the docs' example order."""

ADVANCED_KEYS: tuple[str, ...] = (
    "warehouseId",
    "nonMachinable",
    "saturdayDelivery",
    "containsAlcohol",
    "mergedOrSplit",
    "mergedIds",
    "parentId",
    "storeId",
    "customField1",
    "customField2",
    "customField3",
    "source",
    "billToParty",
    "billToAccount",
    "billToPostalCode",
    "billToCountryCode",
)
"""The keys of an order's AdvancedOptions, in the docs' example order."""


def ci(data: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """``data[key]`` matched case-insensitively (``default`` when absent or data is None)."""
    if not data:
        return default
    if key in data:
        return data[key]
    lower = key.lower()
    for k, v in data.items():
        if k.lower() == lower:
            return v
    return default


def pick(data: Mapping[str, Any] | None, keys: tuple[str, ...]) -> JSON:
    """A dict of exactly ``keys`` taken case-insensitively from ``data`` (missing: None)."""
    return {k: copy.deepcopy(ci(data, k)) for k in keys}


def address(data: Mapping[str, Any] | None, *, verified: str | None = None) -> JSON:
    """An Address with all its keys; ``addressVerified`` is read-only and set to ``verified``."""
    out = pick(data, ADDRESS_KEYS)
    out["addressVerified"] = verified
    return out


def verify(addr: Mapping[str, Any]) -> str:
    """The sandbox's address validation result for an address.

    A complete US address with a ZIP code validates; an incomplete one fails; anything else
    gets a warning.
    """
    if not addr.get("street1") or not addr.get("city") or not addr.get("postalCode"):
        return "Address validation failed"
    country = str(addr.get("country") or "").upper()
    postal = str(addr.get("postalCode") or "").split("-", 1)[0]
    if country == "US" and len(postal) == 5 and postal.isdigit() and addr.get("state"):
        return "Address validated successfully"
    return "Address validation warning"


def weight(data: Any) -> JSON | None:
    """A Weight ``{value, units}`` (units lower-cased; default ounces), or None."""
    if not isinstance(data, Mapping):
        return None
    return {"value": ci(data, "value", 0) or 0, "units": str(ci(data, "units") or "ounces").lower()}


def dimensions(data: Any) -> JSON | None:
    """Dimensions ``{units, length, width, height}`` (units default inches), or None."""
    if not isinstance(data, Mapping):
        return None
    return {
        "units": str(ci(data, "units") or "inches").lower(),
        "length": ci(data, "length"),
        "width": ci(data, "width"),
        "height": ci(data, "height"),
    }


def insurance(data: Any) -> JSON:
    """InsuranceOptions ``{provider, insureShipment, insuredValue}`` with defaults."""
    data = data if isinstance(data, Mapping) else {}
    return {
        "provider": ci(data, "provider"),
        "insureShipment": bool(ci(data, "insureShipment", False)),
        "insuredValue": ci(data, "insuredValue", 0) or 0,
    }


def international(data: Any, next_id: list[int], keep: frozenset[int] = frozenset()) -> JSON:
    """InternationalOptions; customs items get ids from ``next_id[0]`` (incremented).

    customsItemId is read-only: one sent is replaced by a new id, unless it is in ``keep``
    (the ids of the customs items of the order being updated, [U]).
    """
    if not isinstance(data, Mapping):
        return {"contents": None, "customsItems": None, "nonDelivery": None}
    items = ci(data, "customsItems")
    customs: list[JSON] | None = None
    if isinstance(items, list):
        customs = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            entry = pick(
                item,
                (
                    "customsItemId",
                    "description",
                    "quantity",
                    "value",
                    "harmonizedTariffCode",
                    "countryOfOrigin",
                ),
            )
            if entry["customsItemId"] not in keep:
                entry["customsItemId"] = next_id[0]
                next_id[0] += 1
            customs.append(entry)
    return {
        "contents": ci(data, "contents"),
        "customsItems": customs,
        "nonDelivery": ci(data, "nonDelivery"),
    }


def order_ts(value: Any) -> str | None:
    """A timestamp in the orders' 7-digit format, its 7 digits kept (None stays None)."""
    if value is None or value == "":
        return None
    return format_order_text(str(value))


def plain_date(value: Any) -> str | None:
    """A plain ``yyyy-mm-dd`` date (None stays None)."""
    if value is None or value == "":
        return None
    return format_date(parse_ts(str(value)))


def item(
    data: Mapping[str, Any],
    *,
    item_id: int,
    now_ms: int,
    product_id: int | None,
) -> JSON:
    """An OrderItem with all its keys; ids and dates assigned by the caller."""
    out = pick(data, ITEM_KEYS)
    out["orderItemId"] = item_id
    out["weight"] = weight(ci(data, "weight")) or {"value": 0, "units": "ounces"}
    out["quantity"] = ci(data, "quantity", 1)
    out["unitPrice"] = ci(data, "unitPrice", 0) or 0
    options = ci(data, "options")
    out["options"] = [
        {"name": ci(o, "name"), "value": ci(o, "value")}
        for o in (options if isinstance(options, list) else [])
        if isinstance(o, Mapping)
    ]
    out["productId"] = product_id
    out["adjustment"] = bool(ci(data, "adjustment", False))
    stamp = format_item_ts(now_ms)
    out["createDate"] = stamp
    out["modifyDate"] = stamp
    return out


def advanced(data: Any, *, store_id: int | None, warehouse_id: int | None) -> JSON:
    """An order's AdvancedOptions with every key; storeId and warehouseId given resolved."""
    data = data if isinstance(data, Mapping) else {}
    out = pick(data, ADVANCED_KEYS)
    for flag in ("nonMachinable", "saturdayDelivery", "containsAlcohol", "mergedOrSplit"):
        out[flag] = bool(out[flag])
    out["mergedOrSplit"] = False
    out["mergedIds"] = []
    out["parentId"] = None
    out["storeId"] = store_id
    out["warehouseId"] = warehouse_id
    return out


def cents(value: Any) -> int:
    """Cents of a money value (None: 0)."""
    if value is None or value == "":
        return 0
    return round(float(value) * 100)


def money(value_cents: int) -> int | float:
    """A money value as ShipStation writes it: an integer when whole, else 2 decimals."""
    if value_cents % 100 == 0:
        return value_cents // 100
    return round(value_cents / 100, 2)


def measure(value: float) -> int | float:
    """A weight or size as ShipStation writes it: an integer when whole, else 2 decimals."""
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded
