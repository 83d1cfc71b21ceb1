"""Warehouses (ship-from locations)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field
from .common import Address


@attrs.frozen(kw_only=True)
class Warehouse(Model):
    """A ship-from location. ``update`` replaces the whole record: evolve a fetched one.

    ``return_address`` defaults to ``origin_address`` when a warehouse is created without one.
    """

    warehouse_id: int | None = None
    warehouse_name: str | None = None
    origin_address: Address | None = None
    return_address: Address | None = None
    create_date: datetime | None = None
    is_default: bool | None = None
    ext_inventory_identity: Any = None
    register_fedex_meter: bool | None = None
    seller_integration_id: Any = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
