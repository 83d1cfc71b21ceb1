"""Shipments: one per generated order shipped with a label, plus labels bought since."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from .. import rates
from .._time import MS_PER_DAY, format_date, format_order_ts, now_ms
from ..data.catalog import PACKAGE_BY_CODE, SERVICE_BY_CODE
from ..normalize import cents as cents_of
from ..normalize import money
from .derived_records import (
    DerivedRecords,
    ShipSortBy,
    field_is,
    in_range,
    same_text,
    ts_or_none,
)

if TYPE_CHECKING:
    from .orders import OrderStore

JSON = dict[str, Any]

SHIPMENT_ID_BASE = 60_000_000
"""shipmentId of generated index ``i`` is ``SHIPMENT_ID_BASE + 2 * i + (0 or 1)``."""

SHIPMENT_KEYS: tuple[str, ...] = (
    "shipmentId",
    "orderId",
    "orderKey",
    "userId",
    "customerEmail",
    "orderNumber",
    "createDate",
    "shipDate",
    "shipmentCost",
    "insuranceCost",
    "trackingNumber",
    "isReturnLabel",
    "batchNumber",
    "carrierCode",
    "serviceCode",
    "packageCode",
    "confirmation",
    "warehouseId",
    "voided",
    "voidDate",
    "marketplaceNotified",
    "notifyErrorMessage",
    "shipTo",
    "weight",
    "dimensions",
    "insuranceOptions",
    "advancedOptions",
    "shipmentItems",
    "labelData",
    "formData",
)
"""The keys of a Shipment (reference §3), in the order they are written."""


def dimensions_in(dims: Any) -> tuple[float, float, float] | None:
    """(length, width, height) in inches of a Dimensions object, or None."""
    if not isinstance(dims, dict):
        return None
    try:
        factor = rates.DIMENSION_UNITS.get(str(dims.get("units") or "inches").lower(), 1.0)
        values = tuple(float(dims.get(k) or 0) * factor for k in ("length", "width", "height"))
    except (TypeError, ValueError):
        return None
    if min(values) <= 0:
        return None
    return values[0], values[1], values[2]


@attrs.frozen
class ShipmentQuery:
    """The parsed parameters of ``GET /shipments``; times are Pacific wall-clock ms.

    Bounds are inclusive; shipDate bounds compare the ship day's midnight. ``recipient_name``
    is a case-insensitive "contains" match; the other text filters are case-insensitive exact
    matches (``customs_country_code`` matches the destination of international shipments).
    ``batch_id`` (undocumented, from webhook URLs) matches batchNumber. ``shipment_ids``: only
    these shipments (a label batch of a SHIP_NOTIFY URL). ``sort_by`` None is createDate order
    (which is also shipmentId order).
    """

    recipient_name: str | None = None
    recipient_country_code: str | None = None
    order_number: str | None = None
    order_id: int | None = None
    carrier_code: str | None = None
    service_code: str | None = None
    tracking_number: str | None = None
    customs_country_code: str | None = None
    create_start: int | None = None
    create_end: int | None = None
    ship_start: int | None = None
    ship_end: int | None = None
    void_start: int | None = None
    void_end: int | None = None
    store_id: int | None = None
    batch_id: str | None = None
    shipment_ids: frozenset[int] | None = None
    include_items: bool = False
    sort_by: ShipSortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100


class ShipmentStore(DerivedRecords):
    """Shipments: one per generated order shipped with a label, plus labels bought since.

    Generated shipments are history: their costs use the warehouses' seed-time origins
    (``origin_zips``) and their marketplaceNotified the seed-time Manual Stores, so editing a
    warehouse or a store later does not rewrite them.

    Records keep their ``shipmentItems`` internally; :meth:`query` and :meth:`get_public`
    show them only when asked (``includeShipmentItems``) and always null ``labelData`` and
    ``formData``, as the list endpoint does. Thread-safe (the world's lock).
    """

    kind = "label"
    id_base = SHIPMENT_ID_BASE
    id_key = "shipmentId"

    def __init__(
        self,
        orders: OrderStore,
        *,
        lock: threading.RLock,
        origin_zips: dict[int, str],
        user_ids: list[str],
        manual_store_ids: set[int],
    ) -> None:
        super().__init__(orders, lock=lock)
        self._origin_zips = dict(origin_zips)
        self._user_ids = list(user_ids)
        self._manual = set(manual_store_ids)

    def _build(self, i: int) -> JSON:
        o = self._orders.generated(i)
        h = self._orders.hash(i, 7)
        ms = self._orders.ship_ms(i)
        carrier, service_code = str(o["carrierCode"]), str(o["serviceCode"])
        package_code = str(o["packageCode"] or "package")
        ounces = float(o["weight"]["value"])
        adv = o["advancedOptions"]
        warehouse_id = adv["warehouseId"]
        ship_to = o["shipTo"]
        try:
            z = rates.zone(
                self._origin_zips.get(warehouse_id, "78703"),
                str(ship_to["postalCode"] or ""),
                str(ship_to["country"] or "US"),
            )
        except ValueError:
            z = 5
        service = SERVICE_BY_CODE[(carrier, service_code)]
        package = PACKAGE_BY_CODE[(carrier, package_code)]
        q = rates.quote(
            service,
            package,
            ounces=ounces,
            zone=z,
            dimensions_in=dimensions_in(o["dimensions"]),
            residential=bool(ship_to["residential"]),
            confirmation=o["confirmation"],
        )
        cost = q.total_cents if q is not None else service.base_cents
        insurance = o["insuranceOptions"]
        insured = rates.insurance_cents(cents_of(insurance["insuredValue"]))
        user = o["userId"] or (self._user_ids[h % len(self._user_ids)] if self._user_ids else None)
        batch = str(100_000 + ms // MS_PER_DAY) if (h >> 20) % 10 < 4 else None
        store_id = adv["storeId"]
        return {
            "shipmentId": self._gen_id(i),
            "orderId": o["orderId"],
            "orderKey": o["orderKey"],
            "userId": user,
            "customerEmail": o["customerEmail"],
            "orderNumber": o["orderNumber"],
            "createDate": format_order_ts(ms),
            "shipDate": format_date(ms),
            "shipmentCost": money(cost),
            "insuranceCost": money(insured if insurance["insureShipment"] else 0),
            "trackingNumber": rates.tracking_number(carrier, h),
            "isReturnLabel": False,
            "batchNumber": batch,
            "carrierCode": carrier,
            "serviceCode": service_code,
            "packageCode": package_code,
            "confirmation": o["confirmation"],
            "warehouseId": warehouse_id,
            "voided": False,
            "voidDate": None,
            "marketplaceNotified": store_id not in self._manual,
            "notifyErrorMessage": None,
            "shipTo": o["shipTo"],
            "weight": {"value": o["weight"]["value"], "units": "ounces", "WeightUnits": 1},
            "dimensions": o["dimensions"],
            "insuranceOptions": o["insuranceOptions"],
            "advancedOptions": {
                "billToParty": None,
                "billToAccount": None,
                "billToPostalCode": None,
                "billToCountryCode": None,
                "storeId": store_id,
            },
            "shipmentItems": o["items"],
            "labelData": None,
            "formData": None,
        }

    @staticmethod
    def public(record: JSON, *, include_items: bool = False) -> JSON:
        """A stored shipment as the list endpoint shows it."""
        out = {k: record.get(k) for k in SHIPMENT_KEYS}
        if not include_items:
            out["shipmentItems"] = None
        out["labelData"] = None
        out["formData"] = None
        return out

    def add(self, record: JSON) -> JSON:
        """Store a new shipment (shipmentId and createDate assigned); returns it."""
        with self._lock:
            stored = {k: copy.deepcopy(record.get(k)) for k in SHIPMENT_KEYS}
            stored["shipmentId"] = self._new_id()
            stored["createDate"] = format_order_ts(self._new_create())
            stored["voided"] = False
            stored["voidDate"] = None
            out = self._store(stored)
            self._orders.changes.emit("shipments", int(out["shipmentId"]), "create")
            return out

    def void(self, shipment_id: int) -> tuple[bool, JSON] | None:
        """Void a shipment's label.

        Returns ``(True, record)``; ``(False, record)`` when it already was voided; None when
        no such shipment exists.
        """
        with self._lock:
            record = self.get(shipment_id)
            if record is None:
                return None
            if record["voided"]:
                return False, record
            record["voided"] = True
            record["voidDate"] = format_order_ts(max(now_ms(), self._orders.end_ms + 1))
            self._replace(shipment_id, record)
            self._orders.changes.emit("shipments", shipment_id, "void")
            return True, copy.deepcopy(record)

    def query(self, q: ShipmentQuery) -> tuple[list[JSON], int]:
        """The page of shipments matching ``q`` (public form) and the total that match."""
        orders = self._orders
        cheap_checks: list[Callable[[int], bool]] = []
        full_checks: list[Callable[[JSON], bool]] = []
        if q.ship_start is not None or q.ship_end is not None:
            lo, hi = q.ship_start, q.ship_end
            cheap_checks.append(
                lambda i: in_range(orders.ship_ms(i) // MS_PER_DAY * MS_PER_DAY, lo, hi)
            )
            full_checks.append(lambda r: in_range(ts_or_none(r["shipDate"]), lo, hi))
        if q.void_start is not None or q.void_end is not None:
            vlo, vhi = q.void_start, q.void_end
            cheap_checks.append(lambda i: False)  # generated labels are not voided
            full_checks.append(lambda r: in_range(ts_or_none(r["voidDate"]), vlo, vhi))
        if q.store_id is not None:
            store_id = q.store_id
            cheap_checks.append(lambda i: orders.store_gen(i)["storeId"] == store_id)
            full_checks.append(lambda r: (r["advancedOptions"] or {}).get("storeId") == store_id)
        if q.order_number is not None:
            number = q.order_number.lower()
            cheap_checks.append(lambda i: orders.generated_order_number(i).lower() == number)
            full_checks.append(lambda r: same_text(r["orderNumber"], number))
        expensive: list[Callable[[JSON], bool]] = []
        if q.recipient_name is not None:
            needle = q.recipient_name.lower()
            expensive.append(lambda r: needle in str((r["shipTo"] or {}).get("name") or "").lower())
        if q.recipient_country_code is not None:
            country = q.recipient_country_code
            expensive.append(lambda r: same_text((r["shipTo"] or {}).get("country"), country))
        if q.customs_country_code is not None:
            customs = q.customs_country_code
            expensive.append(
                lambda r: (
                    str((r["shipTo"] or {}).get("country") or "US").upper() != "US"
                    and same_text((r["shipTo"] or {}).get("country"), customs)
                )
            )
        for field, value in (
            ("carrierCode", q.carrier_code),
            ("serviceCode", q.service_code),
            ("trackingNumber", q.tracking_number),
            ("batchNumber", q.batch_id),
        ):
            if value is not None:
                expensive.append(field_is(field, value))
        page, total = self._filtered_page(
            q, cheap_checks, full_checks, expensive, record_ids=q.shipment_ids
        )
        return [self.public(r, include_items=q.include_items) for r in page], total
