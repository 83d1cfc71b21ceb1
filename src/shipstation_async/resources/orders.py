"""``ss.orders``: list and read orders."""

from __future__ import annotations

from datetime import date, datetime

from .._sansio import Lane, Operation
from ..errors import InvalidRequestError
from ..models import Order, Page
from ..models.converter import converter
from ..models.types import OrderSortBy, OrderStatus, SortDir
from ._base import UNSET, Resource, check_page, check_range, decode_page

_ORDER_STATUSES = frozenset(OrderStatus.__args__)  # type: ignore[attr-defined]
_SORT_BY = frozenset(OrderSortBy.__args__)  # type: ignore[attr-defined]
_SORT_DIR = frozenset(SortDir.__args__)  # type: ignore[attr-defined]


class Orders(Resource):
    """Orders: ``await ss.orders.list(...)`` for one page, ``await ss.orders.get(id)`` for one."""

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        customer_name: str | None = None,
        item_keyword: str | None = None,
        create_date_start: datetime | date | None = None,
        create_date_end: datetime | date | None = None,
        modify_date_start: datetime | date | None = None,
        modify_date_end: datetime | date | None = None,
        order_date_start: datetime | date | None = None,
        order_date_end: datetime | date | None = None,
        order_number: str | None = None,
        order_status: OrderStatus | None = None,
        payment_date_start: datetime | date | None = None,
        payment_date_end: datetime | date | None = None,
        store_id: int | None = None,
        sort_by: OrderSortBy | None = None,
        sort_dir: SortDir | None = None,
        max_wait: float | None = UNSET,
        lane: Lane | None = None,
    ) -> Page[Order]:
        """Fetch one page of orders (GET /orders).

        Datetimes must be timezone-aware; they are sent in Pacific time at second precision.
        ``order_number`` matches as "starts with". Without ``sort_by`` the API orders by
        ascending orderId. Returns a :class:`Page` of :class:`Order`; to walk every page use
        the streaming ``iter()``.
        """
        check_page(page, page_size)
        for start, end, name in (
            (create_date_start, create_date_end, "create_date"),
            (modify_date_start, modify_date_end, "modify_date"),
            (order_date_start, order_date_end, "order_date"),
            (payment_date_start, payment_date_end, "payment_date"),
        ):
            check_range(start, end, f"{name}_start", f"{name}_end")
        _check_choice(order_status, _ORDER_STATUSES, "order_status")
        _check_choice(sort_by, _SORT_BY, "sort_by")
        _check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = {
            "customerName": customer_name,
            "itemKeyword": item_keyword,
            "createDateStart": create_date_start,
            "createDateEnd": create_date_end,
            "modifyDateStart": modify_date_start,
            "modifyDateEnd": modify_date_end,
            "orderDateStart": order_date_start,
            "orderDateEnd": order_date_end,
            "orderNumber": order_number,
            "orderStatus": order_status,
            "paymentDateStart": payment_date_start,
            "paymentDateEnd": payment_date_end,
            "storeId": store_id,
            "sortBy": sort_by,
            "sortDir": sort_dir,
            "page": page,
            "pageSize": page_size,
        }
        data = await self._call(
            Operation("GET", "/orders", query=query), max_wait=max_wait, lane=lane
        )
        return decode_page(data, "orders", Order, page=page, page_size=page_size)

    async def get(
        self, order_id: int, *, max_wait: float | None = UNSET, lane: Lane | None = None
    ) -> Order:
        """Fetch one order by id (GET /orders/{orderId}); :class:`NotFoundError` if absent."""
        _check_id(order_id, "order_id")
        data = await self._call(
            Operation("GET", f"/orders/{order_id}"), max_wait=max_wait, lane=lane
        )
        return converter.structure(data, Order)


def _check_choice(value: str | None, allowed: frozenset[str], field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidRequestError(
            f"{field} must be one of {sorted(allowed)}, got {value!r}", field=field
        )


def _check_id(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidRequestError(f"{field} must be a positive integer, got {value!r}", field=field)
