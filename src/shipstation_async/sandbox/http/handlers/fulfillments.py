"""Fulfillments: the list (orders marked as shipped, which /shipments leaves out).

No 90-day limit applies here (ShipStation states it for orders and shipments only).
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from ...state.derived_records import ShipSortBy
from ...state.fulfillments import FulfillmentQuery
from ..context import context
from ..responses import bad_request
from ..router import Router
from .common import listing, paged
from .params import QueryParams

SORT_BY: tuple[ShipSortBy, ...] = ("ShipDate", "CreateDate")


async def list_fulfillments(request: web.Request) -> web.StreamResponse:
    """``GET /fulfillments``: ``{fulfillments, total, page, pages}``, createDate ascending."""
    ctx = context(request)
    params = QueryParams.of(request)
    create = params.date_range("createDate", None)
    ship = params.date_range("shipDate", None)
    page, page_size = params.page()
    query = FulfillmentQuery(
        fulfillment_id=params.integer("fulfillmentId"),
        order_id=params.integer("orderId"),
        order_number=params.text("orderNumber"),
        tracking_number=params.text("trackingNumber"),
        recipient_name=params.text("recipientName"),
        create_start=create[0],
        create_end=create[1],
        ship_start=ship[0],
        ship_end=ship[1],
        sort_by=cast(ShipSortBy | None, params.choice("sortBy", SORT_BY)),
        sort_desc=params.choice("sortDir", ("ASC", "DESC")) == "DESC",
        page=page,
        page_size=page_size,
    )
    if params.errors:
        return bad_request(params.errors)
    fulfillments, total = await listing(request, ctx.world.fulfillments.query, query)
    return paged("fulfillments", fulfillments, total, page, page_size)


def register(router: Router) -> None:
    """Add the fulfillment routes to ``router``."""
    router.add("GET", "/fulfillments", list_fulfillments)
