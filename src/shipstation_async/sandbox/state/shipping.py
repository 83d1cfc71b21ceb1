"""Shipping an order, the one way it happens: a label bought, or marked as shipped.

The rules live here, used alike by the HTTP handlers (``/shipments/createlabel``,
``/orders/createlabelfororder``, ``/orders/markasshipped``, ``/shipments/voidlabel``) and
by the mutation workload:

- A label is priced by the rate model (:mod:`..rates`), charged to a funded carrier's
  balance (refused when it is too low), stored as a shipment, recorded in the label ledger
  and answered with a small valid PDF. A test label is priced and recorded (flagged) but
  creates no shipment and charges nothing (shipmentId 0).
- An order shipped (by label or marked) becomes ``shipped`` with its shipDate and carrier;
  its hold ends. Marked as shipped, it gets a fulfillment instead of a shipment.
- Voiding a label does not refund the balance (carriers refund weeks later); the order of a
  voided label returns to ``awaiting_shipment`` when it has no other live label.

Each of these is one operation on the change feed: one record per call.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from .. import normalize, rates
from .._time import format_date, format_order_ts
from ..data.catalog import CARRIER_BY_CODE, PACKAGE_BY_CODE, SERVICE_BY_CODE
from ..data.hashing import mix
from ..labels import label_data
from .base import Shared
from .carriers import CarrierBackend
from .fulfillments import FulfillmentStore
from .ledger import LabelLedger
from .orders import OrderStore
from .shipments import ShipmentStore

JSON = dict[str, Any]


@attrs.frozen
class LabelRequest:
    """The validated parts of a label request (createlabel or createlabelfororder)."""

    carrier_code: str
    service_code: str
    package_code: str
    confirmation: str
    ship_date: int
    ounces: float | None
    dimensions: tuple[float, float, float] | None
    test_label: bool


@attrs.frozen
class Parcel:
    """What a label is bought for, beyond the :class:`LabelRequest`.

    ``request``: the body as received (for the ledger); ``order``: the order it ships, or
    None (createlabel); ``insurance``, ``dimensions``, ``bill_to``: the body's
    insuranceOptions, dimensions and advancedOptions as sent (None when absent).
    """

    endpoint: str
    request: Any
    ounces: float
    ship_from: Mapping[str, Any]
    ship_to: Mapping[str, Any]
    order: JSON | None
    store_id: int | None
    warehouse_id: int | None
    insurance: Any = None
    dimensions: Any = None
    bill_to: Mapping[str, Any] = attrs.field(factory=dict)
    is_return: bool = False


class LabelRefused(Exception):
    """A label that cannot be bought: ``field`` of the request and the reason."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message


def _order_refs(order: JSON | None) -> JSON:
    """The order fields a shipment or fulfillment copies (all None without an order)."""
    keys = ("orderId", "orderKey", "userId", "customerEmail", "orderNumber")
    return {k: None if order is None else order[k] for k in keys}


class Shipping:
    """Buys labels, marks orders as shipped and voids labels (see the module docstring)."""

    def __init__(
        self,
        shared: Shared,
        *,
        seed: int,
        orders: OrderStore,
        shipments: ShipmentStore,
        fulfillments: FulfillmentStore,
        carriers: CarrierBackend,
        ledger: LabelLedger,
    ) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._seed = seed
        self._orders = orders
        self._shipments = shipments
        self._fulfillments = fulfillments
        self._carriers = carriers
        self._ledger = ledger

    # -- the order side -----------------------------------------------------------------

    def _set_shipped(self, order_id: int, fields: Mapping[str, Any], now_ms: int | None) -> JSON:
        """The order becomes shipped (its hold ends; modifyDate now); returns it."""
        stamp = self._orders.stamp() if now_ms is None else now_ms
        changed: JSON = {"orderStatus": "shipped", **fields, "holdUntilDate": None}
        changed["modifyDate"] = format_order_ts(stamp)
        return self._orders.touch(order_id, changed)

    def ship_with_label(
        self,
        order: JSON,
        shipment: Mapping[str, Any],
        order_fields: Mapping[str, Any],
        *,
        now_ms: int | None = None,
    ) -> tuple[JSON, JSON]:
        """Store ``shipment`` for ``order`` and ship it; returns (shipment, order as shipped).

        ``order_fields``: what changes on the order besides its status (shipDate, carrier,
        ...); ``now_ms``: its modifyDate (default: now).
        """
        with self._lock, self._shared.changes.operation() as done:
            stored = self._shipments.add({**_order_refs(order), **shipment})
            changed = self._set_shipped(int(order["orderId"]), order_fields, now_ms)
            done("shipments", int(stored["shipmentId"]), "create")
            return stored, changed

    def mark_as_shipped(
        self,
        order: JSON,
        *,
        carrier_code: str,
        ship_day: str,
        tracking_number: str | None,
        notify_sales_channel: bool,
        order_fields: Mapping[str, Any] | None = None,
        now_ms: int | None = None,
    ) -> tuple[JSON, JSON]:
        """Record a fulfillment for ``order`` and ship it; returns (fulfillment, order)."""
        with self._lock, self._shared.changes.operation() as done:
            fulfillment = self._fulfillments.add(
                {
                    **_order_refs(order),
                    "trackingNumber": tracking_number,
                    "shipDate": ship_day,
                    "carrierCode": carrier_code,
                    "fulfillmentFee": 0,
                    "voidRequested": False,
                    "voided": False,
                    "marketplaceNotified": notify_sales_channel,
                    "shipTo": order["shipTo"],
                }
            )
            fields = {"shipDate": ship_day, "carrierCode": carrier_code, **(order_fields or {})}
            changed = self._set_shipped(int(order["orderId"]), fields, now_ms)
            done("fulfillments", int(fulfillment["fulfillmentId"]), "create")
            return fulfillment, changed

    def void_label(self, shipment_id: int) -> tuple[bool, JSON] | None:
        """Void a label; see the module docstring for what becomes of its order.

        Returns ``(True, shipment)``, ``(False, shipment)`` when it already was voided, None
        when no such shipment exists.
        """
        with self._lock, self._shared.changes.operation() as done:
            result = self._shipments.void(shipment_id)
            if result is None or not result[0]:
                return result
            order_id = result[1].get("orderId")
            if order_id is not None:
                live = [s for s in self._shipments.for_order(int(order_id)) if not s["voided"]]
                order = self._orders.get(int(order_id))
                if not live and order is not None and order["orderStatus"] == "shipped":
                    self._orders.put(
                        {"orderId": order_id, "orderStatus": "awaiting_shipment", "shipDate": None}
                    )
            done("shipments", shipment_id, "void")
            return result

    # -- buying a label -----------------------------------------------------------------

    def buy_label(self, req: LabelRequest, parcel: Parcel) -> JSON:
        """Price, charge, store and record one label; returns the documented label response.

        Raises :class:`LabelRefused` (nothing changed) for a destination the rate model
        cannot zone, a parcel the service cannot carry, or a balance too low.
        """
        with self._lock, self._shared.changes.operation() as done:
            zone = self._zone(parcel)
            cost = self._quote(req, parcel, zone)
            insurance = normalize.insurance(parcel.insurance)
            if parcel.order is not None and parcel.insurance is None:
                insurance = copy.deepcopy(parcel.order["insuranceOptions"])
            insurance_cents = 0
            if insurance["insureShipment"]:
                insurance_cents = rates.insurance_cents(normalize.cents(insurance["insuredValue"]))
            charged = 0 if req.test_label else self._charge(req, cost + insurance_cents)
            sequence = len(self._ledger) + 1
            tracking = rates.tracking_number(req.carrier_code, mix(self._seed * 7919 + sequence))
            name = normalize.ci(parcel.ship_to, "name")
            form = None
            if zone >= 9:
                form = label_data(
                    ["CN22 CUSTOMS DECLARATION", f"TRACKING #: {tracking}", str(name)]
                )
            shipment_id = 0
            create = format_order_ts(self._shared.clock())
            if not req.test_label:
                record = self._shipment(req, parcel, cost, insurance_cents, insurance, tracking)
                stored = self._store_shipment(req, parcel, record)
                shipment_id = int(stored["shipmentId"])
                create = str(stored["createDate"])
            self._ledger.record(
                endpoint=parcel.endpoint,
                request=copy.deepcopy(parcel.request),
                shipment_id=shipment_id or None,
                order_id=None if parcel.order is None else int(parcel.order["orderId"]),
                carrier_code=req.carrier_code,
                service_code=req.service_code,
                package_code=req.package_code,
                shipment_cost=Decimal(cost) / 100,
                insurance_cost=Decimal(insurance_cents) / 100,
                charged=Decimal(charged) / 100,
                tracking_number=tracking,
                test_label=req.test_label,
                create_date=create,
            )
            if shipment_id:
                done("shipments", shipment_id, "create")
            else:
                done("labels", sequence, "create")
            return {
                "shipmentId": shipment_id,
                "shipmentCost": normalize.money(cost),
                "insuranceCost": normalize.money(insurance_cents),
                "trackingNumber": tracking,
                "labelData": label_data(_label_lines(req, parcel, tracking)),
                "formData": form,
            }

    def _zone(self, parcel: Parcel) -> int:
        ci = normalize.ci
        try:
            return rates.zone(
                str(ci(parcel.ship_from, "postalCode") or ""),
                str(ci(parcel.ship_to, "postalCode") or ""),
                str(ci(parcel.ship_to, "country") or "US"),
            )
        except ValueError as exc:
            where = "shipTo.postalCode" if parcel.order is None else "orderId"
            raise LabelRefused(where, f"{exc}.") from None

    @staticmethod
    def _quote(req: LabelRequest, parcel: Parcel, zone: int) -> int:
        """The label's cost in cents (insurance aside)."""
        service = SERVICE_BY_CODE[(req.carrier_code, req.service_code)]
        package = PACKAGE_BY_CODE[(req.carrier_code, req.package_code)]
        q = rates.quote(
            service,
            package,
            ounces=parcel.ounces,
            zone=zone,
            dimensions_in=req.dimensions,
            residential=bool(normalize.ci(parcel.ship_to, "residential", False)),
            confirmation=req.confirmation,
        )
        if q is None:
            raise LabelRefused(
                "serviceCode",
                f"{service.name} with {package.name} cannot carry {parcel.ounces:g} oz to "
                f"{'an international' if zone >= 9 else 'a domestic'} destination.",
            )
        return q.total_cents

    def _charge(self, req: LabelRequest, cents: int) -> int:
        """Charge the carrier; returns what its balance was charged (0: billed elsewhere)."""
        code = req.carrier_code
        if not self._carriers.charge(code, cents):
            raise LabelRefused(
                "carrierCode",
                f"Insufficient funds: the {code} balance is ${self._carriers.balance(code)}; "
                f"this label costs ${Decimal(cents) / 100}. Add funds with /carriers/addfunds.",
            )
        carrier = self._carriers.get(code) or {}
        return cents if carrier.get("requiresFundedAccount") else 0

    @staticmethod
    def _shipment(
        req: LabelRequest,
        parcel: Parcel,
        cost: int,
        insurance_cents: int,
        insurance: JSON,
        tracking: str,
    ) -> JSON:
        """The shipment a bought label creates (ids and createDate assigned on storing)."""
        ci = normalize.ci
        adv = parcel.bill_to
        return {
            "shipDate": format_date(req.ship_date),
            "shipmentCost": normalize.money(cost),
            "insuranceCost": normalize.money(insurance_cents),
            "trackingNumber": tracking,
            "isReturnLabel": parcel.is_return,
            "batchNumber": None,
            "carrierCode": req.carrier_code,
            "serviceCode": req.service_code,
            "packageCode": req.package_code,
            "confirmation": req.confirmation,
            "warehouseId": parcel.warehouse_id,
            "marketplaceNotified": False,
            "notifyErrorMessage": None,
            "shipTo": normalize.address(parcel.ship_to, verified=normalize.verify(parcel.ship_to)),
            "weight": {
                "value": normalize.measure(parcel.ounces),
                "units": "ounces",
                "WeightUnits": 1,
            },
            "dimensions": normalize.dimensions(parcel.dimensions),
            "insuranceOptions": insurance,
            "advancedOptions": {
                "billToParty": ci(adv, "billToParty"),
                "billToAccount": ci(adv, "billToAccount"),
                "billToPostalCode": ci(adv, "billToPostalCode"),
                "billToCountryCode": ci(adv, "billToCountryCode"),
                "storeId": parcel.store_id,
            },
            "shipmentItems": None if parcel.order is None else parcel.order["items"],
        }

    def _store_shipment(self, req: LabelRequest, parcel: Parcel, record: JSON) -> JSON:
        """Store the label's shipment; an order's label also ships the order."""
        if parcel.order is None:
            return self._shipments.add({**_order_refs(None), **record})
        fields = {
            "shipDate": format_date(req.ship_date),
            "carrierCode": req.carrier_code,
            "serviceCode": req.service_code,
            "packageCode": req.package_code,
            "confirmation": req.confirmation,
        }
        stored, _ = self.ship_with_label(parcel.order, record, fields)
        return stored


def _label_lines(req: LabelRequest, parcel: Parcel, tracking: str) -> list[str]:
    """The text the label's PDF shows."""
    ci = normalize.ci
    to, origin = parcel.ship_to, parcel.ship_from
    service = SERVICE_BY_CODE[(req.carrier_code, req.service_code)]
    lines = [
        f"{CARRIER_BY_CODE[req.carrier_code].name}  {service.name}",
        f"TRACKING #: {tracking}",
        "SHIP TO:",
        str(ci(to, "name") or ""),
        str(ci(to, "street1") or ""),
        f"{ci(to, 'city') or ''} {ci(to, 'state') or ''} {ci(to, 'postalCode') or ''}",
        str(ci(to, "country") or ""),
        f"FROM: {ci(origin, 'name') or ''}, {ci(origin, 'city') or ''}",
        f"SHIP DATE: {format_date(req.ship_date)}",
    ]
    if parcel.order is not None:
        lines.append(f"ORDER: {parcel.order['orderNumber']}")
    if req.test_label:
        lines.append("TEST LABEL - DO NOT SHIP")
    return lines
