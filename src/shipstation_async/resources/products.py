"""``ss.products``: list, read and replace products."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypedDict, Unpack

from .._sansio import Lane, Operation
from ..models import Page, Product, SuccessResult
from ..models.types import SortDir
from ..streams import PRODUCTS, ItemStream
from ._base import (
    CallOptions,
    check_choice,
    check_id,
    check_range,
    choices,
    decode_page,
    list_arguments,
    paged_query,
    success,
    to_body,
)
from .streaming import StreamingResource

ProductSortBy = Literal["SKU", "ModifyDate", "CreateDate"]
_SORT_BY = choices(ProductSortBy)
_SORT_DIR = choices(SortDir)


class ProductFilters(TypedDict, total=False):
    """The filters of ``ss.products.list()`` and ``ss.products.iter()``."""

    sku: str | None
    name: str | None
    product_category_id: int | None
    product_type_id: int | None
    tag_id: int | None
    start_date: datetime | date | None
    end_date: datetime | date | None
    show_inactive: bool | None
    upc: str | None


class ProductListOptions(ProductFilters, CallOptions, total=False):
    """The keyword arguments of ``ss.products.list()``: its filters and the call options."""


class Products(StreamingResource):
    """Products: one page with ``list``, one with ``get``, replace with ``update``."""

    walk = PRODUCTS
    filters_type = ProductFilters

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        sort_by: ProductSortBy | None = None,
        sort_dir: SortDir | None = None,
        **arguments: Unpack[ProductListOptions],
    ) -> Page[Product]:
        """Fetch one page of products (GET /products).

        ``start_date``/``end_date`` bound the creation date.
        """
        sorting = {"sort_by": sort_by, "sort_dir": sort_dir}
        query_args, options = list_arguments(ProductFilters, arguments, sorting, sort_before="upc")
        check_range(
            query_args.get("start_date"), query_args.get("end_date"), "start_date", "end_date"
        )
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(page, page_size, **query_args)
        data = await self._call(Operation("GET", "/products", query=query), options)
        return decode_page(data, "products", Product, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Unpack[ProductFilters],
    ) -> ItemStream[Product]:
        """Every product in a creation-date range, exactly once, as a stream.

        ``async for product in ss.products.iter(...)``; also ``async with``, and
        ``.pages()`` for page-at-a-time work. Without an end the listing stops at the
        server's time minus two minutes (T0); records created later are left to the next run.
        Takes the filters of ``list()`` except paging and sorting; the range walked is
        ``start_date`` to ``end_date``, split into parts fetched concurrently (this list
        has no 90-day limit). Runs in the ``bulk`` lane.
        """
        return self._stream(
            filters, concurrency=concurrency, page_size=page_size, ordered=ordered, lane=lane
        )

    async def get(self, product_id: int, **options: Unpack[CallOptions]) -> Product:
        """Fetch one product (GET /products/{productId})."""
        check_id(product_id, "product_id")
        return await self._model(Operation("GET", f"/products/{product_id}"), Product, options)

    async def update(
        self, product: Product | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Replace a product (PUT /products/{productId}): partial updates are not supported.

        Fetch it, change it with ``attrs.evolve`` and send it back: every field the server
        sent (unknown ones and nulls included) goes back unchanged.
        """
        body = to_body(product, Product, "product")
        product_id = check_id(body.get("productId"), "product.productId")
        operation = Operation("PUT", f"/products/{product_id}", body=body)
        return success(await self._call(operation, options))
