"""How the converter reads the API's JSON scalars: timestamps, dates, money, and lenient types.

ShipStation is loose with types: an id may come as a string, a bool as "true" or "", money as a
float or an integer. Each hook here accepts the spellings seen in real payloads and raises
DecodeError for anything else; the converter adds the field's name to the message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from .._time import format_body_datetime, parse_date, parse_timestamp
from ..errors import DecodeError

_log = logging.getLogger("shipstation_async.models")

QUOTED = 60
"""The most characters of an unreadable value an error quotes: an error message ends up in
logs, and a list or an object can hold a whole order's contents."""


def quoted(value: Any) -> str:
    """``value`` as an error message quotes it: its repr, cut short; a container, named only."""
    if isinstance(value, list | tuple):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    text = repr(value)
    return text if len(text) <= QUOTED else text[: QUOTED - 3] + "..."


# Datetimes are immutable and a page repeats many timestamps (an order's and its items').
parse_timestamp_cached = functools.lru_cache(maxsize=4096)(parse_timestamp)


def structure_datetime(
    value: Any, _: Any, parse: Callable[[str], datetime] = parse_timestamp
) -> datetime:
    """A timestamp in any of the server's forms, as an aware Pacific datetime."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise DecodeError(f"expected a timestamp string, got {quoted(value)}")
    return parse(value)


def structure_date(value: Any, _: Any) -> date:
    """A plain date (``yyyy-mm-dd``, or a timestamp's date part)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise DecodeError(f"expected a date string, got {quoted(value)}")
    return parse_date(value)


def structure_moment(value: Any, _: Any) -> datetime | date | None:
    """A field seen both as a plain date and as a timestamp (a fulfillment's shipDate).

    A timestamp keeps its time of day, a plain date stays a date.
    """
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DecodeError(f"expected a date or timestamp string, got {quoted(value)}")
    text = value.strip()
    return parse_timestamp(text) if "T" in text or " " in text else parse_date(text)


def structure_decimal(value: Any, _: Any) -> Decimal:
    """Money and measures: a Decimal, from a Decimal, an int, a numeric string or a float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise DecodeError(f"expected a number, got {quoted(value)}")
    try:
        return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DecodeError(f"expected a number, got {quoted(value)}") from None


def structure_bool(value: Any, _: Any) -> bool | None:
    """A bool, also from "true"/"false", 0/1, and "" (read as absent)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"  # stores/deactivate sends "true"
    if value == "":
        # Real warehouse payloads carry residential: "" (unknown); every bool field of the
        # models is optional, so it reads as absent.
        return None
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise DecodeError(f"expected a boolean, got {quoted(value)}")


def structure_int(value: Any, _: Any) -> int:
    """An int, also from an integral Decimal or a string of digits (ids sent as text)."""
    if isinstance(value, bool):
        raise DecodeError(f"expected an integer, got {quoted(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise DecodeError(f"expected an integer, got {quoted(value)}")


def structure_str(value: Any, _: Any) -> str:
    """A string, also from a number (an id the server sends as a number)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise DecodeError(f"expected a string, got {quoted(value)}")


def structure_any(value: Any, _: Any) -> Any:
    """A field of no fixed shape: kept as decoded."""
    return value


def literal_hook(tp: Any, *, strict: bool) -> Callable[[Any, Any], Any]:
    """The hook of an enumeration: a documented value, or (unless strict) any new string/int."""
    allowed = frozenset(get_args(tp))

    def structure_literal(value: Any, _: Any) -> Any:
        if not isinstance(value, str | int):
            raise DecodeError(f"unexpected value {quoted(value)}")
        if value in allowed:
            return value
        if strict:
            expected = sorted(allowed)
            raise DecodeError(f"unexpected value {quoted(value)}; expected one of {expected}")
        _log.debug("accepting an unknown enumerated value %r", value)
        return value

    return structure_literal


def unstructure_datetime(value: datetime) -> str:
    """A datetime for a request body: Pacific wall-clock time (see :mod:`.._time`)."""
    return format_body_datetime(value, "datetime")


def unstructure_date(value: date) -> str:
    """A date for a request body: ``yyyy-mm-dd``."""
    return value.isoformat()


def unstructure_decimal(value: Decimal) -> Decimal:
    """Money stays Decimal: the JSON encoder writes its digits as they are."""
    return value
