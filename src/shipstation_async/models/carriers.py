"""Carrier accounts, their services and package types."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field


@attrs.frozen(kw_only=True)
class Carrier(Model):
    """A carrier account connected to ShipStation; ``balance`` is for funded accounts."""

    name: str | None = None
    code: str | None = None
    account_number: str | None = None
    requires_funded_account: bool | None = None
    balance: Decimal | None = None
    nickname: str | None = None
    shipping_provider_id: int | None = None
    primary: bool | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Service(Model):
    """A shipping service of a carrier (``code`` is the service code used for labels)."""

    carrier_code: str | None = None
    code: str | None = None
    name: str | None = None
    domestic: bool | None = None
    international: bool | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class Package(Model):
    """A package type of a carrier (``code`` is the package code used for labels)."""

    carrier_code: str | None = None
    code: str | None = None
    name: str | None = None
    domestic: bool | None = None
    international: bool | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
