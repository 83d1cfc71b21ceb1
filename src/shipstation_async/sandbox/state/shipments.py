"""Shipments and fulfillments: derived from the shipped generated orders, plus an overlay.

A generated order that shipped did so either with a label bought in ShipStation (a
shipment) or by being marked as shipped (a fulfillment), as :meth:`OrderStore.ship_kind`
says. Its shipment or fulfillment is derived from the order's index on demand: its createDate
is :meth:`OrderStore.ship_ms`, which rises strictly with the index, so createDate filters
bisect and unfiltered pages need no scan. Records bought or marked through the API are added
after them (createDate = now); changes to generated records (a void) are kept by index.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .. import rates
from .._time import MS_PER_DAY, format_date, format_order_ts, now_ms, parse_ts
from ..data.catalog import PACKAGE_BY_CODE, SERVICE_BY_CODE
from ..normalize import cents as cents_of
from ..normalize import money

if TYPE_CHECKING:
    from .orders import OrderStore

JSON = dict[str, Any]

SHIPMENT_ID_BASE = 60_000_000
"""shipmentId of generated index ``i`` is ``SHIPMENT_ID_BASE + 2 * i + (0 or 1)``."""
FULFILLMENT_ID_BASE = 40_000_000
"""fulfillmentId of generated index ``i`` is ``FULFILLMENT_ID_BASE + 2 * i + (0 or 1)``."""

ShipSortBy = Literal["ShipDate", "CreateDate"]

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
    ``batch_id`` (undocumented, from webhook URLs) matches batchNumber. ``sort_by`` None is
    createDate order (which is also shipmentId order).
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
    include_items: bool = False
    sort_by: ShipSortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100


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


def _in(value: int | None, lo: int | None, hi: int | None) -> bool:
    if lo is None and hi is None:
        return True
    if value is None:
        return False
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _ts(value: Any) -> int | None:
    return None if value is None else parse_ts(str(value))


def _all_of(checks: list[Callable[[Any], bool]]) -> Callable[[Any], bool] | None:
    if not checks:
        return None
    return lambda x: all(c(x) for c in checks)


def _field_is(field: str, value: str) -> Callable[[JSON], bool]:
    return lambda r: _eq(r[field], value)


def _eq(a: Any, b: str | None) -> bool:
    return b is None or str(a or "").lower() == b.lower()


class _Derived:
    """The machinery shared by shipments and fulfillments: generated by index, plus overlay."""

    kind: Literal["label", "marked"]
    id_base: int
    id_key: str

    def __init__(self, orders: OrderStore, *, lock: threading.RLock) -> None:
        self._orders = orders
        self._lock = lock
        self._changed: dict[int, JSON] = {}  # generated index -> changed record
        self._added: list[JSON] = []
        self._added_pos: dict[int, int] = {}  # id -> position in _added
        self._next_id = self.id_base + 2 * orders.count + 11
        self._last_create = orders.end_ms

    # -- identity -----------------------------------------------------------------------------

    def _gen_id(self, i: int) -> int:
        return self.id_base + 2 * i + ((self._orders.hash(i, 4) >> 62) & 1)

    def _index_of(self, record_id: int) -> int | None:
        i = (record_id - self.id_base) // 2
        if 0 <= i < self._orders.count and self._orders.ship_kind(i) == self.kind:
            return i if self._gen_id(i) == record_id else None
        return None

    def _build(self, i: int) -> JSON:
        raise NotImplementedError

    def _record(self, i: int) -> JSON:
        changed = self._changed.get(i)
        return changed if changed is not None else self._build(i)

    def get(self, record_id: int) -> JSON | None:
        """The record with this id (a fresh dict, internal fields included), or None."""
        with self._lock:
            pos = self._added_pos.get(record_id)
            if pos is not None:
                return copy.deepcopy(self._added[pos])
            i = self._index_of(record_id)
            return None if i is None else copy.deepcopy(self._record(i))

    def __len__(self) -> int:
        """How many records exist (generated and added)."""
        return len(self._orders.shipped_indices(self.kind)) + len(self._added)

    def _new_create(self) -> int:
        ms = max(now_ms(), self._orders.end_ms + 1, self._last_create + 1)
        self._last_create = ms
        return ms

    def _new_id(self) -> int:
        new_id = self._next_id
        self._next_id += 1
        return new_id

    def _store(self, record: JSON) -> JSON:
        self._added_pos[int(record[self.id_key])] = len(self._added)
        self._added.append(record)
        return copy.deepcopy(record)

    def _replace(self, record_id: int, record: JSON) -> None:
        pos = self._added_pos.get(record_id)
        if pos is not None:
            self._added[pos] = record
            return
        i = self._index_of(record_id)
        if i is None:
            raise KeyError(record_id)
        self._changed[i] = record

    def for_order(self, order_id: int) -> list[JSON]:
        """Every record of one order (fresh dicts), oldest first."""
        with self._lock:
            out: list[JSON] = []
            i = self._orders.index_of(order_id)
            if i is not None and self._orders.ship_kind(i) == self.kind:
                out.append(copy.deepcopy(self._record(i)))
            out += [copy.deepcopy(r) for r in self._added if r.get("orderId") == order_id]
            return out

    # -- listing ------------------------------------------------------------------------------

    def _filtered_page(
        self,
        q: ShipmentQuery | FulfillmentQuery,
        cheap_checks: list[Callable[[int], bool]],
        full_checks: list[Callable[[JSON], bool]],
        expensive: list[Callable[[JSON], bool]],
    ) -> tuple[list[JSON], int]:
        """A list query's page: the checks combined, ShipDate sorting, under the lock.

        ``cheap_checks`` run on generated indices, ``expensive`` on built records only, and
        ``full_checks`` (extended by ``expensive``) on added records.
        """
        orders = self._orders
        sort_key: Callable[[JSON], Any] | None = None
        gen_sort_key: Callable[[int], Any] | None = None
        if q.sort_by == "ShipDate" and self._added:
            sort_key = lambda r: str(r["shipDate"] or "")  # noqa: E731
            gen_sort_key = lambda i: format_date(orders.ship_ms(i))  # noqa: E731
        with self._lock:
            return self._select(
                create_start=q.create_start,
                create_end=q.create_end,
                order_id=q.order_id,
                cheap=_all_of(cheap_checks),
                gen_full=_all_of(expensive),
                full=_all_of([*full_checks, *expensive]),
                sort_key=sort_key,
                gen_sort_key=gen_sort_key,
                sort_desc=q.sort_desc,
                page=q.page,
                page_size=q.page_size,
            )

    def _select(
        self,
        *,
        create_start: int | None,
        create_end: int | None,
        order_id: int | None,
        cheap: Callable[[int], bool] | None,
        gen_full: Callable[[JSON], bool] | None,
        full: Callable[[JSON], bool] | None,
        sort_key: Callable[[JSON], Any] | None,
        gen_sort_key: Callable[[int], Any] | None,
        sort_desc: bool,
        page: int,
        page_size: int,
    ) -> tuple[list[JSON], int]:
        """One page of records and the total: generated indices then added records.

        ``cheap(i)`` filters an unchanged generated index without building it, then
        ``gen_full`` the built record of one ``cheap`` passed; ``full`` filters a changed or
        added record on every criterion.
        """
        gen = self._orders.shipped_indices(self.kind)
        ship_ms = self._orders.ship_ms
        lo = 0 if create_start is None else bisect.bisect_left(gen, create_start, key=ship_ms)
        hi = len(gen) if create_end is None else bisect.bisect_right(gen, create_end, key=ship_ms)
        hi = max(lo, hi)
        positions: Sequence[int] = range(lo, hi)
        if order_id is not None:
            i = self._orders.index_of(order_id)
            pos = bisect.bisect_left(gen, i) if i is not None else len(gen)
            positions = [pos] if lo <= pos < hi and gen[pos] == i else []

        def added_match(r: JSON) -> bool:
            c = parse_ts(str(r["createDate"]))
            if not _in(c, create_start, create_end):
                return False
            if order_id is not None and r.get("orderId") != order_id:
                return False
            return full is None or full(r)

        added = [r for r in self._added if added_match(r)]
        first = (page - 1) * page_size
        if cheap is None and gen_full is None and full is None and sort_key is None:
            # createDate order: page arithmetic over the generated positions, then the added.
            n_gen = len(positions)
            total = n_gen + len(added)
            window = range(first, min(first + page_size, total))
            if sort_desc:
                window = range(total - 1 - first, max(total - 1 - first - page_size, -1), -1)
            out = [
                self._record(gen[positions[p]]) if p < n_gen else added[p - n_gen] for p in window
            ]
            return [copy.deepcopy(r) for r in out], total
        rows: list[tuple[int, JSON | None]] = []
        for p in positions:
            i = gen[p]
            changed = self._changed.get(i)
            if changed is not None:
                if full is None or full(changed):
                    rows.append((i, changed))
                continue
            if cheap is not None and not cheap(i):
                continue
            if gen_full is not None and not gen_full(self._build(i)):
                continue
            rows.append((i, None))
        rows += [(-1, r) for r in added]
        if sort_key is not None and gen_sort_key is not None:
            keyed = [
                (gen_sort_key(i) if rec is None else sort_key(rec), n)
                for n, (i, rec) in enumerate(rows)
            ]
            keyed.sort()
            rows = [rows[n] for _k, n in keyed]
        if sort_desc:
            rows.reverse()
        out = [
            rec if rec is not None else self._build(i) for i, rec in rows[first : first + page_size]
        ]
        return [copy.deepcopy(r) for r in out], len(rows)


class ShipmentStore(_Derived):
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
            cheap_checks.append(lambda i: _in(orders.ship_ms(i) // MS_PER_DAY * MS_PER_DAY, lo, hi))
            full_checks.append(lambda r: _in(_ts(r["shipDate"]), lo, hi))
        if q.void_start is not None or q.void_end is not None:
            vlo, vhi = q.void_start, q.void_end
            cheap_checks.append(lambda i: False)  # generated labels are not voided
            full_checks.append(lambda r: _in(_ts(r["voidDate"]), vlo, vhi))
        if q.store_id is not None:
            store_id = q.store_id
            cheap_checks.append(lambda i: orders.store_gen(i)["storeId"] == store_id)
            full_checks.append(lambda r: (r["advancedOptions"] or {}).get("storeId") == store_id)
        if q.order_number is not None:
            number = q.order_number.lower()
            cheap_checks.append(lambda i: orders.generated_order_number(i).lower() == number)
            full_checks.append(lambda r: _eq(r["orderNumber"], number))
        expensive: list[Callable[[JSON], bool]] = []
        if q.recipient_name is not None:
            needle = q.recipient_name.lower()
            expensive.append(lambda r: needle in str((r["shipTo"] or {}).get("name") or "").lower())
        if q.recipient_country_code is not None:
            country = q.recipient_country_code
            expensive.append(lambda r: _eq((r["shipTo"] or {}).get("country"), country))
        if q.customs_country_code is not None:
            customs = q.customs_country_code
            expensive.append(
                lambda r: (
                    str((r["shipTo"] or {}).get("country") or "US").upper() != "US"
                    and _eq((r["shipTo"] or {}).get("country"), customs)
                )
            )
        for field, value in (
            ("carrierCode", q.carrier_code),
            ("serviceCode", q.service_code),
            ("trackingNumber", q.tracking_number),
            ("batchNumber", q.batch_id),
        ):
            if value is not None:
                expensive.append(_field_is(field, value))
        page, total = self._filtered_page(q, cheap_checks, full_checks, expensive)
        return [self.public(r, include_items=q.include_items) for r in page], total


class FulfillmentStore(_Derived):
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
            cheap_checks.append(lambda i: _in(orders.ship_ms(i) // MS_PER_DAY * MS_PER_DAY, lo, hi))
            full_checks.append(lambda r: _in(_ts(r["shipDate"]), lo, hi))
        if q.fulfillment_id is not None:
            fid = q.fulfillment_id
            cheap_checks.append(lambda i: self._gen_id(i) == fid)
            full_checks.append(lambda r: r["fulfillmentId"] == fid)
        if q.order_number is not None:
            number = q.order_number.lower()
            cheap_checks.append(lambda i: orders.generated_order_number(i).lower() == number)
            full_checks.append(lambda r: _eq(r["orderNumber"], number))
        expensive: list[Callable[[JSON], bool]] = []
        if q.recipient_name is not None:
            needle = q.recipient_name.lower()
            expensive.append(lambda r: needle in str((r["shipTo"] or {}).get("name") or "").lower())
        if q.tracking_number is not None:
            tracking = q.tracking_number
            expensive.append(lambda r: _eq(r["trackingNumber"], tracking))
        return self._filtered_page(q, cheap_checks, full_checks, expensive)
