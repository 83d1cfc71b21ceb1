"""``ss.customers``: list and read customers."""

from __future__ import annotations

from typing import Any, Literal, Unpack

from .._sansio import Lane, Operation
from ..models import Customer, Page
from ..models.types import SortDir
from ..streams import ItemStream, Walk
from ._base import (
    CallOptions,
    Resource,
    check_choice,
    check_id,
    decode_page,
    paged_query,
)

CustomerSortBy = Literal["Name", "ModifyDate", "CreateDate"]
_SORT_BY = frozenset(CustomerSortBy.__args__)  # type: ignore[attr-defined]
_SORT_DIR = frozenset(SortDir.__args__)  # type: ignore[attr-defined]


class Customers(Resource):
    """Customers of the account."""

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        state_code: str | None = None,
        country_code: str | None = None,
        marketplace_id: int | None = None,
        tag_id: int | None = None,
        sort_by: CustomerSortBy | None = None,
        sort_dir: SortDir | None = None,
        **options: Unpack[CallOptions],
    ) -> Page[Customer]:
        """Fetch one page of customers (GET /customers)."""
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(
            page,
            page_size,
            state_code=state_code,
            country_code=country_code,
            marketplace_id=marketplace_id,
            tag_id=tag_id,
            sort_by=sort_by,
            sort_dir=sort_dir,
        )
        data = await self._call(Operation("GET", "/customers", query=query), options)
        return decode_page(data, "customers", Customer, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Any,
    ) -> ItemStream[Customer]:
        """Every customer, exactly once, as a stream (``async for customer in ...``).

        The customers list has no date filter, so this reads offset pages sorted by creation
        date and verifies them: the total must not change during the read and the distinct
        ids must match it, else it reads again. Takes the filters of ``list()`` except paging
        and sorting. Runs in the ``bulk`` lane by default.
        """
        return self._stream(
            _WALK,
            filters,
            None,
            concurrency=concurrency,
            page_size=page_size,
            ordered=ordered,
            lane=lane,
        )

    async def get(self, customer_id: int, **options: Unpack[CallOptions]) -> Customer:
        """One customer (GET /customers/{customerId})."""
        check_id(customer_id, "customer_id")
        return await self._model(Operation("GET", f"/customers/{customer_id}"), Customer, options)


_WALK = Walk(
    path="/customers",
    envelope="customers",
    model=Customer,
    id_key="customerId",
    start_param=None,
    end_param=None,
    max_range=None,
)
