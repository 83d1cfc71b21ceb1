"""The orders' response bytes, kept between reads and built ahead of a paging reader.

A list page is joined from each order's JSON bytes (:func:`..encoding.join_paged`), so an
order read again costs a dict lookup. :class:`EncodedOrders` keeps those bytes within a byte
budget (the oldest go first) and drops an order's bytes when a write changes it: the store
calls :meth:`EncodedOrders.discard` wherever it changes an order (under the world's lock,
as every read of the cache is), so a page never shows an order as it was before a write.
Not through the change feed: a label bought or an order marked as shipped changes the order
inside an operation whose one record names the shipment, and a hold that ends by itself
changes it at a read, with no record at all.

Read-ahead: a reader paging through the orders in createDate order asks next for the orders
after its page, so after such a page the cache builds them in a worker thread, a few at a
time under the lock, yielding the interpreter between batches so that requests keep their
latency; several pages ahead for a reader seen walking (see
:meth:`.order_reads.OrderReads.query_encoded`). Nearest pages first: every reader's next page
is built before any reader's page after it, so that concurrent walkers each find their next
page built. The worker ends when it has nothing left to build.

Prebuild (:meth:`EncodedOrders.prebuild`, for a sandbox served from a process of its own):
the worker also builds every order, at the lowest priority (after any page a reader is
owed) and only while the bytes fit the budget, so that a reader arriving later finds them
built, as on a server whose records are stored rather than generated on demand.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

DEFAULT_BUDGET = 192 << 20
"""Bytes of encoded orders kept at most (about 60,000 generated orders of about 3 KB)."""
AHEAD_BATCH = 16
"""Orders the read-ahead builds per hold of the lock (about half a millisecond)."""
AHEAD_PAGES = 4
"""Pages built ahead of a reader walking through the orders (one for any other reader)."""
CONTINUED_KEPT = 4096
"""Starts of pages read ahead remembered at most (the oldest are forgotten first)."""
CONTINUE_SLACK = 16
"""How far into a page its reader's previous page may reach (a keyset's overlap)."""
AHEAD_RANGES = 256
"""Read-ahead ranges queued at most per distance (the oldest are dropped first)."""
PREBUILD_HEADROOM = 16 << 20
"""Bytes of the budget a prebuild leaves free, for the pages readers ask for later."""


class EncodedOrders:
    """Order index -> the order's JSON bytes, within ``budget`` bytes.

    ``build(i)`` encodes order ``i`` (called with ``lock`` held); ``wanted(i)``: whether a
    read-ahead should build ``i`` (it exists, is not deleted, and is not cached yet).
    """

    def __init__(
        self,
        build: Callable[[int], bytes],
        wanted: Callable[[int], bool],
        lock: threading.RLock,
        budget: int = DEFAULT_BUDGET,
    ) -> None:
        self._build = build
        self._wanted = wanted
        self._lock = lock
        self.budget = budget
        self._bytes: dict[int, bytes] = {}
        self._size = 0
        # By distance from the reader: the next page, the one after, ...
        self._ahead = [deque[range](maxlen=AHEAD_RANGES) for _ in range(AHEAD_PAGES)]
        self._worker: threading.Thread | None = None
        self._prebuild: deque[range] = deque()  # built when no reader is owed a page
        self._continued: dict[int, None] = {}  # where pages read ahead start, oldest first
        self.built = 0
        """Orders encoded (on a read or ahead of one)."""

    def __contains__(self, i: int) -> bool:
        return i in self._bytes

    def __len__(self) -> int:
        return len(self._bytes)

    def get(self, i: int) -> bytes:
        """Order ``i``'s bytes, encoded now unless kept. Call with the lock held."""
        data = self._bytes.get(i)
        if data is not None:
            return data
        data = self._build(i)
        self.built += 1
        self._keep(i, data)
        return data

    def _keep(self, i: int, data: bytes) -> None:
        if len(data) > self.budget:
            return
        self._size += len(data)
        self._bytes[i] = data
        while self._size > self.budget:  # the oldest entries go first
            self._size -= len(self._bytes.pop(next(iter(self._bytes))))

    def discard(self, i: int) -> None:
        """Forget order ``i``'s bytes (it changed). Call with the lock held."""
        data = self._bytes.pop(i, None)
        if data is not None:
            self._size -= len(data)

    def read_ahead(self, indices: range, page: int) -> None:
        """Build the orders ``indices`` soon, in a worker thread (those not yet kept).

        ``indices`` is read in pages of ``page`` orders, in order: the first page is built
        before the second page of any range asked for, and so on.
        """
        with self._lock:
            if indices:
                self._continued[indices[0]] = None
                if len(self._continued) > CONTINUED_KEPT:
                    del self._continued[next(iter(self._continued))]
            if all(i in self._bytes for i in indices):
                return
            for distance, start in enumerate(range(0, len(indices), page)):
                level = self._ahead[min(distance, AHEAD_PAGES - 1)]
                level.append(indices[start : start + page])
            self._start_worker()

    def prebuild(self, indices: range) -> None:
        """Build the orders ``indices`` in the worker thread whenever no reader is owed a page.

        Never beyond the byte budget (less PREBUILD_HEADROOM): a prebuild stops where the
        budget is full rather than push out bytes a reader may want again.
        """
        with self._lock:
            self._prebuild.append(indices)
            self._start_worker()

    def stop_prebuild(self) -> None:
        """Drop what the prebuild has left to build (the worker ends after its batch)."""
        with self._lock:
            self._prebuild.clear()

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._run, name="sandbox-read-ahead", daemon=True
            )
            self._worker.start()

    def continues(self, indices: Sequence[int]) -> bool:
        """Whether a page goes on from one read before: one read ahead of starts within it.

        Near its start: a reader by page number starts where the page read ahead does, one
        by a moving createDate start a little before (the last second it read, again).
        """
        return any(i in self._continued for i in indices[:CONTINUE_SLACK])

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the read-ahead has nothing left to build; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                worker = self._worker
            if worker is None:
                return True
            worker.join(min(0.05, max(0.0, deadline - time.monotonic())))
        return False

    def _run(self) -> None:
        while True:
            with self._lock:
                batch = self._next_batch()
                if not batch:
                    self._worker = None
                    return
                for i in batch:
                    self.get(i)
            time.sleep(0)  # let waiting requests have the interpreter between batches

    def _next_batch(self) -> list[int]:
        """Up to AHEAD_BATCH indices still wanted, from the nearest, oldest range queued."""
        batch: list[int] = []
        for level in self._ahead:
            self._take(level, batch)
            if batch:
                return batch
        return self._prebuild_batch()

    def _prebuild_batch(self) -> list[int]:
        """Up to AHEAD_BATCH indices of the prebuild; none once the budget is nearly full."""
        batch: list[int] = []
        full = self.budget - PREBUILD_HEADROOM
        if self._size < full:
            self._take(self._prebuild, batch)
        else:
            self._prebuild.clear()
        return batch

    def _take(self, queue: deque[range], batch: list[int]) -> None:
        """Fill ``batch`` up to AHEAD_BATCH from ``queue``'s ranges, with indices still wanted."""
        while queue and len(batch) < AHEAD_BATCH:
            todo = queue.popleft()
            for n, i in enumerate(todo):
                if i in self._bytes or not self._wanted(i):
                    continue
                batch.append(i)
                if len(batch) == AHEAD_BATCH:
                    if n + 1 < len(todo):
                        queue.appendleft(todo[n + 1 :])
                    break
