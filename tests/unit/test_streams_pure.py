"""The streams' pure parts: wall-clock keys and range splitting at the edges."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shipstation_async.streams import MAX_RANGE, key_of, split, wall_key
from shipstation_async.streams.plan import spelt_out

_DIGIT = st.sampled_from("0123456789\u0660\u0969\uff15")  # Arabic-Indic, Devanagari, fullwidth


@given(st.lists(_DIGIT, min_size=25, max_size=25), st.sampled_from(["", " ", "\n", "0", "Z"]))
def test_a_wall_key_taken_as_it_is_is_what_the_general_path_gives(
    digits: list[str], tail: str
) -> None:
    d = iter(digits)
    text = "".join(next(d) if ch == "9" else ch for ch in "9999-99-99T99:99:99.9999999") + tail
    # The shortcut for a key must agree with the general path, for every input.
    assert wall_key(text) == spelt_out(text)


def test_wall_keys_sort_like_time_whatever_the_precision() -> None:
    assert wall_key("2015-07-16T14:00:34.823") == "2015-07-16T14:00:34.8230000"
    assert wall_key("2015-07-16T14:00:34.8230000") == "2015-07-16T14:00:34.8230000"
    assert wall_key("2015-07-16T14:00:34") == "2015-07-16T14:00:34.0000000"
    assert wall_key("2015-07-02") == "2015-07-02T00:00:00.0000000"
    assert wall_key("2015-07-16 14:00:34.5") < wall_key("2015-07-16T14:00:34.823")
    assert key_of(datetime(2015, 7, 16, 14, 0, 34, 823000)) == "2015-07-16T14:00:34.8230000"
    # Four-digit years always (strftime's "%Y" writes year 1 as "1" on Linux).
    assert key_of(datetime(1, 1, 2, 3, 4, 5)) == "0001-01-02T03:04:05.0000000"
    assert key_of(datetime(999, 12, 31)) == "0999-12-31T00:00:00.0000000"


def spans(start: datetime, end: datetime, parts: int = 1) -> list[tuple[datetime, datetime]]:
    ranges = split(start, end, parts, MAX_RANGE)
    parse = lambda k: datetime.strptime(k, "%Y-%m-%dT%H:%M:%S.%f0")  # noqa: E731
    return [(parse(r.cursor), parse(r.end)) for r in ranges]


def test_exactly_ninety_days_is_two_requests_and_shorter_is_one() -> None:
    start = datetime(2024, 1, 1)
    assert len(spans(start, start + MAX_RANGE)) == 1
    assert len(spans(start, start + MAX_RANGE + timedelta(seconds=1))) == 2
    assert len(spans(start, start + timedelta(days=90))) == 2


def test_leap_day_and_dst_ranges_are_covered_without_gaps() -> None:
    for start, end in [
        (datetime(2024, 2, 1), datetime(2024, 6, 1)),  # leap day and the spring change
        (datetime(2024, 10, 1), datetime(2025, 3, 31)),  # the fall-back hour
    ]:
        pieces = spans(start, end, parts=3)
        assert pieces[0][0] == start and pieces[-1][1] == end
        for (_, a_end), (b_start, _) in itertools.pairwise(pieces):
            assert a_end == b_start
        # The query window adds 1 s each side and must stay within the API's 90 days.
        assert all(b - a + timedelta(seconds=2) <= timedelta(days=90) for a, b in pieces)


@given(
    st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 1, 1)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2000)),
    st.integers(1, 16),
)
def test_split_covers_the_range_in_order(start: datetime, span: timedelta, parts: int) -> None:
    start = start.replace(microsecond=0)
    end = start + span
    ranges = split(start, end, parts, MAX_RANGE)
    assert ranges[-1].inclusive and not any(r.inclusive for r in ranges[:-1])
    assert ranges[0].cursor == key_of(start) and ranges[-1].end == key_of(end)
    assert all(a.end == b.cursor for a, b in itertools.pairwise(ranges))


def test_whole_reads_settle_only_when_nothing_can_have_been_missed() -> None:
    from shipstation_async.streams.plan import Passes

    # Two identical reads that saw the whole total: settled.
    stable = Passes()
    assert not stable.settled({1, 2, 3}, 3)
    assert stable.settled({1, 2, 3}, 3)

    # x (4) is missed by every read while z (9) leaves: the ids seen before the change must
    # not stand in for it.
    gone = Passes()
    assert not gone.settled({1, 2, 9}, 4)  # {1, 2, 4, 9}: 4 missed
    assert not gone.settled({1, 2}, 3)  # 9 left: another total
    assert not gone.settled({1, 2}, 3)
    assert not gone.settled({1, 2}, 3)
    assert not gone.settled({1, 4}, 3)  # 4 at last: a change again
    assert not gone.settled({2, 4}, 3)
    assert gone.settled({1, 2}, 3)  # the reads since the change saw all three

    # One leaves and one joins (same total) while a read straddles the change, and 4 is missed
    # throughout: the straddling read's ids do not count.
    swap = Passes()
    assert not swap.settled({1, 2, 9}, 4)  # {1, 2, 4, 9}
    assert not swap.settled({1, 2, 9, 7}, 4)  # straddled: 9 left, 7 joined
    assert not swap.settled({1, 2, 7}, 4)
    assert not swap.settled({1, 2, 7}, 4)  # three of four since the change: not yet
    assert not swap.settled({1, 4, 7}, 4)  # 4 is new: a change (it was never seen)
    assert not swap.settled({2, 4, 7}, 4)
    assert swap.settled({1, 2, 7}, 4)


def test_each_request_spans_under_90_days_on_the_wall_clock_and_in_elapsed_time() -> None:
    from datetime import UTC

    from shipstation_async._time import PACIFIC

    # Across the autumn clock change a wall-clock day can last 25 hours: the query window
    # (one second either side of a part) must stay within 90 days measured either way.
    near_90_days = timedelta(days=90) - timedelta(minutes=30)
    starts = (datetime(2024, 8, 20), datetime(2024, 9, 1, 0, 0, 1), datetime(2024, 2, 1))
    for start, length in itertools.product(starts, (near_90_days, 2 * near_90_days)):
        for low, high in spans(start, start + length):
            low, high = low - timedelta(seconds=1), high + timedelta(seconds=1)
            assert high - low <= timedelta(days=90)
            # (Aware datetimes sharing a zone subtract as wall clocks: compare in UTC.)
            elapsed = high.replace(tzinfo=PACIFIC).astimezone(UTC) - low.replace(
                tzinfo=PACIFIC
            ).astimezone(UTC)
            assert elapsed.total_seconds() <= 90 * 86400
