"""``ss.orders``: list, read, create/update, hold, tag, assign, ship and label orders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypedDict, Unpack

from .._arguments import MAX_ORDER_NUMBER, MAX_ORDERS_PER_BATCH, MAX_RANGE_DAYS
from .._once import buy_label_once
from .._sansio import Lane, Operation, Safety
from ..errors import APIError, InvalidRequestError
from ..models import (
    AdvancedOptions,
    CreateOrdersResult,
    Dimensions,
    InsuranceOptions,
    InternationalOptions,
    Label,
    MarkAsShippedResult,
    Order,
    Page,
    SuccessResult,
    Weight,
)
from ..models.types import Confirmation, OrderSortBy, OrderStatus, SortDir
from ..streams import ORDERS, ItemStream
from ._base import (
    CallOptions,
    buy_label,
    check_bool,
    check_choice,
    check_id,
    check_text,
    choices,
    date_text,
    decode_page,
    id_list,
    label_body,
    list_arguments,
    paged_query,
    success,
    to_body,
)
from .streaming import StreamingResource

ORDER_STATUSES = choices(OrderStatus)
_SORT_BY = choices(OrderSortBy)
_SORT_DIR = choices(SortDir)


class OrderFilters(TypedDict, total=False):
    """The filters of ``ss.orders.list()`` and ``ss.orders.iter()``."""

    customer_name: str | None
    item_keyword: str | None
    create_date_start: datetime | date | None
    create_date_end: datetime | date | None
    modify_date_start: datetime | date | None
    modify_date_end: datetime | date | None
    order_date_start: datetime | date | None
    order_date_end: datetime | date | None
    order_number: str | None
    order_status: OrderStatus | None
    payment_date_start: datetime | date | None
    payment_date_end: datetime | date | None
    store_id: int | None
    import_batch: str | None


class OrderListOptions(OrderFilters, CallOptions, total=False):
    """The keyword arguments of ``ss.orders.list()``: its filters and the call options."""


OrderInput = Order | Mapping[str, Any]
"""An order to send: an :class:`Order`, or a mapping with the API's camelCase keys."""


class Orders(StreamingResource):
    """Orders: ``await ss.orders.list(...)`` for one page, ``await ss.orders.get(id)`` for one."""

    max_range_days = MAX_RANGE_DAYS
    walk = ORDERS
    filters_type = OrderFilters

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        sort_by: OrderSortBy | None = None,
        sort_dir: SortDir | None = None,
        **arguments: Unpack[OrderListOptions],
    ) -> Page[Order]:
        """Fetch one page of orders (GET /orders).

        Datetimes must be timezone-aware; they are sent in Pacific time at second precision.
        A date means midnight Pacific at its start (as an end, that day is left out).
        ``order_number`` matches as "starts with". Without ``sort_by`` the API orders by
        ascending orderId. ``import_batch`` is the filter an ORDER_NOTIFY webhook's
        resource_url carries. A date range may span at most 90 days (the API's limit; a longer
        one raises :class:`InvalidRequestError` unsent, and ``iter()`` splits it). Returns a
        :class:`Page` of :class:`Order`.
        """
        sorting = {"sort_by": sort_by, "sort_dir": sort_dir}
        query_args, options = list_arguments(
            OrderFilters, arguments, sorting, sort_before="import_batch"
        )
        check_choice(query_args.get("order_status"), ORDER_STATUSES, "order_status")
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(page, page_size, max_range_days=self.max_range_days, **query_args)
        data = await self._call(Operation("GET", "/orders", query=query), options)
        return decode_page(data, "orders", Order, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Unpack[OrderFilters],
    ) -> ItemStream[Order]:
        """Every order in a creation-date range, exactly once, as a stream.

        ``async for order in ss.orders.iter(...)``; also ``async with``, and
        ``.pages()`` for page-at-a-time work. Without an end the listing stops at the
        server's time minus two minutes (T0); records created later are left to the next run.
        Takes the filters of ``list()`` except paging and sorting; the range walked is
        ``create_date_start`` to ``create_date_end``, and long ranges are split
        (at most 90 days per request) and fetched concurrently. Runs in the ``bulk`` lane.
        """
        return self._stream(
            filters, concurrency=concurrency, page_size=page_size, ordered=ordered, lane=lane
        )

    async def list_by_tag(
        self,
        order_status: OrderStatus,
        tag_id: int,
        page: int = 1,
        page_size: int = 100,
        **options: Unpack[CallOptions],
    ) -> Page[Order]:
        """Fetch one page of orders with a tag in a status (GET /orders/listbytag)."""
        check_choice(order_status, ORDER_STATUSES, "order_status")
        check_id(tag_id, "tag_id")
        query = paged_query(page, page_size, order_status=order_status, tag_id=tag_id)
        data = await self._call(Operation("GET", "/orders/listbytag", query=query), options)
        return decode_page(data, "orders", Order, page=page, page_size=page_size)

    async def get(self, order_id: int, **options: Unpack[CallOptions]) -> Order:
        """Fetch one order by id (GET /orders/{orderId}); :class:`NotFoundError` if absent."""
        check_id(order_id, "order_id")
        return await self._model(Operation("GET", f"/orders/{order_id}"), Order, options)

    async def create_or_update(self, order: OrderInput, **options: Unpack[CallOptions]) -> Order:
        """Create an order, or update the one with the same ``order_key`` (POST createorder).

        Updates replace the whole order (send every field); only awaiting_payment,
        awaiting_shipment, pending_fulfillment and on_hold orders can change. With an
        ``order_key`` the call is idempotent and retried freely; without one, each call may
        create a new order, so an ambiguous failure raises :class:`AmbiguousRequestError`.
        """
        body = _order_body(order, "order")
        safety = Safety.IDEMPOTENT if body.get("orderKey") else Safety.NON_IDEMPOTENT
        operation = Operation("POST", "/orders/createorder", body=body, safety=safety)
        return await self._model(operation, Order, options)

    async def create_or_update_many(
        self, orders: Sequence[OrderInput], **options: Unpack[CallOptions]
    ) -> CreateOrdersResult:
        """Create or update up to 100 orders at once (POST createorders).

        Each order succeeds or fails on its own: check ``result.has_errors`` and
        ``result.failed``; a failed order is reported there, not raised.
        """
        if isinstance(orders, Mapping) or not isinstance(orders, Sequence) or not orders:
            raise InvalidRequestError("orders must be a non-empty list", field="orders")
        if len(orders) > MAX_ORDERS_PER_BATCH:
            raise InvalidRequestError(
                f"createorders takes at most {MAX_ORDERS_PER_BATCH} orders per call, got "
                f"{len(orders)}; split the list",
                field="orders",
            )
        body = [_order_body(order, f"orders[{i}]") for i, order in enumerate(orders)]
        keyed = all(item.get("orderKey") for item in body)
        safety = Safety.IDEMPOTENT if keyed else Safety.NON_IDEMPOTENT
        operation = Operation("POST", "/orders/createorders", body=body, safety=safety)
        return await self._model(operation, CreateOrdersResult, options)

    async def delete(self, order_id: int, **options: Unpack[CallOptions]) -> SuccessResult:
        """Soft-delete an order (DELETE /orders/{orderId}): it stays, set inactive.

        A 404 on a retry after an ambiguous first attempt counts as success.
        """
        check_id(order_id, "order_id")
        operation = Operation("DELETE", f"/orders/{order_id}", recover=_deleted)
        return success(await self._call(operation, options))

    async def hold_until(
        self, order_id: int, hold_until_date: date, **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Put an order on hold until a date, when it returns to awaiting_shipment."""
        check_id(order_id, "order_id")
        if isinstance(hold_until_date, datetime) or not isinstance(hold_until_date, date):
            raise InvalidRequestError(
                "hold_until_date must be a date (not a datetime)", field="hold_until_date"
            )
        body = {"orderId": order_id, "holdUntilDate": hold_until_date.isoformat()}
        return await self._post_setter("/orders/holduntil", body, options)

    async def restore_from_hold(
        self, order_id: int, **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Move an order from on_hold back to awaiting_shipment."""
        body = {"orderId": check_id(order_id, "order_id")}
        return await self._post_setter(
            "/orders/restorefromhold", body, options, recover=_restored_already
        )

    async def add_tag(
        self, order_id: int, tag_id: int, **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Tag an order (POST /orders/addtag)."""
        body = {"orderId": check_id(order_id, "order_id"), "tagId": check_id(tag_id, "tag_id")}
        return await self._post_setter("/orders/addtag", body, options)

    async def remove_tag(
        self, order_id: int, tag_id: int, **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Remove a tag from an order (POST /orders/removetag)."""
        body = {"orderId": check_id(order_id, "order_id"), "tagId": check_id(tag_id, "tag_id")}
        return await self._post_setter("/orders/removetag", body, options)

    async def assign_user(
        self, order_ids: Sequence[int], user_id: str, **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Assign orders to a user (a GUID). If any order is not found, none is assigned."""
        body = {
            "orderIds": id_list(order_ids, "order_ids"),
            "userId": check_text(user_id, "user_id"),
        }
        return await self._post_setter("/orders/assignuser", body, options)

    async def unassign_user(
        self, order_ids: Sequence[int], **options: Unpack[CallOptions]
    ) -> SuccessResult:
        """Unassign orders from their user. If any order is not found, none changes."""
        body = {"orderIds": id_list(order_ids, "order_ids")}
        return await self._post_setter("/orders/unassignuser", body, options)

    async def mark_as_shipped(
        self,
        order_id: int,
        carrier_code: str,
        *,
        ship_date: date | None = None,
        tracking_number: str | None = None,
        notify_customer: bool = False,
        notify_sales_channel: bool = False,
        **options: Unpack[CallOptions],
    ) -> MarkAsShippedResult:
        """Mark an order shipped without buying a label (creates a fulfillment, not a shipment).

        Not idempotent: an ambiguous failure raises :class:`AmbiguousRequestError`.
        ``ship_date`` and ``tracking_number`` are optional: left out, they are not sent.
        """
        body: dict[str, Any] = {
            "orderId": check_id(order_id, "order_id"),
            "carrierCode": check_text(carrier_code, "carrier_code"),
            "shipDate": date_text(ship_date, "ship_date"),
            "trackingNumber": None
            if tracking_number is None
            else check_text(tracking_number, "tracking_number"),
            "notifyCustomer": check_bool(notify_customer, "notify_customer"),
            "notifySalesChannel": check_bool(notify_sales_channel, "notify_sales_channel"),
        }
        body = {k: v for k, v in body.items() if v is not None}
        operation = Operation(
            "POST", "/orders/markasshipped", body=body, safety=Safety.NON_IDEMPOTENT
        )
        return await self._model(operation, MarkAsShippedResult, options)

    async def create_label(
        self,
        order_id: int,
        carrier_code: str,
        service_code: str,
        package_code: str,
        ship_date: date,
        *,
        confirmation: Confirmation | None = None,
        weight: Weight | None = None,
        dimensions: Dimensions | None = None,
        insurance_options: InsuranceOptions | None = None,
        international_options: InternationalOptions | None = None,
        advanced_options: AdvancedOptions | None = None,
        test_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> Label:
        """Buy a label for an order (POST /orders/createlabelfororder). Costs money.

        ``test_label=False`` (the API's default) buys a real label. Never retried unless the
        request provably did not reach ShipStation: on :class:`AmbiguousRequestError`,
        ``await ss.settle(exc)`` finds out whether it was bought. :meth:`create_label_once`
        does that itself and is the safe way to buy.
        """
        body = _label_body(
            order_id,
            carrier_code,
            service_code,
            package_code,
            ship_date,
            confirmation=confirmation,
            weight=weight,
            dimensions=dimensions,
            insurance_options=insurance_options,
            international_options=international_options,
            advanced_options=advanced_options,
            test_label=test_label,
        )
        return await buy_label(self._client, LABEL_FOR_ORDER, body, options)

    async def create_label_once(
        self,
        order_id: int,
        carrier_code: str,
        service_code: str,
        package_code: str,
        ship_date: date,
        *,
        confirmation: Confirmation | None = None,
        weight: Weight | None = None,
        dimensions: Dimensions | None = None,
        insurance_options: InsuranceOptions | None = None,
        international_options: InternationalOptions | None = None,
        advanced_options: AdvancedOptions | None = None,
        test_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> Label:
        """Buy a label for an order at most once: :meth:`create_label`, ambiguity settled.

        When the purchase's outcome is ambiguous (a timeout or a 5xx after sending), it waits
        until ShipStation has surely finished (``ss.settle``): if the label was bought, that
        label is returned (without ``label_data``: the V1 API cannot download it again; reprint
        it from ShipStation); if provably not, it buys again. It raises
        :class:`AmbiguousRequestError` only when no certainty was reached (its ``settlement``
        and message say what to check by hand); a later call with the same purchase settles
        that one first.

        ShipStation has no idempotency key, so two purchases of the same label (same order,
        carrier, service and package) cannot be told apart afterwards. In this process they
        never overlap: a second caller waits for the first, and gets the first's outcome if
        it asked for exactly the same label. To buy two identical labels, buy one after the
        other; across processes, give each purchase to one process.
        """
        body = _label_body(
            order_id,
            carrier_code,
            service_code,
            package_code,
            ship_date,
            confirmation=confirmation,
            weight=weight,
            dimensions=dimensions,
            insurance_options=insurance_options,
            international_options=international_options,
            advanced_options=advanced_options,
            test_label=test_label,
        )
        return await buy_label_once(
            self._client,
            LABEL_FOR_ORDER,
            body,
            lambda: buy_label(self._client, LABEL_FOR_ORDER, body, options),
        )

    async def _post_setter(
        self,
        path: str,
        body: dict[str, Any],
        options: CallOptions,
        *,
        recover: Callable[[APIError], Any] | None = None,
    ) -> SuccessResult:
        # State setters: repeating one leaves the same state, so they retry like GETs.
        # ``recover``: how a retry's refusal can show that an earlier attempt set it.
        operation = Operation("POST", path, body=body, recover=recover)
        return success(await self._call(operation, options))


def _restored_already(error: APIError) -> SuccessResult | None:
    # A retry refused because the order is no longer on hold: the attempt whose answer was
    # lost restored it (the only kind of error this is consulted for).
    said = f"{error.message} {error.body or ''}".lower()  # the reason may be in ModelState
    if error.status == 400 and "not on hold" in said:
        return SuccessResult(success=True, message=error.message)
    return None


def _order_body(order: OrderInput, field: str) -> dict[str, Any]:
    body = to_body(order, Order, field)
    if body.get("orderId") is not None and not body.get("orderKey"):
        raise InvalidRequestError(
            f"{field}: an update needs order_key (ShipStation matches orders by orderKey; "
            "an orderId alone would create a duplicate)",
            field=f"{field}.orderKey",
        )
    for key in ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo"):
        if body.get(key) in (None, ""):
            raise InvalidRequestError(f"{field}: {key} is required", field=f"{field}.{key}")
    check_choice(body.get("orderStatus"), ORDER_STATUSES, f"{field}.orderStatus")
    number = body["orderNumber"]
    if not isinstance(number, str) or len(number) > MAX_ORDER_NUMBER:
        raise InvalidRequestError(
            f"{field}: orderNumber must be a string of at most {MAX_ORDER_NUMBER} characters, "
            f"got {number!r}",
            field=f"{field}.orderNumber",
        )
    return body


LABEL_FOR_ORDER = "/orders/createlabelfororder"


def _label_body(
    order_id: int,
    carrier_code: str,
    service_code: str,
    package_code: str,
    ship_date: date,
    **parts: Any,
) -> dict[str, Any]:
    return label_body(
        carrier_code,
        service_code,
        package_code,
        ship_date,
        orderId=check_id(order_id, "order_id"),
        **parts,
    )


def _deleted(error: APIError) -> SuccessResult | None:
    if error.status == 404:
        return SuccessResult(success=True, message="Already deleted (an earlier attempt did it).")
    return None
