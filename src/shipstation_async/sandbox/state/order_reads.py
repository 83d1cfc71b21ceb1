"""Reading the world's orders: generated ones with the overlay of changes on top.

Ordering rules of ``GET /orders`` (every sort): ascending by (key, orderId), where key is
createDate, modifyDate or orderDate for ``sortBy``, and nothing (orderId alone) without one;
so ties of the key (identical timestamps) come in ascending orderId. ``sortDir=DESC`` is the
exact reverse of the ascending order (ties then come in descending orderId). A missing date
(paymentDate null) sorts first in ascending order.

Listing materialises at most a page: createDate filters binary-search the index (createDate
never falls as ``i`` rises) and other filters evaluate cheap per-field derivations without
building JSON for orders that do not match.
"""

from __future__ import annotations

import bisect
import copy
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs

from .._time import format_order_ts, now_ms, parse_ts
from ..data import seed_tables
from ..data.generated_orders import ID_STRIDE, ORDER_ID_BASE, GeneratedOrders
from ..data.hashing import M64
from ..data.order_builder import build_generated_order
from ..data.order_bytes import OrderBytes
from ..encoding import encode_json
from .order_cache import AHEAD_PAGES, EncodedOrders

JSON = dict[str, Any]

SortBy = Literal["OrderDate", "ModifyDate", "CreateDate"]


@attrs.frozen
class OrderQuery:
    """The parsed parameters of ``GET /orders``; times are Pacific wall-clock milliseconds.

    Every bound is inclusive. ``customer_name`` and ``item_keyword`` are case-insensitive
    "contains" matches, ``order_number`` a case-insensitive "starts with" match. ``sort_by``
    None orders by orderId. ``tag_id``: only orders carrying that tag (``/orders/listbytag``).
    ``order_ids``: only these orders (an ``importBatch``; no scan of the others).
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
    order_ids: frozenset[int] | None = None


PRODUCT_FIELDS: tuple[tuple[str, ...], ...] = tuple(
    (sku.lower(), name.lower(), *(f"{k} {v}".lower() for k, v in opts))
    for sku, name, _w, _p, opts, _loc, _pid in seed_tables.PRODUCTS
)
"""The lowercase text an item keyword matches, per catalog product."""
DISCOUNT_FIELDS: tuple[str, ...] = ("discount code", "10% off")
"""The lowercase text an item keyword matches on a discount line."""


class OrderReads(GeneratedOrders):
    """Every read of the orders: by id or key, per-field derivations, and listing.

    The overlay (added and changed orders, patches, deletions, holds) is kept by
    :class:`.orders.OrderStore`, which extends this class with the writes.
    """

    _overlay: dict[int, JSON]
    _overlay_create: dict[int, int]
    _overlay_keys: dict[str, int]
    _next_index: int
    _added_ids: dict[int, int]
    _holds: dict[int, int]
    _deleted: set[int]
    _deleted_gen: list[int]
    _added_keys: list[tuple[int, int, int]]
    _patches: dict[int, JSON]
    _order_bytes: OrderBytes
    encoded: EncodedOrders
    """Each order's response bytes, kept until a write changes the order."""

    def order_id(self, i: int) -> int:
        """The orderId of index ``i``."""
        if i >= self.count:
            return int(self._overlay[i]["orderId"])
        return self.generated_order_id(i)

    def index_of(self, order_id: int) -> int | None:
        """The index of an orderId, or None if no such order exists."""
        q = (order_id - ORDER_ID_BASE) // ID_STRIDE
        if 0 <= q < self.count and self.order_id(q) == order_id:
            return q
        return self._added_ids.get(order_id)

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
            i = (value & M64) ^ self._key_mask
            if i >= self.count or self.generated_key(i) != order_key or i in self._overlay:
                return None
            return None if i in self._deleted else self.at(i)

    def get(self, order_id: int) -> JSON | None:
        """The order with this orderId as a fresh dict, or None (also when deleted)."""
        with self._lock:
            i = self.index_of(order_id)
            return None if i is None or i in self._deleted else self.at(i)

    def is_live(self, i: int) -> bool:
        """Whether index ``i`` is an order that exists and is not deleted."""
        return 0 <= i < self._next_index and i not in self._deleted

    def live_count(self) -> int:
        """How many orders exist and are not deleted."""
        return self._next_index - len(self._deleted)

    def _release_due(self) -> None:
        """Move held orders whose holdUntilDate has come back to awaiting_shipment."""
        if not self._holds:
            return
        now = now_ms()
        for i, until in list(self._holds.items()):
            if until > now:
                continue
            del self._holds[i]
            self.encoded.discard(i)
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
        built = build_generated_order(self, i)
        if patch is not None:
            built.update(patch)
        return built

    def create_ms(self, i: int) -> int:
        """The createDate of index ``i`` as wall-clock milliseconds."""
        if i >= self.count:
            return self._overlay_create[i]
        return self.generated_create_ms(i)

    def tag_ids(self, i: int) -> list[int]:
        """The tagIds of index ``i`` (empty when none)."""
        o = self._overlay.get(i)
        if o is not None:
            return [int(t) for t in o.get("tagIds") or ()]
        return self.generated_tags(i) or []

    def _names(self, i: int) -> tuple[str, ...]:
        o = self._overlay.get(i)
        if o is not None:
            return tuple(
                str(a.get("name") or "").lower()
                for a in (o.get("billTo"), o.get("shipTo"))
                if isinstance(a, dict)
            )
        customer, recipient, _ = self.people(i)
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
        lines, discount = self.lines(self._h(i, 1))
        for p, _q in lines:
            yield from PRODUCT_FIELDS[p]
        if discount:
            yield from DISCOUNT_FIELDS

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
        return self.generated_status(i)

    def store_id(self, i: int) -> int | None:
        """advancedOptions.storeId of index ``i``."""
        o = self._overlay.get(i)
        if o is not None:
            adv = o.get("advancedOptions") or {}
            value = adv.get("storeId")
            return None if value is None else int(value)
        return int(self._stores[self.store_index(i)]["storeId"])

    def order_number(self, i: int) -> str:
        """The orderNumber of index ``i``."""
        o = self._overlay.get(i)
        return str(o.get("orderNumber") or "") if o is not None else self.generated_order_number(i)

    def modify_ms(self, i: int) -> int | None:
        """The modifyDate of index ``i`` in wall-clock milliseconds."""
        if i in self._overlay:
            return self._overlay_ts(i, "modifyDate")
        if self._patches:
            found, value = self._patched(i, "modifyDate")
            if found:
                return None if value is None else parse_ts(str(value))
        return self.dates(i)[1]

    def order_ms(self, i: int) -> int | None:
        """The orderDate of index ``i`` in wall-clock milliseconds."""
        if i in self._overlay:
            return self._overlay_ts(i, "orderDate")
        return self.dates(i)[0]

    def payment_ms(self, i: int) -> int | None:
        """The paymentDate of index ``i`` in wall-clock milliseconds (None when unpaid)."""
        if i in self._overlay:
            return self._overlay_ts(i, "paymentDate")
        if self._patches:
            found, value = self._patched(i, "paymentDate")
            if found:
                return None if value is None else parse_ts(str(value))
        return self.dates(i)[2]

    # -- listing ------------------------------------------------------------------------------

    def query(self, q: OrderQuery) -> tuple[list[JSON], int]:
        """The page of orders matching ``q`` and the total number that match."""
        with self._lock:
            self._release_due()
            indices, total = self._select(q)
            return [self.at(i) for i in indices], total

    def query_encoded(self, q: OrderQuery) -> tuple[list[bytes], int]:
        """:meth:`query` with each order as its response bytes (kept: see :attr:`encoded`).

        After a full page in createDate (or orderId) order with no filter but createDate,
        the orders of the next page are built ahead, in the background; and of the next
        AHEAD_PAGES pages when the page went on from an earlier one (a reader walking through
        the orders, by page number or by a moving createDate start), not for a page read again.
        """
        with self._lock:
            self._release_due()
            indices, total = self._select(q)
            walking = self.encoded.continues(indices)
            page = [self.encoded.get(i) for i in indices]
            if len(indices) == q.page_size and _plain(q):
                span = q.page_size * (AHEAD_PAGES if walking else 1)
                last = indices[-1]
                if q.sort_desc:  # the next pages lie below, the nearest first
                    ahead = range(last - 1, max(0, last - span) - 1, -1)
                else:
                    ahead = range(last + 1, min(self._next_index, last + 1 + span))
                self.encoded.read_ahead(ahead, q.page_size)
            return page, total

    def _encode(self, i: int) -> bytes:
        """Order ``i``'s response bytes, encoded now (what :attr:`encoded` keeps)."""
        o = self._overlay.get(i)
        if o is not None:
            return encode_json(o)
        patch = self._patches.get(i)
        if patch is None:
            return self._order_bytes.order(i)
        built = build_generated_order(self, i)
        built.update(patch)
        return encode_json(built)

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
        matching = {c for c in range(2 * pool) if needle in self.customer_name(c).lower()}
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
        if q.order_ids is not None:
            return self._select_ids(q, q.order_ids)
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

    def _select_ids(self, q: OrderQuery, order_ids: frozenset[int]) -> tuple[list[int], int]:
        """The page of ``q`` among ``order_ids`` alone: the other orders are not looked at."""
        preds = self._predicates(q, len(order_ids))
        found = []
        for order_id in order_ids:
            i = self.index_of(order_id)
            if i is None or i in self._deleted:
                continue
            created = self.create_ms(i)
            if q.create_start is not None and created < q.create_start:
                continue
            if q.create_end is not None and created > q.create_end:
                continue
            if all(p(i) for p in preds):
                found.append(i)
        found.sort(key=self._sort_key(q.sort_by), reverse=q.sort_desc)
        first = (q.page - 1) * q.page_size
        return found[first : first + q.page_size], len(found)

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


_FILTERS = (
    "customer_name",
    "item_keyword",
    "modify_start",
    "modify_end",
    "order_start",
    "order_end",
    "payment_start",
    "payment_end",
    "order_number",
    "order_status",
    "store_id",
    "tag_id",
    "order_ids",
)


def _plain(q: OrderQuery) -> bool:
    """Whether ``q`` pages in index order: createDate or orderId order, no other filter."""
    return q.sort_by in (None, "CreateDate") and all(getattr(q, f) is None for f in _FILTERS)


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
