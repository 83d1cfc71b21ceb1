"""Products: the catalog's items, found by id or SKU, listed with filters."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from .. import normalize
from .._time import format_item_ts, parse_ts
from .base import Shared

JSON = dict[str, Any]

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


class ProductBackend:
    """The products by productId (inactive ones kept), and their SKUs."""

    def __init__(self, shared: Shared, products: dict[int, JSON]) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._products = products
        self._skus: dict[str, int] = {str(p["sku"]).lower(): pid for pid, p in products.items()}

    def get(self, product_id: int, *, include_inactive: bool = True) -> JSON | None:
        """One product (inactive ones too unless told), or None."""
        with self._lock:
            p = self._products.get(product_id)
            if p is None or (not include_inactive and not p["active"]):
                return None
            return copy.deepcopy(p)

    def resolve_id(self, product_id: Any, sku: Any) -> int | None:
        """The productId an order item gets.

        The given one when it exists, else the product with this SKU, else None (ShipStation
        drops unknown productIds).
        """
        with self._lock:
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

    def query(self, q: ProductQuery) -> tuple[list[JSON], int]:
        """The page of products matching ``q`` and the total that match."""
        with self._lock:
            rows = [copy.deepcopy(p) for p in self._products.values() if _matches(q, p)]
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

    def add(self, data: Mapping[str, Any]) -> JSON:
        """Add a product (see :meth:`..world.World.add_product`)."""
        with self._lock:
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
            now = format_item_ts(self._shared.clock())
            out["createDate"] = out["createDate"] or now
            out["modifyDate"] = out["modifyDate"] or now
            self._products[pid] = out
            self._skus[str(out["sku"]).lower()] = pid
            self._shared.changes.emit("products", pid, "create")
            return copy.deepcopy(out)

    def replace(self, product_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a product with ``data``; returns it, or None when it does not exist.

        As PUT does: absent fields become null, absent ``active`` false; productId and
        createDate are kept.
        """
        with self._lock:
            current = self._products.get(product_id)
            if current is None:
                return None
            out = normalize.pick(data, PRODUCT_KEYS)
            out["productId"] = product_id
            out["createDate"] = current["createDate"]
            out["modifyDate"] = format_item_ts(self._shared.clock())
            out["active"] = bool(out["active"])
            self._skus.pop(str(current["sku"]).lower(), None)
            if out["sku"]:
                self._skus[str(out["sku"]).lower()] = product_id
            self._products[product_id] = out
            self._shared.changes.emit("products", product_id, "update")
            return copy.deepcopy(out)


def _matches(q: ProductQuery, p: JSON) -> bool:
    if not q.show_inactive and not p["active"]:
        return False
    if q.sku is not None and q.sku.lower() not in str(p["sku"] or "").lower():
        return False
    if q.name is not None and q.name.lower() not in str(p["name"] or "").lower():
        return False
    if q.product_category_id is not None and (
        (p["productCategory"] or {}).get("categoryId") != q.product_category_id
    ):
        return False
    if q.product_type_id is not None and (
        (p["productType"] or {}).get("productTypeId") != q.product_type_id
    ):
        return False
    if q.tag_id is not None and not any(t.get("tagId") == q.tag_id for t in p["tags"] or ()):
        return False
    if q.start is not None or q.end is not None:
        created = parse_ts(str(p["createDate"]))
        if (q.start is not None and created < q.start) or (q.end is not None and created > q.end):
            return False
    return True
