"""Orders as createorder receives them: a request body completed into a whole Order.

Used by ``POST /orders/createorder(s)``, by ``World.add_order`` and by the mutation workload
(for a world without generated orders), so an order is completed the same way everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import normalize
from .._time import format_order_ts
from ..data.order_json import order_json
from ..rates import to_ounces
from .base import Shared

if TYPE_CHECKING:
    from .accounts import AccountBackend
    from .customers import CustomerStore
    from .orders import OrderStore
    from .products import ProductBackend
    from .stores import StoreBackend
    from .warehouses import WarehouseBackend

JSON = dict[str, Any]

_TEXT_FIELDS = (
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
)
"""Fields createorder copies as given."""


class OrderIntake:
    """Completes createorder bodies; assigns orderItemIds and customsItemIds."""

    def __init__(
        self,
        shared: Shared,
        *,
        orders: OrderStore,
        products: ProductBackend,
        accounts: AccountBackend,
        stores: StoreBackend,
        warehouses: WarehouseBackend,
        customers: CustomerStore,
    ) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._orders = orders
        self._products = products
        self._accounts = accounts
        self._stores = stores
        self._warehouses = warehouses
        self._customers = customers
        self._next_item_id = 400_000_000
        self._next_customs_id = 20_000_000

    def allocate_item_id(self) -> int:
        """A new orderItemId, as createorder assigns them."""
        with self._lock:
            self._next_item_id += 1
            return self._next_item_id

    def allocate_customs_item_id(self) -> int:
        """A new customsItemId, as createorder assigns them."""
        with self._lock:
            value = self._next_customs_id
            self._next_customs_id += 1
            return value

    def add(self, data: Mapping[str, Any]) -> JSON:
        """Add (or, by orderKey, replace) an order; see :meth:`..world.World.add_order`."""
        with self._lock:
            existing = None
            key = normalize.ci(data, "orderKey")
            if key is not None:
                existing = self._orders.find_by_key(str(key))
            order = self.build(data, existing)
            for field in ("orderId", "createDate", "modifyDate"):
                value = normalize.ci(data, field)
                if value is not None and existing is None:
                    order[field] = value if field == "orderId" else normalize.order_ts(value)
            if existing is None and normalize.ci(data, "orderId") is None:
                order.pop("orderId", None)
            return self._orders.put(order)

    def build(self, data: Mapping[str, Any], existing: JSON | None) -> JSON:
        """A complete Order from createorder's body (``existing``: the order it updates).

        An update keeps orderId, orderKey, createDate, advancedOptions.storeId and
        customerId, and each item's orderItemId where its lineItemKey (else SKU) matches.
        """
        ci = normalize.ci
        with self._lock:
            now = self._shared.clock()
            order = order_json(
                orderNumber=ci(data, "orderNumber"),
                orderKey=ci(data, "orderKey"),
                **{f: normalize.order_ts(ci(data, f)) for f in ("orderDate", "paymentDate")},
                shipByDate=normalize.order_ts(ci(data, "shipByDate")),
                orderStatus=str(ci(data, "orderStatus") or "awaiting_shipment").lower(),
                customerUsername=ci(data, "customerUsername"),
                customerEmail=ci(data, "customerEmail"),
            )
            bill = ci(data, "billTo")
            order["billTo"] = normalize.address(bill if isinstance(bill, Mapping) else None)
            ship = ci(data, "shipTo")
            ship_to = normalize.address(ship if isinstance(ship, Mapping) else None)
            ship_to["addressVerified"] = normalize.verify(ship_to)
            order["shipTo"] = ship_to
            items, subtotal, ounces = self._items(data, existing, now)
            order["items"] = items
            tax = normalize.cents(ci(data, "taxAmount"))
            shipping = normalize.cents(ci(data, "shippingAmount"))
            order["orderTotal"] = normalize.money(subtotal + tax + shipping)
            order["amountPaid"] = ci(data, "amountPaid", 0) or 0
            order["taxAmount"] = ci(data, "taxAmount", 0) or 0
            order["shippingAmount"] = ci(data, "shippingAmount", 0) or 0
            for field in _TEXT_FIELDS:
                order[field] = ci(data, field)
            self._options(order, data, ounces, existing)
            order["advancedOptions"] = self._advanced(data, existing)
            self._references(order, data)
            if existing is not None:
                for field in ("orderId", "orderKey", "createDate", "customerId"):
                    order[field] = existing[field]
            else:
                email = order["customerEmail"]
                found = self._customers.find_by_email(str(email)) if email else None
                order["customerId"] = None if found is None else found["customerId"]
                order["createDate"] = format_order_ts(now)
            order["modifyDate"] = format_order_ts(now)
            order["orderDate"] = order["orderDate"] or order["createDate"]
            return order

    def _items(
        self, data: Mapping[str, Any], existing: JSON | None, now: int
    ) -> tuple[list[JSON], int, float]:
        """(items, subtotal in cents, weight in ounces); kept items keep their ids."""
        ci = normalize.ci
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
                product_id=self._products.resolve_id(ci(raw, "productId"), ci(raw, "sku")),
            )
            qty = int(entry["quantity"] or 0)
            subtotal += normalize.cents(entry["unitPrice"]) * qty
            w = entry["weight"]
            with contextlib.suppress(ValueError):
                ounces += to_ounces(float(w["value"] or 0), str(w["units"])) * qty
            items.append(entry)
        return items, subtotal, ounces

    def _options(
        self, order: JSON, data: Mapping[str, Any], ounces: float, existing: JSON | None
    ) -> None:
        """Gift, confirmation, dates, weight, dimensions, insurance and customs.

        customsItemIds are the server's: an update keeps those of the order's customs items.
        """
        ci = normalize.ci
        order["gift"] = bool(ci(data, "gift", False))
        order["confirmation"] = ci(data, "confirmation") or "none"
        order["shipDate"] = normalize.plain_date(ci(data, "shipDate"))
        order["holdUntilDate"] = normalize.plain_date(ci(data, "holdUntilDate"))
        order["weight"] = normalize.weight(ci(data, "weight")) or {
            "value": normalize.measure(ounces),
            "units": "ounces",
        }
        order["dimensions"] = normalize.dimensions(ci(data, "dimensions"))
        order["insuranceOptions"] = normalize.insurance(ci(data, "insuranceOptions"))
        counter = [self._next_customs_id]
        old = ((existing or {}).get("internationalOptions") or {}).get("customsItems") or ()
        keep = frozenset(int(c["customsItemId"]) for c in old if c.get("customsItemId") is not None)
        order["internationalOptions"] = normalize.international(
            ci(data, "internationalOptions"), counter, keep
        )
        self._next_customs_id = counter[0]

    def _advanced(self, data: Mapping[str, Any], existing: JSON | None) -> JSON:
        """advancedOptions: the Manual Store and default warehouse unless given."""
        ci = normalize.ci
        adv = ci(data, "advancedOptions")
        adv = adv if isinstance(adv, Mapping) else {}
        if existing is not None:
            store_id = (existing.get("advancedOptions") or {}).get("storeId")
        else:
            given = ci(adv, "storeId")
            store_id = int(given) if given is not None else self._stores.manual_store_id
        wid = ci(adv, "warehouseId")
        warehouse_id = int(wid) if wid is not None else self._warehouses.default_id
        return normalize.advanced(adv, store_id=store_id, warehouse_id=warehouse_id)

    def _references(self, order: JSON, data: Mapping[str, Any]) -> None:
        """TagIds (known ones only), userId (a known user or null), externallyFulfilled."""
        ci = normalize.ci
        tags = ci(data, "tagIds")
        known_tags = set(self._accounts.tag_ids())
        known = [int(t) for t in tags or () if isinstance(t, int) and t in known_tags]
        order["tagIds"] = sorted(set(known)) or None
        user = ci(data, "userId")
        order["userId"] = user if self._accounts.has_user(user) else None
        order["externallyFulfilled"] = bool(ci(data, "externallyFulfilled", False))
