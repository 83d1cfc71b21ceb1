from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipstation_async import DecodeError, InvalidRequestError
from shipstation_async._time import (
    PACIFIC,
    end_wall,
    format_body_datetime,
    format_query_datetime,
    parse_date,
    parse_timestamp,
    range_walls,
)


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2015-06-29T08:46:27.0000000", 0),
        ("2015-06-29T08:46:27.1234567", 123456),
        ("2015-06-29T08:46:27.823", 823000),
        ("2015-06-29T08:46:27.82", 820000),
        ("2015-06-29T08:46:27", 0),
        ("2015-06-29 08:46:27", 0),
    ],
)
def test_fraction_lengths(text: str, micro: int) -> None:
    value = parse_timestamp(text)
    assert value.tzinfo is PACIFIC
    assert (value.year, value.month, value.day, value.hour, value.minute, value.second) == (
        2015,
        6,
        29,
        8,
        46,
        27,
    )
    assert value.microsecond == micro
    assert value.utcoffset() == timedelta(hours=-7)  # PDT


def test_date_only_and_us_style() -> None:
    assert parse_timestamp("2015-07-02") == datetime(2015, 7, 2, tzinfo=PACIFIC)
    assert parse_timestamp("8-13-2014") == datetime(2014, 8, 13, tzinfo=PACIFIC)
    assert parse_date("2015-07-05T00:00:00.0000000") == date(2015, 7, 5)


def test_offset_is_converted_to_pacific() -> None:
    value = parse_timestamp("2024-01-01T08:00:00Z")
    assert value.tzinfo is PACIFIC and value.hour == 0


def test_fall_back_hour_reads_as_first_occurrence() -> None:
    value = parse_timestamp("2024-11-03T01:30:00.0000000")
    assert value.fold == 0
    assert value.utcoffset() == timedelta(hours=-7)  # still PDT


@pytest.mark.parametrize("text", ["", "yesterday", "2015-13-01", "2015-02-30T00:00:00"])
def test_bad_timestamps(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_timestamp(text)


def test_an_early_year_is_written_with_four_digits() -> None:
    # strftime's "%Y" writes year 1 as "1" on Linux: not a date the API reads.
    early = datetime(1, 1, 2, 12, tzinfo=UTC)
    assert format_query_datetime(early, "createDateStart") == "0001-01-02 04:07:02"


def test_naive_datetime_is_refused_for_sending() -> None:
    with pytest.raises(InvalidRequestError):
        format_query_datetime(datetime(2024, 1, 1), "createDateStart")
    with pytest.raises(InvalidRequestError):
        format_body_datetime(datetime(2024, 1, 1), "orderDate")


def test_body_format_matches_documented_example() -> None:
    value = datetime(2015, 6, 29, 8, 46, 27, tzinfo=PACIFIC)
    assert format_body_datetime(value, "orderDate") == "2015-06-29T08:46:27.000000"


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2040, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_body_format_round_trips_as_an_instant(value: datetime) -> None:
    parsed = parse_timestamp(format_body_datetime(value, "x"))
    local = value.astimezone(PACIFIC)
    if local.fold == 1:
        # The second pass through the fall-back hour cannot be written without an offset: it
        # reads back as the first, exactly one hour earlier.
        assert value.timestamp() - parsed.timestamp() == 3600
    else:
        assert parsed.timestamp() == value.timestamp()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))
def test_any_7_digit_timestamp_parses(value: datetime) -> None:
    text = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"
    parsed = parse_timestamp(text)
    assert parsed.replace(tzinfo=None) == value


def test_a_start_inside_the_repeated_hour_goes_back_to_its_beginning() -> None:
    from datetime import timedelta

    from shipstation_async._time import PACIFIC, before_repeated_hour

    # 2026-11-01: at 02:00 PDT the clocks go back to 01:00 PST, so 01:00-01:59 occurs twice.
    first = datetime(2026, 11, 1, 1, 46, tzinfo=PACIFIC, fold=0)  # PDT
    second = datetime(2026, 11, 1, 1, 46, tzinfo=PACIFIC, fold=1)  # PST, an hour later
    hour_start = datetime(2026, 11, 1, 1, 0, tzinfo=PACIFIC, fold=0)
    assert before_repeated_hour(first) == hour_start
    assert before_repeated_hour(second) == hour_start
    assert before_repeated_hour(second.astimezone(UTC)) == hour_start
    # Records changed after ``first`` but with earlier walls (01:00-01:45 PST) now lie after
    # the start: that is the point.
    assert before_repeated_hour(first) <= second - timedelta(minutes=45)
    for unchanged in (
        datetime(2026, 11, 1, 0, 59, tzinfo=PACIFIC),
        datetime(2026, 11, 1, 2, 5, tzinfo=PACIFIC),
        datetime(2026, 7, 1, 1, 30, tzinfo=PACIFIC),
        datetime(2026, 3, 8, 3, 30, tzinfo=PACIFIC),  # spring forward: no repeated hour
    ):
        assert before_repeated_hour(unchanged) == unchanged


# -- a listing's bounds ------------------------------------------------------------------------

FALL_BACK = date(2026, 11, 1)  # 01:00 to 02:00 Pacific happens twice


def test_a_range_in_the_repeated_hour_is_widened_to_the_whole_hour() -> None:
    # 01:50 PDT to 01:10 PST: twenty real minutes, whose walls run backwards. Records made in
    # between carry walls from 01:00 to 01:10 (and 01:50 to 01:59): the whole hour is listed.
    start = datetime(2026, 11, 1, 1, 50, tzinfo=PACIFIC)
    end = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=PACIFIC)
    assert range_walls(start, end) == (
        datetime(2026, 11, 1, 1, 0),
        datetime(2026, 11, 1, 1, 59, 59, 999_999),
    )
    # The same instants given in UTC.
    utc = range_walls(start.astimezone(UTC), end.astimezone(UTC))
    assert utc == range_walls(start, end)


def test_a_range_ending_at_a_moment_of_the_repeated_hour_takes_the_whole_hour_in() -> None:
    # The end of a stream with no end given (T0, the server's clock less two minutes). At
    # 01:12 PST the records of 01:30 PDT, an hour earlier, carry later walls.
    second = datetime(2025, 11, 2, 9, 14, tzinfo=UTC)  # 01:14 PST
    assert end_wall(second - timedelta(minutes=2)) == datetime(2025, 11, 2, 1, 59, 59, 999_999)
    # 01:01 PST less two minutes is 01:59 PDT, not the wall 00:59 (PDT, an hour earlier).
    assert end_wall(datetime(2025, 11, 2, 9, 1, tzinfo=UTC) - timedelta(minutes=2)) == (
        datetime(2025, 11, 2, 1, 59)
    )
    # In the first pass no record carries a later wall yet: the moment's own (a later end
    # would be in the server's future, and a next run starting there would skip the rest).
    assert end_wall(datetime(2025, 11, 2, 8, 5, tzinfo=UTC)) == datetime(2025, 11, 2, 1, 5)
    assert end_wall(datetime(2025, 11, 2, 11, 0, tzinfo=UTC)) == datetime(2025, 11, 2, 3, 0)


def test_bounds_outside_the_repeated_hour_are_their_walls() -> None:
    start = datetime(2026, 3, 8, 1, 50, tzinfo=PACIFIC)  # spring: no hour repeated
    end = datetime(2026, 11, 1, 2, 30, tzinfo=PACIFIC)
    assert range_walls(start, end) == (datetime(2026, 3, 8, 1, 50), datetime(2026, 11, 1, 2, 30))
    assert range_walls(FALL_BACK, None) == (datetime(2026, 11, 1), None)


def test_an_end_before_the_start_is_refused_by_instants_not_walls() -> None:
    later_wall_earlier_instant = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=PACIFIC)
    with pytest.raises(InvalidRequestError, match="precedes"):
        range_walls(later_wall_earlier_instant, datetime(2026, 11, 1, 1, 50, tzinfo=PACIFIC))
    with pytest.raises(InvalidRequestError, match="naive"):
        range_walls(datetime(2026, 1, 1), None)
