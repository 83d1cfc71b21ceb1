"""Query strings as ShipStation reads them: dates in Pacific time, values percent-encoded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

from ._time import format_query_datetime
from .errors import InvalidRequestError

QueryValue = str | int | bool | Decimal | datetime | date | None
"""A value a query parameter may take; None leaves the parameter out."""

_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


def encode_query_value(value: QueryValue, name: str) -> str | None:
    """Render one query value as ShipStation expects it; dates go out in Pacific time."""
    if value is None:
        return None
    if type(value) is int:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return format_query_datetime(value, name)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidRequestError(f"{name}: {value} is not a number to send", field=name)
        return format(value, "f")
    # A subclass's own __str__ (an Enum's "Carrier.UPS") is not what the value holds.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    raise InvalidRequestError(
        f"{name}: cannot send a {type(value).__name__} as a query parameter", field=name
    )


def encode_query(query: Mapping[str, QueryValue] | None) -> str:
    """Build a query string (without ``?``), dropping None values, in the given key order."""
    if not query:
        return ""
    parts = []
    quoted_names = _QUOTED_NAMES
    for name, value in query.items():
        if type(value) is int:
            text: str | int | None = value  # the common case (page, pageSize, ids): as it is
        else:
            text = encode_query_value(value, name)
            if text is None:
                continue
            text = _quote(text)
        quoted = quoted_names.get(name)
        if quoted is None:
            quoted = _quote_name(name)
        parts.append(f"{quoted}={text}")
    return "&".join(parts)


_QUOTED_NAMES: dict[str, str] = {}


def _quote_name(name: str) -> str:
    # A handful of parameter names recur in every query: quote each once.
    quoted = _QUOTED_NAMES.get(name)
    if quoted is None:
        quoted = _quote(name)
        if len(_QUOTED_NAMES) < 1024:
            _QUOTED_NAMES[name] = quoted
    return quoted


def _quote(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    if _URL_SAFE.fullmatch(text):
        return text
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:  # a lone surrogate
        raise InvalidRequestError(
            "a query value holds a lone surrogate, which is not valid Unicode text"
        ) from None
