"""The backfill engine: a stream written to a sink with a checkpoint after every batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..errors import ConfigurationError
from ..resources import customers, fulfillments, orders, products, shipments
from ..streams import ItemStream, SubRange, Walk
from .checkpoint import CheckpointStore
from .sinks import JsonlSink, Sink, SqliteSink

if TYPE_CHECKING:
    from ..client import ShipStation

Resource = Literal["orders", "shipments", "fulfillments", "products", "customers"]

_WALKS: dict[str, tuple[Walk, tuple[str, str]]] = {
    "orders": (orders._WALK, ("create_date_start", "create_date_end")),
    "shipments": (shipments._WALK, ("create_date_start", "create_date_end")),
    "fulfillments": (fulfillments._WALK, ("create_date_start", "create_date_end")),
    "products": (products._WALK, ("start_date", "end_date")),
    "customers": (customers._WALK, ("create_date_start", "create_date_end")),
}


@attrs.frozen
class Progress:
    """Where a backfill stands: records written (this run and in all), requests, parts done."""

    records: int
    records_this_run: int
    requests: int
    parts_done: int
    parts: int
    elapsed: float


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
    ) -> None:
        if resource not in _WALKS:
            raise ConfigurationError(f"resource must be one of {sorted(_WALKS)}, got {resource!r}")
        if isinstance(sink, SqliteSink):
            checkpoint = sink.path  # data and checkpoint in one file, one transaction
        elif checkpoint is None:
            if not isinstance(sink, str | Path):
                raise ConfigurationError("a checkpoint path is needed with a callback sink")
            checkpoint = f"{sink}.checkpoint.sqlite"
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

    def _stream(
        self,
        store: CheckpointStore,
        query_key: dict[str, object],
        saved: tuple[datetime | None, list[SubRange]] | None,
    ) -> ItemStream[Any]:
        walk, names = _WALKS[self._resource]
        bound = getattr(self._client, self._resource)

        def save_plan(t0: datetime | None, parts: list[SubRange]) -> None:
            if saved is None:
                store.start(self._resource, query_key, t0, parts)

        return bound._stream(  # type: ignore[no-any-return]
            walk,
            self._filters,
            start=self._start,
            end=self._end,
            names=names,
            concurrency=self._concurrency,
            page_size=self._page_size,
            ordered=False,
            lane="bulk",
            resume=saved,
            on_plan=save_plan,
        )

    async def run(self) -> Summary:
        """Run (or resume) the backfill to the end and return its summary."""
        started = time.monotonic()
        store = CheckpointStore(self._checkpoint)
        query_key: dict[str, object] = {
            "filters": {k: str(v) for k, v in sorted(self._filters.items())},
            "start": str(self._start),
            "end": str(self._end),
        }
        ledger_before = self._client.rate_limit_status().rate_limited
        try:
            saved = store.load() if self._resume else None
            if saved is not None and (saved.resource != self._resource or saved.query != query_key):
                raise ConfigurationError(
                    f"the checkpoint {self._checkpoint} belongs to another backfill "
                    f"({saved.resource} {saved.query}); use another path or resume=False"
                )
            offset = saved.sink_offset if saved else 0
            total = saved.records if saved else 0
            stream = self._stream(store, query_key, (saved.t0, saved.parts) if saved else None)
            self._sink.open(offset)
            this_run = 0
            try:
                while (batch := await stream.next_batch()) is not None:
                    offset = await self._sink.write(batch.records)
                    rows = (
                        self._sink.rows(batch.records)
                        if isinstance(self._sink, SqliteSink)
                        else None
                    )
                    store.commit(
                        batch.part, batch.cursor, batch.done, offset, len(batch.records), rows
                    )
                    total += len(batch.records)
                    this_run += len(batch.records)
                    if self._on_progress is not None:
                        self._on_progress(
                            Progress(
                                records=total,
                                records_this_run=this_run,
                                requests=stream.requests,
                                parts_done=sum(p.done for p in stream.parts),
                                parts=len(stream.parts),
                                elapsed=time.monotonic() - started,
                            )
                        )
            finally:
                await stream.aclose()
                self._sink.close()
        finally:
            store.close()
        return Summary(
            records=total,
            records_this_run=this_run,
            requests=stream.requests,
            rate_limited=self._client.rate_limit_status().rate_limited - ledger_before,
            elapsed=time.monotonic() - started,
            resumed=saved is not None,
        )
