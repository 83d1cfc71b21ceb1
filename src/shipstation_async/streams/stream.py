"""The stream a caller iterates: it plans the parts, fans walkers out, and hands batches over.

The stream owns its walker tasks as plain tasks: they are cancelled on ``aclose()``, on
exhaustion, and when the consumer breaks out of ``async for`` (the iterator's finalisation).
No task group or cancel scope spans a ``yield``. asyncio only (aiohttp is).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from .._budget import call_on_loop
from .._sansio import Lane
from .._time import range_walls
from ..errors import InvalidRequestError
from ..limits import is_count
from .plan import T0_LAG, Plan, Split, SubRange, second_of, split
from .registry import Walk
from .walker import Batch, Walker

if TYPE_CHECKING:
    from ..client import ShipStation

T = TypeVar("T")
Y = TypeVar("Y")

_DONE = object()


@attrs.frozen
class _Failure:
    error: BaseException


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


def _check_options(concurrency: int, page_size: int) -> None:
    if not is_count(concurrency) or concurrency < 1:
        raise InvalidRequestError("concurrency must be an integer >= 1", field="concurrency")
    if not is_count(page_size):
        raise InvalidRequestError("page_size must be an integer", field="page_size")
    if not 1 <= page_size <= 500:
        raise InvalidRequestError("page_size must be from 1 to 500", field="page_size")


class ItemStream(Generic[T]):
    """Every record of a listing as typed items: ``async for item in stream``.

    Also an async context manager (``async with ss.orders.iter(...) as stream``), and
    ``stream.pages()`` yields lists of items as they are fetched. Iterate once. Options:
    ``concurrency`` walkers (they share the one budget, so more concurrency never raises the
    request rate; it keeps the budget busy while answers are in flight), ``page_size``
    (default 500), ``ordered`` (creation-date order; otherwise as fetched), ``lane``
    (``bulk`` by default, so single calls in the same process go first), ``t0_lag`` (without
    an end, the walk ends at the server's time less this: records show up in lists a
    little after their time). ``typed=False`` yields the records as decoded JSON instead of
    models; with it, ``keep_bytes=True`` yields each as a
    :class:`~shipstation_async.streams.RawRecord`, a read-only mapping that keeps the
    record's JSON as the API sent it (in ``raw``) and decodes only the keys the walk reads
    until more is asked of it: for a consumer that writes the JSON out, as the backfill's
    sinks do (it needs the ``speedups`` extra; without it, dicts, and so for a page that may
    hold the credential, which is taken out of its strings).

    ``start`` and ``end`` are instants (aware datetimes, or dates for Pacific midnight); one
    in the autumn's repeated hour widens the range to that whole hour, whose two occurrences
    the API's wall-clock dates cannot tell apart, so records of the other occurrence may come
    too.
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
        t0_lag: timedelta = T0_LAG,
        expected: int | None = None,
        keep_bytes: bool = False,
    ) -> None:
        _check_options(concurrency, page_size)
        if keep_bytes and typed:
            raise InvalidRequestError("keep_bytes needs typed=False", field="keep_bytes")
        self._t0_lag = t0_lag
        self._start, self._end = range_walls(start, end)
        self._walk = walk
        self._concurrency = concurrency
        self._ordered = ordered
        self._buffer = max(1, buffer_pages)
        self._plan = Plan(page_size)
        self._walker = Walker(
            client,
            walk,
            filters,
            self._plan,
            lane=lane,
            typed=typed,
            notify=self._notify,
            keep_bytes=keep_bytes,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._queues: list[asyncio.Queue[Any]] | None = None  # the consumer's, in read order
        self._by_part: dict[int, asyncio.Queue[Any]] = {}  # ordered: each part's own queue
        self._shared: asyncio.Queue[Any] = asyncio.Queue(self._buffer * concurrency)
        self._pending: list[tuple[int, SubRange]] = []  # parts no walker has taken yet
        self._unfinished = 0  # parts not finished (unordered: the last one ends the queue)
        self._splits: list[Split] = []  # made by walkers, not yet handed to the consumer
        self._held: Any = None  # a queue item that must wait until the splits before it
        self._failure: BaseException | None = None
        self._walking: set[int] = set()
        self._changed = asyncio.Event()
        self._started = False
        self._closed = False
        self.t0: datetime | None = None
        """The listing's upper bound (naive Pacific wall clock), once known."""
        self._on_plan = on_plan
        if resume is not None:
            self.t0, self.parts = resume[0], list(resume[1])
            # What the earlier run's first request counted, less what it wrote: without it
            # the parts not walked yet are guessed from this run's density, far off when
            # records are not spread evenly over the range.
            self._plan.expected = expected

    @property
    def expected(self) -> int | None:
        """Records the walk should yield, once known (None: no count of them all was made).

        Known when the first request counted every matching record (neither start nor end
        given); a resumed walk's is the ``expected`` it was given: those still to come.
        """
        return self._plan.expected

    @property
    def requests(self) -> int:
        """Requests this stream has sent so far."""
        return self._walker.requests

    @property
    def parts(self) -> list[SubRange]:
        """The sub-ranges being walked, with their cursors (known once iteration starts)."""
        return self._plan.parts

    @parts.setter
    def parts(self, parts: list[SubRange]) -> None:
        self._plan.parts = parts

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

    def estimate_left(self) -> tuple[int, int] | None:
        """Records and requests still to come (records fetched but not handed over included).

        Each answer's ``total`` counts its part's records from the cursor on, so the estimate
        firms up as the walk goes. None until a first full page has shown how dense records are
        (see :meth:`Plan.estimate_left`).
        """
        return self._plan.estimate_left()

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
                cut = self._splits.pop(0)
                return Batch(cut.part, [], [], "", False, cut)
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
            self._plan.delivered += len(batch.records)
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

    # -- planning and fan-out ------------------------------------------------------------------

    async def _plan_parts(self) -> bool:
        """Set the parts to walk (and T0); False when nothing can match."""
        walk = self._walk
        if self.parts:
            return True  # resuming: the parts and T0 come from a checkpoint
        if walk.start_param is None:
            # No date filter on this list: one verified offset walk.
            self.parts = [SubRange("", "", inclusive=True)]
            return True
        start, end = self._start, self._end
        if start is None or end is None:
            oldest, server_t0, matching = await self._walker.probe(self._t0_lag)
            if oldest is None:
                return False  # nothing matches the filters at all
            if start is None and end is None:
                self._plan.expected = matching  # from the oldest to T0: every matching record
            start = start or second_of(oldest)
            end = end or server_t0
        self.t0 = end
        if end < start:
            return False
        # One part per walker; idle walkers split the biggest remaining part later, so the
        # budget stays busy to the end without a partial page per extra part up front.
        self.parts = split(start, end, self._concurrency, walk.max_range)
        return True

    async def _launch(self) -> list[asyncio.Queue[Any]]:
        """Plan the walk, start the walkers, and return the queues to read, in order."""
        if not await self._plan_parts():
            return []
        if self._on_plan is not None:
            # Before any walker moves a cursor: a checkpoint saves the plan as it starts.
            self._on_plan(self.t0, [attrs.evolve(p) for p in self.parts])
        # In time order (after cuts, a resumed plan's indexes are not): ordered mode reads the
        # parts' queues in this order.
        self._pending = sorted(
            ((i, part) for i, part in enumerate(self.parts) if not part.done),
            key=lambda entry: entry[1].cursor,
        )
        self._unfinished = len(self._pending)
        if not self._pending:
            return []
        # Ordered: one queue per part, read in order; otherwise one shared queue.
        self._by_part = {i: asyncio.Queue(self._buffer) for i, _ in self._pending}
        queues = [self._by_part[i] for i, _ in self._pending] if self._ordered else [self._shared]
        splittable = self._walk.start_param is not None
        count = self._concurrency if splittable else min(self._concurrency, len(self._pending))
        self._tasks = [asyncio.create_task(self._run_walker(queues)) for _ in range(count)]
        return queues

    async def _next_part(self, queues: list[asyncio.Queue[Any]]) -> tuple[int, SubRange] | None:
        """The next part for an idle walker: one not taken yet, or half of the biggest left."""
        while not self._closed:
            if self._pending:
                return self._pending.pop(0)
            if self._walk.start_param is None or not self._walking:
                return None
            cut = self._plan.split_largest(self._walking)
            if cut is not None:
                self._splits.append(cut)
                self._unfinished += 1
                if self._ordered:
                    # Its records come right after the part it was cut from.
                    self._by_part[cut.new_index] = asyncio.Queue(self._buffer)
                    consumer = self._queues if self._queues is not None else queues
                    position = consumer.index(self._by_part[cut.part]) + 1
                    consumer.insert(position, self._by_part[cut.new_index])
                return cut.new_index, self.parts[cut.new_index]
            await self._changed.wait()  # a walker moved or finished: look again
        return None

    async def _run_walker(self, queues: list[asyncio.Queue[Any]]) -> None:
        """One walker task: take parts until none is left, and walk each."""
        while (taken := await self._next_part(queues)) is not None:
            index, part = taken
            queue = self._by_part[index] if self._ordered else self._shared
            self._walking.add(index)
            try:
                if self._walk.start_param is None:
                    await self._walker.walk_offsets(queue)
                else:
                    await self._walker.walk_range(index, part, queue)
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
                self._unfinished -= 1
                if self._unfinished == 0:
                    await queue.put(_DONE)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
