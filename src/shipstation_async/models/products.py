"""Products and their category, type and tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, api_key, extra_field, raw_field
from .types import Confirmation


@attrs.frozen(kw_only=True)
class ProductCategory(Model):
    """A product category."""

    category_id: int | None = None
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class ProductType(Model):
    """A product type (a preset of shipping defaults)."""

    product_type_id: int | None = None
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class ProductTag(Model):
    """A tag on a product."""

    tag_id: int | None = None
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Product(Model):
    """A product. ``update`` replaces the whole record: change a fetched one with attrs.evolve.

    ``weight_oz`` is in ounces; dimensions in the account's units; money is Decimal.
    """

    product_id: int | None = None
    sku: str | None = None
    name: str | None = None
    price: Decimal | None = None
    default_cost: Decimal | None = None
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    weight_oz: Decimal | None = None
    internal_notes: str | None = None
    fulfillment_sku: str | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    active: bool | None = None
    product_category: ProductCategory | None = None
    product_type: ProductType | None = None
    warehouse_location: str | None = None
    default_carrier_code: str | None = None
    default_service_code: str | None = None
    default_package_code: str | None = None
    default_intl_carrier_code: str | None = None
    default_intl_service_code: str | None = None
    default_intl_package_code: str | None = None
    default_confirmation: Confirmation | None = None
    default_intl_confirmation: Confirmation | None = None
    customs_description: str | None = None
    customs_value: Decimal | None = None
    customs_tariff_no: str | None = None
    customs_country_code: str | None = None
    no_customs: bool | None = None
    tags: list[ProductTag] | None = None
    aliases: Any = None
    upc: str | None = None
    thumbnail_url: str | None = attrs.field(default=None, metadata=api_key("thumbnailURL"))
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
