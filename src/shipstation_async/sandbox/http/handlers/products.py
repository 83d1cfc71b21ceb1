"""Products: list, get and update (a full replacement).

``sku`` and ``name`` filters are case-insensitive "contains" matches (ShipStation's exact
semantics are unconfirmed). PUT replaces the whole record: fields left out become null and a
missing ``active`` becomes false, as ASP.NET binds a missing boolean; ``productId`` in the
body, when given, must match the path.
"""

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web

from ...world import ProductQuery, ProductSortBy
from ..context import context
from ..models import PRODUCT
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import read_object
from .common import add_write, paged, path_int, success
from .params import QueryParams

SORT_BY: tuple[ProductSortBy, ...] = ("SKU", "ModifyDate", "CreateDate")


async def list_products(request: web.Request) -> web.StreamResponse:
    """``GET /products``: ``{products, total, page, pages}``."""
    ctx = context(request)
    params = QueryParams.of(request)
    start = params.timestamp("startDate")
    end = params.timestamp("endDate")
    page, page_size = params.page()
    query = ProductQuery(
        sku=params.text("sku"),
        name=params.text("name"),
        product_category_id=params.integer("productCategoryId"),
        product_type_id=params.integer("productTypeId"),
        tag_id=params.integer("tagId"),
        start=start,
        end=end,
        show_inactive=params.boolean("showInactive"),
        sort_by=cast(ProductSortBy | None, params.choice("sortBy", SORT_BY)),
        sort_desc=params.choice("sortDir", ("ASC", "DESC")) == "DESC",
        page=page,
        page_size=page_size,
    )
    if params.errors:
        return bad_request(params.errors)
    products, total = await asyncio.to_thread(ctx.world.query_products, query)
    return paged("products", products, total, page, page_size)


async def get_product(request: web.Request) -> web.StreamResponse:
    """``GET /products/{productId}``: one product (inactive ones too), or 404."""
    product = context(request).world.product(path_int(request, "productId"))
    if product is None:
        return not_found("Product not found")
    return json_response(product)


async def update_product(request: web.Request) -> web.StreamResponse:
    """``PUT /products/{productId}``: replace the product; a success message."""
    world = context(request).world
    product_id = path_int(request, "productId")
    body, problem = await read_object(request, "product", PRODUCT)
    if body is None:
        return cast(web.Response, problem)
    given = body.integer("productId")
    if given is not None and given != product_id:
        body.error("productId", f"The body's productId {given} is not the path's {product_id}.")
    body.text("sku", required=True)
    body.text("name", required=True)
    for field in ("price", "defaultCost", "length", "width", "height", "weightOz"):
        body.number(field, lo=0)
    body.boolean("active")
    if body.errors:
        return bad_request(body.errors)
    with world.lock:
        if world.product(product_id) is None:
            return not_found("Product not found")
        world.replace_product(product_id, body.data)
    return success("The requested product has been updated")


def register(router: Router) -> None:
    """Add the product routes to ``router``."""
    router.add("GET", "/products", list_products)
    router.add("GET", "/products/{productId:int}", get_product)
    add_write(router, "PUT", "/products/{productId:int}", update_product)
