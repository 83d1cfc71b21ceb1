"""The backfill engine: a stream written to a sink with a checkpoint after every batch."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._time import before_repeated_hour, from_pacific_wall, in_the_future, pacific_wall
from ..errors import ConfigurationError
from ..limits import is_count
from ..resources.streaming import StreamingResource, open_stream
from ..streams import MODIFIED_ORDERS, WALKS, Batch, ItemStream, SubRange, key_of, wall_key
from ._threads import finish_in_thread
from .checkpoint import (
    CheckpointStore,
    Saved,
    checkpoint_beside,
    read_run,
    remove_checkpoint,
    run_lock,
    unaccounted_data,
)
from .sinks import JsonlSink, Sink, SqliteSink

if TYPE_CHECKING:
    from ..client import ShipStation

Resource = Literal["orders", "shipments", "fulfillments", "products", "customers"]
"""The resources a backfill copies: every listing in the walk registry (``streams.WALKS``)."""


@attrs.frozen
class Progress:
    """Where a backfill stands: records written (this run and in all), requests, parts done."""

    records: int
    records_this_run: int
    requests: int
    parts_done: int
    parts: int
    elapsed: float
    pages: int = 0
    """Pages written in this run."""
    records_left: int | None = None
    """Records still to fetch, estimated from the last answers (None until known)."""
    requests_left: int | None = None
    """Requests still to send at that estimate: with the budget, what an ETA rests on."""


@attrs.frozen
class Summary:
    """A finished backfill.

    Records written in all and in this run, requests sent, 429s met, seconds taken, and
    whether it resumed an earlier run.
    """

    records: int
    records_this_run: int
    requests: int
    rate_limited: int
    elapsed: float
    resumed: bool


CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far past this host's clock a backfill's ``end`` may be (the server's clock may be ahead)."""


class Backfill:
    """Copy every record of a resource into a sink, resumable at any moment.

    ``Backfill(ss, "orders", start=..., end=..., sink="orders.jsonl")`` then ``await run()``.
    The checkpoint (SQLite, by default beside a JSONL sink) holds the walk's parts and cursors
    and the sink's committed offset; after each batch the sink is written and fsynced first,
    then the checkpoint commits, in that order. A run killed at any point (SIGKILL included)
    resumes from the checkpoint: the JSONL file is cut back to the committed offset and the
    walk continues from the committed cursors, so the output holds every record exactly once.
    With a :class:`SqliteSink` the rows (upserted by id) and the checkpoint live in one file
    and commit in one transaction. ``filters`` are the ``iter()`` filters of the resource
    (checked the same way).

    A checkpoint belongs to one backfill (resource, filters, ``start`` and ``end`` exactly):
    resume with the same values (a fixed ``start``, not one computed from the clock).
    ``resume=False`` starts over, discarding what the checkpoint's earlier run wrote (a SQLite
    sink's table emptied with the new plan's commit); a JSONL file that no checkpoint accounts
    for is never overwritten (:class:`ConfigurationError`). One run at a time uses a
    checkpoint: another, in this process or another, is refused at once
    (:class:`~shipstation_async.backfill.BackfillRunning`).
    A run that fails (or is cancelled) before it commits a first batch removes the checkpoint
    and the empty output it created: what it leaves does not hold the next run to its range.
    """

    def __init__(
        self,
        client: ShipStation,
        resource: Resource = "orders",
        *,
        start: datetime | date | None = None,
        end: datetime | date | None = None,
        sink: Sink | str | Path = "orders.jsonl",
        checkpoint: str | Path | None = None,
        filters: Mapping[str, Any] | None = None,
        concurrency: int = 4,
        page_size: int = 500,
        resume: bool = True,
        on_progress: Callable[[Progress], None] | None = None,
        since_last: bool = False,
        overlap: timedelta = timedelta(minutes=10),
    ) -> None:
        if since_last and resource != "orders":
            raise ConfigurationError("since_last needs a modifyDate filter: orders only")
        # Checked here, before any file is opened or request sent.
        if not isinstance(overlap, timedelta) or overlap < timedelta(0):
            # A negative overlap would start after the last run's end: a gap, silently lost.
            raise ConfigurationError(f"overlap must be a timedelta >= 0, got {overlap!r}")
        if not is_count(page_size) or not 1 <= page_size <= 500:
            raise ConfigurationError(
                f"page_size must be a whole number from 1 to 500, got {page_size!r}"
            )
        if not is_count(concurrency) or concurrency < 1:
            raise ConfigurationError(
                f"concurrency must be a whole number >= 1, got {concurrency!r}"
            )
        if resource not in WALKS:
            raise ConfigurationError(f"resource must be one of {sorted(WALKS)}, got {resource!r}")
        for name, bound in (("start", start), ("end", end)):
            if bound is not None and in_the_future(bound, CLOCK_TOLERANCE):
                # The run would be recorded as complete (an incremental sync's mark set
                # there) while records made until then are still to come: never copied.
                raise ConfigurationError(
                    f"{name} ({bound}) is in the future by this host's clock: a backfill "
                    "copies a range that has passed (leave end out to copy up to the present)"
                )
        if isinstance(sink, SqliteSink):
            checkpoint = sink.path  # data and checkpoint in one file, one transaction
        elif checkpoint is None:
            if not isinstance(sink, str | Path):
                raise ConfigurationError("a checkpoint path is needed with a callback sink")
            checkpoint = checkpoint_beside(sink)
        self._client = client
        self._resource = resource
        self._start = start
        self._end = end
        self._sink: Sink = JsonlSink(sink) if isinstance(sink, str | Path) else sink
        self._checkpoint = Path(checkpoint)
        self._filters = dict(filters or {})
        self._concurrency = concurrency
        self._page_size = page_size
        self._resume = resume
        self._on_progress = on_progress
        self._since_last = since_last
        self._overlap = overlap

    def _stream(
        self,
        store: CheckpointStore,
        query_key: dict[str, object],
        saved: tuple[datetime | None, list[SubRange]] | None,
        start: datetime | date | None,
        carried: tuple[int, int],
        expected: int | None,
        output: _Output,
    ) -> ItemStream[Any]:
        # An incremental sync walks orders by ModifyDate (the only list with that filter).
        walk = MODIFIED_ORDERS if self._since_last else WALKS[self._resource]
        resource: StreamingResource = getattr(self._client, self._resource)

        def save_plan(t0: datetime | None, parts: list[SubRange]) -> None:
            if saved is None:
                # The count the checkpoint should reach, for a resumed run's progress.
                count = None if stream.expected is None else carried[1] + stream.expected
                discard = self._earlier_rows(store)
                store.start(
                    self._resource,
                    query_key,
                    t0,
                    parts,
                    *carried,
                    expected=count,
                    discard=discard,
                    start_over=not self._resume,
                )
                output.open()  # the earlier run's output goes only now that this plan is saved

        stream = open_stream(
            resource,
            self._filters,
            walk=walk,
            start=start,
            end=self._end,
            concurrency=self._concurrency,
            page_size=self._page_size,
            ordered=False,
            lane="bulk",
            resume=saved,
            on_plan=save_plan,
            typed=False,  # the sinks take the API's own JSON
            # Its own sinks write each record's bytes as received; any other (a subclass of
            # them included) gets dicts.
            keep_bytes=type(self._sink) in (JsonlSink, SqliteSink),
            expected=expected,
        )
        return stream

    def _earlier_rows(self, store: CheckpointStore) -> str | None:
        """The SQLite sink's table when this run starts over an earlier one (None otherwise).

        Its rows are the earlier run's: they go with it, as a JSONL file is cut to nothing.
        """
        if isinstance(self._sink, SqliteSink) and not self._resume and store.load() is not None:
            return self._sink.table
        return None

    def _next_start(self, t0: datetime) -> datetime:
        """Where the incremental run after the one that ended at ``t0`` starts listing.

        T0 less the overlap (a record modified while that run listed is caught), moved back to
        01:00 when that falls in the autumn's repeated hour (see ``before_repeated_hour``).
        """
        return before_repeated_hour(from_pacific_wall(t0 - self._overlap))

    def _cutoff(self, t0: datetime | None) -> str:
        """The oldest modifyDate key the next run lists again: the band keeps what is newer.

        From the next run's own start, which the repeated hour moves back by up to an hour:
        a band from T0 less the overlap alone would let that hour's versions in twice.
        """
        if t0 is None:
            return ""
        return key_of(pacific_wall(self._next_start(t0), "start"))  # as the stream reads it

    def _new_versions(
        self,
        records: list[Any],
        band: dict[str, str],
        new_band: dict[str, str],
        t0: datetime | None,
    ) -> tuple[list[Any], list[tuple[str, str]]]:
        """Drop exact repeats of the last run's overlap band; remember this run's band.

        Returns the records to write and the band entries they add (committed with them).
        """
        cutoff = self._cutoff(t0)
        kept = []
        added = []
        for record in records:
            identity = str(record.get("orderId"))
            modified = wall_key(str(record.get("modifyDate") or ""))
            if band.get(identity) == modified:
                continue
            kept.append(record)
            if modified >= cutoff:
                new_band[identity] = modified
                added.append((identity, modified))
        return kept, added

    def _band_after(
        self, band: dict[str, str], new_band: dict[str, str], t0: datetime
    ) -> dict[str, str]:
        cutoff = self._cutoff(t0)
        carried = {k: v for k, v in band.items() if v >= cutoff}
        return {**carried, **new_band}

    def _refuse_foreign_output(self) -> None:
        sink = self._sink
        if isinstance(sink, JsonlSink) and unaccounted_data(sink.path, self._checkpoint):
            # Only a file this backfill wrote (its checkpoint says so) may be cut back.
            raise ConfigurationError(
                f"{sink.path} already holds data that no backfill checkpoint accounts for "
                f"(none at {self._checkpoint}); it is left untouched: write to another file, "
                "or remove it to start over"
            )

    def _query_key(self) -> dict[str, object]:
        """What a checkpoint must have been made for, for this backfill to resume it."""
        return query_key(self._start, self._end, self._filters, since_last=self._since_last)

    def _load(self, store: CheckpointStore, query_key: dict[str, object]) -> Saved | None:
        """The run the checkpoint holds, when resuming; another backfill's is refused."""
        saved = store.load() if self._resume else None
        if saved is not None and (saved.resource != self._resource or saved.query != query_key):
            raise ConfigurationError(
                f"the checkpoint {self._checkpoint} belongs to another backfill "
                f"({describe_backfill(saved.resource, saved.query)}), not to this one "
                f"({describe_backfill(self._resource, query_key)}): give this one another "
                "output, or delete that checkpoint to start over"
            )
        return saved

    def _next_incremental(
        self, store: CheckpointStore, saved: Saved | None
    ) -> tuple[Saved | None, datetime | date | None, dict[str, str]]:
        """An incremental run's plan to resume (None: a new run), its start and the last band.

        A run that starts over (``resume=False``) lists from ``start`` again: the earlier
        runs' mark and band go with their output (when its plan is saved).
        """
        high_water, band = store.load_sync() if self._resume else (None, {})
        if saved is not None and all(p.done for p in saved.parts):
            if saved.t0 is not None and (high_water is None or high_water < saved.t0):
                # That run wrote everything but stopped before saving its mark: save it
                # now, or this run would append all of it again.
                high_water = saved.t0
                band = self._band_after(band, store.load_run_band(), saved.t0)
                store.save_sync(high_water, band)
            saved = None  # the last incremental run finished: start the next one
        start = self._start
        if high_water is not None:
            start = self._next_start(high_water)  # the band drops the exact repeats
        return saved, start, band

    async def run(self) -> Summary:
        """Run (or resume) the backfill to the end and return its summary.

        Raises :class:`~shipstation_async.backfill.BackfillRunning` at once when another run
        uses the same checkpoint.
        """
        # Held until the run has cleaned up after itself: what it decides about the files
        # (whose they are, whether to remove them) no other run changes under it.
        with run_lock(self._checkpoint):
            return await self._locked_run()

    async def _locked_run(self) -> Summary:
        self._refuse_foreign_output()
        output = self._sink.path if isinstance(self._sink, JsonlSink) else None
        new_output = output is not None and not output.exists()
        new_checkpoint = not self._checkpoint.exists()
        try:
            return await self._run()
        except BaseException:
            if new_checkpoint and not _committed_any(self._checkpoint):
                # Nothing to resume: what this run created would only hold the next one to
                # its range, or make its output look like someone else's.
                remove_checkpoint(self._checkpoint)
                if new_output and output is not None:
                    output.unlink(missing_ok=True)  # empty, or a batch never committed
            raise

    async def _run(self) -> Summary:
        started = time.monotonic()
        store = CheckpointStore(self._checkpoint)
        query_key = self._query_key()
        ledger_before = self._client.rate_limit_status().rate_limited
        try:
            saved = self._load(store, query_key)
            # Carried over from the checkpoint, even from a finished incremental run's.
            offset = saved.sink_offset if saved else 0
            copied = _Copied(total=saved.records if saved else 0, started=started)
            start: datetime | date | None = self._start
            band: dict[str, str] = {}
            if self._since_last:
                saved, start, band = self._next_incremental(store, saved)
            plan = (saved.t0, saved.parts) if saved else None
            expected = None
            if saved is not None and saved.expected is not None:
                expected = max(0, saved.expected - saved.records)
            output = _Output(self._sink, offset)
            if saved is not None or offset:
                # Resuming, or appending after the runs before (an incremental sync): the file
                # is checked against what they committed before any request.
                output.open()
            stream = self._stream(
                store, query_key, plan, start, (offset, copied.total), expected, output
            )
            # The band this run has built, restored on a resume (it is committed with each batch).
            new_band = store.load_run_band() if self._since_last and saved is not None else {}
            try:
                while (batch := await stream.next_batch()) is not None:
                    if batch.split is not None:
                        cut = batch.split
                        store.split(cut.part, cut.end, cut.new_index, cut.new_part)
                        continue
                    copied.add(await self._write(store, stream, batch, band, new_band))
                    self._report(stream, copied)
                if not output.opened:
                    # Nothing to plan (no record matches): a run started over still replaces
                    # the earlier one, with nothing.
                    if not self._resume:
                        store.clear(self._earlier_rows(store))
                    output.open()
            finally:
                await stream.aclose()
                if output.opened:  # (a sink never opened is not closed either)
                    self._sink.close()
            if self._since_last and stream.t0 is not None:
                store.save_sync(stream.t0, self._band_after(band, new_band, stream.t0))
        finally:
            store.close()
        return Summary(
            records=copied.total,
            records_this_run=copied.this_run,
            requests=stream.requests,
            rate_limited=self._client.rate_limit_status().rate_limited - ledger_before,
            elapsed=time.monotonic() - started,
            resumed=saved is not None,
        )

    async def _write(
        self,
        store: CheckpointStore,
        stream: ItemStream[Any],
        batch: Batch,
        band: dict[str, str],
        new_band: dict[str, str],
    ) -> int:
        """Write one batch to the sink, then commit it to the checkpoint; the records written."""
        records = batch.records
        added: list[tuple[str, str]] = []
        if self._since_last:
            records, added = self._new_versions(records, band, new_band, stream.t0)
        offset = await self._sink.write(records)
        rows = self._sink.rows(records) if isinstance(self._sink, SqliteSink) else None
        # In a worker thread, as the sink's fsync: a slow disk does not stall the loop. A
        # cancellation waits for it, so a batch is committed whole or not.
        await finish_in_thread(
            store.commit, batch.part, batch.cursor, batch.done, offset, len(records), rows, added
        )
        return len(records)

    def _report(self, stream: ItemStream[Any], copied: _Copied) -> None:
        if self._on_progress is None:
            return
        left = stream.estimate_left()
        self._on_progress(
            Progress(
                records=copied.total,
                records_this_run=copied.this_run,
                requests=stream.requests,
                parts_done=sum(p.done for p in stream.parts),
                parts=len(stream.parts),
                elapsed=time.monotonic() - copied.started,
                pages=copied.pages,
                records_left=None if left is None else left[0],
                requests_left=None if left is None else left[1],
            )
        )


@attrs.define
class _Output:
    """Opens the sink once, at ``offset``: when a new run's plan is saved, or a resume starts.

    A run that starts over cuts the earlier run's output (a JSONL file) only once its own plan
    has replaced that run's in the checkpoint: one that fails before keeps both as they were.
    """

    sink: Sink
    offset: int
    opened: bool = False

    def open(self) -> None:
        if not self.opened:
            self.sink.open(self.offset)
            self.opened = True


@attrs.define
class _Copied:
    """What a run has written so far: records in all and in this run, pages."""

    total: int
    started: float
    this_run: int = 0
    pages: int = 0

    def add(self, records: int) -> None:
        self.total += records
        self.this_run += records
        self.pages += 1


def _committed_any(checkpoint: Path) -> bool:
    """Whether a checkpoint holds a committed record (unreadable: assume it does)."""
    try:
        saved = read_run(checkpoint)
    except sqlite3.Error:
        return True
    return saved is not None and saved.records > 0


def query_key(
    start: datetime | date | None,
    end: datetime | date | None,
    filters: Mapping[str, Any] | None = None,
    *,
    since_last: bool = False,
) -> dict[str, object]:
    """What a checkpoint records of the backfill it belongs to (a resume must match it)."""
    return {
        "filters": {k: str(v) for k, v in sorted((filters or {}).items())},
        # An incremental sync's bounds move from run to run; a backfill's are fixed.
        "start": "" if since_last else str(start),
        "end": "" if since_last else str(end),
        "since_last": since_last,
    }


def describe_backfill(resource: str, query: Mapping[str, object]) -> str:
    """A backfill as a person reads it, from its resource and :func:`query_key`."""
    if query.get("since_last"):
        text = f"{resource} changed since the last run"
    else:
        start, end = query.get("start"), query.get("end")
        text = resource + (
            " from the oldest record" if start in (None, "None") else f" from {start}"
        )
        text += " with no end given" if end in (None, "None") else f" to {end}"
    filters = query.get("filters")
    if isinstance(filters, Mapping) and filters:
        text += ", filtered by " + ", ".join(f"{k}={v}" for k, v in filters.items())
    return text
