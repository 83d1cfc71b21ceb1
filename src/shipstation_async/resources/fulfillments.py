"""``ss.fulfillments``: orders shipped outside ShipStation's labels, marked-as-shipped included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypedDict, Unpack

from .._sansio import Lane, Operation
from ..models import Fulfillment, Page
from ..models.types import SortDir
from ..streams import FULFILLMENTS, ItemStream
from ._base import CallOptions, check_choice, choices, decode_page, list_arguments, paged_query
from .streaming import StreamingResource

FulfillmentSortBy = Literal["ShipDate", "CreateDate"]
_SORT_BY = choices(FulfillmentSortBy)
_SORT_DIR = choices(SortDir)


class FulfillmentFilters(TypedDict, total=False):
    """The filters of ``ss.fulfillments.list()`` and ``ss.fulfillments.iter()``."""

    fulfillment_id: int | None
    order_id: int | None
    order_number: str | None
    tracking_number: str | None
    recipient_name: str | None
    create_date_start: datetime | date | None
    create_date_end: datetime | date | None
    ship_date_start: datetime | date | None
    ship_date_end: datetime | date | None


class FulfillmentListOptions(FulfillmentFilters, CallOptions, total=False):
    """The keyword arguments of ``ss.fulfillments.list()``: its filters and the call options."""


class Fulfillments(StreamingResource):
    """Fulfillments (GET /fulfillments)."""

    walk = FULFILLMENTS
    filters_type = FulfillmentFilters

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        sort_by: FulfillmentSortBy | None = None,
        sort_dir: SortDir | None = None,
        **arguments: Unpack[FulfillmentListOptions],
    ) -> Page[Fulfillment]:
        """Fetch one page of fulfillments; default order is ascending create date."""
        sorting = {"sort_by": sort_by, "sort_dir": sort_dir}
        query_args, options = list_arguments(FulfillmentFilters, arguments, sorting)
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(page, page_size, **query_args)
        data = await self._call(Operation("GET", "/fulfillments", query=query), options)
        return decode_page(data, "fulfillments", Fulfillment, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Unpack[FulfillmentFilters],
    ) -> ItemStream[Fulfillment]:
        """Every fulfillment in a creation-date range, exactly once, as a stream.

        ``async for fulfillment in ss.fulfillments.iter(...)``; also ``async with``, and
        ``.pages()`` for page-at-a-time work. Without an end the listing stops at the
        server's time minus two minutes (T0); records created later are left to the next run.
        Takes the filters of ``list()`` except paging and sorting; the range walked is
        ``create_date_start`` to ``create_date_end``, split into parts fetched concurrently
        (this list has no 90-day limit). Runs in the ``bulk`` lane.
        """
        return self._stream(
            filters, concurrency=concurrency, page_size=page_size, ordered=ordered, lane=lane
        )
