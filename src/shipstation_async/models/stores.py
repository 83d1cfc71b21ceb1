"""Stores (selling channels), marketplaces and store refreshes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field
from .types import OrderStatus


@attrs.frozen(kw_only=True)
class StatusMapping(Model):
    """How a store's own order status maps to a ShipStation order status."""

    order_status: OrderStatus | None = None
    status_key: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Store(Model):
    """A store. ``status_mappings`` comes only from ``stores.get``; ``update`` replaces all."""

    store_id: int | None = None
    store_name: str | None = None
    marketplace_id: int | None = None
    marketplace_name: str | None = None
    account_name: str | None = None
    email: str | None = None
    integration_url: str | None = None
    active: bool | None = None
    company_name: str | None = None
    phone: str | None = None
    public_email: str | None = None
    website: str | None = None
    refresh_date: datetime | None = None
    last_refresh_attempt: datetime | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    auto_refresh: bool | None = None
    status_mappings: list[StatusMapping] | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Marketplace(Model):
    """A marketplace ShipStation integrates with, and what it supports."""

    name: str | None = None
    marketplace_id: int | None = None
    can_refresh: bool | None = None
    supports_custom_mappings: bool | None = None
    supports_custom_statuses: bool | None = None
    can_confirm_shipments: bool | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class RefreshStatus(Model):
    """The state of a store refresh (``refresh_status`` is text such as "Updating orders")."""

    store_id: int | None = None
    refresh_status_id: int | None = None
    refresh_status: str | None = None
    last_refresh_attempt: datetime | None = None
    refresh_date: datetime | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
