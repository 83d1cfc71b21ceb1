"""The polling backup: what webhooks miss (dropped deliveries, and changes no event reports).

One round lists what changed since the committed high-water mark less an overlap (orders by
modifyDate, shipments by createDate and by voidDate, fulfillments by createDate: only the
lists some handler is for) up to the server's time less the sync lag, and stores the records
as jobs of at most :data:`CHUNK` records, the last one together with the new mark. The
dispatcher hands them over through the same once-per-version filter as deliveries, so what
a webhook already brought is not handed over again. A round that fails commits no mark: the
next one lists the same span again.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .._sansio import Operation
from .._time import before_repeated_hour, from_pacific_wall
from ..resources._base import paged_query
from ..resources.streaming import open_stream
from ..streams import MODIFIED_ORDERS
from ._records import page_of
from .store import Job

if TYPE_CHECKING:
    from ..client import ShipStation
    from ..streams import ItemStream
    from ._dispatch import Dispatcher
    from .store import WebhookStore

logger = logging.getLogger("shipstation_async.webhooks")

MAX_VOID_RANGE = timedelta(days=89)
CHUNK = 100
"""Records per polled job: one failing record holds back at most this many."""

_EVENT_OF = {
    "orders": "ORDER_NOTIFY",
    "shipments": "SHIP_NOTIFY",
    "fulfillments": "FULFILLMENT_SHIPPED",
}


def mark_time(mark: str) -> float:
    """A stored mark as seconds since the epoch."""
    return datetime.fromisoformat(mark).timestamp()


class Poller:
    """One polling round at a time; marks live in the store (names ``poll:<list>``)."""

    def __init__(
        self,
        client: ShipStation,
        store: WebhookStore,
        dispatcher: Dispatcher,
        *,
        overlap: timedelta,
        lookback: timedelta,
        sync_lag: timedelta,
        remember: float,
    ) -> None:
        self._client = client
        self._store = store
        self._dispatcher = dispatcher
        self._overlap = overlap
        self._lookback = lookback
        self._sync_lag = sync_lag
        self._remember = remember

    async def round(self, lists: dict[str, bool]) -> int:
        """Poll each list in ``lists`` (name -> with shipment items); returns records found."""
        found = 0
        for name, items in lists.items():
            mark = f"poll:{name}"
            start = await self._start(mark)
            records, end = await self._collect(name, start, items)
            found += len(records)
            chunks = [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)] or [[]]
            for number, chunk in enumerate(chunks, 1):
                last = number == len(chunks)
                await self._add(name, chunk, (mark, end.isoformat()) if last and end else None)
        return found

    async def _add(
        self, kind: str, records: list[dict[str, Any]], mark: tuple[str, str] | None
    ) -> None:
        job = Job(
            id=uuid.uuid4().hex,
            key=f"poll:{uuid.uuid4().hex}",
            resource_type=_EVENT_OF[kind],
            source="poll",
            received_at=time.time(),
            records={kind: records},
        )
        remember_until = time.time() + self._remember
        if await self._store.add_job(job, remember_until=remember_until, mark=mark):
            self._dispatcher.submit(job)

    async def _start(self, mark: str) -> datetime:
        saved = await self._store.mark(mark)
        if saved is None:
            logger.warning(
                "webhook polling: no %s mark yet; the first round looks back %s only "
                "(give lookback= for more)",
                mark,
                self._lookback,
            )
            return datetime.now(UTC) - self._lookback
        # Back to the fall-back hour's start when the overlap ends inside it (see the helper).
        return before_repeated_hour(datetime.fromisoformat(saved) - self._overlap)

    async def _collect(
        self, name: str, start: datetime, items: bool
    ) -> tuple[list[dict[str, Any]], datetime | None]:
        """The records of one list from ``start``, and where the walk ended (None: nothing)."""
        ss = self._client
        stream: ItemStream[Any]
        # Untyped: the records as the API sent them. One the models cannot read is set aside
        # by the dispatcher, alone; read here, it would fail every round and hold the mark.
        options: dict[str, Any] = {"start": start, "t0_lag": self._sync_lag, "typed": False}
        if name == "orders":
            stream = open_stream(ss.orders, {}, walk=MODIFIED_ORDERS, **options)
        elif name == "fulfillments":
            stream = open_stream(ss.fulfillments, {}, **options)
        else:
            stream = open_stream(ss.shipments, {"include_shipment_items": items}, **options)
        records = [dict(record) async for record in stream]
        if stream.t0 is None:
            return records, None  # the list is empty: the mark stays
        end = from_pacific_wall(stream.t0)
        if name == "shipments" and end > start:
            # (A first round whose start, by this host's clock, is after the server's end
            # lists nothing; its mark lets the next round start before it.)
            records.extend(await self._voided(start, end, items))
        return records, end

    async def _voided(self, start: datetime, end: datetime, items: bool) -> list[dict[str, Any]]:
        # Few labels are voided: plain pages by voidDate (no stream: the list sorts by no
        # void date to walk by).
        if end - start > MAX_VOID_RANGE:
            logger.warning(
                "webhook polling: voids before %s are not listed (the API takes 90 days)",
                (end - MAX_VOID_RANGE).isoformat(),
            )
            start = end - MAX_VOID_RANGE
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            query = paged_query(
                page, 500, void_date_start=start, void_date_end=end, include_shipment_items=items
            )
            answer = await self._client.request(
                Operation("GET", "/shipments", query=query), lane="bulk"
            )
            found, pages = page_of(answer, "shipments")  # untyped, as the stream above
            records.extend(found)
            if page >= pages or not found:
                return records
            page += 1
