"""Pure conversions between aware datetimes and ShipStation's Pacific wall-clock strings.

ShipStation sends and expects Pacific time (PST/PDT) with no UTC offset. Wall-clock times in the
autumn fall-back hour occur twice; a string in that hour is read as its first occurrence
(``fold=0``), since the API gives no way to tell them apart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import DecodeError, InvalidRequestError

PACIFIC = ZoneInfo("America/Los_Angeles")

# "2015-06-29T08:46:27.0000000", "2015-07-16T14:00:34.823", "2016-11-29 23:59:59", "2015-07-02",
# optionally with an offset or Z (tolerated, converted to Pacific).
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
# The refresh-status example uses month-day-year: "8-13-2014".
_US_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")


def parse_timestamp(text: str) -> datetime:
    """Parse a ShipStation timestamp into an aware datetime in America/Los_Angeles.

    Accepts 0 to 9 fractional digits (truncated to microseconds), a date alone (midnight),
    ``M-D-YYYY`` dates, and strings with an explicit offset. Raises :class:`DecodeError`.
    """
    if len(text) >= 19 and text[10] == "T":
        # The shape the API sends almost always, parsed at C speed (fromisoformat truncates a
        # 7th fractional digit to microseconds, as the regex path does); anything it refuses
        # goes through the regex, which names the problem.
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=PACIFIC)
            return parsed.astimezone(PACIFIC)
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        us = _US_DATE.fullmatch(text.strip())
        if us is None:
            raise DecodeError(f"not a ShipStation timestamp: {text[:60]!r}")
        month_s, day_s, year_s = us.groups()
        return _build(int(year_s), int(month_s), int(day_s), 0, 0, 0, 0, None, text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return _build(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micros,
        offset,
        text,
    )


def _build(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    micros: int,
    offset: str | None,
    text: str,
) -> datetime:
    try:
        if offset is None:
            return datetime(year, month, day, hour, minute, second, micros, tzinfo=PACIFIC)
        tz = UTC if offset == "Z" else _offset(offset)
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=tz).astimezone(
            PACIFIC
        )
    except ValueError as exc:
        raise DecodeError(f"not a valid ShipStation timestamp: {text[:60]!r} ({exc})") from None


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def carries_offset(text: str) -> bool:
    """Whether a timestamp's text names its UTC offset (``Z``, ``+02:00``, ``-0700``, ``+02``).

    By both of :func:`parse_timestamp`'s readers: what either reads with an offset has one.
    """
    try:
        if datetime.fromisoformat(text.strip()).tzinfo is not None:
            return True
    except ValueError:
        pass
    match = _TIMESTAMP.fullmatch(text.strip())
    return match is not None and match.group(8) is not None


def parse_date(text: str) -> date:
    """Parse a ShipStation date ("2015-07-02", or a timestamp whose date part is taken)."""
    return parse_timestamp(text).date()


def require_aware(value: datetime, field: str) -> datetime:
    """Return ``value`` converted to Pacific time; a naive datetime is an InvalidRequestError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(
            f"{field} is a naive datetime; pass an aware one (for example "
            f"datetime(..., tzinfo=ZoneInfo('America/Los_Angeles')) or datetime.now(timezone.utc))",
            field=field,
        )
    try:
        return value.astimezone(PACIFIC)
    except OverflowError:  # datetime.min or max in another zone
        raise InvalidRequestError(
            f"{field} is out of the range of Pacific time: {value.isoformat()}", field=field
        ) from None


def format_query_datetime(value: datetime | date, field: str) -> str:
    """Format a filter value as the list endpoints take it: Pacific ``yyyy-mm-dd hh:mm:ss``.

    A ``date`` means midnight Pacific of that day. Sub-second precision is dropped (the API's
    filters are second-precision).
    """
    if not isinstance(value, datetime):
        return f"{value.isoformat()} 00:00:00"
    # isoformat, not strftime: "%Y" leaves a year before 1000 unpadded on Linux.
    return require_aware(value, field).replace(tzinfo=None).isoformat(" ", "seconds")


def format_body_datetime(value: datetime, field: str) -> str:
    """Format a datetime for a request body: Pacific wall-clock ``yyyy-mm-ddThh:mm:ss.ffffff``."""
    local = require_aware(value, field)
    return local.replace(tzinfo=None).isoformat(timespec="microseconds")


def to_pacific_wall(moment: datetime) -> datetime:
    """The naive Pacific wall-clock time of a moment (a naive one is taken as local time)."""
    return moment.astimezone(PACIFIC).replace(tzinfo=None)


def end_wall(moment: datetime) -> datetime:
    """The naive Pacific wall time that ends a range at ``moment`` (aware), taking it all in.

    In the second pass of the autumn's repeated hour it is the hour's last instant: the
    records of the first pass carry later walls than that moment's. (In the first pass the
    moment's own wall ends it: no record yet carries a later one.)
    """
    local = moment.astimezone(PACIFIC)
    wall = local.replace(tzinfo=None)
    return _repeated_hour(wall)[1] if local.fold and _repeated(wall) else wall


def from_pacific_wall(wall: datetime) -> datetime:
    """A naive Pacific wall-clock time as an aware datetime (its first occurrence, ``fold=0``)."""
    return wall.replace(tzinfo=PACIFIC)


def before_repeated_hour(moment: datetime) -> datetime:
    """``moment``, or the start of the fall-back hour when its Pacific wall time is repeated.

    An incremental sync lists by wall-clock filters from its last mark less an overlap. If that
    start falls in the repeated hour, records changed after the clocks went back carry walls
    from the hour's start on, before the start: a sync from the mark would miss them. Starting
    at the hour's first occurrence lists them (and at most an hour again, once a year).
    """
    wall = to_pacific_wall(moment)
    if not _repeated(wall):
        return moment
    step = timedelta(minutes=1)
    while _repeated(wall - step):
        wall -= step
    return from_pacific_wall(wall.replace(second=0, microsecond=0))


def _repeated(wall: datetime) -> bool:
    """Whether a naive Pacific wall time occurs twice (the autumn fall-back hour)."""
    first = wall.replace(tzinfo=PACIFIC, fold=0).utcoffset()
    return first != wall.replace(tzinfo=PACIFIC, fold=1).utcoffset()


def start_of_day(day: date) -> datetime:
    """Midnight Pacific at the start of ``day``, aware: what a date alone means to the API."""
    return datetime(day.year, day.month, day.day, tzinfo=PACIFIC)


def as_instant(value: datetime | date) -> datetime:
    """An aware datetime as it is; a date as its Pacific midnight."""
    return value if isinstance(value, datetime) else start_of_day(value)


def in_the_future(value: datetime | date, tolerance: timedelta) -> bool:
    """Whether ``value`` is more than ``tolerance`` after this host's clock (naive: False)."""
    moment = as_instant(value)
    if moment.utcoffset() is None:
        return False  # a naive datetime: refused where it is read, with its field named
    return moment > datetime.now(UTC) + tolerance


def pacific_wall(value: datetime | date, field: str) -> datetime:
    """A range bound as a naive Pacific wall-clock time: an aware datetime, or a date's midnight.

    A naive datetime is an InvalidRequestError naming ``field``.
    """
    if isinstance(value, datetime):
        return require_aware(value, field).replace(tzinfo=None)
    return datetime(value.year, value.month, value.day)


def range_walls(
    start: datetime | date | None, end: datetime | date | None
) -> tuple[datetime | None, datetime | None]:
    """A listing's bounds as naive Pacific wall-clock times, widened over a repeated hour.

    A bound in the autumn's repeated hour cannot tell its two occurrences apart on the wire
    (the API's dates carry no offset): the start moves back to the hour's first minute and the
    end on to its last instant, so that no record of the range is left out (some of the other
    occurrence may come too). The bounds are compared as instants: an end before the start is
    an InvalidRequestError.
    """
    low = None if start is None else pacific_wall(start, "start")
    high = None if end is None else pacific_wall(end, "end")
    if start is not None and end is not None and _utc(end) < _utc(start):
        raise InvalidRequestError("the range's end precedes its start", field="end")
    if low is not None and _repeated(low):
        low = _repeated_hour(low)[0]
    if high is not None and _repeated(high):
        high = _repeated_hour(high)[1]
    return low, high


def _utc(value: datetime | date) -> datetime:
    # Naive UTC: aware datetimes of one zone compare by their wall times, fold ignored.
    moment = as_instant(value)
    offset = moment.utcoffset() or timedelta(0)
    try:
        return moment.replace(tzinfo=None) - offset
    except OverflowError:  # at the ends of datetime's range: the wall time is near enough
        return moment.replace(tzinfo=None)


def _repeated_hour(wall: datetime) -> tuple[datetime, datetime]:
    """The first and the last wall time (to the microsecond) of the repeated hour of ``wall``."""
    step = timedelta(minutes=1)
    first = wall.replace(second=0, microsecond=0)
    while _repeated(first - step):
        first -= step
    last = first
    while _repeated(last + step):
        last += step
    return first, last.replace(second=59, microsecond=999_999)


def sent_wall(value: datetime | date) -> datetime:
    """The Pacific wall-clock time a filter value is sent as, at second precision."""
    return to_pacific_wall(as_instant(value)).replace(microsecond=0)
