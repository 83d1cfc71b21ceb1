"""Walking one part of a listing: the requests, the keyset cursor and the dense seconds.

A part is walked as a keyset on the record's date (which never changes): each request asks
for ``[cursor second - 1 s, end second + 1 s]`` sorted ascending, page 1. For a full page, the
records before the last record's second are accepted and the cursor moves to that second; a
second holding a whole page or more is read page by page, re-read until its total is stable,
and de-duplicated by id within that second only. A list without a date filter is read whole
by offset pages, again and again, until nothing can have been missed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._raw_records import page_reader
from .._sansio import Lane, Operation
from .._time import end_wall
from ..errors import DecodeError, ShipStationError
from ..models.converter import structure_records
from .plan import (
    T0_LAG,
    Passes,
    Plan,
    Split,
    SubRange,
    count_of,
    key_of,
    query_time,
    second_of,
    total_of,
)
from .registry import Walk

if TYPE_CHECKING:
    from ..client import ShipStation

# Whole reads of an offset-paged listing before it counts as changing too fast to read.
MAX_PASSES = 20
EMPTY_PAGE_READS = 5
"""Reads of a first page that comes back empty while counting records, before an error."""
EMPTY_PAGE_PAUSE = 0.5
"""Seconds before the first read again of such a page (doubled before each next one)."""
MAX_UNCOUNTED_PAGES = 10_000
"""Pages read of one listing whose answers give no total (5 million records at 500)."""


class StreamError(ShipStationError):
    """A stream could not get a consistent read (a second's total kept changing)."""


@attrs.frozen
class Batch:
    """What a walker hands over: part ``part``'s records, raw and typed, and its new cursor.

    ``items`` are the records read into models, or the records themselves on an untyped
    stream.

    ``done`` says the part is finished. Checkpointing ``cursor`` with the records written
    makes a resumed walk start exactly after them.
    """

    part: int
    records: list[Any]
    items: list[Any]
    cursor: str
    done: bool
    split: Split | None = None
    """Set when an idle walker cut a part in two. Such a batch has no
    records and no cursor (``""``): checkpoint the cut itself, before the batches that follow,
    which depend on it."""


class Walker:
    """The requests of one stream's walk; every part's walker task runs through it.

    What it learns (records left, density, the cursors) goes into the shared :class:`Plan`;
    each batch goes onto the queue it is given. ``notify`` is called whenever a cursor moves.
    """

    def __init__(
        self,
        client: ShipStation,
        walk: Walk,
        filters: Mapping[str, Any],
        plan: Plan,
        *,
        lane: Lane,
        typed: bool,
        notify: Callable[[], None],
        keep_bytes: bool = False,
    ) -> None:
        self._client = client
        self._walk = walk
        self._filters = dict(filters)
        self._plan = plan
        self._page_size = plan.page_size
        self._lane = lane
        # A consumer of raw records only (the backfill) skips building models.
        self._typed = typed
        # A consumer that writes the API's JSON (the backfill's sinks) keeps each record's bytes.
        self._decode = page_reader(walk.envelope, walk.decoded_keys) if keep_bytes else None
        self._notify = notify
        self.requests = 0
        """Requests sent so far."""

    async def _get(
        self, query: Mapping[str, Any], headers: dict[str, str] | None = None
    ) -> Mapping[str, Any]:
        query = {**self._filters, **query}
        operation = Operation("GET", self._walk.path, query=query, decode=self._decode)
        self.requests += 1
        data = await self._client.request(operation, lane=self._lane, headers_out=headers)
        walk = self._walk
        if not isinstance(data, Mapping) or not isinstance(data.get(walk.envelope), list):
            raise DecodeError(f"expected an object with a {walk.envelope!r} list")
        if not all(isinstance(record, Mapping) for record in data[walk.envelope]):
            raise DecodeError(f"{walk.path}: an entry of {walk.envelope!r} is not an object")
        return data

    async def probe(self, lag: timedelta = T0_LAG) -> tuple[str | None, datetime, int]:
        """One request for what the caller left open: where the range starts and ends.

        The oldest matching record's creation key is the start; T0, the end, is the server's
        ``Date`` minus ``lag`` (two minutes). Also returns how many records match the filters.
        """
        headers: dict[str, str] = {}
        query = {"sortBy": self._walk.sort_by, "sortDir": "ASC", "page": 1, "pageSize": 1}
        data = await self._get(query, headers)
        records = data[self._walk.envelope]
        oldest = self._walk.record_key(records[0]) if records else None
        try:
            server_now = parsedate_to_datetime(headers["Date"])
        except (KeyError, TypeError, ValueError):
            raise DecodeError("the server's answer carried no usable Date header") from None
        # Less the lag as a moment, then as a wall: across a clock change the walls jump.
        return oldest, end_wall(server_now - lag), count_of(data.get("total"))

    def _page_query(self, low: datetime, high: datetime, page: int) -> dict[str, Any]:
        walk = self._walk
        assert walk.start_param is not None and walk.end_param is not None
        return {
            walk.start_param: query_time(low),
            walk.end_param: query_time(high),
            "sortBy": walk.sort_by,
            "sortDir": "ASC",
            "page": page,
            "pageSize": self._page_size,
        }

    async def walk_range(self, index: int, part: SubRange, queue: asyncio.Queue[Any]) -> None:
        """Walk part ``index`` by its keyset cursor to its end (which a cut may move)."""
        walk = self._walk
        plan = self._plan
        empty_counted = 0  # empty pages in a row whose answer still counted records
        while not part.done:
            # Read each time: an idle walker may have cut this part short meanwhile.
            asked_end = part.end
            second = second_of(part.cursor)
            query = self._page_query(
                second - timedelta(seconds=1), second_of(asked_end) + timedelta(seconds=1), 1
            )
            data = await self._get(query)
            records = data[walk.envelope]
            total = total_of(data.get("total"))
            if not records and total:
                # A first page with nothing on it that counts records is no end (ending here
                # would drop them all): read it again after a pause (a lagging server may
                # catch up); an answer that never agrees is an error.
                empty_counted += 1
                if empty_counted >= EMPTY_PAGE_READS:
                    raise StreamError(
                        f"{walk.path}: {EMPTY_PAGE_READS} empty pages in a row each counted "
                        f"{total} records; try again later"
                    )
                await asyncio.sleep(EMPTY_PAGE_PAUSE * 2 ** (empty_counted - 1))
                continue
            empty_counted = 0
            keys = [walk.record_key(r) for r in records]
            if any(later[:19] < earlier[:19] for earlier, later in itertools.pairwise(keys)):
                # The cursor moves to the page's last second: out of order, it would pass
                # records the server never sent. (Within a second the order does not matter.)
                raise StreamError(
                    f"{walk.path}: the server did not sort the page by {walk.sort_by} "
                    "ascending as asked; the walk cannot go on without missing records"
                )
            # The end: a page short of the size asked for, which holds all the answer counted
            # (a server that caps pages lower sends short pages with more still to come; with
            # no total, only an empty page ends it).
            complete = (
                total is not None and len(records) < self._page_size and len(records) >= total
            )
            if not records or complete or keys[-1] > part.end:
                accepted = [r for r, k in zip(records, keys, strict=True) if part.contains(k)]
                plan.left[index] = 0
                await self._emit(queue, index, accepted, part.cursor, done=True)
                return
            last_second = keys[-1][:19]
            counted = total if total is not None else len(records)  # for the estimates
            if part.end == asked_end:
                # Over the whole span the answer counted, not the page's: a page inside one
                # dense second (500 records in it) is no rate for the rest of the range.
                spanned = (second_of(asked_end) - second).total_seconds() + 2
                plan.density[index] = counted / max(1.0, spanned)
            if last_second > part.cursor[:19]:
                accepted = [
                    r
                    for r, k in zip(records, keys, strict=True)
                    if part.contains(k) and k[:19] < last_second
                ]
                cursor = last_second + ".0000000"
            else:
                # A whole page within (or before) the cursor's second: read that second alone.
                accepted = await self._read_second(part, second)
                cursor = key_of(second + timedelta(seconds=1))
            done = cursor > part.end or (cursor == part.end and not part.inclusive)
            if done:
                plan.left[index] = 0
            elif part.end == asked_end:
                plan.left[index] = max(0, counted - len(accepted))
            else:  # cut while this answer was on its way: its total spans both halves
                plan.left[index] = max(0, plan.left.get(index, 0) - len(accepted))
            await self._emit(queue, index, accepted, cursor, done=done)

    async def _read_whole(
        self, query_of: Callable[[int], Mapping[str, Any]]
    ) -> tuple[list[Any], int | None]:
        """Every page of one offset-paged query (``query_of(page)``): its records and total.

        Pages as long as the server makes them: one that caps them below the size asked for
        (a first page short of the total) has as many pages more as that length gives. With
        no total (None), pages are read until one is empty; one of only records already read
        (a server that ignores the page number) is a :class:`StreamError`.
        """
        envelope, id_key = self._walk.envelope, self._walk.id_key
        first = await self._get(query_of(1))
        total = total_of(first.get("total"))
        records = list(first[envelope])
        if total is not None:
            size = len(records)  # the server's page size (it may cap below the size asked)
            if 0 < size < total:
                for page in range(2, -(-total // size) + 1):
                    records += (await self._get(query_of(page)))[envelope]
            return records, total
        seen = {record.get(id_key) for record in records}
        page = 2
        while records and page <= MAX_UNCOUNTED_PAGES:
            more = (await self._get(query_of(page)))[envelope]
            if not more:
                break
            new = {record.get(id_key) for record in more} - seen
            if not new:
                # Only records of earlier pages, and no total to tell how many there are: a
                # server that ignores the page asked for. What is read is not the whole list.
                raise StreamError(
                    f"{self._walk.path}: page {page} held only records of earlier pages, and "
                    "the answers give no total: the list cannot be read whole"
                )
            seen |= new
            records += more
            page += 1
        return records, None

    def _sort_key(self, record: Mapping[str, Any]) -> str:
        # Creation order; a record without a usable date goes first rather than failing here.
        try:
            return self._walk.record_key(record)
        except DecodeError:
            return ""

    async def _read_second(self, part: SubRange, second: datetime) -> list[Any]:
        """Every record created within ``second`` (and in ``part``), read by page number.

        Offset pages shift when records join or leave between two page reads, and a server may
        order records with equal creation times differently on every read; so the window is
        read whole, again and again, until :class:`Passes` says nothing was missed. Every
        record read is kept (de-duplicated by id).
        """
        walk = self._walk
        prefix = key_of(second)[:19]
        found: dict[Any, Any] = {}
        low, high = second - timedelta(seconds=1), second + timedelta(seconds=1)
        passes = Passes()
        for _ in range(MAX_PASSES):
            records, total = await self._read_whole(lambda page: self._page_query(low, high, page))
            for record in records:
                key = walk.record_key(record)
                if key[:19] == prefix and part.contains(key):
                    found[record.get(walk.id_key)] = record
            if passes.settled({r.get(walk.id_key) for r in records}, total):
                return sorted(found.values(), key=walk.record_key)
        raise StreamError(
            f"{walk.path}: the records of {prefix} kept changing through {MAX_PASSES} reads; "
            "try again later"
        )

    async def walk_offsets(self, queue: asyncio.Queue[Any]) -> None:
        """Offset pages sorted by CreateDate, for lists with no date filter, verified.

        The whole list is read until :class:`Passes` says nothing was missed, then emitted as
        one batch in creation order.
        """
        walk = self._walk
        query = {"sortBy": "CreateDate", "sortDir": "ASC", "pageSize": self._page_size}
        found: dict[Any, Any] = {}
        passes = Passes()
        for _ in range(MAX_PASSES):
            records, total = await self._read_whole(lambda page: {**query, "page": page})
            latest = {r.get(walk.id_key): r for r in records}
            found.update(latest)
            if passes.settled(set(latest), total):
                # One batch, so that a checkpoint commits all of it or none: a part walked by
                # offset has no cursor to resume from. In creation order (records only earlier
                # reads saw among them).
                await self._emit(
                    queue, 0, sorted(found.values(), key=self._sort_key), "", done=True
                )
                return
        raise StreamError(f"{walk.path}: the list kept changing through {MAX_PASSES} reads")

    async def _emit(
        self, queue: asyncio.Queue[Any], index: int, records: list[Any], cursor: str, *, done: bool
    ) -> None:
        # The part's cursor moves as its batch is queued; the batch carries that cursor, so a
        # consumer that checkpoints ``batch.cursor`` with the batch's records stays exact.
        part = self._plan.parts[index]
        part.cursor = cursor
        part.done = done
        self._plan.emitted += len(records)
        self._notify()
        model = self._walk.model
        items = structure_records(records, model) if self._typed else records
        await queue.put(Batch(index, records, items, cursor, done))
