"""A job's records as handlers get them: read into models one by one, in a :class:`Notification`.

A record the models cannot read is set aside on its own (it goes to the dead letters), so
that it holds back none of the records that came with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

import attrs

from ..errors import DecodeError
from ..models import Fulfillment, Order, Shipment
from ..models.converter import converter
from ..models.webhooks import WebhookEvent
from .events import ORDER_EVENTS, SHIP_EVENTS, Notification, Source
from .store import Job

MODELS: Mapping[str, type[Any]] = {
    "orders": Order,
    "shipments": Shipment,
    "fulfillments": Fulfillment,
}
POLLED: Mapping[str, tuple[WebhookEvent, ...]] = {
    "orders": ORDER_EVENTS,
    "shipments": SHIP_EVENTS,
    # A listed fulfillment was shipped: nothing in its record says it was rejected, so a
    # poll never stands for FULFILLMENT_REJECTED (only its deliveries bring those).
    "fulfillments": ("FULFILLMENT_SHIPPED",),
}
"""The events a poll of each list stands for: its records go to handlers of these only."""


@attrs.frozen
class Unreadable:
    """A record the models refused: its list, the API's JSON, and the error."""

    kind: str
    record: dict[str, Any]
    error: Exception


def split_readable(
    records: Mapping[str, list[dict[str, Any]]],
) -> tuple[dict[str, list[dict[str, Any]]], list[Unreadable]]:
    """The records the models read (by list, in order), and those they cannot."""
    readable: dict[str, list[dict[str, Any]]] = {}
    unreadable: list[Unreadable] = []
    for kind, items in records.items():
        kept = readable.setdefault(kind, [])
        for record in items:
            try:
                converter.structure(record, MODELS[kind])
            except Exception as exc:  # any field a model refuses (DecodeError, mostly)
                unreadable.append(Unreadable(kind, record, exc))
            else:
                kept.append(record)
    return readable, unreadable


def letter_id_of(handler: str, bad: Unreadable) -> str:
    """The dead letter's id for ``bad`` set aside for ``handler``: the same for the same record.

    Each poll's overlap, and every delivery naming it, lists an unreadable record again: one
    letter per handler and record content, replaced each time, not one more per listing.
    """
    body = json.dumps([handler, bad.kind, bad.record], sort_keys=True, default=str)
    return "unreadable-" + hashlib.sha256(body.encode()).hexdigest()[:32]


def kind_of(job: Job) -> str:
    """The list a job's records come from."""
    if job.query is not None:
        return str(job.query["kind"])
    return next(iter(job.records or {"orders": []}))


def notification(
    job: Job,
    records: Mapping[str, list[dict[str, Any]]],
    attempt: int,
    events: frozenset[str],
) -> Notification:
    """What a handler for ``events`` gets of ``records``; raises if a record is unreadable."""
    typed = {
        kind: tuple(converter.structure(r, model) for r in records.get(kind, ()))
        for kind, model in MODELS.items()
    }
    event = job.resource_type
    if job.source != "webhook" and event not in events:
        # A poll's records, told by the first event of those the poll stands for that this
        # handler is for (never another event's name: a shipped fulfillment is not rejected).
        event = next((e for e in POLLED.get(kind_of(job), ()) if e in events), event)
    return Notification(
        resource_type=cast(WebhookEvent, event),
        source=cast(Source, job.source),
        resource_url=job.resource_url,
        orders=typed["orders"],
        shipments=typed["shipments"],
        fulfillments=typed["fulfillments"],
        attempt=attempt,
    )


def page_of(data: Any, kind: str) -> tuple[list[dict[str, Any]], int]:
    """A list answer's records (the API's JSON) and its page count; DecodeError otherwise."""
    if isinstance(data, Mapping):
        found = next((k for k in data if isinstance(k, str) and k.lower() == kind), None)
        items = data.get(found) if found is not None else None
        pages = data.get("pages")
        if items is None:
            items = []
        if isinstance(items, list) and all(isinstance(i, Mapping) for i in items):
            count = pages if isinstance(pages, int) and not isinstance(pages, bool) else 1
            return [dict(i) for i in items], count
    elif isinstance(data, list) and all(isinstance(i, Mapping) for i in data):
        return [dict(i) for i in data], 1
    raise DecodeError(f"the answer for /{kind} is not a list of {kind}")
