"""``ss.shipments``: list shipments, rate-shop, buy and void labels, reconcile purchases."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypedDict, Unpack

from .._arguments import MAX_RANGE_DAYS, check_mapping_as
from .._once import buy_label_once
from .._sansio import Lane, Operation
from ..errors import APIError, InvalidRequestError
from ..models import (
    Address,
    AdvancedOptions,
    Dimensions,
    InsuranceOptions,
    InternationalOptions,
    Label,
    Page,
    Rate,
    Shipment,
    VoidResult,
    Weight,
)
from ..models.converter import converter
from ..models.types import Confirmation, SortDir
from ..streams import SHIPMENTS, ItemStream
from ._base import (
    CONFIRMATIONS,
    CallOptions,
    buy_label,
    check_bool,
    check_choice,
    check_id,
    check_measures,
    check_parcel_weight,
    check_range,
    check_text,
    choices,
    decode_page,
    label_body,
    list_arguments,
    paged_query,
    plain,
    structure_list,
    value_of,
)
from .streaming import StreamingResource

ShipmentSortBy = Literal["ShipDate", "CreateDate"]
_SORT_BY = choices(ShipmentSortBy)
_SORT_DIR = choices(SortDir)


class ShipmentFilters(TypedDict, total=False):
    """The filters of ``ss.shipments.list()`` and ``ss.shipments.iter()``."""

    recipient_name: str | None
    recipient_country_code: str | None
    order_number: str | None
    order_id: int | None
    carrier_code: str | None
    service_code: str | None
    tracking_number: str | None
    customs_country_code: str | None
    create_date_start: datetime | date | None
    create_date_end: datetime | date | None
    ship_date_start: datetime | date | None
    ship_date_end: datetime | date | None
    void_date_start: datetime | date | None
    void_date_end: datetime | date | None
    store_id: int | None
    include_shipment_items: bool | None
    batch_id: int | None


class ShipmentListOptions(ShipmentFilters, CallOptions, total=False):
    """The keyword arguments of ``ss.shipments.list()``: its filters and the call options."""


class Shipments(StreamingResource):
    """Shipments with labels made in ShipStation (orders marked as shipped are fulfillments)."""

    max_range_days = MAX_RANGE_DAYS
    walk = SHIPMENTS
    filters_type = ShipmentFilters

    async def list(
        self,
        page: int = 1,
        page_size: int = 100,
        *,
        sort_by: ShipmentSortBy | None = None,
        sort_dir: SortDir | None = None,
        **arguments: Unpack[ShipmentListOptions],
    ) -> Page[Shipment]:
        """Fetch one page of shipments (GET /shipments).

        ``include_shipment_items=True`` fills ``shipment_items`` (None otherwise). ``batch_id``
        is the filter a SHIP_NOTIFY webhook's resource_url carries. A date range may span at
        most 90 days (the API's limit; a longer one raises :class:`InvalidRequestError` unsent,
        and ``iter()`` splits it).
        """
        sorting = {"sort_by": sort_by, "sort_dir": sort_dir}
        query_args, options = list_arguments(
            ShipmentFilters, arguments, sorting, sort_before="batch_id"
        )
        check_choice(sort_by, _SORT_BY, "sort_by")
        check_choice(sort_dir, _SORT_DIR, "sort_dir")
        query = paged_query(page, page_size, max_range_days=self.max_range_days, **query_args)
        data = await self._call(Operation("GET", "/shipments", query=query), options)
        return decode_page(data, "shipments", Shipment, page=page, page_size=page_size)

    def iter(
        self,
        *,
        concurrency: int = 4,
        page_size: int = 500,
        ordered: bool = False,
        lane: Lane = "bulk",
        **filters: Unpack[ShipmentFilters],
    ) -> ItemStream[Shipment]:
        """Every shipment in a creation-date range, exactly once, as a stream.

        ``async for shipment in ss.shipments.iter(...)``; also ``async with``, and
        ``.pages()`` for page-at-a-time work. Without an end the listing stops at the
        server's time minus two minutes (T0); records created later are left to the next run.
        Takes the filters of ``list()`` except paging and sorting; the range walked is
        ``create_date_start`` to ``create_date_end``, and long ranges are split
        (at most 90 days per request) and fetched concurrently. Runs in the ``bulk`` lane.
        """
        return self._stream(
            filters, concurrency=concurrency, page_size=page_size, ordered=ordered, lane=lane
        )

    async def find_labels(
        self,
        *,
        order_id: int | None = None,
        order_number: str | None = None,
        tracking_number: str | None = None,
        created_after: datetime | None = None,
        include_voided: bool = False,
        **options: Unpack[CallOptions],
    ) -> builtins.list[Shipment]:
        """Labels bought for an order (or with a tracking number) since a moment.

        Reads every page; voided labels are left out unless asked for. To learn whether an
        ambiguous purchase bought its label, use ``ss.settle(exc)`` instead: a look made right
        after the error can miss a label the server is still processing, and ``settle``
        waits until it has surely landed (``create_label_once`` does all of it).
        """
        if order_id is None and order_number is None and tracking_number is None:
            raise InvalidRequestError(
                "find_labels needs order_id, order_number or tracking_number", field="order_id"
            )
        check_range(created_after, None, "created_after", "created_after")
        found: builtins.list[Shipment] = []
        page = 1
        while True:
            result = await self.list(
                page,
                500,
                order_id=order_id,
                order_number=order_number,
                tracking_number=tracking_number,
                create_date_start=created_after,
                sort_by="CreateDate",
                **options,
            )
            found.extend(s for s in result.items if include_voided or not s.voided)
            if page >= result.pages:
                return found
            page += 1

    async def create_label(
        self,
        carrier_code: str,
        service_code: str,
        package_code: str,
        ship_date: date,
        weight: Weight,
        ship_from: Address | Mapping[str, Any],
        ship_to: Address | Mapping[str, Any],
        *,
        confirmation: Confirmation | None = None,
        dimensions: Dimensions | None = None,
        insurance_options: InsuranceOptions | None = None,
        international_options: InternationalOptions | None = None,
        advanced_options: AdvancedOptions | None = None,
        test_label: bool = False,
        is_return_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> Label:
        """Buy a label without an order (POST /shipments/createlabel). Costs money.

        The account needs an active Manual Store. ``test_label=False`` (the API's default)
        buys a real label; an ambiguous failure is never retried: ``await ss.settle(exc)``
        finds out whether it was bought, and :meth:`create_label_once` does that itself. For
        a return label ship from the customer to the warehouse and pass
        ``is_return_label=True`` (sent as ``isReturnLabel``, which the V1 docs do not list for
        this call; shipments carry it as ``is_return_label``).
        """
        body = _label_body(
            carrier_code,
            service_code,
            package_code,
            ship_date,
            weight,
            ship_from,
            ship_to,
            confirmation=confirmation,
            dimensions=dimensions,
            insurance_options=insurance_options,
            international_options=international_options,
            advanced_options=advanced_options,
            test_label=test_label,
            is_return_label=is_return_label,
        )
        return await buy_label(self._client, CREATE_LABEL, body, options)

    async def create_label_once(
        self,
        carrier_code: str,
        service_code: str,
        package_code: str,
        ship_date: date,
        weight: Weight,
        ship_from: Address | Mapping[str, Any],
        ship_to: Address | Mapping[str, Any],
        *,
        confirmation: Confirmation | None = None,
        dimensions: Dimensions | None = None,
        insurance_options: InsuranceOptions | None = None,
        international_options: InternationalOptions | None = None,
        advanced_options: AdvancedOptions | None = None,
        test_label: bool = False,
        is_return_label: bool = False,
        **options: Unpack[CallOptions],
    ) -> Label:
        """Buy a label without an order at most once: :meth:`create_label`, ambiguity settled.

        As ``ss.orders.create_label_once`` (see there): an ambiguous outcome is settled by
        looking for a shipment with this carrier, service and package, to this recipient's
        name and postal code, created after the request went out. Purchases to the same
        recipient with the same carrier, service and package cannot be told apart afterwards,
        so in this process they never overlap.
        """
        body = _label_body(
            carrier_code,
            service_code,
            package_code,
            ship_date,
            weight,
            ship_from,
            ship_to,
            confirmation=confirmation,
            dimensions=dimensions,
            insurance_options=insurance_options,
            international_options=international_options,
            advanced_options=advanced_options,
            test_label=test_label,
            is_return_label=is_return_label,
        )
        return await buy_label_once(
            self._client,
            CREATE_LABEL,
            body,
            lambda: buy_label(self._client, CREATE_LABEL, body, options),
        )

    async def get_rates(
        self,
        carrier_code: str,
        from_postal_code: str,
        to_country: str,
        to_postal_code: str,
        weight: Weight,
        *,
        service_code: str | None = None,
        package_code: str | None = None,
        to_state: str | None = None,
        to_city: str | None = None,
        dimensions: Dimensions | None = None,
        confirmation: Confirmation | None = None,
        residential: bool | None = None,
        from_city: str | None = None,
        from_state: str | None = None,
        from_warehouse_id: int | None = None,
        **options: Unpack[CallOptions],
    ) -> builtins.list[Rate]:
        """Rates of one carrier's services for a package (POST /shipments/getrates).

        Read-only, so retried freely. UPS needs ``to_state``. Compare ``rate.total``.
        ``from_city``, ``from_state`` and ``from_warehouse_id`` are sent only when given
        (documented by some clients of the API, not by ShipStation's own pages).
        """
        if carrier_code == "ups" and not to_state:
            raise InvalidRequestError("to_state is required for UPS rates", field="to_state")
        check_choice(confirmation, CONFIRMATIONS, "confirmation")
        if residential is not None:
            check_bool(residential, "residential")
        body = {
            "carrierCode": check_text(carrier_code, "carrier_code"),
            "serviceCode": service_code,
            "packageCode": package_code,
            "fromPostalCode": check_text(from_postal_code, "from_postal_code"),
            "toState": to_state,
            "toCountry": check_text(to_country, "to_country"),
            "toPostalCode": check_text(to_postal_code, "to_postal_code"),
            "toCity": to_city,
            "weight": _required(weight, Weight, "weight"),
            "dimensions": plain(dimensions),
            "confirmation": confirmation,
            "residential": residential,
            "fromCity": from_city,
            "fromState": from_state,
            "fromWarehouseId": None
            if from_warehouse_id is None
            else check_id(from_warehouse_id, "from_warehouse_id"),
        }
        body = {k: v for k, v in body.items() if v is not None}
        check_measures(body, "rates")
        check_parcel_weight(body["weight"], "weight")
        operation = Operation("POST", "/shipments/getrates", body=body)
        return structure_list(await self._call(operation, options), Rate)

    async def void_label(self, shipment_id: int, **options: Unpack[CallOptions]) -> VoidResult:
        """Void a label (POST /shipments/voidlabel); check ``result.approved``.

        Idempotent: a retry after an ambiguous attempt that finds the label already voided
        counts as approved.
        """
        body = {"shipmentId": check_id(shipment_id, "shipment_id")}
        operation = Operation(
            "POST",
            "/shipments/voidlabel",
            body=body,
            recover=_void_refused_as_already_voided,
            recover_answer=_already_voided,
        )
        return converter.structure(await self._call(operation, options), VoidResult)


CREATE_LABEL = "/shipments/createlabel"


def _label_body(
    carrier_code: str,
    service_code: str,
    package_code: str,
    ship_date: date,
    weight: Weight,
    ship_from: Address | Mapping[str, Any],
    ship_to: Address | Mapping[str, Any],
    *,
    is_return_label: bool,
    **parts: Any,
) -> dict[str, Any]:
    body = label_body(
        carrier_code,
        service_code,
        package_code,
        ship_date,
        weight=_required(weight, Weight, "weight"),
        shipFrom=_required(ship_from, Address, "ship_from"),
        shipTo=_required(ship_to, Address, "ship_to"),
        **parts,
    )
    for key, field in (("shipFrom", "ship_from"), ("shipTo", "ship_to")):
        if not value_of(body[key], "country"):
            # The carrier, the service and the customs all depend on it.
            raise InvalidRequestError(
                f"{field}.country is required for a label", field=f"{field}.country"
            )
    if check_bool(is_return_label, "is_return_label"):
        body["isReturnLabel"] = True
    return body


def _required(value: Any, cls: type[Any], field: str) -> dict[str, Any]:
    if value is None:
        raise InvalidRequestError(f"{field} is required", field=field)
    if isinstance(value, cls):
        result: dict[str, Any] = converter.unstructure(value)
        return result
    if isinstance(value, Mapping):
        check_mapping_as(cls, value, field)
        return dict(value)
    raise InvalidRequestError(
        f"{field} must be a {cls.__name__} or a mapping, got {type(value).__name__}", field=field
    )


def _already_voided(answer: Any) -> Any:
    if (
        isinstance(answer, Mapping)
        and answer.get("approved") is False
        and "already" in str(answer.get("message", "")).lower()
    ):
        return {**answer, "approved": True}
    return answer


def _void_refused_as_already_voided(error: APIError) -> Any:
    if error.status == 400 and "already" in error.message.lower():
        return {"approved": True, "message": error.message}
    return None
