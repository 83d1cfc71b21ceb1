"""Generated orders: order ``i`` of a world is a pure function of its seed and ``i``.

:class:`GeneratedOrders` derives every field of a generated order cheaply and on its own
(createDate, status, store, people, lines, service, ...), so filters never build JSON for
orders that do not match; :func:`.order_builder.build_generated_order` assembles the whole
order. Generated createDates rise strictly with the index, except in *dense seconds*: runs
of consecutive orders whose createDates all fall inside one wall-clock second, rising or
equal with the index (several orders may share a millisecond).
"""

from __future__ import annotations

import bisect
import math
import threading
from array import array
from collections.abc import Sequence
from typing import Any, Literal

from .._time import MS_PER_DAY, MS_PER_HOUR, MS_PER_SECOND, ms_to_naive
from . import seed_tables
from .hashing import GOLDEN, M64, guid, mix
from .order_builder import build_generated_order
from .people import CUSTOMER_ID_BASE, Person, make_person, person_name

JSON = dict[str, Any]

ORDER_ID_BASE = 100_000_000
"""orderId of index ``i`` is ``ORDER_ID_BASE + 5 * i + (a seeded offset in 0..4)``."""
ID_STRIDE = 5
"""The orderIds of consecutive generated orders lie this far apart."""
DEFAULT_SPAN_DAYS = 3 * 365
"""How many days the generated orders span unless told."""

_STATUS_WEIGHTS = (
    ("shipped", 55),
    ("awaiting_shipment", 20),
    ("cancelled", 8),
    ("awaiting_payment", 5),
    ("on_hold", 5),
    ("pending_fulfillment", 4),
    ("rejected_fulfillment", 3),
)
STATUS_TABLE: tuple[str, ...] = tuple(s for s, w in _STATUS_WEIGHTS for _ in range(w))
"""Generated statuses, each repeated by its weight (a hash picks one)."""
STORE_TABLE = (0, 1, 1, 1, 1, 2, 2, 2, 3, 3)
"""Generated store kinds, weighted: mostly the webstore."""
LABEL_SHARE = 85
"""Percent of generated shipped orders shipped with a label (else marked as shipped)."""


class GeneratedOrders:
    """The ``count`` generated orders of a seed, each derived on demand from its index.

    ``stores``: the generation records of the stores orders belong to (storeId, ``_prefix``,
    ``_source``, ``_warehouseId``); ``warehouse_ids``, ``tag_ids`` and ``user_ids``: what
    generated orders may refer to. The orders end at ``end_ms`` and span ``span_days``;
    ``dense_seconds``: see :class:`..state.orders.OrderStore`.
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
        span_days: int = DEFAULT_SPAN_DAYS,
        lock: threading.RLock | None = None,
        dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
    ) -> None:
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count!r}")
        self.count = count
        self.seed = seed
        self._key = mix(seed & M64 ^ 0x5EED5EED)
        self._key_mask = mix(self._key ^ 0x0DE4_4E75)
        self._stores = stores
        self._warehouse_ids = warehouse_ids
        self._tag_ids = tag_ids
        self._user_ids = user_ids
        self.end_ms = end_ms
        span = span_days * MS_PER_DAY
        self._step = max(1, span // max(1, count))
        self.start_ms = end_ms - self._step * max(1, count)
        self._customer_pool = max(25, count // 3)
        self._lock = lock if lock is not None else threading.RLock()
        self._shipped: tuple[array[int], array[int]] | None = None
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
    def store_records(self) -> list[JSON]:
        """The generation records of the stores orders belong to (see the class docstring)."""
        return self._stores

    @property
    def dense_seconds(self) -> list[tuple[int, int, int]]:
        """The dense runs ``(index, count, distinct)``, ascending."""
        return [(index, n, d) for index, n, d, _base in self._dense]

    def _h(self, i: int, salt: int) -> int:
        return mix((self._key + (i << 3) + salt) & M64)

    def generated_order_id(self, i: int) -> int:
        """The orderId of generated index ``i``."""
        return ORDER_ID_BASE + ID_STRIDE * i + (self._h(i, 0) >> 56) % ID_STRIDE

    def identity(self, i: int, h0: int) -> tuple[int, int, int, str, int]:
        """(orderId, orderKey's integer, createDate, status, store index) from ``h0``.

        ``h0``: index ``i``'s salt-0 hash. What :meth:`generated_order_id`,
        :meth:`generated_key_value`, :meth:`generated_create_ms`, :meth:`generated_status` and
        :meth:`store_index` return, in one call.
        """
        return (
            ORDER_ID_BASE + ID_STRIDE * i + (h0 >> 56) % ID_STRIDE,
            (h0 << 64) | (i ^ self._key_mask),
            self.create_from(i, h0),
            STATUS_TABLE[(h0 >> 40) % len(STATUS_TABLE)],
            STORE_TABLE[(h0 >> 48) % len(STORE_TABLE)] % len(self._stores),
        )

    def generated_key(self, i: int) -> str:
        """The orderKey of generated index ``i``."""
        return guid(self.generated_key_value(i))

    def generated_key_value(self, i: int) -> int:
        """The integer whose GUID is the orderKey of generated index ``i``."""
        return (self._h(i, 0) << 64) | (i ^ self._key_mask)

    def generated_create_ms(self, i: int) -> int:
        """The createDate of generated index ``i`` as wall-clock milliseconds."""
        return self.create_from(i, self._h(i, 0))

    def hashes(self, i: int) -> list[int]:
        """The hashes of index ``i`` under salts 0 to 6 (as :meth:`hash`), in one call."""
        # mix() of each salt, inlined: a page's build computes seven per order.
        base = self._key + (i << 3) + GOLDEN
        out = []
        for salt in range(7):
            x = (base + salt) & M64
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
            out.append(x ^ (x >> 31))
        return out

    def create_from(self, i: int, h0: int) -> int:
        """:meth:`generated_create_ms` of ``i`` given its salt-0 hash ``h0``."""
        if self._dense_starts:
            dense = self._dense_offset(i)
            if dense is not None:
                return dense[0] + dense[1]
        return self.start_ms + i * self._step + h0 % self._step

    def dates(
        self, i: int, create: int | None = None, status: str | None = None
    ) -> tuple[int, int, int | None]:
        """(orderDate, modifyDate, paymentDate) of generated index ``i``.

        ``create`` and ``status``: its createDate and generated status, when the caller has them.
        """
        if create is None:
            create = self.generated_create_ms(i)
        if status is None:
            status = self.generated_status(i)
        shipped = None
        if status == "shipped":
            shipped = self.ship_ms(i, create)
        return self.dates_from(self._h(i, 3), create, shipped, status == "awaiting_payment")

    def dates_from(
        self, hd: int, create: int, shipped: int | None, unpaid: bool
    ) -> tuple[int, int, int | None]:
        """:meth:`dates` from the order's salt-3 hash ``hd`` and what decides the dates.

        ``create``: its createDate; ``shipped``: when it shipped (None: not shipped);
        ``unpaid``: whether it is awaiting_payment.
        """
        u = (hd & 0xFFFF) / 65536.0
        if u < 0.25:
            modify = create
        else:
            lag = int(-math.log(1.0 - (u - 0.25) / 0.75 * 0.999) * 3 * MS_PER_DAY)
            modify = min(create + 1 + lag, self.end_ms)
            modify = max(modify, create)
        order = (create - ((hd >> 16) & 0xFFFFFFFF) % (36 * MS_PER_HOUR)) // 1000 * 1000
        if shipped is not None:
            modify = max(modify, shipped)
        payment = None if unpaid else min(order + ((hd >> 48) % 600) * MS_PER_SECOND, create)
        return order, modify, payment

    def generated_status(self, i: int) -> str:
        """The status generated order ``i`` was created with."""
        return STATUS_TABLE[(self._h(i, 0) >> 40) % len(STATUS_TABLE)]

    def ship_kind(self, i: int) -> Literal["label", "marked"] | None:
        """How generated order ``i`` shipped.

        ``"label"``: a label bought in ShipStation, so a shipment; ``"marked"``: marked as
        shipped, so a fulfillment; None: not shipped.
        """
        if not 0 <= i < self.count or self.generated_status(i) != "shipped":
            return None
        return "label" if self._h(i, 4) % 100 < LABEL_SHARE else "marked"

    def ship_ms(self, i: int, create: int | None = None) -> int:
        """When generated order ``i`` shipped (its shipment's or fulfillment's createDate).

        It lies between the order's createDate and the start of index ``i + 1``'s time slot,
        so it rises strictly with ``i``: shipment createDate filters can bisect. In a dense
        second it lies in the next second, at the order's offset (rising or equal).
        ``create``: its createDate, when the caller has it.
        """
        if create is None:
            create = self.generated_create_ms(i)
        return self.ship_from(i, create, self._h(i, 4))

    def ship_from(self, i: int, create: int, h4: int) -> int:
        """:meth:`ship_ms` of ``i`` given its createDate and its salt-4 hash ``h4``."""
        if self._dense_starts:
            dense = self._dense_offset(i)
            if dense is not None:
                return dense[0] + MS_PER_SECOND + dense[1]
        slot_end = self.start_ms + (i + 1) * self._step
        return create + (h4 >> 8) % max(1, slot_end - create)

    def store_gen(self, i: int) -> JSON:
        """The generation record of generated order ``i``'s store (storeId, prefix, ...)."""
        return self._stores[self.store_index(i)]

    def generated_tags(self, i: int) -> list[int] | None:
        """The tagIds generated order ``i`` was created with (None: no tags)."""
        return self.tags_from(self._h(i, 5))

    def tags_from(self, h5: int) -> list[int] | None:
        """:meth:`generated_tags` given the order's salt-5 hash ``h5``."""
        if not self._tag_ids or h5 % 100 >= 20:
            return None
        n = 1 + (h5 >> 8) % 2
        return sorted({self._tag_ids[(h5 >> (16 + 8 * k)) % len(self._tag_ids)] for k in range(n)})

    def generated_user(self, i: int) -> str | None:
        """The userId generated order ``i`` was assigned to, or None."""
        return self.user_from(self._h(i, 5))

    def user_from(self, h5: int) -> str | None:
        """:meth:`generated_user` given the order's salt-5 hash ``h5``."""
        if not self._user_ids or (h5 >> 40) % 100 >= 15:
            return None
        return self._user_ids[(h5 >> 48) % len(self._user_ids)]

    def generated_service(
        self,
        i: int,
        destination: Person | None = None,
        ounces: int | None = None,
        status: str | None = None,
    ) -> tuple[tuple[str, str, str, str], bool]:
        """((carrierCode, serviceCode, requested service, packageCode), has a service).

        ``destination``, ``ounces`` and ``status``: the order's, when the caller has them.
        """
        if destination is None or ounces is None:
            customer, recipient, h1 = self.people(i)
            destination = recipient or customer
            lines, _ = self.lines(h1)
            ounces = sum(seed_tables.PRODUCTS[p][2] * q for p, q in lines)
        if status is None:
            status = self.generated_status(i)
        return service_from(self._h(i, 6), destination.country != "US", ounces, status)

    def hash(self, i: int, salt: int) -> int:
        """A 64-bit hash of index ``i`` under ``salt`` (0 to 7)."""
        if not 0 <= salt < 8:
            raise ValueError(f"salt must be in 0..7, got {salt!r}")
        return self._h(i, salt)

    def customer_hash(self, c: int, salt: int) -> int:
        """A 64-bit hash of customer ``c`` under ``salt``, independent of its identity hash."""
        return mix(self._customer_hash(c) ^ ((salt + 1) * 0x9E3779B97F4A7C15 & M64))

    def generated(self, i: int) -> JSON:
        """Generated order ``i`` as first generated, ignoring the overlay (a fresh dict)."""
        if not 0 <= i < self.count:
            raise IndexError(i)
        return build_generated_order(self, i)

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

    @property
    def customer_pool(self) -> int:
        """How many buying customers the generated orders draw from (customers 0..pool-1)."""
        return self._customer_pool

    def customer(self, c: int) -> Person:
        """Generated customer ``c`` (``0 <= c < 2 * customer_pool``; recipients above pool)."""
        return make_person(c, self._customer_hash(c))

    def customer_hash_of(self, c: int) -> int:
        """Generated customer ``c``'s identity hash: every field of it derives from this."""
        return self._customer_hash(c)

    def customer_index(self, customer_id: int) -> int | None:
        """The index of a buying customer's customerId, or None."""
        c = (customer_id - CUSTOMER_ID_BASE) // 8
        if 0 <= c < self._customer_pool and self.customer(c).customer_id == customer_id:
            return c
        return None

    def store_index(self, i: int, h0: int | None = None) -> int:
        """Which store generated order ``i`` belongs to (an index into ``stores``)."""
        if h0 is None:
            h0 = self._h(i, 0)
        return STORE_TABLE[(h0 >> 48) % len(STORE_TABLE)] % len(self._stores)

    def generated_order_number(self, i: int) -> str:
        """The orderNumber generated order ``i`` was created with."""
        return f"{self._stores[self.store_index(i)]['_prefix']}{100001 + i}"

    def _customer_hash(self, c: int) -> int:
        return mix(self._key ^ (0xC057 << 40) ^ c)

    def customer_name(self, c: int) -> str:
        """The name of generated customer ``c`` (cheaper than :meth:`customer`)."""
        return person_name(self._customer_hash(c))

    def people(self, i: int) -> tuple[Person, Person | None, int]:
        """(customer, gift recipient or None, h1) of generated index ``i``."""
        h1 = self._h(i, 1)
        customer = self.customer(h1 % self._customer_pool)
        recipient = None
        if (h1 >> 16) % 12 == 0:
            recipient = self.customer((h1 >> 24) % self._customer_pool + self._customer_pool)
        return customer, recipient, h1

    @staticmethod
    def lines(h1: int) -> tuple[list[tuple[int, int]], bool]:
        """([(product index, quantity)], has a discount line) from the order's h1 hash."""
        roll = (h1 >> 20) % 10
        n = 1 if roll < 6 else 2 if roll < 9 else 3
        lines: list[tuple[int, int]] = []
        seen: set[int] = set()
        for k in range(n):
            p = (h1 >> (24 + 7 * k)) % len(seed_tables.PRODUCTS)
            while p in seen:
                p = (p + 1) % len(seed_tables.PRODUCTS)
            seen.add(p)
            q = (h1 >> (45 + 3 * k)) % 8
            lines.append((p, 1 if q < 5 else 2 if q < 7 else 3))
        return lines, (h1 >> 58) % 16 == 0


def service_from(
    h6: int, international: bool, ounces: int, status: str
) -> tuple[tuple[str, str, str, str], bool]:
    """:meth:`GeneratedOrders.generated_service` given the order's salt-6 hash ``h6``."""
    table = seed_tables.INTL_SERVICES if international else seed_tables.SERVICES
    service = table[h6 % len(table)]
    if service[1] == "usps_first_class_mail" and ounces > 15:
        service = seed_tables.SERVICES[2]  # ground advantage
    if service[1] == "usps_first_class_package_international" and ounces > 64:
        service = seed_tables.INTL_SERVICES[0]  # priority mail international
    has = status == "shipped" or (
        status in ("awaiting_shipment", "on_hold") and (h6 >> 32) % 2 == 0
    )
    return service, has
