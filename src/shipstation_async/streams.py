"""Concurrent streams over ShipStation's lists: every record exactly once, at the budget's pace.

V1 has no cursor or snapshot, so "exactly once" needs a precise meaning. T0 is the caller's end
or, when none is given, the server's ``Date`` (from the first response) minus two minutes.
Every record whose creation time is at or before T0, and that exists and matches the filters for
the whole listing, is yielded exactly once; a record created, deleted, or entering or leaving the
filters during the listing is yielded at most once.

How: instead of offset pages (an item shifting across a page boundary is skipped or seen twice),
each sub-range of the creation-date range is walked as a keyset on CreateDate, which never
changes: ``sortBy=CreateDate&sortDir=ASC&createDateStart=<cursor second - 1 s>&createDateEnd=
<end second + 1 s>&page=1``. Records are compared as the server's own Pacific wall-clock strings
(which sidesteps the fall-back hour and the unknown inclusivity of second-precision filters).
For a full page, the records before the last record's second are accepted and the cursor moves
to that second; a second holding a whole page or more is read page by page, re-read until its
total is stable, and de-duplicated by id within that second only. Memory stays flat: no set of
every id seen.

The stream owns its fetch tasks as plain tasks: they are cancelled on ``aclose()``, on
exhaustion, and when the consumer breaks out of ``async for`` (the async generator's
finalisation). No task group or cancel scope spans a ``yield``. asyncio only (aiohttp is).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._budget import call_on_loop
from ._sansio import Lane, Operation
from ._time import PACIFIC, require_aware
from .errors import DecodeError, InvalidRequestError, ShipStationError
from .limits import is_count
from .models.converter import converter

if TYPE_CHECKING:
    from .client import ShipStation

T = TypeVar("T")
_log = logging.getLogger("shipstation_async.streams")

# The API allows at most 90 days per date-range request; the query window adds 1 s each side.
# Ranges are Pacific wall-clock times: one that spans the autumn clock change lasts an hour
# longer than its wall-clock length, so a part is an hour shorter, within 90 days either way.
MAX_RANGE = timedelta(days=90) - timedelta(hours=1, seconds=4)

# Whole reads of an offset-paged listing before it counts as changing too fast to read.
_MAX_PASSES = 20


class _Passes:
    """Decides when whole reads of an offset-paged listing have missed nothing.

    A page boundary shifts when a record joins or leaves between two page reads (one may be
    skipped even though the total stays the same), and records with equal sort keys may come
    in another order on every read. Settled: two reads in a row saw the same ids, as many as
    the total; or, since the last read that showed a change (an id never seen before, or
    another total) and not counting that read (it may have straddled the change), the reads
    together saw exactly the total (a shuffled order fills in over several reads).
    """

    def __init__(self) -> None:
        self._last: set[Any] | None = None
        self._seen: set[Any] = set()
        self._total: int | None = None
        self._since_change: set[Any] = set()

    def settled(self, ids: set[Any], total: int) -> bool:
        """Whether the reads so far, this one included (its ids and total), missed nothing."""
        last, self._last = self._last, ids
        if last is not None and ids == last and len(ids) == total:
            return True
        changed = not ids <= self._seen or total != self._total
        self._seen |= ids
        if changed:
            self._total = total
            self._since_change = set()
            return False
        self._since_change |= ids
        return len(self._since_change) == total


T0_LAG = timedelta(minutes=2)
_KEY_WIDTH = 27  # "YYYY-MM-DDTHH:MM:SS.fffffff"


class StreamError(ShipStationError):
    """A stream could not get a consistent read (a second's total kept changing)."""


@attrs.frozen
class Walk:
    """How one resource is walked: its path, envelope, date parameters and keys."""

    path: str
    envelope: str
    model: type[Any]
    id_key: str
    start_param: str | None = "createDateStart"
    end_param: str | None = "createDateEnd"
    date_key: str = "createDate"
    max_range: timedelta | None = MAX_RANGE
    sort_by: str = "CreateDate"
    """The sort key matching ``date_key`` (ModifyDate for an incremental walk)."""

    def record_key(self, record: Mapping[str, Any]) -> str:
        """The record's ``date_key`` as a :func:`wall_key`; :class:`DecodeError` if unusable.

        A stream places every record in time by it, so a record without one cannot be walked.
        """
        value = record.get(self.date_key)
        if isinstance(value, str):
            key = wall_key(value)
            if _KEY_SHAPE.fullmatch(key):
                return key
        raise DecodeError(
            f"{self.path}: a record ({self.id_key}={record.get(self.id_key)!r}) has no usable "
            f"{self.date_key} ({value!r}), which a stream needs to place it"
        )


_KEY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}")


def wall_key(text: str) -> str:
    """A server timestamp as a fixed-width wall-clock key that sorts like time.

    ``"2015-07-16T14:00:34.823"`` -> ``"2015-07-16T14:00:34.8230000"``.
    """
    text = text.strip().replace(" ", "T")
    head, _, fraction = text.partition(".")
    if len(head) == 10:
        head += "T00:00:00"
    fraction = "".join(ch for ch in fraction if ch.isdigit())
    return f"{head[:19]}.{fraction[:7].ljust(7, '0')}"


def key_of(moment: datetime) -> str:
    """The wall-clock key of a naive Pacific datetime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond:06d}0"


def _second(key: str) -> datetime:
    try:
        return datetime.strptime(key[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:  # shaped like a time but not one ("2024-13-45T...")
        raise DecodeError(f"not a timestamp the server could have written: {key!r}") from None


def _query_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _pacific_wall(value: datetime | date, field: str) -> datetime:
    if isinstance(value, datetime):
        return require_aware(value, field).replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


@attrs.define
class SubRange:
    """A part of the walk: ``[cursor, end)`` (``end`` inclusive for the last part)."""

    cursor: str
    end: str
    inclusive: bool
    done: bool = False

    def contains(self, key: str) -> bool:
        """Whether a record's key is still to be yielded by this part."""
        return self.cursor <= key and (key < self.end or (self.inclusive and key == self.end))


def split(
    start: datetime, end: datetime, parts: int, max_range: timedelta | None
) -> list[SubRange]:
    """Split ``[start, end]`` (naive Pacific) into pieces, the last one inclusive of ``end``.

    At least ``parts`` pieces, and none longer than ``max_range``.
    """
    span = end - start
    count = max(1, parts)
    if max_range is not None and span > max_range:
        count = max(count, -(-span // max_range))
    step = span / count
    bounds = [start + step * i for i in range(count)] + [end]
    ranges = [
        SubRange(key_of(bounds[i]), key_of(bounds[i + 1]), inclusive=i == count - 1)
        for i in range(count)
    ]
    return [r for r in ranges if r.cursor < r.end or r.inclusive]


@attrs.frozen
class Batch:
    """What a walker hands over: part ``part``'s records, raw and typed, and its new cursor.

    ``done`` says the part is finished. Checkpointing ``cursor`` with the records written
    makes a resumed walk start exactly after them.
    """

    part: int
    records: list[Any]
    items: list[Any]
    cursor: str
    done: bool
    split: Split | None = None
    """Set when an idle walker cut a part in two. Such a batch has no records and no cursor
    (``""``): checkpoint the cut itself, before the batches that follow, which depend on it."""


@attrs.frozen
class Split:
    """Part ``part`` now ends at ``end`` (exclusive); the rest became part ``new_index``."""

    part: int
    end: str
    new_index: int
    new_part: SubRange


_DONE = object()


def _seconds_left(part: SubRange) -> float:
    """The span of ``part`` still to walk, from its cursor to its end, in seconds."""
    return (_second(part.end) - _second(part.cursor)).total_seconds()


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


Y = TypeVar("Y")


class _StreamIterator(Generic[Y]):
    """What ``async for`` holds: a plain object rather than an async generator.

    When the consumer breaks out (or its loop raises), CPython frees it at once and
    ``__del__`` cancels the walkers right there, where an async generator would wait for the
    event loop to schedule its finalisation (two more loop iterations).
    """

    def __init__(self, stream: ItemStream[Any]) -> None:
        self._stream = stream

    def __aiter__(self) -> _StreamIterator[Y]:
        return self

    async def __anext__(self) -> Y:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop the stream's walkers and wait for them."""
        await self._stream.aclose()

    def __del__(self) -> None:
        self._stream._abandon()


class _Items(_StreamIterator[T]):
    """The iterator of ``async for item in stream``."""

    def __init__(self, stream: ItemStream[T]) -> None:
        super().__init__(stream)
        self._page: list[T] = []
        self._next = 0

    async def __anext__(self) -> T:
        while self._next >= len(self._page):
            page = await self._stream._next_page()
            if page is None:
                raise StopAsyncIteration
            self._page, self._next = page, 0
        item = self._page[self._next]
        self._next += 1
        return item


class _Pages(_StreamIterator[list[T]]):
    """The iterator of ``stream.pages()``."""

    async def __anext__(self) -> list[T]:
        page: list[T] | None = await self._stream._next_page()
        if page is None:
            raise StopAsyncIteration
        return page


@attrs.frozen
class _Failure:
    error: BaseException


class ItemStream(Generic[T]):
    """Every record of a listing as typed items: ``async for item in stream``.

    Also an async context manager (``async with ss.orders.iter(...) as stream``), and
    ``stream.pages()`` yields lists of items as they are fetched. Iterate once. Options:
    ``concurrency`` walkers (they share the one budget, so more concurrency never raises the
    request rate; it keeps the budget busy while answers are in flight), ``page_size``
    (default 500), ``ordered`` (creation-date order; otherwise as fetched), ``lane``
    (``bulk`` by default, so single calls in the same process go first).
    """

    def __init__(
        self,
        client: ShipStation,
        walk: Walk,
        filters: Mapping[str, Any],
        *,
        start: datetime | date | None = None,
        end: datetime | date | None = None,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        buffer_pages: int = 2,
        resume: tuple[datetime | None, list[SubRange]] | None = None,
        on_plan: Callable[[datetime | None, list[SubRange]], None] | None = None,
        typed: bool = True,
    ) -> None:
        if not is_count(concurrency) or concurrency < 1:
            raise InvalidRequestError("concurrency must be an integer >= 1", field="concurrency")
        if not is_count(page_size):
            raise InvalidRequestError("page_size must be an integer", field="page_size")
        if not 1 <= page_size <= 500:
            raise InvalidRequestError("page_size must be from 1 to 500", field="page_size")
        self._start = None if start is None else _pacific_wall(start, "start")
        self._end = None if end is None else _pacific_wall(end, "end")
        if self._start is not None and self._end is not None and self._end < self._start:
            raise InvalidRequestError("the range's end precedes its start", field="end")
        self._client = client
        self._walk = walk
        self._filters = dict(filters)
        self._concurrency = concurrency
        self._page_size = page_size
        self._ordered = ordered
        self._lane = lane
        self._buffer = max(1, buffer_pages)
        self._tasks: list[asyncio.Task[None]] = []
        self._queues: list[asyncio.Queue[Any]] | None = None
        self._splits: list[Split] = []  # made by walkers, not yet handed to the consumer
        self._held: Any = None  # a queue item that must wait until the splits before it
        self._failure: BaseException | None = None
        self._walking: set[int] = set()
        self._density: dict[int, float] = {}  # records per second in a part's last full page
        self._changed = asyncio.Event()
        self._left: dict[int, int] = {}  # records a part has still to fetch, per its last answer
        # Every record the walk should yield, when the first request counted them all (no
        # start given); and the records yielded so far. Firm up the progress estimate.
        self._expected: int | None = None
        self._emitted = 0
        self._delivered = 0  # records handed to the consumer (the rest wait in the queues)
        self._started = False
        self._closed = False
        self.requests = 0
        """Requests this stream has sent so far."""
        self.t0: datetime | None = None
        """The listing's upper bound (naive Pacific wall clock), once known."""
        self.parts: list[SubRange] = []
        """The sub-ranges being walked, with their cursors (known once iteration starts)."""
        self._on_plan = on_plan
        # A consumer of raw records only (the backfill) skips building models.
        self._typed = typed
        if resume is not None:
            self.t0, self.parts = resume[0], list(resume[1])

    # -- public surface ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        return _Items(self)

    def pages(self) -> AsyncIterator[list[T]]:
        """Pages (lists of typed items) as they are fetched, instead of single items."""
        return _Pages(self)

    async def __aenter__(self) -> ItemStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop fetching: cancel the walkers and wait for them to finish."""
        self._cancel()
        tasks, self._tasks = self._tasks, []
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- iteration -----------------------------------------------------------------------------

    async def _next_page(self) -> list[T] | None:
        while (batch := await self.next_batch()) is not None:
            if batch.items:
                page: list[T] = batch.items
                return page
        return None

    async def next_batch(self) -> Batch | None:
        """The next :class:`Batch` as walkers hand it over (for checkpointing consumers)."""
        if self._failure is not None:
            raise self._failure  # asked again after a failure: it is still the answer
        if self._closed:
            return None  # stopped (aclose, a break or exhaustion): nothing more
        if self._queues is None:
            if self._started:
                raise RuntimeError("a stream can be iterated once; call iter() again")
            self._started = True
            self._queues = list(await self._launch())  # consumed here; walkers keep theirs
        while self._queues or self._splits:
            if self._splits:
                split = self._splits.pop(0)
                return Batch(split.part, [], [], "", False, split)
            if self._held is not None:
                item, self._held = self._held, None
            else:
                item = await self._queues[0].get()
                if self._closed:
                    return None  # stopped by aclose() or a break while we waited
                if self._splits:
                    # Made while we waited: it must be checkpointed before this item.
                    self._held = item
                    continue
            if item is _DONE:
                self._queues.pop(0)
                continue
            if isinstance(item, _Failure):
                self._failure = item.error
                self._cancel()
                raise item.error
            batch: Batch = item
            self._delivered += len(batch.records)
            return batch
        self._cancel()
        return None

    def _cancel(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        # Wake a consumer waiting on a queue (aclose() from another task): the walkers that
        # would have filled it are gone.
        for queue in self._queues or ():
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(_DONE)

    def _abandon(self) -> None:
        """The consumer dropped its iterator (``break``, an error in its loop): stop at once."""
        if self._closed or not self._tasks:
            return
        # Possibly collected on another thread: cancel on the walkers' own loop.
        call_on_loop(self._tasks[0].get_loop(), self._cancel)

    async def _launch(self) -> list[asyncio.Queue[Any]]:
        walk = self._walk
        if self.parts:
            pass  # resuming: the parts and T0 come from a checkpoint
        elif walk.start_param is None:
            # No date filter on this list: one verified offset walk.
            self.parts = [SubRange("", "", inclusive=True)]
        else:
            start, end = self._start, self._end
            if start is None or end is None:
                oldest, server_t0, matching = await self._probe()
                if oldest is None:
                    return []  # nothing matches the filters at all
                if start is None and end is None:
                    self._expected = matching  # from the oldest to T0: every matching record
                start = start or _second(oldest)
                end = end or server_t0
            self.t0 = end
            if end < start:
                return []
            # One part per walker; idle walkers split the biggest remaining part later, so the
            # budget stays busy to the end without a partial page per extra part up front.
            self.parts = split(start, end, self._concurrency, walk.max_range)
        if self._on_plan is not None:
            # Before any walker moves a cursor: a checkpoint saves the plan as it starts.
            self._on_plan(self.t0, [attrs.evolve(p) for p in self.parts])
        # In time order (after cuts, a resumed plan's indexes are not): ordered mode reads the
        # parts' queues in this order.
        pending = sorted(
            ((i, part) for i, part in enumerate(self.parts) if not part.done),
            key=lambda entry: entry[1].cursor,
        )
        remaining = [len(pending)]
        if not pending:
            return []
        # Ordered: one queue per part, read in order; otherwise one shared queue.
        by_part: dict[int, asyncio.Queue[Any]] = {
            i: asyncio.Queue(self._buffer) for i, _ in pending
        }
        shared: asyncio.Queue[Any] = asyncio.Queue(self._buffer * self._concurrency)
        queues = [by_part[i] for i, _ in pending] if self._ordered else [shared]

        splittable = walk.start_param is not None

        async def next_part() -> tuple[int, SubRange] | None:
            while not self._closed:
                if pending:
                    return pending.pop(0)
                if not splittable or not self._walking:
                    return None
                taken = self._split_largest()
                if taken is not None:
                    index, part, origin = taken
                    remaining[0] += 1
                    if self._ordered:
                        # Its records come right after the part it was cut from.
                        by_part[index] = asyncio.Queue(self._buffer)
                        consumer = self._queues if self._queues is not None else queues
                        consumer.insert(consumer.index(by_part[origin]) + 1, by_part[index])
                    return index, part
                await self._changed.wait()  # a walker moved or finished: look again
            return None

        async def worker() -> None:
            while (taken := await next_part()) is not None:
                index, part = taken
                queue = by_part[index] if self._ordered else shared
                self._walking.add(index)
                try:
                    if walk.start_param is None:
                        await self._walk_offsets(queue)
                    else:
                        await self._walk_range(index, part, queue)
                except Exception as error:  # handed to the consumer, who raises it
                    self._walking.discard(index)  # nothing to split there any more
                    await queue.put(_Failure(error))
                    return
                finally:
                    self._walking.discard(index)
                    self._notify()
                if self._ordered:
                    await queue.put(_DONE)
                else:
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        await queue.put(_DONE)

        count = self._concurrency if splittable else min(self._concurrency, len(pending))
        self._tasks = [asyncio.create_task(worker()) for _ in range(count)]
        return queues

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def estimate_left(self) -> tuple[int, int] | None:
        """Records and requests still to come (records fetched but not handed over included).

        Each answer's ``total`` counts its part's records from the cursor on, so the estimate
        firms up as the walk goes. The parts not started yet share what the first request
        counted (when it counted every matching record) less what is known; otherwise they count
        as dense as those walked. None until a first full page has shown how dense records are.
        """
        densities = list(self._density.values())
        records = self._emitted - self._delivered  # fetched, not yet handed over
        requests = 0
        unstarted: list[float] = []  # seconds of each part not started yet
        for index, part in enumerate(self.parts):
            if part.done:
                continue
            left = self._left.get(index)
            if left is None:
                if not part.end:
                    return None  # an offset walk: no time span to estimate from
                unstarted.append(_seconds_left(part))
                continue
            records += left
            requests += max(1, -(-left // self._page_size))
        if not unstarted:
            return records, requests
        if self._expected is not None:
            rest = max(0, self._expected - self._delivered - records)
            per_second = rest / max(1.0, sum(unstarted))
        elif densities:
            per_second = sum(densities) / len(densities)
        else:
            return None
        for seconds in unstarted:
            left = int(seconds * per_second)
            records += left
            requests += max(1, -(-left // self._page_size))
        return records, requests

    def _split_largest(self) -> tuple[int, SubRange, int] | None:
        """Cut the part with the most records left in two; the idle walker takes the second half.

        Records left are estimated from the part's last full page (records per second). A part
        is cut only if each half should still fill two pages: a cut costs about one request (a
        partial last page), so it must buy more than that in walkers kept busy.
        """
        best: tuple[float, int] | None = None
        for index in self._walking:
            part = self.parts[index]
            density = self._density.get(index)
            if part.done or density is None:
                continue
            seconds = _seconds_left(part)
            left = seconds * density
            if seconds >= 2 and left >= 4 * self._page_size and (best is None or left > best[0]):
                best = (left, index)
        if best is None:
            return None
        origin = best[1]
        part = self.parts[origin]
        low, high = _second(part.cursor), _second(part.end)
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        cut = SubRange(key_of(middle), part.end, inclusive=part.inclusive)
        index = len(self.parts)
        self.parts.append(cut)
        # The walker of ``part`` reads ``end`` at each answer: it stops at the cut.
        part.end, part.inclusive = cut.cursor, False
        self._density[index] = self._density[origin]
        if origin in self._left:
            self._left[index] = self._left[origin] // 2
            self._left[origin] -= self._left[index]
        self._splits.append(Split(origin, part.end, index, attrs.evolve(cut)))
        _log.debug("split part %d at %s into part %d", origin, cut.cursor, index)
        return index, cut, origin

    # -- requests ------------------------------------------------------------------------------

    async def _get(
        self, query: Mapping[str, Any], headers: dict[str, str] | None = None
    ) -> Mapping[str, Any]:
        operation = Operation("GET", self._walk.path, query={**self._filters, **query})
        self.requests += 1
        data = await self._client.request(operation, lane=self._lane, headers_out=headers)
        walk = self._walk
        if not isinstance(data, Mapping) or not isinstance(data.get(walk.envelope), list):
            raise DecodeError(f"expected an object with a {walk.envelope!r} list")
        if not all(isinstance(record, Mapping) for record in data[walk.envelope]):
            raise DecodeError(f"{walk.path}: an entry of {walk.envelope!r} is not an object")
        return data

    async def _probe(self) -> tuple[str | None, datetime, int]:
        """One request for what the caller left open: where the range starts and ends.

        The oldest matching record's creation key is the start; T0, the end, is the server's
        ``Date`` minus two minutes. Also returns how many records match the filters at all.
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
        t0 = (server_now.astimezone(PACIFIC) - T0_LAG).replace(tzinfo=None)
        return oldest, t0, _count(data.get("total"))

    def _page_query(self, low: datetime, high: datetime, page: int) -> dict[str, Any]:
        walk = self._walk
        assert walk.start_param is not None and walk.end_param is not None
        return {
            walk.start_param: _query_time(low),
            walk.end_param: _query_time(high),
            "sortBy": walk.sort_by,
            "sortDir": "ASC",
            "page": page,
            "pageSize": self._page_size,
        }

    def _structure(self, records: list[Any]) -> list[T]:
        model = self._walk.model
        return [converter.structure(record, model) for record in records]

    async def _walk_range(self, index: int, part: SubRange, queue: asyncio.Queue[Any]) -> None:
        walk = self._walk
        size = self._page_size
        while not part.done:
            # Read each time: an idle walker may have cut this part short meanwhile.
            asked_end = part.end
            high = _second(asked_end) + timedelta(seconds=1)
            second = _second(part.cursor)
            data = await self._get(self._page_query(second - timedelta(seconds=1), high, 1))
            records = data[walk.envelope]
            total = _count(data.get("total"))
            keys = [walk.record_key(r) for r in records]
            # The end: a page short of the size asked for, which holds all the answer counted
            # (a server that caps pages lower sends short pages with more still to come).
            complete = len(records) < size and len(records) >= total
            if not records or complete or keys[-1] > part.end:
                accepted = [r for r, k in zip(records, keys, strict=True) if part.contains(k)]
                self._left[index] = 0
                await self._emit(queue, index, accepted, part.cursor, done=True)
                return
            last_second = keys[-1][:19]
            spanned = (_second(last_second) - _second(keys[0])).total_seconds()
            self._density[index] = len(records) / max(1.0, spanned)
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
                self._left[index] = 0
            elif part.end == asked_end:
                self._left[index] = max(0, total - len(accepted))
            else:  # cut while this answer was on its way: its total spans both halves
                self._left[index] = max(0, self._left.get(index, 0) - len(accepted))
            await self._emit(queue, index, accepted, cursor, done=done)

    async def _read_whole(
        self, query_of: Callable[[int], Mapping[str, Any]]
    ) -> tuple[list[Any], int]:
        """Every page of one offset-paged query (``query_of(page)``): its records and total."""
        first = await self._get(query_of(1))
        total = _count(first.get("total"))
        records = list(first[self._walk.envelope])
        for page in range(2, -(-total // self._page_size) + 1):
            records += (await self._get(query_of(page)))[self._walk.envelope]
        return records, total

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
        read whole, again and again, until :class:`_Passes` says nothing was missed. Every
        record read is kept (de-duplicated by id).
        """
        walk = self._walk
        prefix = key_of(second)[:19]
        found: dict[Any, Any] = {}
        low, high = second - timedelta(seconds=1), second + timedelta(seconds=1)
        passes = _Passes()
        for _ in range(_MAX_PASSES):
            records, total = await self._read_whole(lambda page: self._page_query(low, high, page))
            for record in records:
                key = walk.record_key(record)
                if key[:19] == prefix and part.contains(key):
                    found[record.get(walk.id_key)] = record
            if passes.settled({r.get(walk.id_key) for r in records}, total):
                return sorted(found.values(), key=walk.record_key)
        raise StreamError(
            f"{walk.path}: the records of {prefix} kept changing through {_MAX_PASSES} reads; "
            "try again later"
        )

    async def _walk_offsets(self, queue: asyncio.Queue[Any]) -> None:
        """Offset pages sorted by CreateDate, for lists with no date filter, verified.

        The whole list is read until :class:`_Passes` says nothing was missed, then emitted as
        one batch in creation order.
        """
        walk = self._walk
        query = {"sortBy": "CreateDate", "sortDir": "ASC", "pageSize": self._page_size}
        found: dict[Any, Any] = {}
        passes = _Passes()
        for _ in range(_MAX_PASSES):
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
        raise StreamError(f"{walk.path}: the list kept changing through {_MAX_PASSES} reads")

    async def _emit(
        self, queue: asyncio.Queue[Any], index: int, records: list[Any], cursor: str, *, done: bool
    ) -> None:
        # The part's cursor moves as its batch is queued; the batch carries that cursor, so a
        # consumer that checkpoints ``batch.cursor`` with the batch's records stays exact.
        part = self.parts[index]
        part.cursor = cursor
        part.done = done
        self._emitted += len(records)
        self._notify()
        items = self._structure(records) if self._typed else []
        await queue.put(Batch(index, records, items, cursor, done))
