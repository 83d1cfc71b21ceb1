"""The world's orders: generated on demand from (seed, index), with an overlay of changes.

Order ``i`` (``0 <= i < count``) is a pure function of the world's seed and ``i`` (see
:mod:`..data.generated_orders`): nothing is stored for it until something changes it. Changes
and new orders live in an overlay (``dict[int, dict]``) on top; small changes to generated
orders (a modifyDate, a status: what the mutation workload does) live in compact patches of a
few fields instead. That keeps a world of 1,000,000 orders as cheap as one of 100. Reads are
in :mod:`.order_reads`; all times are Pacific wall-clock (see :mod:`.._time`).
"""

from __future__ import annotations

import bisect
import copy
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .._time import format_order_ts, now_ms, parse_ts
from ..data.generated_orders import DEFAULT_SPAN_DAYS, ID_STRIDE, ORDER_ID_BASE
from ..data.order_bytes import OrderBytes
from ..data.order_json import blank_order
from .changes import ChangeFeed
from .order_cache import EncodedOrders
from .order_reads import OrderReads

JSON = dict[str, Any]

UNTOUCHABLE = frozenset(
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

"""Fields :meth:`OrderStore.touch` refuses: filters derive them from the generated order."""


class OrderStore(OrderReads):
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
        span_days: int = DEFAULT_SPAN_DAYS,
        lock: threading.RLock | None = None,
        dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
        changes: ChangeFeed | None = None,
    ) -> None:
        super().__init__(
            count=count,
            seed=seed,
            stores=stores,
            warehouse_ids=warehouse_ids,
            tag_ids=tag_ids,
            user_ids=user_ids,
            end_ms=end_ms,
            span_days=span_days,
            lock=lock,
            dense_seconds=dense_seconds,
        )
        self._overlay = {}
        self._overlay_create = {}
        self._overlay_keys = {}
        self._next_index = count
        self._added_ids = {}  # orderId -> index, for added orders
        self._max_id = ORDER_ID_BASE + ID_STRIDE * count  # above every generated orderId
        self._added_in_id_order = True
        self._holds = {}  # index -> ms at which an API-set hold ends
        self._deleted = set()
        self._deleted_gen = []  # deleted generated indices, ascending
        self._added_keys = []  # live added orders by (createDate ms, orderId, index)
        self._patches = {}  # generated index -> changed top-level fields
        self._last_stamp = end_ms + 1
        self._order_bytes = OrderBytes(self)
        self.encoded = EncodedOrders(self._encode, self._ahead_wanted, self._lock)
        self.changes = changes if changes is not None else ChangeFeed()
        """Where every write of the orders (and of the shipments, fulfillments and customers
        derived from them) is announced."""

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

    def prebuild(self) -> None:
        """Build every order's response bytes in the background, oldest first.

        At the lowest priority and within the cache's budget: see
        :meth:`.order_cache.EncodedOrders.prebuild`.
        """
        self.encoded.prebuild(range(len(self)))

    def _ahead_wanted(self, i: int) -> bool:
        return 0 <= i < self._next_index and i not in self._deleted

    def __len__(self) -> int:
        """How many orders exist (generated plus added)."""
        return self._next_index

    def delete(self, order_id: int) -> bool:
        """Soft-delete an order: it stays stored but is no longer fetched or listed.

        Returns False when no such (undeleted) order exists.
        """
        with self._lock:
            i = self.index_of(order_id)
            if i is None or i in self._deleted:
                return False
            self._deleted.add(i)
            self.encoded.discard(i)
            self._holds.pop(i, None)
            if i < self.count:
                bisect.insort(self._deleted_gen, i)
            else:
                key = (self._overlay_create[i], order_id, i)
                pos = bisect.bisect_left(self._added_keys, key)
                if pos < len(self._added_keys) and self._added_keys[pos] == key:
                    del self._added_keys[pos]
            self.changes.emit("orders", order_id, "delete")
            return True

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
            action = "create" if i is None else "update"
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
                stored = blank_order()
                stored.update(new)
                if new.get("orderId") is not None:
                    order_id = int(new["orderId"])
                    if order_id <= self._max_id:
                        self._added_in_id_order = False
                else:
                    order_id = max(ORDER_ID_BASE + ID_STRIDE * i, self._max_id + 1)
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
            self.encoded.discard(i)
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
            self.changes.emit("orders", int(stored["orderId"]), action)
            return copy.deepcopy(stored)

    def touch(self, order_id: int, fields: Mapping[str, Any]) -> JSON:
        """Change top-level ``fields`` of an existing order; returns the order as changed.

        Unlike :meth:`put` nothing else changes (give ``modifyDate`` to bump it) and a
        generated order is not materialised: the fields are kept as a patch over it. Fields
        that filters derive from the generated order (identity, dates other than modifyDate
        and paymentDate, names, items, tags, store) cannot be touched: use :meth:`put`.
        Raises KeyError for an unknown order, ValueError for such a field.
        """
        locked = UNTOUCHABLE.intersection(fields)
        if locked:
            raise ValueError(f"touch cannot change {sorted(locked)}: use put")
        with self._lock:
            self._release_due()
            i = self.index_of(order_id)
            if i is None:
                raise KeyError(order_id)
            self.encoded.discard(i)
            o = self._overlay.get(i)
            if o is not None:
                o.update(copy.deepcopy(dict(fields)))
                if o.get("orderStatus") != "on_hold" or not o.get("holdUntilDate"):
                    self._holds.pop(i, None)
            else:
                self._patches.setdefault(i, {}).update(copy.deepcopy(dict(fields)))
            self.changes.emit("orders", order_id, "update")
            return self.at(i)
