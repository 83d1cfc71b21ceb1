"""The sandbox's timestamp formats against calendar arithmetic done by ``datetime``."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shipstation_async.sandbox._time import (
    format_date,
    format_item_ts,
    format_order_ts,
    ms_to_naive,
    parse_ts,
)

EPOCH = datetime(2000, 1, 1)

# From 1970 to 2099, on either side of the sandbox's epoch (2000-01-01).
milliseconds = st.integers(min_value=-946_684_800_000, max_value=3_155_760_000_000 - 1)


@given(milliseconds)
def test_formats_agree_with_datetime(ms: int) -> None:
    moment = EPOCH + timedelta(milliseconds=ms)
    assert ms_to_naive(ms) == moment
    item = moment.isoformat(timespec="milliseconds").rstrip("0").removesuffix(".")
    assert format_item_ts(ms) == item
    assert format_order_ts(ms) == moment.isoformat(timespec="milliseconds") + "0000"
    assert format_date(ms) == moment.date().isoformat()


@given(milliseconds)
def test_formatted_timestamps_parse_back_to_the_same_millisecond(ms: int) -> None:
    assert parse_ts(format_order_ts(ms)) == ms
    assert parse_ts(format_item_ts(ms)) == ms
    assert parse_ts(format_date(ms)) == ms // 86_400_000 * 86_400_000


def test_day_boundaries() -> None:
    assert format_order_ts(-1) == "1999-12-31T23:59:59.9990000"
    assert format_order_ts(0) == "2000-01-01T00:00:00.0000000"
    assert format_item_ts(86_399_999) == "2000-01-01T23:59:59.999"
    assert format_date(86_400_000) == "2000-01-02"
