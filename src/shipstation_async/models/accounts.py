"""Account-level objects: tags, users, and a new account's credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._base import Model, extra_field, raw_field


@attrs.frozen(kw_only=True)
class Tag(Model):
    """An order tag; ``color`` is a hex colour such as ``#800080``."""

    tag_id: int | None = None
    name: str | None = None
    color: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class User(Model):
    """A user of the account; ``user_id`` is a GUID."""

    user_id: str | None = None
    user_name: str | None = None
    name: str | None = None
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()


@attrs.frozen(kw_only=True)
class RegisterAccountResult(Model):
    """A newly registered account (partners only). ``api_secret`` is hidden from repr."""

    message: str | None = None
    seller_id: int | None = None
    success: bool | None = None
    api_key: str | None = None
    api_secret: str | None = attrs.field(default=None, repr=False)
    extra: Mapping[str, Any] = extra_field()
    raw: Mapping[str, Any] | None = raw_field()
