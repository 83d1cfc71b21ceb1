"""Orders and their line items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field
from .common import (
    Address,
    AdvancedOptions,
    Dimensions,
    InsuranceOptions,
    InternationalOptions,
    Weight,
)
from .types import Confirmation, OrderStatus


@attrs.frozen(kw_only=True)
class ItemOption(Model):
    """A name/value option of an order item (size, colour...)."""

    name: str | None = None
    value: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class OrderItem(Model):
    """A line of an order. ``order_item_id`` is read-only; money is Decimal."""

    order_item_id: int | None = None
    line_item_key: str | None = None
    sku: str | None = None
    name: str | None = None
    image_url: str | None = None
    weight: Weight | None = None
    quantity: int | None = None
    unit_price: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    warehouse_location: str | None = None
    options: list[ItemOption] | None = None
    product_id: int | None = None
    fulfillment_sku: str | None = None
    adjustment: bool | None = None
    upc: str | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Order(Model):
    """A ShipStation order.

    Timestamps are aware datetimes in America/Los_Angeles; ``ship_date`` is a date. ``order_id``,
    ``create_date``, ``modify_date``, ``customer_id`` and ``order_total`` are read-only. Keys the
    SDK does not know yet are kept in ``extra``.
    """

    order_id: int | None = None
    order_number: str | None = None
    order_key: str | None = None
    order_date: datetime | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    payment_date: datetime | None = None
    ship_by_date: datetime | None = None
    order_status: OrderStatus | None = None
    customer_id: int | None = None
    customer_username: str | None = None
    customer_email: str | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    items: list[OrderItem] | None = None
    order_total: Decimal | None = None
    amount_paid: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    customer_notes: str | None = None
    internal_notes: str | None = None
    gift: bool | None = None
    gift_message: str | None = None
    payment_method: str | None = None
    requested_shipping_service: str | None = None
    carrier_code: str | None = None
    service_code: str | None = None
    package_code: str | None = None
    confirmation: Confirmation | None = None
    ship_date: date | None = None
    hold_until_date: date | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    insurance_options: InsuranceOptions | None = None
    international_options: InternationalOptions | None = None
    advanced_options: AdvancedOptions | None = None
    tag_ids: list[int] | None = None
    user_id: str | None = None
    externally_fulfilled: bool | None = None
    externally_fulfilled_by: str | None = None
    externally_fulfilled_by_id: int | None = None
    externally_fulfilled_by_name: str | None = None
    label_messages: Any = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class OrderResult(Model):
    """One order's outcome in a createorders call; ``error_message`` when it failed."""

    order_id: int | None = None
    order_number: str | None = None
    order_key: str | None = None
    success: bool | None = None
    error_message: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class CreateOrdersResult(Model):
    """The answer of createorders: per-order ``results``; ``has_errors`` if any failed.

    Check every result: a failed order is reported here, not raised.
    """

    has_errors: bool | None = None
    results: list[OrderResult] | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()

    @property
    def failed(self) -> list[OrderResult]:
        """The results whose ``success`` is not True."""
        return [r for r in self.results or [] if r.success is not True]


@attrs.frozen(kw_only=True)
class MarkAsShippedResult(Model):
    """The answer of markasshipped: the order that was marked."""

    order_id: int | None = None
    order_number: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
