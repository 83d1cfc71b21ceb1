"""Customers, with their marketplace usernames and tags."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field


@attrs.frozen(kw_only=True)
class MarketplaceUsername(Model):
    """A customer's username on one marketplace."""

    customer_user_id: int | None = None
    customer_id: int | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    marketplace_id: int | None = None
    marketplace: str | None = None
    username: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class CustomerTag(Model):
    """A tag on a customer."""

    tag_id: int | None = None
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Customer(Model):
    """A customer; ``address_verified`` is a free-form validation state ("Verified")."""

    customer_id: int | None = None
    create_date: datetime | None = None
    modify_date: datetime | None = None
    name: str | None = None
    company: str | None = None
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    email: str | None = None
    address_verified: str | None = None
    marketplace_usernames: list[MarketplaceUsername] | None = None
    tags: list[CustomerTag] | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
