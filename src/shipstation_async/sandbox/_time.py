"""Pacific wall-clock time as ShipStation writes and reads it.

The sandbox keeps every timestamp as an integer count of milliseconds of *Pacific wall-clock
time* (America/Los_Angeles, no offset) since 2000-01-01 00:00. ShipStation stores and compares
naive Pacific times, so the sandbox does too: this keeps order, filtering and sorting exactly
as consistent as the wire format (which carries no offset) allows.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
_EPOCH = datetime(2000, 1, 1)
MS_PER_SECOND = 1000
MS_PER_MINUTE = 60 * MS_PER_SECOND
MS_PER_HOUR = 60 * MS_PER_MINUTE
MS_PER_DAY = 24 * MS_PER_HOUR

_QUERY_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def naive_to_ms(dt: datetime) -> int:
    """Milliseconds of wall-clock time since the sandbox epoch for a naive Pacific datetime."""
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * MS_PER_SECOND + delta.microseconds // 1000


def ms_to_naive(ms: int) -> datetime:
    """The naive Pacific datetime for a wall-clock millisecond count."""
    return _EPOCH + timedelta(milliseconds=ms)


def now_ms() -> int:
    """The present as Pacific wall-clock milliseconds."""
    return naive_to_ms(datetime.now(PACIFIC).replace(tzinfo=None))


@functools.lru_cache(maxsize=8192)
def day_text(day: int) -> str:
    """Day ``day`` since the sandbox epoch as ``YYYY-MM-DD`` (kept: pages share few days)."""
    d = _EPOCH + timedelta(days=day)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _clock_text(ms: int) -> str:
    # "YYYY-MM-DDTHH:MM:SS.mmm"; floor division matches timedelta's for negative counts.
    day, rest = divmod(ms, MS_PER_DAY)
    seconds, millis = divmod(rest, MS_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{day_text(day)}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}"


def format_order_ts(ms: int) -> str:
    """Format as orders do: ``2015-06-29T08:46:27.8230000`` (7 fractional digits)."""
    return _clock_text(ms) + "0000"


def format_item_ts(ms: int) -> str:
    """Format as order items, products and stores do: trailing zeros of the fraction dropped.

    ``2015-07-16T14:00:34.823``, ``2015-08-17T09:43:03.05``, ``2015-08-17T09:24:14.78`` (the
    documented examples), and no fraction at all on a whole second (``2015-08-17T09:43:03``,
    as .NET's ``FFFFFFF`` format writes it: no documented example shows that case, [U]).
    """
    text = _clock_text(ms)
    if text.endswith("0"):
        text = text.rstrip("0").removesuffix(".")
    return text


def format_order_text(text: str) -> str:
    """An order-level timestamp as sent, in the orders' 7-digit format.

    Its fractional digits are kept to the 7th (``.1234567`` stays ``.1234567``; fewer are
    padded with zeros), on the instant :func:`parse_ts` reads (an offset converted to Pacific
    time). Raises ValueError when the text is not a date.
    """
    whole = format_order_ts(parse_ts(text))
    m = _QUERY_RE.match(text)
    digits = (m.group(7) if m is not None else None) or ""
    return whole[:-4] + digits[3:7].ljust(4, "0")


def format_date(ms: int) -> str:
    """Format a plain date as shipDate does: ``2015-07-02``."""
    return day_text(ms // MS_PER_DAY)


def parse_ts(text: str) -> int:
    """Parse a query or wire timestamp into Pacific wall-clock milliseconds.

    Accepts ``yyyy-mm-dd hh:mm:ss`` (ShipStation's documented query format), ``yyyy-mm-dd``
    (midnight), ``yyyy-mm-dd hh:mm`` and ISO ``yyyy-mm-ddThh:mm:ss[.fffffff]``. A trailing
    ``Z`` or UTC offset is honoured by converting to Pacific wall-clock time; without one the
    value is taken as Pacific wall-clock time. Raises ValueError when the text is not a date.
    """
    m = _QUERY_RE.match(text)
    if m is None:
        raise ValueError(f"not a date: {text!r}")
    year, month, day, hour, minute, second, frac, offset = m.groups()
    micro = int((frac or "0").ljust(7, "0")[:6])
    dt = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro
    )
    if offset is not None:
        try:
            dt = _to_pacific(dt, offset)
        except OverflowError:  # an offset that moves year 1 or 9999 out of range
            raise ValueError(f"not a date: {text!r}") from None
    return naive_to_ms(dt)


def _to_pacific(dt: datetime, offset: str) -> datetime:
    """The naive Pacific time of ``dt`` at UTC ``offset`` (``Z`` or ``+hh[:]mm``)."""
    if offset == "Z":
        aware = dt.replace(tzinfo=UTC)
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        aware = dt.replace(tzinfo=UTC) - sign * delta
    return aware.astimezone(PACIFIC).replace(tzinfo=None)
