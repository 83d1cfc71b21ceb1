"""The window ledger with a controllable clock: every rule that is pure bookkeeping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipstation_async import RateLimit
from shipstation_async._sansio import RateLimitHeaders
from shipstation_async.scheduler import Grant, Ledger, budget_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def headers(
    remaining: int,
    reset: float,
    *,
    floored: bool = False,
    limit: int = 10,
    retry_after: float | None = None,
) -> RateLimitHeaders:
    return RateLimitHeaders(limit, remaining, reset, floored, retry_after)


def make(limit: int = 10, period: float = 10.0, margin: float = 0.5, reserve: int | None = 0):
    clock = Clock()
    return Ledger(RateLimit(limit, period, margin=margin, reserve=reserve), clock=clock), clock


def grant_and_send(ledger: Ledger, lane: str = "interactive") -> Grant | None:
    grant = ledger.try_grant(lane)  # type: ignore[arg-type]
    if grant is not None:
        ledger.mark_sent(grant)
    return grant


def send_spaced(ledger: Ledger, clock: Clock, count: int, gap: float = 0.1) -> list[Grant]:
    """Send ``count`` requests ``gap`` seconds apart (each granted at once)."""
    grants = []
    for _ in range(count):
        clock.now += gap
        grant = grant_and_send(ledger)
        assert grant is not None
        grants.append(grant)
    return grants


def warm(ledger: Ledger, clock: Clock, limit: int = 10) -> None:
    """Send the cold-start probe and answer it as a fresh window would."""
    probe = grant_and_send(ledger)
    assert probe is not None and probe.probe
    ledger.complete(probe, 200, headers(limit - 1, 9.99, limit=limit), at=clock.now)


def test_cold_start_sends_one_probe_then_waits_for_its_headers() -> None:
    ledger, _clock = make()
    probe = ledger.try_grant("interactive")
    assert probe is not None and probe.probe
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") is None  # waiting on a response, not time
    ledger.mark_sent(probe)
    ledger.complete(probe, 200, headers(9, 9.99))
    granted = [ledger.try_grant("interactive") for _ in range(12)]
    assert sum(g is not None for g in granted) == 9  # the whole rest of the budget, at once
    assert not any(g.probe for g in granted if g is not None)


def test_a_probe_that_fails_without_answer_hands_the_probe_to_the_next() -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.fail(probe, sent=True)
    second = ledger.try_grant("interactive")
    assert second is not None and second.probe
    assert ledger.try_grant("interactive") is None


def test_slots_free_one_span_after_each_send() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    for _ in range(9):
        assert grant_and_send(ledger) is not None
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 10.5)
    clock.now = 1010.49
    assert ledger.try_grant("interactive") is None
    clock.now = 1010.51
    # the headers said the server window resets at 1000 + 9.99: room is local again
    assert sum(grant_and_send(ledger) is not None for _ in range(12)) == 10


def test_header_room_lowers_the_budget() -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    # Another process has used most of the window.
    ledger.complete(probe, 200, headers(3, 8.0, floored=True))
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 3
    # The room lasts until receipt + Reset + 1 s (floored) + margin.
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 8 + 1 + 0.5)


def test_fractional_reset_gets_no_extra_second() -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(0, 2.5))
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 2.5 + 0.5)


def test_room_subtracts_our_other_requests_in_flight() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    in_flight = [grant_and_send(ledger) for _ in range(4)]
    reserved = ledger.try_grant("interactive")
    assert reserved is not None
    # One answer says 5 remain, but three other sends and one reservation may not be counted yet.
    first = in_flight[0]
    assert first is not None
    ledger.complete(first, 200, headers(5, 9.99))
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 1


def test_a_stale_header_cannot_raise_room() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    a = grant_and_send(ledger)
    b = grant_and_send(ledger)
    assert a is not None and b is not None
    # The later request's answer arrives first: 2 remain, minus ``a`` still in flight.
    ledger.complete(b, 200, headers(2, 9.99))
    ledger.complete(a, 200, headers(7, 9.99))  # then the older one, with more room
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 1


def test_answers_that_overtake_each_other_do_not_cost_room_for_the_window() -> None:
    ledger, clock = make()
    warm(ledger, clock)  # 9 left after the probe
    a, b, c = send_spaced(ledger, clock, 3)
    # The server counted a and b (7 left) but b's answer is read while a is still in flight:
    # a is subtracted twice, so room is one short for now.
    ledger.complete(b, 200, headers(7, 9.0))  # 7 - (a, c in flight) = 5
    ledger.complete(a, 200, headers(8, 9.0))  # older answer: can only lower room
    # c's answer is the freshest count: 6 left, nothing else in flight, room recovers to 6.
    ledger.complete(c, 200, headers(6, 9.0))
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 6


def test_a_fresher_answer_still_counts_requests_that_landed_after_its_count() -> None:
    ledger, clock = make()
    warm(ledger, clock)  # 9 left after the probe
    b, x = send_spaced(ledger, clock, 2)  # x: counted after b's Remaining, then lost
    ledger.fail(x, sent=True)
    clock.now += 0.1
    ledger.complete(b, 200, headers(8, 9.0))  # 8 left when b was counted: x is not in it
    # x landed (it is not in flight) but was sent after b: it still takes a slot. 7, not 8.
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 7


def test_requests_sent_together_may_be_counted_in_either_order() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    (a,) = send_spaced(ledger, clock, 1)
    (b,) = send_spaced(ledger, clock, 1, gap=0.001)  # just after a, at the server first
    ledger.complete(a, 200, headers(7, 9.0))  # counted b and a: 7 left
    ledger.complete(b, 200, headers(8, 9.0))  # b's count did not include a
    # b is the later send, but a (sent just before it) may be missing from its count.
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 7


@pytest.mark.parametrize(("close", "room"), [(60, 500), (100, 400)])
def test_beyond_64_close_sends_an_answer_takes_the_safe_bound(close: int, room: int) -> None:
    """Up to 64 landed sends near an answer's own are told apart; beyond, all count against it.

    ``close`` requests go out just before the last one and are answered first, each showing
    more left than the last answer will: the server counted them before it. Told apart, none
    of them is subtracted again (room 500); past the scan limit, all are (room 400: fewer
    slots, never more).
    """
    ledger, clock = make(limit=1000, period=10.0)
    warm(ledger, clock, limit=1000)
    clock.now += 0.1  # the probe is out of the reorder allowance
    earlier = send_spaced(ledger, clock, close, gap=0.0001)
    (last,) = send_spaced(ledger, clock, 1, gap=0.0001)
    for n, grant in enumerate(earlier):
        ledger.complete(grant, 200, headers(900 - n, 9.0, limit=1000))
    ledger.complete(last, 200, headers(500, 9.0, limit=1000))  # another client spent a lot
    assert ledger.snapshot({}).remaining == room


def test_a_high_limit_frees_its_slots_one_by_one_as_old_sends_age_out() -> None:
    """Old sends leave the window in batches; the count of those inside must not lag."""
    ledger, clock = make(limit=1000, period=10.0, margin=0.5)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(999, 0.5, limit=1000))  # the server's window ends soon
    send_spaced(ledger, clock, 999, gap=0.01)  # at 1000.01 .. 1009.99: the window is full
    assert ledger.try_grant("interactive") is None
    aged = 0
    for k in (0, 1, 7, 300, 301, 900, 998):
        # Just after 1010.5 + 0.01 k, the probe and the first k sends are one span old.
        clock.now = 1010.5 + 0.01 * k + 0.005
        freed = k + 1 - aged
        aged = k + 1
        assert ledger.snapshot({}).sent_in_window == 1000 - freed
        assert ledger.next_opportunity("interactive") == pytest.approx(clock.now)
        grants = [grant_and_send(ledger) for _ in range(freed + 1)]
        assert sum(g is not None for g in grants) == freed  # exactly those, no more
        assert ledger.next_opportunity("interactive") == pytest.approx(1010.5 + 0.01 * (k + 1))


def test_a_reset_that_never_counts_down_keeps_few_rooms_and_the_strictest_room() -> None:
    ledger, clock = make(limit=100, period=10.0)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(99, 9.99, limit=100))
    for _ in range(40):
        (grant,) = send_spaced(ledger, clock, 1, gap=0.3)
        # The same Reset every time: each answer seems to speak of another server window.
        ledger.complete(grant, 200, headers(50, 9.0, limit=100))
    assert len(ledger._rooms) <= 8
    # Folding rooms never loosens them: no room allows more than the last answer did.
    assert all(room.room <= 50 for room in ledger._rooms)


def test_a_folded_room_keeps_its_strictest_window_until_the_last_of_them_ends() -> None:
    ledger, clock = make(limit=1000, period=60.0)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(999, 5.0, limit=1000))  # window A: ends in 5 s
    (b,) = send_spaced(ledger, clock, 1)
    ledger.complete(b, 200, headers(20, 49.8, limit=1000))  # window B: 20 left for 49.8 s
    for n in range(7):  # more windows, until A and B are folded into one
        (grant,) = send_spaced(ledger, clock, 1)
        ledger.complete(grant, 200, headers(900, 10.0 + 5 * n, limit=1000))
    (late,) = send_spaced(ledger, clock, 1)
    ledger.complete(late, 200, headers(400, 4.1, limit=1000))  # A's window again
    clock.now += 6.0  # A is over; B is not
    granted = sum(ledger.try_grant("interactive") is not None for _ in range(100))
    assert granted <= 20


def test_429_pauses_everyone_then_probes() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    granted_before = ledger.try_grant("interactive")  # granted, not yet sent
    rejected = grant_and_send(ledger)
    assert granted_before is not None and rejected is not None
    epoch = ledger.epoch
    ledger.complete(rejected, 429, headers(0, 4.0, floored=True))
    assert ledger.epoch == epoch + 1  # the unsent grant can tell it is stale
    assert granted_before.epoch != ledger.epoch
    assert ledger.rate_limited == 1
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 4 + 1 + 0.5)
    ledger.release(granted_before)
    clock.now = 1005.6
    probe = ledger.try_grant("interactive")
    assert probe is not None and probe.probe
    assert ledger.try_grant("interactive") is None
    ledger.mark_sent(probe)
    ledger.complete(probe, 200, headers(9, 9.9))
    assert ledger.try_grant("interactive") is not None


def test_retry_after_wins_over_reset() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, headers(0, 4.0, retry_after=7.0))
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 7 + 0.5)


def test_429_without_headers_pauses_a_whole_period() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, None)
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 10 + 0.5)


def test_bulk_leaves_the_reserve_to_interactive() -> None:
    ledger, clock = make(reserve=2)
    warm(ledger, clock)
    bulk = [grant_and_send(ledger, "bulk") for _ in range(10)]
    assert sum(g is not None for g in bulk) == 10 - 1 - 2  # probe + reserve left over
    assert ledger.try_grant("interactive") is not None
    assert ledger.try_grant("interactive") is not None
    assert ledger.try_grant("interactive") is None


def test_default_reserve_is_a_tenth() -> None:
    assert RateLimit(40, 60).effective_reserve == 4
    assert RateLimit(5, 1).effective_reserve == 1
    assert RateLimit(40, 60).effective_margin == 0.6
    assert RateLimit(40, 4).effective_margin == 0.25


def test_release_and_unsent_failure_give_the_slot_back() -> None:
    ledger, clock = make(limit=3)
    warm(ledger, clock, limit=3)
    a = ledger.try_grant("interactive")
    b = ledger.try_grant("interactive")
    assert a is not None and b is not None
    assert ledger.try_grant("interactive") is None
    ledger.release(a)
    c = ledger.try_grant("interactive")
    assert c is not None
    ledger.fail(b, sent=False)
    assert ledger.try_grant("interactive") is not None
    ledger.fail(c, sent=True)  # may have gone out: counted
    assert ledger.try_grant("interactive") is None


def test_a_lower_limit_is_adopted_and_a_higher_one_is_not() -> None:
    ledger, _clock = make(limit=10)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(19, 9.0, limit=20))
    assert ledger.limit == 10  # a bigger figure does not raise room
    ledger.complete(grant_and_send(ledger) or probe, 200, headers(4, 9.0, limit=5))
    assert ledger.limit == 5
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 3  # 5 - 2 sent


def test_settling_a_done_grant_twice_leaves_the_new_probe_alone() -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.fail(probe, sent=True)  # e.g. retired when aiohttp re-sent it
    second = grant_and_send(ledger)
    assert second is not None and second.probe
    ledger.fail(probe, sent=True)  # the same grant settled again by a later error path
    assert ledger.try_grant("interactive") is None  # the second probe is still alone
    assert ledger.snapshot({}).in_flight == 1


def test_idle_for_two_windows_probes_again() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    clock.now += 2 * 10.5 + 1
    first = ledger.try_grant("interactive")
    assert first is not None and first.probe
    assert ledger.try_grant("interactive") is None


def test_budget_key_groups_shipstation_hosts() -> None:
    assert budget_key("https://ssapi.shipstation.com", "k") == ("shipstation", "k")
    assert budget_key("https://ssapi6.shipstation.com/", "k") == ("shipstation", "k")
    assert budget_key("http://127.0.0.1:8080", "k") == ("127.0.0.1:8080", "k")
    assert budget_key("http://127.0.0.1:8081", "k") != budget_key("http://127.0.0.1:8080", "k")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["grant", "grant_bulk", "send", "answer", "fail", "release", "tick"]),
            st.floats(min_value=0.0, max_value=3.0),
            st.integers(min_value=0, max_value=10),
        ),
        max_size=200,
    )
)
def test_never_more_than_limit_sends_in_any_span(ops: list[tuple[str, float, int]]) -> None:
    """Whatever the interleaving, sends stamped by the ledger respect rule 1."""
    ledger, clock = make(limit=5, period=4.0, margin=0.25)
    reserved: list[Grant] = []
    sent: list[Grant] = []
    stamps: list[float] = []
    for op, dt, n in ops:
        if op == "tick":
            clock.now += dt
        elif op in ("grant", "grant_bulk"):
            grant = ledger.try_grant("interactive" if op == "grant" else "bulk")
            if grant is not None:
                reserved.append(grant)
        elif op == "send" and reserved:
            grant = reserved.pop(n % len(reserved))
            clock.now += dt / 10
            ledger.mark_sent(grant)
            stamps.append(clock.now)
            sent.append(grant)
        elif op == "answer" and sent:
            grant = sent.pop(n % len(sent))
            ledger.complete(grant, 429 if n == 0 else 200, headers(n % 5, dt * 2, limit=5))
        elif op == "fail" and sent:
            ledger.fail(sent.pop(n % len(sent)), sent=True)
        elif op == "release" and reserved:
            ledger.release(reserved.pop(n % len(reserved)))
    span = 4.25
    for i, start in enumerate(stamps):
        inside = [t for t in stamps[i:] if t - start < span]
        assert len(inside) <= 5


def test_answers_from_one_server_window_narrow_a_floored_reset() -> None:
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    clock.now += 0.01
    # Computed on arrival, the probe's Reset is a whole period: floored, the window may end
    # anywhere in [send + 10, receipt + 11).
    ledger.complete(probe, 200, headers(9, 10.0, floored=True))
    burst = [grant_and_send(ledger) for _ in range(9)]
    clock.now += 0.01
    for n, grant in enumerate(burst):
        assert grant is not None
        ledger.complete(grant, 200, headers(8 - n, 9.0, floored=True))
    # The later answers put the reset in [1010.0, 1010.02): wait for that, not a second more.
    assert ledger.next_opportunity("interactive") == pytest.approx(1010.02 + 0.5)


def test_repeated_429s_back_off_up_to_a_period() -> None:
    ledger, clock = make(limit=10, period=10.0)
    warm(ledger, clock)
    pauses = []
    for _ in range(6):
        probe = grant_and_send(ledger)
        while probe is None:
            clock.now = ledger.next_opportunity("interactive") or clock.now + 0.1
            probe = grant_and_send(ledger)
        ledger.complete(probe, 429, headers(0, 0.1))
        pauses.append(round((ledger.next_opportunity("interactive") or 0) - clock.now, 3))
    # First the server's reset (0.1 s + margin), then 2, 4, 8 s, then capped at the period.
    assert pauses == [0.6, 2.5, 4.5, 8.5, 10.5, 10.5]
    probe = None
    while probe is None:
        clock.now = ledger.next_opportunity("interactive") or clock.now + 0.1
        probe = grant_and_send(ledger)
    ledger.complete(probe, 200, headers(9, 9.0))
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, headers(0, 0.1))  # a success in between: back to Reset
    assert ledger.next_opportunity("interactive") == pytest.approx(clock.now + 0.6)


def test_a_room_low_only_for_sends_then_in_flight_is_checked_by_one_probe() -> None:
    """The end of a burst: the freshest answer arrives first, the rest of the burst after it.

    Room stays at the safe bound (sends in flight when the freshest answer was counted are
    subtracted), and no fresher answer will come to lift it: once every answer is in, one
    probe asks the server; its answer gives the rest of the window back.
    """
    ledger, clock = make()
    warm(ledger, clock)  # 9 left after the probe
    a, b, c = send_spaced(ledger, clock, 3)  # the server counts them in order: 8, 7, 6 left
    ledger.complete(c, 200, headers(6, 9.0))  # a and b still in flight: room 4 for now
    ledger.complete(a, 200, headers(8, 9.0))  # older answers can only lower room
    ledger.complete(b, 200, headers(7, 9.0))
    assert ledger.snapshot({}).remaining == 4
    d, e, f, g = send_spaced(ledger, clock, 4)  # counted: 5, 4, 3, 2 left
    assert grant_and_send(ledger) is None
    ledger.complete(g, 200, headers(2, 9.0))  # d, e, f in flight: room 0 for now
    assert ledger.try_grant("interactive") is None  # no probe while answers are out
    assert ledger.next_opportunity("interactive") is None  # their answers will tell
    for grant, remaining in ((d, 5), (e, 4), (f, 3)):
        ledger.complete(grant, 200, headers(remaining, 9.0))
    assert ledger.next_opportunity("interactive") == clock.now  # now: a probe may go
    probe = grant_and_send(ledger)
    assert probe is not None and probe.probe
    assert grant_and_send(ledger) is None  # one probe at a time
    ledger.complete(probe, 200, headers(1, 9.0))  # the server counted all of ours
    assert sum(grant_and_send(ledger) is not None for _ in range(10)) == 1


def test_no_probe_when_the_server_certainly_has_no_room() -> None:
    ledger, clock = make()
    warm(ledger, clock)
    (a,) = send_spaced(ledger, clock, 1)
    ledger.complete(a, 200, headers(0, 9.0))  # nothing else in flight: certainly none left
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") == pytest.approx(clock.now + 9.0 + 0.5)
