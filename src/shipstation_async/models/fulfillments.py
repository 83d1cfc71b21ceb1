"""Fulfillments: shipments made outside ShipStation's labels (marked as shipped, fill providers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field
from .common import Address


@attrs.frozen(kw_only=True)
class Fulfillment(Model):
    """A fulfillment; orders marked as shipped appear here (not among shipments)."""

    fulfillment_id: int | None = None
    order_id: int | None = None
    order_number: str | None = None
    user_id: str | None = None
    customer_email: str | None = None
    tracking_number: str | None = None
    create_date: datetime | None = None
    ship_date: datetime | date | None = None
    """A date, or an aware Pacific datetime when the server sends the time of day too."""
    void_date: datetime | None = None
    delivery_date: datetime | None = None
    carrier_code: str | None = None
    seller_fill_provider_id: int | None = None
    seller_fill_provider_name: str | None = None
    fulfillment_service_code: str | None = None
    fulfillment_provider_code: str | None = None
    fulfillment_fee: Decimal | None = None
    void_requested: bool | None = None
    voided: bool | None = None
    marketplace_notified: bool | None = None
    notify_error_message: str | None = None
    ship_to: Address | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
