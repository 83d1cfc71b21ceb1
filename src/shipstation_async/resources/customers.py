"""``ss.customers``: list and read customers."""

from __future__ import annotations

from typing import Literal, TypedDict, Unpack

from .._sansio import Lane, Operation
from ..models import Customer, Page
from ..models.types import SortDir
from ..streams import CUSTOMERS, ItemStream
from ._base import (
    CallOptions,
    check_choice,
    check_id,
    choices,
    decode_page,
    list_arguments,
    paged_query,
)
from .streaming import StreamingResource

CustomerSortBy = Literal["Name", "ModifyDate", "CreateDate"]
_SORT_BY = choices(CustomerSortBy)
_SORT_DIR = choices(SortDir)


class CustomerFilters(TypedDict, total=False):
    """The filters of ``ss.customers.list()`` and ``ss.customers.iter()``."""

    state_code: str | None
    country_code: str | None
    marketplace_id: int | None
    tag_id: int | None


class CustomerListOptions(CustomerFilters, CallOptions, total=False):
    """The keyword arguments of ``ss.customers.list()``: its filters and the call options."""


class Customers(StreamingResource):
    """Customers of the account."""

    walk = CUSTOMERS
    filters_type = CustomerFilters

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        sort_by: CustomerSortBy | None = None,
        sort_dir: SortDir | None = None,
        **arguments: Unpack[CustomerListOptions],
    ) -> Page[Customer]:
        """Fetch one page of customers (GET /customers)."""
        sorting = {"sort_by": sort_by, "sort_dir": sort_dir}
        query_args, options = list_arguments(CustomerFilters, arguments, sorting)
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(page, page_size, **query_args)
        data = await self._call(Operation("GET", "/customers", query=query), options)
        return decode_page(data, "customers", Customer, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Unpack[CustomerFilters],
    ) -> ItemStream[Customer]:
        """Every customer, exactly once, as a stream (``async for customer in ...``).

        The customers list has no date filter, so this reads offset pages sorted by creation
        date and verifies them: the total must not change during the read and the distinct
        ids must match it, else it reads again. Takes the filters of ``list()`` except paging
        and sorting. Runs in the ``bulk`` lane by default.
        """
        return self._stream(
            filters, concurrency=concurrency, page_size=page_size, ordered=ordered, lane=lane
        )

    async def get(self, customer_id: int, **options: Unpack[CallOptions]) -> Customer:
        """One customer (GET /customers/{customerId})."""
        check_id(customer_id, "customer_id")
        return await self._model(Operation("GET", f"/customers/{customer_id}"), Customer, options)
