"""``ss.fulfillments``: orders shipped outside ShipStation's labels, marked-as-shipped included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Unpack

from .._sansio import Lane, Operation
from ..models import Fulfillment, Page
from ..models.types import SortDir
from ..streams import ItemStream, Walk
from ._base import (
    CallOptions,
    Resource,
    check_choice,
    decode_page,
    paged_query,
)

FulfillmentSortBy = Literal["ShipDate", "CreateDate"]
_SORT_BY = frozenset(FulfillmentSortBy.__args__)  # type: ignore[attr-defined]
_SORT_DIR = frozenset(SortDir.__args__)  # type: ignore[attr-defined]


class Fulfillments(Resource):
    """Fulfillments (GET /fulfillments)."""

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        fulfillment_id: int | None = None,
        order_id: int | None = None,
        order_number: str | None = None,
        tracking_number: str | None = None,
        recipient_name: str | None = None,
        create_date_start: datetime | date | None = None,
        create_date_end: datetime | date | None = None,
        ship_date_start: datetime | date | None = None,
        ship_date_end: datetime | date | None = None,
        sort_by: FulfillmentSortBy | None = None,
        sort_dir: SortDir | None = None,
        **options: Unpack[CallOptions],
    ) -> Page[Fulfillment]:
        """Fetch one page of fulfillments; default order is ascending create date."""
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(
            page,
            page_size,
            fulfillment_id=fulfillment_id,
            order_id=order_id,
            order_number=order_number,
            tracking_number=tracking_number,
            recipient_name=recipient_name,
            create_date_start=create_date_start,
            create_date_end=create_date_end,
            ship_date_start=ship_date_start,
            ship_date_end=ship_date_end,
            sort_by=sort_by,
            sort_dir=sort_dir,
        )
        data = await self._call(Operation("GET", "/fulfillments", query=query), options)
        return decode_page(data, "fulfillments", Fulfillment, page=page, page_size=page_size)

    def iter(
        self,
        *,
        create_date_start: datetime | date | None = None,
        create_date_end: datetime | date | None = None,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Any,
    ) -> ItemStream[Fulfillment]:
        """Every fulfillment in a creation-date range, exactly once, as a stream.

        ``async for fulfillment in ss.fulfillments.iter(...)``; also ``async with``, and
        ``.pages()`` for page-at-a-time work. Without an end the listing stops at the
        server's time minus two minutes (T0); records created later are left to the next run.
        Takes the filters of ``list()`` except paging and sorting; long ranges are split
        (at most 90 days per request) and fetched concurrently. Runs in the ``bulk`` lane.
        """
        return self._stream(
            _WALK,
            filters,
            None,
            start=create_date_start,
            end=create_date_end,
            concurrency=concurrency,
            page_size=page_size,
            ordered=ordered,
            lane=lane,
        )


_WALK = Walk(
    path="/fulfillments",
    envelope="fulfillments",
    model=Fulfillment,
    id_key="fulfillmentId",
    max_range=None,
)
