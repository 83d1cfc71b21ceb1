"""Value objects shared by orders, shipments and labels."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, api_key, extra_field, raw_field
from .types import (
    AddressVerified,
    BillToParty,
    CustomsContents,
    DimensionUnits,
    InsuranceProvider,
    NonDelivery,
    WeightUnits,
)


@attrs.frozen(kw_only=True)
class Address(Model):
    """A postal address; ``country`` is ISO 3166-1 alpha-2; ``address_verified`` is read-only."""

    name: str | None = None
    company: str | None = None
    street1: str | None = None
    street2: str | None = None
    street3: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    residential: bool | None = None
    address_verified: AddressVerified | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Weight(Model):
    """A weight; responses also carry a read-only numeric ``weight_units`` (1 = ounces)."""

    value: Decimal | None = None
    units: WeightUnits | None = None
    weight_units: int | None = attrs.field(default=None, metadata=api_key("WeightUnits"))
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Dimensions(Model):
    """Package dimensions."""

    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    units: DimensionUnits | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class InsuranceOptions(Model):
    """Shipment insurance; ``insured_value`` in the account's currency."""

    provider: InsuranceProvider | None = None
    insure_shipment: bool | None = None
    insured_value: Decimal | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class CustomsItem(Model):
    """One line of a customs declaration; ``value`` is per unit."""

    customs_item_id: int | None = None
    description: str | None = None
    quantity: int | None = None
    value: Decimal | None = None
    harmonized_tariff_code: str | None = None
    country_of_origin: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class InternationalOptions(Model):
    """Customs information for international shipments."""

    contents: CustomsContents | None = None
    customs_items: list[CustomsItem] | None = None
    non_delivery: NonDelivery | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class AdvancedOptions(Model):
    """Advanced order/shipment options.

    ``store_id`` can be set only when an order is created; ``merged_or_split``, ``merged_ids``
    and ``parent_id`` are read-only.
    """

    warehouse_id: int | None = None
    non_machinable: bool | None = None
    saturday_delivery: bool | None = None
    contains_alcohol: bool | None = None
    merged_or_split: bool | None = None
    merged_ids: list[int] | None = None
    parent_id: int | None = None
    store_id: int | None = None
    custom_field1: str | None = None
    custom_field2: str | None = None
    custom_field3: str | None = None
    source: str | None = None
    bill_to_party: BillToParty | None = None
    bill_to_account: str | None = None
    bill_to_postal_code: str | None = None
    bill_to_country_code: str | None = None
    bill_to_my_other_account: Any = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
