"""Fulfillments: one per generated order marked as shipped, plus those marked since."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .. import rates
from .._time import MS_PER_DAY, format_date, format_order_ts
from .derived_records import (
    DerivedRecords,
    ShipSortBy,
    in_range,
    same_text,
    ts_or_none,
)

if TYPE_CHECKING:
    from .orders import OrderStore

JSON = dict[str, Any]

FULFILLMENT_ID_BASE = 40_000_000
"""fulfillmentId of generated index ``i`` is ``FULFILLMENT_ID_BASE + 2 * i + (0 or 1)``."""

FULFILLMENT_KEYS: tuple[str, ...] = (
    "fulfillmentId",
    "orderId",
    "orderNumber",
    "userId",
    "customerEmail",
    "trackingNumber",
    "createDate",
    "shipDate",
    "voidDate",
    "deliveryDate",
    "carrierCode",
    "sellerFillProviderId",
    "sellerFillProviderName",
    "fulfillmentServiceCode",
    "fulfillmentProviderCode",
    "fulfillmentFee",
    "voidRequested",
    "voided",
    "marketplaceNotified",
    "notifyErrorMessage",
    "shipTo",
)
"""The keys of a Fulfillment (reference §3), in the order they are written."""


@attrs.frozen
class FulfillmentQuery:
    """The parsed parameters of ``GET /fulfillments`` (see :class:`ShipmentQuery`)."""

    fulfillment_id: int | None = None
    order_id: int | None = None
    order_number: str | None = None
    tracking_number: str | None = None
    recipient_name: str | None = None
    create_start: int | None = None
    create_end: int | None = None
    ship_start: int | None = None
    ship_end: int | None = None
    sort_by: ShipSortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100


class FulfillmentStore(DerivedRecords):
    """Fulfillments: one per generated order marked as shipped, plus those marked since."""

    kind = "marked"
    id_base = FULFILLMENT_ID_BASE
    id_key = "fulfillmentId"

    def __init__(self, orders: OrderStore, *, lock: threading.RLock) -> None:
        super().__init__(orders, lock=lock)

    def _build(self, i: int) -> JSON:
        o = self._orders.generated(i)
        h = self._orders.hash(i, 7)
        ms = self._orders.ship_ms(i)
        carrier = str(o["carrierCode"])
        return {
            "fulfillmentId": self._gen_id(i),
            "orderId": o["orderId"],
            "orderNumber": o["orderNumber"],
            "userId": o["userId"],
            "customerEmail": o["customerEmail"],
            "trackingNumber": rates.tracking_number(carrier, h) if h % 10 else None,
            "createDate": format_order_ts(ms),
            "shipDate": format_date(ms),
            "voidDate": None,
            "deliveryDate": None,
            "carrierCode": carrier,
            "sellerFillProviderId": None,
            "sellerFillProviderName": None,
            "fulfillmentServiceCode": None,
            "fulfillmentProviderCode": None,
            "fulfillmentFee": 0,
            "voidRequested": False,
            "voided": False,
            "marketplaceNotified": (h >> 8) % 4 != 0,
            "notifyErrorMessage": None,
            "shipTo": o["shipTo"],
        }

    def add(self, record: JSON) -> JSON:
        """Store a new fulfillment (fulfillmentId and createDate assigned); returns it."""
        with self._lock:
            stored = {k: copy.deepcopy(record.get(k)) for k in FULFILLMENT_KEYS}
            stored["fulfillmentId"] = self._new_id()
            stored["createDate"] = format_order_ts(self._new_create())
            out = self._store(stored)
            self._orders.changes.emit("fulfillments", int(out["fulfillmentId"]), "create")
            return out

    def query(self, q: FulfillmentQuery) -> tuple[list[JSON], int]:
        """The page of fulfillments matching ``q`` and the total that match."""
        orders = self._orders
        cheap_checks: list[Callable[[int], bool]] = []
        full_checks: list[Callable[[JSON], bool]] = []
        if q.ship_start is not None or q.ship_end is not None:
            lo, hi = q.ship_start, q.ship_end
            cheap_checks.append(
                lambda i: in_range(orders.ship_ms(i) // MS_PER_DAY * MS_PER_DAY, lo, hi)
            )
            full_checks.append(lambda r: in_range(ts_or_none(r["shipDate"]), lo, hi))
        if q.fulfillment_id is not None:
            fid = q.fulfillment_id
            cheap_checks.append(lambda i: self._gen_id(i) == fid)
            full_checks.append(lambda r: r["fulfillmentId"] == fid)
        if q.order_number is not None:
            number = q.order_number.lower()
            cheap_checks.append(lambda i: orders.generated_order_number(i).lower() == number)
            full_checks.append(lambda r: same_text(r["orderNumber"], number))
        expensive: list[Callable[[JSON], bool]] = []
        if q.recipient_name is not None:
            needle = q.recipient_name.lower()
            expensive.append(lambda r: needle in str((r["shipTo"] or {}).get("name") or "").lower())
        if q.tracking_number is not None:
            tracking = q.tracking_number
            expensive.append(lambda r: same_text(r["trackingNumber"], tracking))
        return self._filtered_page(q, cheap_checks, full_checks, expensive)
