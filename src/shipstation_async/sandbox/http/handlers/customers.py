"""Customers: list and get."""

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web

from ...state.customers import CustomerQuery, CustomerSortBy
from ..context import context
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .common import paged, path_int
from .params import QueryParams

SORT_BY: tuple[CustomerSortBy, ...] = ("Name", "ModifyDate", "CreateDate")


async def list_customers(request: web.Request) -> web.StreamResponse:
    """``GET /customers``: ``{customers, total, page, pages}``."""
    ctx = context(request)
    params = QueryParams.of(request)
    page, page_size = params.page()
    query = CustomerQuery(
        state_code=params.text("stateCode"),
        country_code=params.text("countryCode"),
        marketplace_id=params.integer("marketplaceId"),
        tag_id=params.integer("tagId"),
        sort_by=cast(CustomerSortBy | None, params.choice("sortBy", SORT_BY)),
        sort_desc=params.choice("sortDir", ("ASC", "DESC")) == "DESC",
        page=page,
        page_size=page_size,
    )
    if params.errors:
        return bad_request(params.errors)
    customers, total = await asyncio.to_thread(ctx.world.customers.query, query)
    return paged("customers", customers, total, page, page_size)


async def get_customer(request: web.Request) -> web.StreamResponse:
    """``GET /customers/{customerId}``: one customer, or 404."""
    customer = context(request).world.customers.get(path_int(request, "customerId"))
    if customer is None:
        return not_found("Customer not found")
    return json_response(customer)


def register(router: Router) -> None:
    """Add the customer routes to ``router``."""
    router.add("GET", "/customers", list_customers)
    router.add("GET", "/customers/{customerId:int}", get_customer)
