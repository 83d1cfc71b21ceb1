"""What handlers receive (:class:`Notification`); what a failed one leaves (:class:`DeadLetter`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ..errors import DecodeError
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
    the API's JSON of the records the handler did not handle, by list name. ``attempts`` 0:
    a record the models could not read (``error`` says why), set aside before any call.
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


AMBIGUOUS = "~"
"""Ends an order's version read from a wall-clock time of the autumn fall-back hour.

``modifyDate`` is Pacific wall-clock text without an offset: in the repeated hour it names
two instants an hour apart. Its version holds the first, and this mark says the edit may have
been made up to an hour later (see :func:`is_newer`).
"""
_HOUR = 3_600_000_000


def record_version(kind: str, record: Mapping[str, Any]) -> tuple[str, str] | None:
    """A record's identity and version, as text that sorts by version within one identity.

    Orders change by ``modifyDate`` (read as the client reads timestamps, then compared as
    instants: any precision, zone or offset form; one of the fall-back hour ends with
    :data:`AMBIGUOUS`); shipments and fulfillments only by being voided. None for a record
    without an id (nothing can be said about it; it is handed over).
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


def is_newer(version: str, known: str) -> bool:
    """Whether ``version`` may be newer than ``known`` (an older one is not handed over).

    Text order is version order, but for a version of the fall-back hour: it may be up to an
    hour later than its text says, so it counts as newer unless it is older even then (an edit
    at 01:10 PST after one at 01:50 PDT is not dropped; an equal version is never newer).
    """
    if version.removesuffix(AMBIGUOUS) == known.removesuffix(AMBIGUOUS):
        return False  # one stamp (a store may hold it as read before that hour was marked)
    if not (version.endswith(AMBIGUOUS) or known.endswith(AMBIGUOUS)):
        return version > known
    latest = _micros(version) + (_HOUR if version.endswith(AMBIGUOUS) else 0)
    return latest > _micros(known)


def replaces(version: str, known: str | None) -> bool:
    """Whether a store keeps ``version`` as the handled one in place of ``known``.

    A newer (or the same) version replaces an older; with a fall-back hour's version on
    either side, the one handed over last is kept (only versions :func:`is_newer` let through
    are handed over, so it is the newest known). The stores' scripts and SQL say the same.
    """
    if known is None or version >= known:
        return True
    return version.endswith(AMBIGUOUS) or known.endswith(AMBIGUOUS)


def _micros(version: str) -> int:
    digits = version.removesuffix(AMBIGUOUS)
    return int(digits) if digits.isdigit() else 0


def _instant(stamp: object) -> str:
    # Microseconds since the epoch, zero-padded so that text order is time order. An order
    # without a readable modifyDate is version "0": handed over once, then never again.
    if not isinstance(stamp, str):
        return "0"
    try:
        moment = structure_datetime(stamp, datetime)
        micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    except (DecodeError, ValueError, TypeError, OverflowError):
        return "0"
    version = f"{max(micros, 0):020d}"
    # Read as the first of two instants (fold=0): an offset-less wall time of the repeated hour.
    if moment.fold == 0 and moment.replace(fold=1).utcoffset() != moment.utcoffset():
        version += AMBIGUOUS
    return version
