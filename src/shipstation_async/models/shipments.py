"""Shipments, labels and rates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field
from .common import Address, AdvancedOptions, Dimensions, InsuranceOptions, Weight
from .orders import OrderItem
from .types import Confirmation


@attrs.frozen(kw_only=True)
class Shipment(Model):
    """A shipment with a label bought in ShipStation (orders marked as shipped are not here).

    ``shipment_items`` is None unless the list asked for ``include_shipment_items``;
    ``label_data``/``form_data`` are None in list results. ``voided`` tells a voided label.
    """

    shipment_id: int | None = None
    order_id: int | None = None
    order_key: str | None = None
    user_id: str | None = None
    customer_email: str | None = None
    order_number: str | None = None
    create_date: datetime | None = None
    ship_date: date | None = None
    shipment_cost: Decimal | None = None
    insurance_cost: Decimal | None = None
    tracking_number: str | None = None
    is_return_label: bool | None = None
    batch_number: str | None = None
    carrier_code: str | None = None
    service_code: str | None = None
    package_code: str | None = None
    confirmation: Confirmation | None = None
    warehouse_id: int | None = None
    voided: bool | None = None
    void_date: datetime | None = None
    marketplace_notified: bool | None = None
    notify_error_message: str | None = None
    ship_to: Address | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    insurance_options: InsuranceOptions | None = None
    advanced_options: AdvancedOptions | None = None
    shipment_items: list[OrderItem] | None = None
    label_data: str | None = None
    form_data: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Label(Model):
    """A bought label: its shipment id, cost and tracking number, and the PDF as base64.

    ``label_data`` is the base64 PDF (``label_pdf()`` decodes it); ``form_data`` holds customs
    forms for international labels.
    """

    shipment_id: int | None = None
    order_id: int | None = None
    order_number: str | None = None
    shipment_cost: Decimal | None = None
    insurance_cost: Decimal | None = None
    tracking_number: str | None = None
    label_data: str | None = None
    form_data: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()

    def label_pdf(self) -> bytes | None:
        """The label as PDF bytes (None when the response carried none)."""
        import base64

        return None if self.label_data is None else base64.b64decode(self.label_data)


@attrs.frozen(kw_only=True)
class Rate(Model):
    """A shipping rate: ``shipment_cost`` plus ``other_cost`` (fuel, surcharges) is the total."""

    service_name: str | None = None
    service_code: str | None = None
    shipment_cost: Decimal | None = None
    other_cost: Decimal | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()

    @property
    def total(self) -> Decimal:
        """``shipment_cost + other_cost`` (missing parts count as zero)."""
        return (self.shipment_cost or Decimal(0)) + (self.other_cost or Decimal(0))


@attrs.frozen(kw_only=True)
class VoidResult(Model):
    """The answer of voidlabel: ``approved`` says whether the label was voided."""

    approved: bool | None = None
    message: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
