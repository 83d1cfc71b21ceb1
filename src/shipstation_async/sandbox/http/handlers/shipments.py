"""Shipments: list, createlabel, getrates, voidlabel; and the label request they share.

These handlers validate and answer; buying a label (here and by
``/orders/createlabelfororder``) and voiding one follow the rules of
:mod:`...state.shipping`: priced by the rate model, charged to a funded carrier's balance
(a 400 when it is too low), stored as a shipment, recorded in the label ledger
(``World.labels()``) and answered with a small valid PDF as base64 ``labelData``; a
``testLabel`` creates no shipment, charges nothing and answers ``shipmentId`` 0.

``GET /shipments?batchId=`` (undocumented; named by SHIP_NOTIFY webhook URLs) lists the
label batch a webhook named (see :mod:`...state.webhook_triggers`), or else the shipments
whose batchNumber it is.
"""

from __future__ import annotations

from typing import Any, cast

import attrs
from aiohttp import web

from ... import normalize, rates
from ...data.catalog import CARRIER_BY_CODE, PACKAGE_BY_CODE, SERVICE_BY_CODE
from ...state.derived_records import ShipSortBy
from ...state.shipments import ShipmentQuery
from ...state.shipping import LabelRefused, LabelRequest, Parcel
from ...world import World
from ..context import context
from ..models import RATE_OPTIONS, SHIPMENT_LABEL, VOID_LABEL
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import Body, read_object
from .common import add_write, listing, paged
from .params import QueryParams

JSON = dict[str, Any]
SHIP_SORT_BY: tuple[ShipSortBy, ...] = ("ShipDate", "CreateDate")


def parse_label_request(body: Body, *, weight_required: bool) -> LabelRequest | None:
    """Validate the carrier, service, package and parcel of a label body (errors in body)."""
    carrier = body.text("carrierCode", required=True)
    service = body.text("serviceCode", required=True)
    package = body.text("packageCode", required=True)
    confirmation = body.choice("confirmation", rates.CONFIRMATIONS) or "none"
    ship_date = body.date("shipDate", required=True)
    ounces = body.ounces("weight", required=weight_required)
    dims = body.dimensions("dimensions")
    test = body.boolean("testLabel", default=False)
    if carrier is not None:
        check_carrier(body, carrier, service, package)
    if body.errors or carrier is None or service is None or package is None or ship_date is None:
        return None
    return LabelRequest(
        carrier, service, package, confirmation, ship_date, ounces, dims, bool(test)
    )


def check_carrier(body: Body, carrier: str, service: str | None, package: str | None) -> None:
    """Record errors for a carrier the account lacks, or its unknown service or package."""
    if carrier not in CARRIER_BY_CODE:
        body.error(
            "carrierCode",
            f"The carrier '{carrier}' is not connected to this account: one of "
            f"{sorted(CARRIER_BY_CODE)}.",
        )
        return
    if service is not None and (carrier, service) not in SERVICE_BY_CODE:
        body.error(
            "serviceCode",
            f"The service '{service}' is not offered by {carrier}: see "
            f"/carriers/listservices?carrierCode={carrier}.",
        )
    if package is not None and (carrier, package) not in PACKAGE_BY_CODE:
        body.error(
            "packageCode",
            f"The package '{package}' is not offered by {carrier}: see "
            f"/carriers/listpackages?carrierCode={carrier}.",
        )


def buy_label(world: World, body: Body, req: LabelRequest, parcel: Parcel) -> web.Response:
    """Buy one label (see :mod:`..state.shipping`): the documented label response or a 400.

    Call with ``world.lock`` held so that the checks and the purchase are one step.
    """
    try:
        return json_response(world.shipping.buy_label(req, parcel))
    except LabelRefused as refused:
        body.error(refused.field, refused.message)
        return bad_request(body.errors)


def label_parcel(body: Body, **fields: Any) -> Parcel:
    """The :class:`Parcel` of a label body: the body's own parts plus ``fields``."""
    return Parcel(
        request=body.data,
        insurance=body.raw("insuranceOptions"),
        dimensions=body.raw("dimensions"),
        bill_to=body.mapping("advancedOptions") or {},
        # Not in the documented createlabel body; honoured when a client sends it.
        is_return=body.raw("isReturnLabel") is True,
        **fields,
    )


async def create_label(request: web.Request) -> web.StreamResponse:
    """``POST /shipments/createlabel``: buy a label for a shipment that has no order.

    Needs an active Manual Store (the shipment belongs to it), like ShipStation.
    """
    world = context(request).world
    body, problem = await read_object(request, "shipment", SHIPMENT_LABEL)
    if body is None:
        return cast(web.Response, problem)
    req = parse_label_request(body, weight_required=True)
    ship_from = body.address("shipFrom", required=True)
    ship_to = body.address("shipTo", required=True)
    if (
        ship_to is not None
        and str(normalize.ci(ship_to, "country") or "").upper() == "US"
        and not normalize.ci(ship_to, "state")
    ):
        body.error("shipTo.state", "The state field is required.")
    if req is None or body.errors or ship_from is None or ship_to is None:
        return bad_request(body.errors)
    with world.lock:
        store_id = world.manual_store_id
        if store_id is None:
            return bad_request(
                {
                    "shipment": [
                        "Creating labels requires at least one active Manual Store: "
                        "reactivate one (POST /stores/reactivate)."
                    ]
                }
            )
        parcel = label_parcel(
            body,
            endpoint="/shipments/createlabel",
            ounces=cast(float, req.ounces),
            ship_from=ship_from,
            ship_to=ship_to,
            order=None,
            store_id=store_id,
            warehouse_id=world.default_warehouse_id,
        )
        return buy_label(world, body, req, parcel)


async def get_rates(request: web.Request) -> web.StreamResponse:
    """``POST /shipments/getrates``: the rates of one carrier for a parcel.

    A bare array ``[{serviceName, serviceCode, shipmentCost, otherCost}]``: one rate per
    service that can carry the parcel (only the one service when serviceCode is given).
    """
    body, problem = await read_object(request, "rateOptions", RATE_OPTIONS)
    if body is None:
        return cast(web.Response, problem)
    carrier = body.text("carrierCode", required=True)
    service = body.text("serviceCode")
    package = body.text("packageCode")
    from_postal = body.text("fromPostalCode", required=True)
    to_country = body.text("toCountry", required=True)
    to_postal = body.text("toPostalCode", required=True)
    to_state = body.text("toState")
    ounces = body.ounces("weight", required=True)
    dims = body.dimensions("dimensions")
    confirmation = body.choice("confirmation", rates.CONFIRMATIONS)
    residential = body.boolean("residential", default=False)
    if carrier is not None:
        check_carrier(body, carrier, service, package)
        if carrier == "ups" and to_state is None:
            body.error("toState", "The toState field is required for UPS.")
    if from_postal is not None:
        try:
            rates.zip3(from_postal)
        except ValueError:
            body.error("fromPostalCode", f"'{from_postal}' is not a US ZIP code.")
    if to_country is not None and len(to_country.strip()) != 2:
        body.error("toCountry", "The toCountry field must be an ISO 3166-1 alpha-2 code.")
    elif to_country is not None and to_postal is not None and to_country.strip().upper() == "US":
        try:
            rates.zip3(to_postal)
        except ValueError:
            body.error("toPostalCode", f"'{to_postal}' is not a US ZIP code.")
    if body.errors or carrier is None or ounces is None:
        return bad_request(body.errors)
    z = rates.zone(str(from_postal), str(to_postal), str(to_country))
    quotes = rates.rates(
        carrier,
        ounces=ounces,
        zone=z,
        service_code=service,
        package_code=package,
        dimensions_in=dims,
        residential=bool(residential),
        confirmation=confirmation,
    )
    return json_response(
        [
            {
                "serviceName": q.service_name,
                "serviceCode": q.service.code,
                "shipmentCost": normalize.money(q.shipment_cents),
                "otherCost": normalize.money(q.other_cents),
            }
            for q in quotes
        ]
    )


async def void_label(request: web.Request) -> web.StreamResponse:
    """``POST /shipments/voidlabel``: ``{approved, message}``.

    An already voided label gives ``approved: false``; an unknown shipmentId a 404.
    """
    world = context(request).world
    body, problem = await read_object(request, "request", VOID_LABEL)
    if body is None:
        return cast(web.Response, problem)
    shipment_id = body.integer("shipmentId", required=True)
    if body.errors or shipment_id is None:
        return bad_request(body.errors)
    result = world.shipping.void_label(shipment_id)
    if result is None:
        return not_found(f"Shipment {shipment_id} not found")
    if not result[0]:
        return json_response({"approved": False, "message": "Label already voided."})
    return json_response({"approved": True, "message": "Label voided successfully"})


def parse_shipment_query(params: QueryParams, max_days: int | None) -> ShipmentQuery:
    """Build the :class:`ShipmentQuery` for ``GET /shipments``; problems in ``params.errors``."""
    create = params.date_range("createDate", max_days)
    ship = params.date_range("shipDate", max_days)
    void = params.date_range("voidDate", max_days)
    page, page_size = params.page()
    batch = params.integer("batchId")
    return ShipmentQuery(
        recipient_name=params.text("recipientName"),
        recipient_country_code=params.text("recipientCountryCode"),
        order_number=params.text("orderNumber"),
        order_id=params.integer("orderId"),
        carrier_code=params.text("carrierCode"),
        service_code=params.text("serviceCode"),
        tracking_number=params.text("trackingNumber"),
        customs_country_code=params.text("customsCountryCode"),
        create_start=create[0],
        create_end=create[1],
        ship_start=ship[0],
        ship_end=ship[1],
        void_start=void[0],
        void_end=void[1],
        store_id=params.integer("storeId"),
        batch_id=None if batch is None else str(batch),
        include_items=params.boolean("includeShipmentItems"),
        sort_by=cast(ShipSortBy | None, params.choice("sortBy", SHIP_SORT_BY)),
        sort_desc=params.choice("sortDir", ("ASC", "DESC")) == "DESC",
        page=page,
        page_size=page_size,
    )


async def list_shipments(request: web.Request) -> web.StreamResponse:
    """``GET /shipments``: ``{shipments, total, page, pages}`` (labels only, not marks)."""
    ctx = context(request)
    params = QueryParams.of(request)
    query = parse_shipment_query(params, ctx.max_date_range_days)
    if params.errors:
        return bad_request(params.errors)
    if query.batch_id is not None:
        found = ctx.world.webhook_triggers.shipments_in_batch(int(query.batch_id))
        if found is not None:
            query = attrs.evolve(query, batch_id=None, shipment_ids=frozenset(found))
    shipments, total = await listing(request, ctx.world.shipments.query, query)
    return paged("shipments", shipments, total, query.page, query.page_size)


def register(router: Router) -> None:
    """Add the shipment routes to ``router``."""
    router.add("GET", "/shipments", list_shipments)
    add_write(router, "POST", "/shipments/createlabel", create_label)
    router.add("POST", "/shipments/getrates", get_rates)
    add_write(router, "POST", "/shipments/voidlabel", void_label)
