from __future__ import annotations

import asyncio

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipstation_async.errors import ConfigurationError
from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox
from shipstation_async.sandbox.ratewindow import (
    Decision,
    RateWindow,
    WindowMeter,
    format_reset,
    reset_rounding,
)

from .helpers import auth_headers

L3_W10 = RateLimit(3, 10.0)


def run(window: RateWindow, times: list[float]) -> list[Decision]:
    return [window.decide(t) for t in times]


# -- fixed --------------------------------------------------------------------------------------


def test_fixed_admits_exactly_l_then_refuses_until_the_window_closes() -> None:
    w = RateWindow(L3_W10, mode="fixed")
    d = run(w, [100.0, 101.0, 102.0, 103.0, 109.999])
    assert [x.admitted for x in d] == [True, True, True, False, False]
    assert [x.remaining for x in d] == [2, 1, 0, 0, 0]
    assert [x.reset for x in d] == pytest.approx([10.0, 9.0, 8.0, 7.0, 0.001])
    # The window opened at the first request (100.0), so it closes at 110.0 exactly.
    nxt = w.decide(110.0)
    assert nxt.admitted and nxt.remaining == 2 and nxt.reset == pytest.approx(10.0)


def test_fixed_window_opens_at_first_request_after_the_previous_closed() -> None:
    w = RateWindow(L3_W10, mode="fixed")
    w.decide(0.0)
    # Quiet for a long time: the next window starts at 57.3, not at a multiple of 10.
    d = w.decide(57.3)
    assert d.admitted and d.reset == pytest.approx(10.0)
    assert w.decide(67.2).remaining == 1  # still the window opened at 57.3
    assert w.decide(67.3).remaining == 2  # a new one


@pytest.mark.parametrize("count_rejected", [True, False])
def test_fixed_remaining_stays_zero_after_refusals(count_rejected: bool) -> None:
    w = RateWindow(L3_W10, mode="fixed", count_rejected=count_rejected)
    d = run(w, [0.0, 0.1, 0.2, 0.3, 0.4, 5.0])
    assert [x.admitted for x in d] == [True, True, True, False, False, False]
    assert d[-1].remaining == 0
    assert w.decide(10.0).admitted


# -- aligned ------------------------------------------------------------------------------------


def test_aligned_windows_sit_on_multiples_of_the_period() -> None:
    w = RateWindow(L3_W10, mode="aligned")
    d = run(w, [1234.5, 1236.0, 1239.0, 1239.9])
    assert [x.admitted for x in d] == [True, True, True, False]
    assert d[0].reset == pytest.approx(5.5)  # [1230, 1240)
    assert d[3].reset == pytest.approx(0.1)
    # At 1240.0 a new window starts, however recently the old one was full.
    after = run(w, [1240.0, 1240.0, 1240.0, 1240.0])
    assert [x.admitted for x in after] == [True, True, True, False]
    assert after[0].reset == pytest.approx(10.0)


def test_aligned_boundary_allows_2l_in_a_short_burst() -> None:
    w = RateWindow(L3_W10, mode="aligned")
    d = run(w, [9.7, 9.8, 9.9, 10.0, 10.1, 10.2])
    assert all(x.admitted for x in d)


# -- rolling ------------------------------------------------------------------------------------


def test_rolling_admits_when_fewer_than_l_in_the_last_period() -> None:
    w = RateWindow(L3_W10, mode="rolling", count_rejected=False)
    d = run(w, [0.0, 1.0, 2.0])
    assert [x.remaining for x in d] == [2, 1, 0]
    # Reset: until the oldest counted arrival (0.0) leaves the window.
    assert [x.reset for x in d] == pytest.approx([10.0, 9.0, 8.0])
    refused = w.decide(9.999)
    assert not refused.admitted and refused.reset == pytest.approx(0.001)
    # (now - W, now] is half-open at the left: at exactly 10.0 the arrival at 0.0 has left.
    edge = w.decide(10.0)
    assert edge.admitted and edge.remaining == 0
    assert edge.reset == pytest.approx(1.0)  # now the oldest is 1.0


def test_rolling_count_rejected_makes_hammering_self_defeating() -> None:
    counted = RateWindow(L3_W10, mode="rolling", count_rejected=True)
    lenient = RateWindow(L3_W10, mode="rolling", count_rejected=False)
    times = [0.0, 1.0, 2.0, 5.0, 10.0, 11.0, 12.0]
    a = [x.admitted for x in run(counted, times)]
    b = [x.admitted for x in run(lenient, times)]
    # Refusals at 5, 10, 11 keep the sliding log full for the counting window.
    assert a == [True, True, True, False, False, False, False]
    assert b == [True, True, True, False, True, True, True]


def test_rolling_reset_is_the_period_when_nothing_is_counted() -> None:
    w = RateWindow(L3_W10, mode="rolling")
    peek = w.peek(50.0)
    assert peek.admitted and peek.remaining == 3 and peek.reset == 10.0
    w.decide(50.0)
    assert w.peek(60.0).reset == 10.0  # the arrival at 50.0 has left


def test_peek_does_not_count() -> None:
    for mode in ("fixed", "aligned", "rolling"):
        w = RateWindow(L3_W10, mode=mode)  # type: ignore[arg-type]
        w.decide(1.0)
        assert w.peek(2.0).remaining == 2
        assert w.peek(2.0).remaining == 2
        assert w.decide(2.0).remaining == 1


# -- headers ------------------------------------------------------------------------------------


def test_headers_floor_reset_or_give_three_decimals() -> None:
    d = Decision(admitted=True, limit=40, remaining=7, reset=12.3456)
    assert d.headers("int") == {
        "X-Rate-Limit-Limit": "40",
        "X-Rate-Limit-Remaining": "7",
        "X-Rate-Limit-Reset": "12",
    }
    assert d.headers("float")["X-Rate-Limit-Reset"] == "12.346"
    assert format_reset(0.999, "int") == "0"
    assert format_reset(59.9999, "int") == "59"
    assert format_reset(-0.001, "float") == "0.000"


def test_reset_rounds_down_or_up_and_int_is_floor() -> None:
    d = Decision(admitted=True, limit=40, remaining=7, reset=12.3456)
    assert d.headers("floor")["X-Rate-Limit-Reset"] == "12"
    assert d.headers("ceil")["X-Rate-Limit-Reset"] == "13"
    assert format_reset(60.0, "ceil") == "60"  # a whole window: no rounding either way
    assert format_reset(0.0001, "ceil") == "1"
    assert reset_rounding("int") == "floor"
    assert reset_rounding("ceil") == "ceil"
    with pytest.raises(ConfigurationError):
        reset_rounding("round")  # type: ignore[arg-type]
    assert Sandbox(orders=1, reset_format="int").reset_format == "floor"


@pytest.mark.parametrize("delay", [-0.1, float("nan"), float("inf")])
def test_a_bad_counting_delay_is_refused(delay: float) -> None:
    with pytest.raises(ConfigurationError):
        Sandbox(orders=1, counting_delay=delay)


class _Queue:
    """Stands in for the sandbox's random counting delays: these, in turn."""

    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)

    def uniform(self, low: float, high: float) -> float:
        delay = self.delays.pop(0)
        assert low <= delay <= high
        return delay


async def test_a_request_is_counted_after_its_queue_wait_on_the_clock_then() -> None:
    """Arrivals at 0, 5 and 9.5 (inside one W of 10), counted at 0, 5 and 10: rolling L = 2
    admits all three, and the most counted in any W is 2, as the window saw it."""
    clock = [0.0]
    async with (
        Sandbox(
            orders=1,
            rate_limit=RateLimit(2, 10.0),
            window="rolling",
            reset_format="float",
            counting_delay=5.0,
            clock=lambda: clock[0],
        ) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        sb.middleware._queue_rng = _Queue(0.0, 0.0, 1.0)  # type: ignore[assignment]
        async with s.get("/orders") as r:
            assert r.status == 200
        clock[0] = 5.0
        async with s.get("/orders") as r:
            assert r.status == 200
        clock[0] = 9.5
        late = asyncio.ensure_future(s.get("/orders"))
        for _ in range(1000):  # until it has arrived (it then waits in the queue for 1 s)
            if len(sb.arrivals()) == 3:
                break
            await asyncio.sleep(0.001)
        clock[0] = 10.0  # counted now, when the arrival at 0 has left the window
        async with await late as r:
            assert r.status == 200
            assert r.headers["X-Rate-Limit-Remaining"] == "0"
            assert r.headers["X-Rate-Limit-Reset"] == "5.000"  # the one at 5 leaves next
        assert [a[0] for a in sb.arrivals()] == [0.0, 5.0, 9.5]
        stats = sb.stats()
        assert (stats.accepted, stats.rate_limited, stats.max_in_window) == (3, 0, 2)


async def test_requests_wait_up_to_the_counting_delay() -> None:
    async with (
        Sandbox(orders=1, counting_delay=0.2, seed=3) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        loop = asyncio.get_running_loop()
        waits = []
        for _ in range(6):
            started = loop.time()
            async with s.get("/orders") as r:
                assert r.status == 200
            waits.append(loop.time() - started)
    assert max(waits) > 0.02  # some waited in the queue (not all six under 20 ms)


# -- max in window ------------------------------------------------------------------------------


def test_meter_counts_arrivals_in_half_open_intervals() -> None:
    m = WindowMeter(10.0)
    for t in [0.0, 1.0, 2.0, 9.99]:
        m.observe(t)
    assert m.max_in_window == 4
    # 0.0 is outside [0.0 + ..., ): an arrival at exactly 10.0 is not in [0, 10).
    assert m.observe(10.0) == 4  # 1.0, 2.0, 9.99, 10.0
    assert m.max_in_window == 4
    m.observe(10.5)
    assert m.max_in_window == 5
    m.reset()
    assert m.max_in_window == 0


def test_fixed_window_burst_across_the_boundary_is_measured() -> None:
    w, m = RateWindow(L3_W10, mode="fixed"), WindowMeter(10.0)
    for t in [0.0, 9.0, 9.5, 10.0, 10.1, 10.2]:
        if w.decide(t).admitted:
            m.observe(t)
    assert m.max_in_window == 5  # 9.0 .. 10.2: two windows' worth in 1.2 s


# -- properties ---------------------------------------------------------------------------------

arrivals = st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=200).map(
    sorted
)


@settings(max_examples=150, deadline=None)
@given(times=arrivals, count_rejected=st.booleans(), limit=st.integers(1, 6))
def test_rolling_never_admits_more_than_l_in_any_period(
    times: list[float], count_rejected: bool, limit: int
) -> None:
    w = RateWindow(RateLimit(limit, 7.0), mode="rolling", count_rejected=count_rejected)
    m = WindowMeter(7.0)
    for t in times:
        d = w.decide(t)
        assert 0 <= d.remaining <= limit
        assert 0 <= d.reset <= 7.0
        if d.admitted:
            m.observe(t)
    assert m.max_in_window <= limit


@settings(max_examples=150, deadline=None)
@given(times=arrivals, mode=st.sampled_from(["fixed", "aligned"]), limit=st.integers(1, 6))
def test_windowed_modes_admit_exactly_l_per_window(
    times: list[float], mode: str, limit: int
) -> None:
    w = RateWindow(RateLimit(limit, 7.0), mode=mode)  # type: ignore[arg-type]
    m = WindowMeter(7.0)
    per_window: dict[float, int] = {}
    for t in times:
        d = w.decide(t)
        assert 0 <= d.reset <= 7.0
        start = t + d.reset - 7.0
        key = round(start, 6)
        if d.admitted:
            m.observe(t)
            per_window[key] = per_window.get(key, 0) + 1
        else:
            assert per_window.get(key) == limit  # refused only when the window is full
    assert all(n <= limit for n in per_window.values())
    assert m.max_in_window <= 2 * limit
