"""Orders: ``GET /orders`` and ``GET /orders/{orderId}``.

A missing order answers 404 ``{"Message": "Order not found"}``: ShipStation's real body for
this case is unconfirmed (reference §5), so the sandbox picks an ASP.NET-style message.
"""

from __future__ import annotations

import asyncio
import math
from typing import cast

from aiohttp import web

from ..context import context
from ..responses import bad_request, json_response, not_found
from ..router import PARAMS_KEY, Router
from ..world import ORDER_STATUSES, OrderQuery, SortBy
from .params import QueryParams

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
SORT_BY: tuple[SortBy, ...] = ("OrderDate", "ModifyDate", "CreateDate")


def parse_order_query(params: QueryParams, max_days: int | None) -> OrderQuery:
    """Build the :class:`OrderQuery` for ``GET /orders``; problems land in ``params.errors``."""
    create = params.date_range("createDate", max_days)
    modify = params.date_range("modifyDate", max_days)
    order = params.date_range("orderDate", max_days)
    payment = params.date_range("paymentDate", max_days)
    status = params.text("orderStatus")
    if status is not None:
        status = status.strip().lower()
        if status not in ORDER_STATUSES:
            params.error("orderStatus", f"The value '{status}' is not a valid order status.")
            status = None
    sort_dir = params.choice("sortDir", ("ASC", "DESC"))
    return OrderQuery(
        customer_name=params.text("customerName"),
        item_keyword=params.text("itemKeyword"),
        create_start=create[0],
        create_end=create[1],
        modify_start=modify[0],
        modify_end=modify[1],
        order_start=order[0],
        order_end=order[1],
        payment_start=payment[0],
        payment_end=payment[1],
        order_number=params.text("orderNumber"),
        order_status=status,
        store_id=params.integer("storeId"),
        sort_by=cast(SortBy | None, params.choice("sortBy", SORT_BY)),
        sort_desc=sort_dir == "DESC",
        page=params.integer("page", default=1, lo=1) or 1,
        page_size=params.integer("pageSize", default=DEFAULT_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE)
        or DEFAULT_PAGE_SIZE,
    )


async def list_orders(request: web.Request) -> web.StreamResponse:
    """``GET /orders``: the filtered, sorted page ``{orders, total, page, pages}``."""
    ctx = context(request)
    params = QueryParams.of(request)
    query = parse_order_query(params, ctx.max_date_range_days)
    if params.errors:
        return bad_request(params.errors)
    # A filtered scan over a large world can take a while: keep the event loop (and so the
    # arrival times of concurrent requests) free while it runs.
    orders, total = await asyncio.to_thread(ctx.world.orders.query, query)
    return json_response(
        {
            "orders": orders,
            "total": total,
            "page": query.page,
            "pages": math.ceil(total / query.page_size),
        }
    )


async def get_order(request: web.Request) -> web.StreamResponse:
    """``GET /orders/{orderId}``: one order, or 404."""
    order_id = int(request[PARAMS_KEY]["orderId"])
    order = context(request).world.orders.get(order_id)
    if order is None:
        return not_found("Order not found")
    return json_response(order)


def register(router: Router) -> None:
    """Add the order routes to ``router``."""
    router.add("GET", "/orders", list_orders)
    router.add("GET", "/orders/{orderId:int}", get_order)
