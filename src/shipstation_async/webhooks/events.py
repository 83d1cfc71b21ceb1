"""What handlers receive (:class:`Notification`); what a failed one leaves (:class:`DeadLetter`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ..models import Fulfillment, Order, Shipment
from ..models._scalars import structure_datetime
from ..models.webhooks import WebhookEvent

Source = Literal["webhook", "poll", "replay"]
"""Where a notification came from: a delivery, the polling backup, or a dead letter replayed."""

ORDER_EVENTS: tuple[WebhookEvent, ...] = ("ORDER_NOTIFY", "ITEM_ORDER_NOTIFY")
SHIP_EVENTS: tuple[WebhookEvent, ...] = ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY")
FULFILLMENT_EVENTS: tuple[WebhookEvent, ...] = ("FULFILLMENT_SHIPPED", "FULFILLMENT_REJECTED")
EVENT_ORDER: tuple[WebhookEvent, ...] = ORDER_EVENTS + SHIP_EVENTS + FULFILLMENT_EVENTS
"""Every event, in the order the docs list them."""


@attrs.frozen(kw_only=True)
class Notification:
    """New record versions for one handler: the records a delivery (or a poll) brought.

    ``orders``, ``shipments`` and ``fulfillments`` hold typed records; only versions this
    handler has not yet handled are in them (a record whose version it handled is left out).
    ``resource_type`` is the event (``"ORDER_NOTIFY"``...); ``source`` says where the records
    came from; ``resource_url`` is the delivery's (None for a poll); ``attempt`` counts from 1
    (a later attempt follows a failure of this handler).
    """

    resource_type: WebhookEvent
    source: Source
    resource_url: str | None = None
    orders: tuple[Order, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    fulfillments: tuple[Fulfillment, ...] = ()
    attempt: int = 1

    def __len__(self) -> int:
        return len(self.orders) + len(self.shipments) + len(self.fulfillments)


@attrs.frozen(kw_only=True)
class DeadLetter:
    """A handler's job given up after its last attempt: list, inspect and replay it.

    ``error`` is the last failure's type and message (credentials taken out); ``records``
    the API's JSON of the records the handler did not handle, by list name.
    """

    id: str
    handler: str
    resource_type: WebhookEvent
    source: Source
    resource_url: str | None
    attempts: int
    error: str
    failed_at: datetime
    records: Mapping[str, tuple[Mapping[str, Any], ...]] = attrs.field(repr=False)


def record_version(kind: str, record: Mapping[str, Any]) -> tuple[str, str] | None:
    """A record's identity and version, as text that sorts by version within one identity.

    Orders change by ``modifyDate`` (read as the client reads timestamps, then compared as
    instants: any precision, zone or offset form); shipments and fulfillments only by being
    voided. None for a record without an id (nothing can be said about it; it is handed over).
    """
    if kind == "orders":
        ident, version = record.get("orderId"), _instant(record.get("modifyDate"))
    elif kind == "shipments":
        ident, version = record.get("shipmentId"), "1" if record.get("voided") else "0"
    else:
        ident, version = record.get("fulfillmentId"), "1" if record.get("voided") else "0"
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        return None
    return f"{kind}:{ident}", version


def _instant(stamp: object) -> str:
    # Microseconds since the epoch, zero-padded so that text order is time order. An order
    # without a readable modifyDate is version "0": handed over once, then never again.
    if not isinstance(stamp, str):
        return "0"
    try:
        moment = structure_datetime(stamp, datetime)
    except (ValueError, TypeError, OverflowError):
        return "0"
    micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    return f"{max(micros, 0):020d}"
