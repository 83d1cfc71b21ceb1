"""``ss.fulfillments``: orders shipped outside ShipStation's labels, marked-as-shipped included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Unpack

from .._sansio import Operation
from ..models import Fulfillment, Page
from ..models.types import SortDir
from ._base import CallOptions, Resource, check_choice, decode_page, paged_query

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
