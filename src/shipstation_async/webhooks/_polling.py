"""The polling backup: what webhooks miss (dropped deliveries, and changes no event reports).

One round lists what changed since the committed high-water mark less an overlap (orders by
modifyDate, shipments by createDate and by voidDate, fulfillments by createDate: only the
lists some handler is for) up to now, and stores the records as one job per list together
with the new mark. The dispatcher hands them over through the same once-per-version filter
as deliveries, so what a webhook already brought is not handed over again.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..resources.streaming import open_stream
from ..streams import MODIFIED_ORDERS
from .store import Job

if TYPE_CHECKING:
    from ..client import ShipStation
    from ._dispatch import Dispatcher
    from .store import WebhookStore

MAX_VOID_RANGE = timedelta(days=89)


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
        remember: float,
    ) -> None:
        self._client = client
        self._store = store
        self._dispatcher = dispatcher
        self._overlap = overlap
        self._lookback = lookback
        self._remember = remember

    async def round(self, lists: dict[str, bool]) -> int:
        """Poll each list in ``lists`` (name -> with shipment items); returns records found."""
        end = datetime.now(UTC)
        found = 0
        for name, items in lists.items():
            mark = f"poll:{name}"
            start = await self._start(mark, end)
            records = await self._collect(name, start, end, items)
            found += len(records)
            kind = "orders" if name == "orders" else name
            job = Job(
                id=uuid.uuid4().hex,
                key=f"poll:{uuid.uuid4().hex}",
                resource_type=_EVENT_OF[kind],
                source="poll",
                received_at=time.time(),
                records={kind: records},
            )
            added = await self._store.add_job(
                job, remember_until=time.time() + self._remember, mark=(mark, end.isoformat())
            )
            if added:
                self._dispatcher.submit(job)
        return found

    async def _start(self, mark: str, end: datetime) -> datetime:
        saved = await self._store.mark(mark)
        if saved is None:
            return end - self._lookback
        return datetime.fromisoformat(saved) - self._overlap

    async def _collect(
        self, name: str, start: datetime, end: datetime, items: bool
    ) -> list[dict[str, Any]]:
        ss = self._client
        if name == "orders":
            stream = open_stream(ss.orders, {}, walk=MODIFIED_ORDERS, start=start, end=end)
        elif name == "fulfillments":
            stream = open_stream(ss.fulfillments, {}, start=start, end=end)
        else:
            stream = open_stream(
                ss.shipments, {"include_shipment_items": items}, start=start, end=end
            )
        records = [dict(item.raw) async for item in stream if item.raw is not None]
        if name == "shipments":
            records.extend(await self._voided(max(start, end - MAX_VOID_RANGE), end, items))
        return records

    async def _voided(self, start: datetime, end: datetime, items: bool) -> list[dict[str, Any]]:
        # Few labels are voided: plain pages by voidDate (no stream: the list sorts by no
        # void date to walk by).
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = await self._client.shipments.list(
                page,
                500,
                void_date_start=start,
                void_date_end=end,
                include_shipment_items=items,
                lane="bulk",
            )
            records.extend(dict(s.raw) for s in answer.items if s.raw is not None)
            if page >= answer.pages or not answer.items:
                return records
            page += 1


_EVENT_OF = {
    "orders": "ORDER_NOTIFY",
    "shipments": "SHIP_NOTIFY",
    "fulfillments": "FULFILLMENT_SHIPPED",
}
