"""The world's orders: generated on demand from (seed, index), with an overlay of changes.

Order ``i`` (``0 <= i < count``) is a pure function of the world's seed and ``i``: nothing is
stored for it until something changes it. Changes and new orders live in an overlay
(``dict[int, dict]``) on top; small changes to generated orders (a modifyDate, a status: what
the mutation workload does) live in compact patches of a few fields instead. That keeps a world
of 1,000,000 orders as cheap as one of 100: listing materialises at most a page, createDate
filters binary-search the index (createDate never falls as ``i`` rises), and other filters
evaluate cheap per-field derivations without building JSON for orders that do not match.

Ordering rules of ``GET /orders`` (every sort): ascending by (key, orderId), where key is
createDate, modifyDate or orderDate for ``sortBy``, and nothing (orderId alone) without one;
so ties of the key (identical timestamps) come in ascending orderId. ``sortDir=DESC`` is the
exact reverse of the ascending order (ties then come in descending orderId). A missing date
(paymentDate null) sorts first in ascending order.

Generated createDates rise strictly with the index, except in *dense seconds*
(``dense_seconds``): runs of consecutive orders whose createDates all fall inside one
wall-clock second, rising or equal with the index (several orders may share a millisecond).

All times are Pacific wall-clock (see :mod:`._time`), written in ShipStation's formats.
"""

from __future__ import annotations

import bisect
import copy
import math
import random
import threading
import uuid
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from . import _data
from ._time import (
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_SECOND,
    format_date,
    format_item_ts,
    format_order_ts,
    ms_to_naive,
    now_ms,
    parse_ts,
)

JSON = dict[str, Any]

ORDER_ID_BASE = 100_000_000
"""orderId of index ``i`` is ``ORDER_ID_BASE + 5 * i + (a seeded offset in 0..4)``."""
_ID_STRIDE = 5
_ORDER_ITEM_ID_BASE = 300_000_000
_CUSTOMER_ID_BASE = 30_000_000
_DEFAULT_SPAN_DAYS = 3 * 365

ORDER_STATUSES: tuple[str, ...] = (
    "awaiting_payment",
    "awaiting_shipment",
    "pending_fulfillment",
    "shipped",
    "on_hold",
    "cancelled",
    "rejected_fulfillment",
)
"""The values the orderStatus filter accepts (reference §2)."""

_STATUS_WEIGHTS = (
    ("shipped", 55),
    ("awaiting_shipment", 20),
    ("cancelled", 8),
    ("awaiting_payment", 5),
    ("on_hold", 5),
    ("pending_fulfillment", 4),
    ("rejected_fulfillment", 3),
)
_STATUS_TABLE: tuple[str, ...] = tuple(s for s, w in _STATUS_WEIGHTS for _ in range(w))
_STORE_TABLE = (0, 1, 1, 1, 1, 2, 2, 2, 3, 3)  # store kinds weighted: mostly the webstore
_LABEL_SHARE = 85  # percent of generated shipped orders shipped with a label (else marked)

_M64 = (1 << 64) - 1

SortBy = Literal["OrderDate", "ModifyDate", "CreateDate"]


def _mix(x: int) -> int:
    """A 64-bit bijective mixer (splitmix64's finaliser): cheap, well-spread hashes."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def _money(cents: int) -> int | float:
    """A money value as ShipStation writes it: an integer when whole, else 2 decimals."""
    if cents % 100 == 0:
        return cents // 100
    return round(cents / 100, 2)


def _guid(value: int) -> str:
    return str(uuid.UUID(int=value & ((1 << 128) - 1)))


@attrs.frozen
class OrderQuery:
    """The parsed parameters of ``GET /orders``; times are Pacific wall-clock milliseconds.

    Every bound is inclusive. ``customer_name`` and ``item_keyword`` are case-insensitive
    "contains" matches, ``order_number`` a case-insensitive "starts with" match. ``sort_by``
    None orders by orderId. ``tag_id``: only orders carrying that tag (``/orders/listbytag``).
    """

    customer_name: str | None = None
    item_keyword: str | None = None
    create_start: int | None = None
    create_end: int | None = None
    modify_start: int | None = None
    modify_end: int | None = None
    order_start: int | None = None
    order_end: int | None = None
    payment_start: int | None = None
    payment_end: int | None = None
    order_number: str | None = None
    order_status: str | None = None
    store_id: int | None = None
    sort_by: SortBy | None = None
    sort_desc: bool = False
    page: int = 1
    page_size: int = 100
    tag_id: int | None = None


@attrs.frozen
class _Customer:
    customer_id: int
    first: str
    last: str
    email: str
    phone: str
    street1: str
    street2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    company: str | None
    residential: bool
    verified: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


_PRODUCT_FIELDS: tuple[tuple[str, ...], ...] = tuple(
    (sku.lower(), name.lower(), *(f"{k} {v}".lower() for k, v in opts))
    for sku, name, _w, _p, opts, _loc, _pid in _data.PRODUCTS
)
_DISCOUNT_FIELDS: tuple[str, ...] = ("discount code", "10% off")


class OrderStore:
    """The world's orders: generated from (seed, index) with an overlay of changes.

    ``get(order_id)`` returns a fresh dict (mutating it changes nothing: use :meth:`put`).
    ``put(order)`` updates an existing order (found by orderId, else orderKey), keeping its
    orderId and createDate and setting modifyDate to now; keys not given keep their current
    values. An order with neither a known orderId nor a known orderKey is added: it keeps the
    orderId it was given or gets the next one, and, when missing, createDate = modifyDate =
    now. Thread-safe.

    An order put with status ``on_hold`` and a ``holdUntilDate`` returns to
    ``awaiting_shipment`` once that date (00:00 Pacific) has come: lazily, on the next read.
    Generated ``on_hold`` orders carry no holdUntilDate (held until restored). A deleted order
    (:meth:`delete`) stays stored (``at`` still returns it) but ``get``, ``find_by_key`` and
    ``query`` no longer see it.

    :meth:`touch` changes a few top-level fields of an order (modifyDate, orderStatus, ...)
    without materialising a generated one: it is kept as a compact patch over the generated
    order. :meth:`stamp` is "now" for new and changed orders: Pacific wall-clock ms, never
    before the world's end nor before an earlier stamp, so orders created one after another
    never get falling createDates (equal ones, within one millisecond, are possible).

    ``dense_seconds``: ``(index, count)`` or ``(index, count, distinct)`` entries; the
    ``count`` generated orders from ``index`` on get createDates inside one wall-clock second
    (the first whole second at or after index's regular time slot), spread over ``distinct``
    evenly spaced milliseconds (default ``min(count, 1000)``; 1: all identical), rising or
    equal with the index. Their shipments and fulfillments fall, the same way, in the next
    second. Each run needs room: ``count`` regular slots of the span must cover more than two
    seconds (ValueError otherwise, and for runs that overlap or leave ``0..count``).
    """

    def __init__(
        self,
        *,
        count: int,
        seed: int,
        stores: list[JSON],
        warehouse_ids: list[int],
        tag_ids: list[int],
        user_ids: list[str],
        end_ms: int,
        span_days: int = _DEFAULT_SPAN_DAYS,
        lock: threading.RLock | None = None,
        dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
    ) -> None:
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count!r}")
        self.count = count
        self.seed = seed
        self._key = _mix(seed & _M64 ^ 0x5EED5EED)
        self._key_mask = _mix(self._key ^ 0x0DE4_4E75)
        self._stores = stores
        self._warehouse_ids = warehouse_ids
        self._tag_ids = tag_ids
        self._user_ids = user_ids
        self.end_ms = end_ms
        span = span_days * MS_PER_DAY
        self._step = max(1, span // max(1, count))
        self.start_ms = end_ms - self._step * max(1, count)
        self._customer_pool = max(25, count // 3)
        self._overlay: dict[int, JSON] = {}
        self._overlay_create: dict[int, int] = {}
        self._overlay_keys: dict[str, int] = {}
        self._next_index = count
        self._added_ids: dict[int, int] = {}  # orderId -> index, for added orders
        self._max_id = ORDER_ID_BASE + _ID_STRIDE * count  # above every generated orderId
        self._added_in_id_order = True
        self._lock = lock if lock is not None else threading.RLock()
        self._holds: dict[int, int] = {}  # index -> ms at which an API-set hold ends
        self._shipped: tuple[array[int], array[int]] | None = None
        self._deleted: set[int] = set()
        self._deleted_gen: list[int] = []  # deleted generated indices, ascending
        # Live added orders by (createDate ms, orderId, index), ascending.
        self._added_keys: list[tuple[int, int, int]] = []
        self._patches: dict[int, JSON] = {}  # generated index -> changed top-level fields
        self._last_stamp = end_ms + 1
        self._dense: list[tuple[int, int, int, int]] = []  # (index, count, distinct, base ms)
        self._dense_starts: list[int] = []
        for spec in sorted(tuple(d) for d in dense_seconds):
            self._add_dense(*spec)

    def _add_dense(self, index: int, n: int, distinct: int | None = None) -> None:
        d = min(n, 1000) if distinct is None else distinct
        if n < 1 or index < 0 or index + n > self.count:
            raise ValueError(
                f"dense second ({index}, {n}) must lie within the {self.count} generated orders"
            )
        if not 1 <= d <= min(n, 1000):
            raise ValueError(f"distinct must be in 1..{min(n, 1000)} for {n} orders, got {d}")
        if self._dense and index < self._dense[-1][0] + self._dense[-1][1]:
            raise ValueError(f"dense second at {index} overlaps the one before it")
        slot = self.start_ms + index * self._step
        base = -(-slot // MS_PER_SECOND) * MS_PER_SECOND
        if base + 2 * MS_PER_SECOND > self.start_ms + (index + n) * self._step:
            raise ValueError(
                f"dense second ({index}, {n}): {n} orders cover {n * self._step} ms of the span; "
                "they need more than two seconds (fewer orders or a longer span_days)"
            )
        self._dense.append((index, n, d, base))
        self._dense_starts.append(index)

    def _dense_offset(self, i: int) -> tuple[int, int] | None:
        """(base ms, offset ms) of generated index ``i`` in a dense second, or None."""
        b = bisect.bisect_right(self._dense_starts, i) - 1
        if b < 0:
            return None
        index, n, d, base = self._dense[b]
        if i >= index + n:
            return None
        return base, (i - index) * d // n * MS_PER_SECOND // d

    @property
    def end_iso(self) -> str:
        """The world's end as ISO 8601 Pacific wall-clock time (``2025-06-01T12:00:00``)."""
        return ms_to_naive(self.end_ms).isoformat()

    @property
    def dense_seconds(self) -> list[tuple[int, int, int]]:
        """The dense runs ``(index, count, distinct)``, ascending."""
        return [(index, n, d) for index, n, d, _base in self._dense]

    def stamp(self) -> int:
        """Now for a new or changed order (see the class docstring); Pacific wall-clock ms."""
        with self._lock:
            ms = max(now_ms(), self.end_ms + 1, self._last_stamp)
            self._last_stamp = ms
            return ms

    def advance_stamp(self, ms: int) -> None:
        """Make later stamps no earlier than ``ms`` (after createDates handed out by hand)."""
        with self._lock:
            self._last_stamp = max(self._last_stamp, ms)

    # -- identity ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """How many orders exist (generated plus added)."""
        return self._next_index

    def _h(self, i: int, salt: int) -> int:
        return _mix((self._key + (i << 3) + salt) & _M64)

    def order_id(self, i: int) -> int:
        """The orderId of index ``i``."""
        if i >= self.count:
            return int(self._overlay[i]["orderId"])
        return ORDER_ID_BASE + _ID_STRIDE * i + (self._h(i, 0) >> 56) % _ID_STRIDE

    def index_of(self, order_id: int) -> int | None:
        """The index of an orderId, or None if no such order exists."""
        q = (order_id - ORDER_ID_BASE) // _ID_STRIDE
        if 0 <= q < self.count and self.order_id(q) == order_id:
            return q
        return self._added_ids.get(order_id)

    def _generated_key(self, i: int) -> str:
        return _guid((self._h(i, 0) << 64) | (i ^ self._key_mask))

    def find_by_key(self, order_key: str) -> JSON | None:
        """The order with this orderKey, or None (O(1) for generated orders)."""
        with self._lock:
            self._release_due()
            i = self._overlay_keys.get(order_key)
            if i is not None:
                return None if i in self._deleted else copy.deepcopy(self._overlay[i])
            try:
                value = uuid.UUID(order_key).int
            except ValueError:
                return None
            i = (value & _M64) ^ self._key_mask
            if i >= self.count or self._generated_key(i) != order_key or i in self._overlay:
                return None
            return None if i in self._deleted else self.at(i)

    def get(self, order_id: int) -> JSON | None:
        """The order with this orderId as a fresh dict, or None (also when deleted)."""
        with self._lock:
            i = self.index_of(order_id)
            return None if i is None or i in self._deleted else self.at(i)

    def delete(self, order_id: int) -> bool:
        """Soft-delete an order: it stays stored but is no longer fetched or listed.

        Returns False when no such (undeleted) order exists.
        """
        with self._lock:
            i = self.index_of(order_id)
            if i is None or i in self._deleted:
                return False
            self._deleted.add(i)
            self._holds.pop(i, None)
            if i < self.count:
                bisect.insort(self._deleted_gen, i)
            else:
                key = (self._overlay_create[i], order_id, i)
                pos = bisect.bisect_left(self._added_keys, key)
                if pos < len(self._added_keys) and self._added_keys[pos] == key:
                    del self._added_keys[pos]
            return True

    def is_live(self, i: int) -> bool:
        """Whether index ``i`` is an order that exists and is not deleted."""
        return 0 <= i < self._next_index and i not in self._deleted

    def live_count(self) -> int:
        """How many orders exist and are not deleted."""
        return self._next_index - len(self._deleted)

    def is_deleted(self, order_id: int) -> bool:
        """Whether the order with this orderId was deleted."""
        with self._lock:
            i = self.index_of(order_id)
            return i is not None and i in self._deleted

    def _release_due(self) -> None:
        """Move held orders whose holdUntilDate has come back to awaiting_shipment."""
        if not self._holds:
            return
        now = now_ms()
        for i, until in list(self._holds.items()):
            if until > now:
                continue
            del self._holds[i]
            o = self._overlay[i]
            o["orderStatus"] = "awaiting_shipment"
            o["holdUntilDate"] = None
            if parse_ts(str(o["modifyDate"])) < until:
                o["modifyDate"] = format_order_ts(until)

    def at(self, i: int) -> JSON:
        """The order at index ``i`` as a fresh dict (deleted ones included)."""
        with self._lock:
            self._release_due()
            o = self._overlay.get(i)
            if o is not None:
                return copy.deepcopy(o)
            patch = self._patches.get(i)
            patch = None if patch is None else copy.deepcopy(patch)
        if not 0 <= i < self.count:
            raise IndexError(i)
        built = self._build(i)
        if patch is not None:
            built.update(patch)
        return built

    def put(self, order: Mapping[str, Any]) -> JSON:
        """Update or add an order (see the class docstring); return the stored order."""
        new = copy.deepcopy(dict(order))
        with self._lock:
            self._release_due()
            i: int | None = None
            if new.get("orderId") is not None:
                i = self.index_of(int(new["orderId"]))
            elif new.get("orderKey") is not None:
                found = self.find_by_key(str(new["orderKey"]))
                if found is not None:
                    i = self.index_of(int(found["orderId"]))
            now = format_order_ts(self.stamp())
            if i is not None:
                current = self.at(i)
                new.pop("createDate", None)
                new.pop("orderId", None)
                stored = {**current, **new}
                stored["modifyDate"] = now
                old_key = current.get("orderKey")
                if old_key is not None and self._overlay_keys.get(old_key) == i:
                    del self._overlay_keys[old_key]
            else:
                i = self._next_index
                self._next_index += 1
                stored = _order_template()
                stored.update(new)
                if new.get("orderId") is not None:
                    order_id = int(new["orderId"])
                    if order_id <= self._max_id:
                        self._added_in_id_order = False
                else:
                    order_id = max(ORDER_ID_BASE + _ID_STRIDE * i, self._max_id + 1)
                self._max_id = max(self._max_id, order_id)
                self._added_ids[order_id] = i
                stored["orderId"] = order_id
                stored["createDate"] = stored.get("createDate") or now
                stored["modifyDate"] = stored.get("modifyDate") or stored["createDate"]
                stored["orderDate"] = stored.get("orderDate") or stored["createDate"]
                stored["orderKey"] = stored.get("orderKey") or str(uuid.uuid4())
                stored["orderNumber"] = stored.get("orderNumber") or f"SANDBOX-{i}"
            self._overlay[i] = stored
            self._patches.pop(i, None)
            if i not in self._overlay_create and i >= self.count:
                self._overlay_create[i] = parse_ts(str(stored["createDate"]))
                bisect.insort(
                    self._added_keys, (self._overlay_create[i], int(stored["orderId"]), i)
                )
            self._holds.pop(i, None)
            if stored.get("orderStatus") == "on_hold" and stored.get("holdUntilDate"):
                self._holds[i] = parse_ts(str(stored["holdUntilDate"])[:10])
            if stored.get("orderKey") is not None:
                self._overlay_keys[str(stored["orderKey"])] = i
            return copy.deepcopy(stored)

    def touch(self, order_id: int, fields: Mapping[str, Any]) -> JSON:
        """Change top-level ``fields`` of an existing order; returns the order as changed.

        Unlike :meth:`put` nothing else changes (give ``modifyDate`` to bump it) and a
        generated order is not materialised: the fields are kept as a patch over it. Fields
        that filters derive from the generated order (identity, dates other than modifyDate
        and paymentDate, names, items, tags, store) cannot be touched: use :meth:`put`.
        Raises KeyError for an unknown order, ValueError for such a field.
        """
        locked = _UNTOUCHABLE.intersection(fields)
        if locked:
            raise ValueError(f"touch cannot change {sorted(locked)}: use put")
        with self._lock:
            self._release_due()
            i = self.index_of(order_id)
            if i is None:
                raise KeyError(order_id)
            o = self._overlay.get(i)
            if o is not None:
                o.update(copy.deepcopy(dict(fields)))
                if o.get("orderStatus") != "on_hold" or not o.get("holdUntilDate"):
                    self._holds.pop(i, None)
            else:
                self._patches.setdefault(i, {}).update(copy.deepcopy(dict(fields)))
            return self.at(i)

    # -- cheap per-field derivations (used by filters; honour the overlay) --------------------

    def create_ms(self, i: int) -> int:
        """The createDate of index ``i`` as wall-clock milliseconds."""
        if i >= self.count:
            return self._overlay_create[i]
        if self._dense_starts:
            dense = self._dense_offset(i)
            if dense is not None:
                return dense[0] + dense[1]
        return self.start_ms + i * self._step + self._h(i, 0) % self._step

    def _dates(
        self, i: int, create: int | None = None, status: str | None = None
    ) -> tuple[int, int, int | None]:
        """(orderDate, modifyDate, paymentDate) of generated index ``i``.

        ``create`` and ``status``: its createDate and generated status, when the caller has them.
        """
        if create is None:
            create = self.create_ms(i)
        if status is None:
            status = self._status_generated(i)
        hd = self._h(i, 3)
        u = (hd & 0xFFFF) / 65536.0
        if u < 0.25:
            modify = create
        else:
            lag = int(-math.log(1.0 - (u - 0.25) / 0.75 * 0.999) * 3 * MS_PER_DAY)
            modify = min(create + 1 + lag, self.end_ms)
            modify = max(modify, create)
        order = (create - ((hd >> 16) & 0xFFFFFFFF) % (36 * MS_PER_HOUR)) // 1000 * 1000
        if status == "shipped":
            modify = max(modify, self.ship_ms(i, create))
        if status == "awaiting_payment":
            payment = None
        else:
            payment = min(order + ((hd >> 48) % 600) * MS_PER_SECOND, create)
        return order, modify, payment

    def _status_generated(self, i: int) -> str:
        return _STATUS_TABLE[(self._h(i, 0) >> 40) % len(_STATUS_TABLE)]

    def ship_kind(self, i: int) -> Literal["label", "marked"] | None:
        """How generated order ``i`` shipped.

        ``"label"``: a label bought in ShipStation, so a shipment; ``"marked"``: marked as
        shipped, so a fulfillment; None: not shipped.
        """
        if not 0 <= i < self.count or self._status_generated(i) != "shipped":
            return None
        return "label" if self._h(i, 4) % 100 < _LABEL_SHARE else "marked"

    def ship_ms(self, i: int, create: int | None = None) -> int:
        """When generated order ``i`` shipped (its shipment's or fulfillment's createDate).

        It lies between the order's createDate and the start of index ``i + 1``'s time slot,
        so it rises strictly with ``i``: shipment createDate filters can bisect. In a dense
        second it lies in the next second, at the order's offset (rising or equal).
        ``create``: its createDate, when the caller has it.
        """
        if self._dense_starts:
            dense = self._dense_offset(i)
            if dense is not None:
                return dense[0] + MS_PER_SECOND + dense[1]
        if create is None:
            create = self.create_ms(i)
        slot_end = self.start_ms + (i + 1) * self._step
        return create + (self._h(i, 4) >> 8) % max(1, slot_end - create)

    def store_gen(self, i: int) -> JSON:
        """The generation record of generated order ``i``'s store (storeId, prefix, ...)."""
        return self._stores[self._store_index(i)]

    def _gen_tags(self, i: int) -> list[int] | None:
        h5 = self._h(i, 5)
        if not self._tag_ids or h5 % 100 >= 20:
            return None
        n = 1 + (h5 >> 8) % 2
        return sorted({self._tag_ids[(h5 >> (16 + 8 * k)) % len(self._tag_ids)] for k in range(n)})

    def _gen_user(self, i: int) -> str | None:
        h5 = self._h(i, 5)
        if not self._user_ids or (h5 >> 40) % 100 >= 15:
            return None
        return self._user_ids[(h5 >> 48) % len(self._user_ids)]

    def _gen_service(
        self,
        i: int,
        destination: _Customer | None = None,
        ounces: int | None = None,
        status: str | None = None,
    ) -> tuple[tuple[str, str, str, str], bool]:
        """((carrierCode, serviceCode, requested service, packageCode), has a service).

        ``destination``, ``ounces`` and ``status``: the order's, when the caller has them.
        """
        if destination is None or ounces is None:
            customer, recipient, h1 = self._people(i)
            destination = recipient or customer
            lines, _ = self._lines(h1)
            ounces = sum(_data.PRODUCTS[p][2] * q for p, q in lines)
        international = destination.country != "US"
        h6 = self._h(i, 6)
        table = _data.INTL_SERVICES if international else _data.SERVICES
        service = table[h6 % len(table)]
        if service[1] == "usps_first_class_mail" and ounces > 15:
            service = _data.SERVICES[2]  # ground advantage
        if service[1] == "usps_first_class_package_international" and ounces > 64:
            service = _data.INTL_SERVICES[0]  # priority mail international
        if status is None:
            status = self._status_generated(i)
        has = status == "shipped" or (
            status in ("awaiting_shipment", "on_hold") and (h6 >> 32) % 2 == 0
        )
        return service, has

    def hash(self, i: int, salt: int) -> int:
        """A 64-bit hash of index ``i`` under ``salt`` (0 to 7)."""
        if not 0 <= salt < 8:
            raise ValueError(f"salt must be in 0..7, got {salt!r}")
        return self._h(i, salt)

    def customer_hash(self, c: int, salt: int) -> int:
        """A 64-bit hash of customer ``c`` under ``salt``, independent of its identity hash."""
        return _mix(self._customer_hash(c) ^ ((salt + 1) * 0x9E3779B97F4A7C15 & _M64))

    def generated(self, i: int) -> JSON:
        """Generated order ``i`` as first generated, ignoring the overlay (a fresh dict)."""
        if not 0 <= i < self.count:
            raise IndexError(i)
        return self._build(i)

    def generated_order_number(self, i: int) -> str:
        """The orderNumber generated order ``i`` was created with."""
        return self._order_number(i)

    def shipped_indices(self, kind: Literal["label", "marked"]) -> Sequence[int]:
        """The generated indices that shipped with a label, or were marked as shipped.

        Ascending; computed once on first use (one pass over the generated orders).
        """
        with self._lock:
            if self._shipped is None:
                labels, marked = array("q"), array("q")
                for i in range(self.count):
                    k = self.ship_kind(i)
                    if k == "label":
                        labels.append(i)
                    elif k == "marked":
                        marked.append(i)
                self._shipped = (labels, marked)
            return self._shipped[0] if kind == "label" else self._shipped[1]

    def tag_ids(self, i: int) -> list[int]:
        """The tagIds of index ``i`` (empty when none)."""
        o = self._overlay.get(i)
        if o is not None:
            return [int(t) for t in o.get("tagIds") or ()]
        return self._gen_tags(i) or []

    @property
    def customer_pool(self) -> int:
        """How many buying customers the generated orders draw from (customers 0..pool-1)."""
        return self._customer_pool

    def customer(self, c: int) -> _Customer:
        """Generated customer ``c`` (``0 <= c < 2 * customer_pool``; recipients above pool)."""
        return self._customer(c)

    def customer_index(self, customer_id: int) -> int | None:
        """The index of a buying customer's customerId, or None."""
        c = (customer_id - _CUSTOMER_ID_BASE) // 8
        if 0 <= c < self._customer_pool and self._customer(c).customer_id == customer_id:
            return c
        return None

    def _store_index(self, i: int, h0: int | None = None) -> int:
        if h0 is None:
            h0 = self._h(i, 0)
        return _STORE_TABLE[(h0 >> 48) % len(_STORE_TABLE)] % len(self._stores)

    def _order_number(self, i: int) -> str:
        return f"{self._stores[self._store_index(i)]['_prefix']}{100001 + i}"

    def _customer_hash(self, c: int) -> int:
        return _mix(self._key ^ (0xC057 << 40) ^ c)

    def _customer_name(self, c: int) -> str:
        hc = self._customer_hash(c)
        first = _data.FIRST_NAMES[hc % len(_data.FIRST_NAMES)]
        return f"{first} {_data.LAST_NAMES[(hc >> 10) % len(_data.LAST_NAMES)]}"

    def _customer(self, c: int) -> _Customer:
        hc = self._customer_hash(c)
        first = _data.FIRST_NAMES[hc % len(_data.FIRST_NAMES)]
        last = _data.LAST_NAMES[(hc >> 10) % len(_data.LAST_NAMES)]
        street = (
            f"{(hc >> 20) % 9900 + 100} {_data.STREET_NAMES[(hc >> 34) % len(_data.STREET_NAMES)]}"
        )
        street2 = f"Apt {(hc >> 40) % 400 + 1}" if (hc >> 50) % 5 == 0 else None
        local = f"{first}.{last}".lower().replace("'", "")
        email = f"{local}{c % 1000}@example.com"
        if (hc >> 53) % 12 == 0:
            city, state, postal, country = _data.INTL_CITIES[(hc >> 20) % len(_data.INTL_CITIES)]
            phone = f"+{(hc >> 8) % 90 + 10} {(hc >> 16) % 9000 + 1000} {(hc >> 24) % 900000:06d}"
        else:
            city, state, prefix, area = _data.US_CITIES[(hc >> 20) % len(_data.US_CITIES)]
            postal = f"{prefix}{(hc >> 30) % 100:02d}"
            country = "US"
            phone = f"{area}-555-{(hc >> 12) % 10000:04d}"
        company = _data.COMPANIES[(hc >> 57) % len(_data.COMPANIES)] if hc % 10 == 0 else None
        return _Customer(
            customer_id=_CUSTOMER_ID_BASE + c * 8 + (hc >> 61),
            first=first,
            last=last,
            email=email,
            phone=phone,
            street1=street,
            street2=street2,
            city=city,
            state=state,
            postal_code=postal,
            country=country,
            company=company,
            residential=company is None,
            verified=_data.ADDRESS_VERIFIED[(hc >> 4) % len(_data.ADDRESS_VERIFIED)],
        )

    def _people(self, i: int) -> tuple[_Customer, _Customer | None, int]:
        """(customer, gift recipient or None, h1) of generated index ``i``."""
        h1 = self._h(i, 1)
        customer = self._customer(h1 % self._customer_pool)
        recipient = None
        if (h1 >> 16) % 12 == 0:
            recipient = self._customer((h1 >> 24) % self._customer_pool + self._customer_pool)
        return customer, recipient, h1

    def _lines(self, h1: int) -> tuple[list[tuple[int, int]], bool]:
        """([(product index, quantity)], has a discount line) from the order's h1 hash."""
        roll = (h1 >> 20) % 10
        n = 1 if roll < 6 else 2 if roll < 9 else 3
        lines: list[tuple[int, int]] = []
        seen: set[int] = set()
        for k in range(n):
            p = (h1 >> (24 + 7 * k)) % len(_data.PRODUCTS)
            while p in seen:
                p = (p + 1) % len(_data.PRODUCTS)
            seen.add(p)
            q = (h1 >> (45 + 3 * k)) % 8
            lines.append((p, 1 if q < 5 else 2 if q < 7 else 3))
        return lines, (h1 >> 58) % 16 == 0

    def _names(self, i: int) -> tuple[str, ...]:
        o = self._overlay.get(i)
        if o is not None:
            return tuple(
                str(a.get("name") or "").lower()
                for a in (o.get("billTo"), o.get("shipTo"))
                if isinstance(a, dict)
            )
        customer, recipient, _ = self._people(i)
        if recipient is None:
            return (customer.name.lower(),)
        return customer.name.lower(), recipient.name.lower()

    def _item_fields(self, i: int) -> Iterable[str]:
        o = self._overlay.get(i)
        if o is not None:
            for item in o.get("items") or ():
                yield str(item.get("sku") or "").lower()
                yield str(item.get("name") or "").lower()
                for opt in item.get("options") or ():
                    yield f"{opt.get('name') or ''} {opt.get('value') or ''}".lower()
            return
        lines, discount = self._lines(self._h(i, 1))
        for p, _q in lines:
            yield from _PRODUCT_FIELDS[p]
        if discount:
            yield from _DISCOUNT_FIELDS

    def _overlay_ts(self, i: int, key: str) -> int | None:
        value = self._overlay[i].get(key)
        return None if value is None else parse_ts(str(value))

    def _patched(self, i: int, key: str) -> tuple[bool, Any]:
        patch = self._patches.get(i)
        if patch is None or key not in patch:
            return False, None
        return True, patch[key]

    def status(self, i: int) -> str:
        """The orderStatus of index ``i``."""
        o = self._overlay.get(i)
        if o is not None:
            return str(o.get("orderStatus"))
        if self._patches:
            found, value = self._patched(i, "orderStatus")
            if found:
                return str(value)
        return self._status_generated(i)

    def store_id(self, i: int) -> int | None:
        """advancedOptions.storeId of index ``i``."""
        o = self._overlay.get(i)
        if o is not None:
            adv = o.get("advancedOptions") or {}
            value = adv.get("storeId")
            return None if value is None else int(value)
        return int(self._stores[self._store_index(i)]["storeId"])

    def order_number(self, i: int) -> str:
        """The orderNumber of index ``i``."""
        o = self._overlay.get(i)
        return str(o.get("orderNumber") or "") if o is not None else self._order_number(i)

    def modify_ms(self, i: int) -> int | None:
        """The modifyDate of index ``i`` in wall-clock milliseconds."""
        if i in self._overlay:
            return self._overlay_ts(i, "modifyDate")
        if self._patches:
            found, value = self._patched(i, "modifyDate")
            if found:
                return None if value is None else parse_ts(str(value))
        return self._dates(i)[1]

    def order_ms(self, i: int) -> int | None:
        """The orderDate of index ``i`` in wall-clock milliseconds."""
        if i in self._overlay:
            return self._overlay_ts(i, "orderDate")
        return self._dates(i)[0]

    def payment_ms(self, i: int) -> int | None:
        """The paymentDate of index ``i`` in wall-clock milliseconds (None when unpaid)."""
        if i in self._overlay:
            return self._overlay_ts(i, "paymentDate")
        if self._patches:
            found, value = self._patched(i, "paymentDate")
            if found:
                return None if value is None else parse_ts(str(value))
        return self._dates(i)[2]

    # -- listing ------------------------------------------------------------------------------

    def query(self, q: OrderQuery) -> tuple[list[JSON], int]:
        """The page of orders matching ``q`` and the total number that match."""
        with self._lock:
            self._release_due()
            indices, total = self._select(q)
            return [self.at(i) for i in indices], total

    def _create_bounds(self, start: int | None, end: int | None) -> tuple[int, int]:
        lo = (
            0 if start is None else bisect.bisect_left(range(self.count), start, key=self.create_ms)
        )
        hi = (
            self.count
            if end is None
            else bisect.bisect_right(range(self.count), end, key=self.create_ms)
        )
        return lo, max(lo, hi)

    def _name_predicate(self, needle: str, scan_size: int) -> Callable[[int], bool]:
        """Match billTo/shipTo names; precomputes matching customers for large scans."""
        if scan_size < 2 * self._customer_pool:
            return lambda i: any(needle in n for n in self._names(i))
        pool = self._customer_pool
        matching = {c for c in range(2 * pool) if needle in self._customer_name(c).lower()}
        overlay = self._overlay

        def pred(i: int) -> bool:
            if i in overlay:
                return any(needle in n for n in self._names(i))
            h1 = self._h(i, 1)
            if h1 % pool in matching:
                return True
            return (h1 >> 16) % 12 == 0 and (h1 >> 24) % pool + pool in matching

        return pred

    def _predicates(self, q: OrderQuery, scan_size: int) -> list[Callable[[int], bool]]:
        preds: list[Callable[[int], bool]] = []
        if q.order_status is not None:
            status = q.order_status
            preds.append(lambda i: self.status(i) == status)
        if q.store_id is not None:
            store_id = q.store_id
            preds.append(lambda i: self.store_id(i) == store_id)
        if q.order_number is not None:
            prefix = q.order_number.lower()
            preds.append(lambda i: self.order_number(i).lower().startswith(prefix))
        if q.customer_name is not None:
            preds.append(self._name_predicate(q.customer_name.lower(), scan_size))
        if q.item_keyword is not None:
            keyword = q.item_keyword.lower()
            preds.append(lambda i: any(keyword in f for f in self._item_fields(i)))
        if q.tag_id is not None:
            tag_id = q.tag_id
            preds.append(lambda i: tag_id in self.tag_ids(i))
        for getter, lo, hi in (
            (self.modify_ms, q.modify_start, q.modify_end),
            (self.order_ms, q.order_start, q.order_end),
            (self.payment_ms, q.payment_start, q.payment_end),
        ):
            if lo is not None or hi is not None:
                preds.append(_in_range(getter, lo, hi))
        return preds

    def _added_in(self, start: int | None, end: int | None) -> list[int]:
        """Live added orders with createDate in ``[start, end]``, by (createDate, orderId)."""
        keys = self._added_keys
        a = 0 if start is None else bisect.bisect_left(keys, (start,))
        b = len(keys) if end is None else bisect.bisect_left(keys, (end + 1,))
        return [k[2] for k in keys[a:b]]

    def _sort_key(self, sort_by: SortBy | None) -> Callable[[int], tuple[int, int]]:
        """(key, orderId) of an index, the ascending order of ``sort_by`` (see the module)."""
        if sort_by is None:
            return lambda i: (0, self.order_id(i))
        getter = {
            "CreateDate": self.create_ms,
            "ModifyDate": self.modify_ms,
            "OrderDate": self.order_ms,
        }[sort_by]
        return lambda i: (_none_first(getter(i)), self.order_id(i))

    def _live_rank(self, lo: int, pos: int) -> int:
        """How many undeleted generated indices lie in ``[lo, pos)``."""
        deleted = self._deleted_gen
        return (pos - lo) - (bisect.bisect_left(deleted, pos) - bisect.bisect_left(deleted, lo))

    def _kth_live(self, lo: int, k: int) -> int:
        """The ``k``-th (from 0) undeleted generated index at or after ``lo``."""
        deleted = self._deleted_gen
        d_lo = bisect.bisect_left(deleted, lo)
        i = lo + k
        while True:  # the least fixed point of i = lo + k + (deleted in [lo, i])
            nxt = lo + k + bisect.bisect_right(deleted, i) - d_lo
            if nxt == i:
                return i
            i = nxt

    def _select(self, q: OrderQuery) -> tuple[list[int], int]:
        lo, hi = self._create_bounds(q.create_start, q.create_end)
        added = self._added_in(q.create_start, q.create_end)
        preds = self._predicates(q, hi - lo)
        first = (q.page - 1) * q.page_size
        if q.sort_by in (None, "CreateDate") and not preds:
            return self._keyset_page(lo, hi, added, q.sort_by, q.sort_desc, first, q.page_size)
        deleted = self._deleted
        matched = [i for i in range(lo, hi) if i not in deleted and all(p(i) for p in preds)]
        extra = [j for j in added if all(p(j) for p in preds)]
        key = self._sort_key(q.sort_by)
        if q.sort_by in (None, "CreateDate"):
            # Generated indices rise with both keys: merge the few added orders in.
            extra.sort(key=key)
            matched = _merge_sorted(matched, extra, key)
        else:
            matched += extra
            matched.sort(key=key)
        if q.sort_desc:
            matched.reverse()
        return matched[first : first + q.page_size], len(matched)

    def _keyset_page(
        self,
        lo: int,
        hi: int,
        added: list[int],
        sort_by: SortBy | None,
        desc: bool,
        first: int,
        size: int,
    ) -> tuple[list[int], int]:
        """One page in createDate or orderId order with no filter but createDate: no scan.

        Generated indices ``[lo, hi)`` are in key order already (less the deleted ones,
        counted by bisection); the added orders are merged in by rank. Costs
        O(page + added orders that interleave with the generated ones * log n).
        """
        key = self._sort_key(sort_by)
        if sort_by is None:
            added = sorted(added, key=key)
        n_gen = self._live_rank(lo, hi)
        split = 0
        if hi > lo:
            split = bisect.bisect_left(added, key(hi - 1), key=key)
        inner, tail = added[:split], added[split:]
        ranks = [
            j + self._live_rank(lo, lo + bisect.bisect_left(range(lo, hi), key(a), key=key))
            for j, a in enumerate(inner)
        ]
        total = n_gen + len(added)
        if desc:
            a, b = max(0, total - first - size), max(0, total - first)
        else:
            a, b = min(first, total), min(first + size, total)
        out: list[int] = []
        j = bisect.bisect_left(ranks, a)
        g = a - j  # the generated rank at position a (when it is not an added order)
        gi = -1
        for p in range(a, b):
            if j < len(ranks) and ranks[j] == p:
                out.append(inner[j])
                j += 1
            elif g < n_gen:
                if gi < 0:
                    gi = self._kth_live(lo, g)
                else:
                    gi += 1
                    while gi in self._deleted:
                        gi += 1
                out.append(gi)
                g += 1
            else:
                out.append(tail[p - n_gen - len(inner)])
        if desc:
            out.reverse()
        return out, total

    # -- materialising one order --------------------------------------------------------------

    def _address(self, person: _Customer, *, name: str | None = None) -> JSON:
        return {
            "name": name or person.name,
            "company": person.company,
            "street1": person.street1,
            "street2": person.street2,
            "street3": None,
            "city": person.city,
            "state": person.state,
            "postalCode": person.postal_code,
            "country": person.country,
            "phone": person.phone,
            "residential": person.residential,
            "addressVerified": person.verified,
        }

    def _build(self, i: int) -> JSON:
        # Each derivation reads the hashes and dates it shares with the others only once.
        h0 = self._h(i, 0)
        create = self.create_ms(i)
        status = _STATUS_TABLE[(h0 >> 40) % len(_STATUS_TABLE)]  # as _status_generated(i)
        order_date, modify, payment = self._dates(i, create, status)
        store = self._stores[self._store_index(i, h0)]
        customer, recipient, h1 = self._people(i)
        lines, discount = self._lines(h1)
        rnd = random.Random(self._h(i, 2))
        item_ts = format_item_ts(create)

        items: list[JSON] = []
        subtotal = 0
        weight_oz = 0
        for k, (p, qty) in enumerate(lines):
            sku, name, oz, price, opts, location, product_id = _data.PRODUCTS[p]
            subtotal += price * qty
            weight_oz += oz * qty
            items.append(
                {
                    "orderItemId": _ORDER_ITEM_ID_BASE + 4 * i + k,
                    "lineItemKey": f"{rnd.getrandbits(40):010x}" if rnd.random() < 0.6 else None,
                    "sku": sku,
                    "name": name,
                    "imageUrl": (
                        f"https://cdn.example.com/products/{sku.lower()}.jpg"
                        if rnd.random() < 0.5
                        else None
                    ),
                    "weight": {"value": oz, "units": "ounces"},
                    "quantity": qty,
                    "unitPrice": _money(price),
                    "taxAmount": None,
                    "shippingAmount": None,
                    "warehouseLocation": location,
                    "options": [{"name": n, "value": v} for n, v in opts],
                    "productId": product_id,
                    "fulfillmentSku": sku if rnd.random() < 0.2 else None,
                    "adjustment": False,
                    "upc": f"{rnd.randrange(10**11, 10**12)}" if rnd.random() < 0.3 else None,
                    "createDate": item_ts,
                    "modifyDate": item_ts,
                }
            )
        if discount:
            off = -(subtotal // 10)
            subtotal += off
            items.append(
                {
                    "orderItemId": _ORDER_ITEM_ID_BASE + 4 * i + 3,
                    "lineItemKey": None,
                    "sku": "DISCOUNT CODE",
                    "name": "10% OFF",
                    "imageUrl": None,
                    "weight": {"value": 0, "units": "ounces"},
                    "quantity": 1,
                    "unitPrice": _money(off),
                    "taxAmount": None,
                    "shippingAmount": None,
                    "warehouseLocation": None,
                    "options": [],
                    "productId": None,
                    "fulfillmentSku": None,
                    "adjustment": True,
                    "upc": None,
                    "createDate": item_ts,
                    "modifyDate": item_ts,
                }
            )
        tax = subtotal * rnd.choice((0, 0, 600, 725, 825, 950)) // 10000
        shipping = rnd.choice((0, 0, 499, 599, 895, 1000, 1295))
        total = subtotal + tax + shipping
        international = (recipient or customer).country != "US"

        (carrier_code, service_code, requested, package_code), has_service = self._gen_service(
            i, recipient or customer, sum(_data.PRODUCTS[p][2] * q for p, q in lines), status
        )
        ship_date = format_date(self.ship_ms(i, create)) if status == "shipped" else None
        hold_until = None  # generated holds last until restored
        ship_by = None
        if rnd.random() < 0.7:
            ship_by = format_order_ts((order_date // MS_PER_DAY + rnd.randrange(3, 8)) * MS_PER_DAY)
        fulfilled = status in ("pending_fulfillment", "rejected_fulfillment")
        provider = _data.FULFILLMENT_PROVIDERS[rnd.randrange(len(_data.FULFILLMENT_PROVIDERS))]
        gift = recipient is not None
        insured = rnd.random() < 0.15

        bill_to: JSON
        if rnd.random() < 0.6:
            bill_to = dict.fromkeys(
                (
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
            )
            bill_to = {"name": customer.name, **bill_to}
        else:
            bill_to = self._address(customer)
            bill_to["addressVerified"] = None
        ship_to = self._address(recipient or customer)

        customs: JSON = {"contents": None, "customsItems": None, "nonDelivery": None}
        if international:
            customs = {
                "contents": "merchandise",
                "customsItems": [
                    {
                        "customsItemId": 11_000_000 + 4 * i + k,
                        "description": item["name"],
                        "quantity": item["quantity"],
                        "value": item["unitPrice"],
                        "harmonizedTariffCode": None,
                        "countryOfOrigin": "US",
                    }
                    for k, item in enumerate(items)
                    if not item["adjustment"]
                ],
                "nonDelivery": "return_to_sender",
            }
        dims = None
        if rnd.random() < 0.6:
            dims = {
                "units": "inches",
                "length": rnd.randrange(6, 25),
                "width": rnd.randrange(4, 16),
                "height": rnd.randrange(2, 12),
            }
        custom1 = None
        if rnd.random() < 0.3:
            custom1 = ", ".join(f"SKU: {it['sku']} x {it['quantity']}" for it in items[:2])
        tag_ids = self._gen_tags(i)

        return {
            "orderId": ORDER_ID_BASE + _ID_STRIDE * i + (h0 >> 56) % _ID_STRIDE,
            "orderNumber": f"{store['_prefix']}{100001 + i}",
            "orderKey": _guid((h0 << 64) | (i ^ self._key_mask)),
            "orderDate": format_order_ts(order_date),
            "createDate": format_order_ts(create),
            "modifyDate": format_order_ts(modify),
            "paymentDate": None if payment is None else format_order_ts(payment),
            "shipByDate": ship_by,
            "orderStatus": status,
            "customerId": customer.customer_id,
            "customerUsername": customer.email,
            "customerEmail": customer.email,
            "billTo": bill_to,
            "shipTo": ship_to,
            "items": items,
            "orderTotal": _money(total),
            "amountPaid": 0 if status == "awaiting_payment" else _money(total),
            "taxAmount": _money(tax),
            "shippingAmount": _money(shipping),
            "customerNotes": (rnd.choice(_data.CUSTOMER_NOTES) if rnd.random() < 0.2 else None),
            "internalNotes": (rnd.choice(_data.INTERNAL_NOTES) if rnd.random() < 0.1 else None),
            "gift": gift,
            "giftMessage": rnd.choice(_data.GIFT_MESSAGES) if gift else None,
            "paymentMethod": (
                None if status == "awaiting_payment" else rnd.choice(_data.PAYMENT_METHODS)
            ),
            "requestedShippingService": requested,
            "carrierCode": carrier_code if has_service else None,
            "serviceCode": service_code if has_service else None,
            "packageCode": package_code if has_service else None,
            "confirmation": rnd.choice(("none", "none", "none", "delivery", "signature")),
            "shipDate": ship_date,
            "holdUntilDate": hold_until,
            "weight": {"value": weight_oz, "units": "ounces"},
            "dimensions": dims,
            "insuranceOptions": {
                "provider": "carrier" if insured else None,
                "insureShipment": insured,
                "insuredValue": _money(total) if insured else 0,
            },
            "internationalOptions": customs,
            "advancedOptions": {
                "warehouseId": None if fulfilled else store["_warehouseId"],
                "nonMachinable": False,
                "saturdayDelivery": False,
                "containsAlcohol": False,
                "mergedOrSplit": False,
                "mergedIds": [],
                "parentId": None,
                "storeId": store["storeId"],
                "customField1": custom1,
                "customField2": None,
                "customField3": None,
                "source": store["_source"],
                "billToParty": None,
                "billToAccount": None,
                "billToPostalCode": None,
                "billToCountryCode": None,
            },
            "tagIds": tag_ids,
            "userId": self._gen_user(i),
            "externallyFulfilled": fulfilled,
            "externallyFulfilledBy": provider[1] if fulfilled else None,
            "externallyFulfilledById": provider[0] if fulfilled else None,
            "externallyFulfilledByName": provider[1] if fulfilled else None,
        }


_UNTOUCHABLE = frozenset(
    (
        "orderId",
        "orderKey",
        "orderNumber",
        "createDate",
        "orderDate",
        "billTo",
        "shipTo",
        "items",
        "tagIds",
        "advancedOptions",
    )
)


def _in_range(
    getter: Callable[[int], int | None], lo: int | None, hi: int | None
) -> Callable[[int], bool]:
    def pred(i: int) -> bool:
        value = getter(i)
        if value is None:
            return False
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    return pred


def _none_first(value: int | None) -> int:
    return -(1 << 62) if value is None else value


def _merge_sorted(
    base: list[int], extra: list[int], key: Callable[[int], tuple[int, int]]
) -> list[int]:
    """Merge ``extra`` into ``base`` (both ascending by ``key``), computing few keys."""
    if not extra:
        return base
    if not base or key(extra[0]) > key(base[-1]):
        return base + extra
    out: list[int] = []
    start = 0
    for x in extra:
        pos = bisect.bisect_left(base, key(x), lo=start, key=key)
        out += base[start:pos]
        out.append(x)
        start = pos
    out += base[start:]
    return out


def _order_template() -> JSON:
    """Every documented Order key, empty: the base for orders added with partial data."""
    address = dict.fromkeys(
        (
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
    )
    order: JSON = dict.fromkeys(ORDER_KEYS)
    order.update(
        orderStatus="awaiting_shipment",
        billTo=dict(address),
        shipTo=dict(address),
        items=[],
        orderTotal=0,
        amountPaid=0,
        taxAmount=0,
        shippingAmount=0,
        gift=False,
        confirmation="none",
        weight={"value": 0, "units": "ounces"},
        insuranceOptions={"provider": None, "insureShipment": False, "insuredValue": 0},
        internationalOptions={"contents": None, "customsItems": None, "nonDelivery": None},
        advancedOptions={
            "warehouseId": None,
            "nonMachinable": False,
            "saturdayDelivery": False,
            "containsAlcohol": False,
            "mergedOrSplit": False,
            "mergedIds": [],
            "parentId": None,
            "storeId": None,
            "customField1": None,
            "customField2": None,
            "customField3": None,
            "source": None,
            "billToParty": None,
            "billToAccount": None,
            "billToPostalCode": None,
            "billToCountryCode": None,
        },
        externallyFulfilled=False,
    )
    return order


ORDER_KEYS: tuple[str, ...] = (
    "orderId",
    "orderNumber",
    "orderKey",
    "orderDate",
    "createDate",
    "modifyDate",
    "paymentDate",
    "shipByDate",
    "orderStatus",
    "customerId",
    "customerUsername",
    "customerEmail",
    "billTo",
    "shipTo",
    "items",
    "orderTotal",
    "amountPaid",
    "taxAmount",
    "shippingAmount",
    "customerNotes",
    "internalNotes",
    "gift",
    "giftMessage",
    "paymentMethod",
    "requestedShippingService",
    "carrierCode",
    "serviceCode",
    "packageCode",
    "confirmation",
    "shipDate",
    "holdUntilDate",
    "weight",
    "dimensions",
    "insuranceOptions",
    "internationalOptions",
    "advancedOptions",
    "tagIds",
    "userId",
    "externallyFulfilled",
    "externallyFulfilledBy",
    "externallyFulfilledById",
    "externallyFulfilledByName",
)
"""The documented Order keys, in the order of the docs' GetOrderResponse example."""
