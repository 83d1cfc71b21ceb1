"""The window ledger with a controllable clock: every rule that is pure bookkeeping.

The later tests play whole runs against a simulated server (``_budget_sim``: the sandbox's
window logic, a counting delay, a fake clock): zero 429s, never more than L in any W, and the
budget use the scheduler promises, across window types, Reset roundings and counting delays.

The rules are one conformance suite: every test that makes a budget runs once per backend in
``_budget_sim.BACKENDS`` (the ``backend`` and ``make`` fixtures).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

import shipstation_async
from shipstation_async import RateLimit
from shipstation_async._budget import Grant, Ledger, budget_key
from shipstation_async._sansio import LONGEST_WAIT, RateLimitHeaders, parse_rate_limit

from ._budget_sim import BACKENDS, BackendCase, Clock, Simulation

MODES = ("fixed", "aligned", "rolling")
ROUNDINGS = ("floor", "ceil", "float")


@pytest.fixture(autouse=True)
def _quiet_429_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="shipstation_async")


def headers(
    remaining: int,
    reset: float,
    *,
    floored: bool = False,
    limit: int = 10,
    retry_after: float | None = None,
) -> RateLimitHeaders:
    return RateLimitHeaders(limit, remaining, reset, floored, retry_after)


Make = Callable[..., tuple[Ledger, Clock]]


@pytest.fixture(scope="module", params=BACKENDS, ids=lambda case: case.name)
def backend(request: pytest.FixtureRequest) -> BackendCase:
    """Every budget backend: the rules below are one conformance suite for all of them."""
    case: BackendCase = request.param
    return case


@pytest.fixture(scope="module")
def make(backend: BackendCase) -> Make:
    """A factory of budgets of ``backend`` on a fake clock of their own."""

    def make(
        limit: int = 10,
        period: float = 10.0,
        margin: float | None = None,
        reserve: int | None = 0,
    ) -> tuple[Ledger, Clock]:
        clock = Clock()
        rate_limit = RateLimit(limit, period, margin=margin, reserve=reserve)
        return backend.make(rate_limit, clock), clock

    return make


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


def warm(ledger: Ledger, clock: Clock, limit: int = 10) -> Grant:
    """Send the cold-start probe and answer it as a fresh window would."""
    probe = grant_and_send(ledger)
    assert probe is not None and probe.probe
    ledger.complete(probe, 200, headers(limit - 1, 10.0, limit=limit), at=clock.now)
    return probe


def count_grants(ledger: Ledger, most: int = 20) -> int:
    return sum(grant_and_send(ledger) is not None for _ in range(most))


# -- rule 1: a slot frees W after its answer ------------------------------------------------


def test_cold_start_sends_one_probe_then_waits_for_its_headers(make: Make) -> None:
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


def test_a_probe_that_fails_without_answer_hands_the_probe_to_the_next(make: Make) -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.fail(probe, sent=True)
    second = ledger.try_grant("interactive")
    assert second is not None and second.probe
    assert ledger.try_grant("interactive") is None


def test_a_slot_frees_w_after_its_answer_however_late_the_server_counted_it(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)  # sent and answered at 1000.0
    burst = [grant_and_send(ledger) for _ in range(9)]  # sent at 1000.0
    assert ledger.try_grant("interactive") is None
    clock.now = 1003.0  # a loaded server answers them 3 s later: it may have counted them then
    for grant in burst:
        assert grant is not None
        ledger.complete(grant, 200, headers(0, 7.0))
    assert ledger.next_opportunity("interactive") == pytest.approx(1010.0)  # the probe's slot
    clock.now = 1010.0
    reused = grant_and_send(ledger)
    assert reused is not None
    ledger.complete(reused, 200, headers(9, 10.0))
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") == pytest.approx(1013.0)  # not 1010 + W
    clock.now = 1012.999
    assert ledger.try_grant("interactive") is None
    clock.now = 1013.0
    assert count_grants(ledger) == 9


def test_an_unanswered_request_holds_its_slot(make: Make, backend: BackendCase) -> None:
    ledger, clock = make(limit=2)
    warm(ledger, clock, limit=2)
    backend.mark_reuse_checked(ledger)
    pending = grant_and_send(ledger)
    assert pending is not None
    clock.now += 100.0  # long past any window: it may still be counted when it arrives
    assert count_grants(ledger) == 1  # the probe's slot, not the one still in flight
    assert ledger.next_opportunity("interactive") is None  # until an answer comes


def test_a_request_given_up_on_holds_its_slot_for_w_and_the_longest_answer_time(
    make: Make, backend: BackendCase
) -> None:
    ledger, clock = make(limit=3)
    warm(ledger, clock, limit=3)
    backend.mark_reuse_checked(ledger)
    slow = grant_and_send(ledger)
    assert slow is not None
    clock.now += 2.5
    ledger.complete(slow, 200, headers(1, 7.5, limit=3))  # the longest answer time: 2.5 s
    clock.now = 1012.0
    lost = grant_and_send(ledger)
    assert lost is not None
    clock.now = 1022.0
    ledger.fail(lost, sent=True)  # a timeout: it may be counted up to 2.5 s from now
    assert count_grants(ledger) == 2
    assert ledger.next_opportunity("interactive") == pytest.approx(1022.0 + 2.5 + 10.0)


def test_a_refused_request_holds_its_slot_like_any_other(make: Make) -> None:
    ledger, clock = make(limit=2)
    warm(ledger, clock, limit=2)
    refused = grant_and_send(ledger)
    assert refused is not None
    ledger.complete(refused, 429, headers(0, 0.5, limit=2))  # a server may count refusals
    clock.now = 1009.99  # long past the pause, but both slots are still held
    assert ledger.snapshot({}).sent_in_window == 2
    clock.now = 1010.0
    assert ledger.snapshot({}).sent_in_window == 0


def test_a_given_margin_is_added_to_every_hold(make: Make) -> None:
    ledger, clock = make(margin=0.5)
    warm(ledger, clock)
    assert count_grants(ledger) == 9
    assert ledger.next_opportunity("interactive") == pytest.approx(1010.5)  # the probe's
    assert ledger.snapshot({}).margin == 0.5


def test_the_default_margin_is_zero_and_the_reserve_a_tenth() -> None:
    assert RateLimit(40, 60).effective_margin == 0.0
    assert RateLimit(40, 60, margin=0.3).effective_margin == 0.3
    assert RateLimit(40, 60).effective_reserve == 4
    assert RateLimit(5, 1).effective_reserve == 1


def test_a_high_limit_frees_its_slots_one_by_one_as_old_answers_age_out(
    make: Make, backend: BackendCase
) -> None:
    """Old holds leave in batches; the count of those still held must not lag."""
    ledger, clock = make(limit=1000, period=10.0)
    warm(ledger, clock, limit=1000)  # answered at 1000.0
    backend.mark_reuse_checked(ledger)
    for _ in range(999):  # sent at 1000.01 .. 1009.99, each answered at once
        (grant,) = send_spaced(ledger, clock, 1, gap=0.01)
        ledger.complete(grant, 200, None)
    assert ledger.try_grant("interactive") is None
    freed_so_far = 0
    for k in (0, 1, 7, 300, 301, 900, 998):
        # Just after 1010 + 0.01 k, the probe and the first k answers are W old.
        clock.now = 1010.0 + 0.01 * k + 0.005
        freed = k + 1 - freed_so_far
        freed_so_far = k + 1
        assert ledger.snapshot({}).sent_in_window == 1000 - freed
        assert ledger.next_opportunity("interactive") == pytest.approx(clock.now)
        grants = [grant_and_send(ledger) for _ in range(freed + 1)]
        assert sum(g is not None for g in grants) == freed  # exactly those, no more
        for grant in grants:
            if grant is not None:
                ledger.complete(grant, 200, None)
        assert ledger.next_opportunity("interactive") == pytest.approx(1010.0 + 0.01 * (k + 1))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["grant", "grant_bulk", "send", "answer", "refuse", "fail", "release", "tick"]
            ),
            st.floats(min_value=0.0, max_value=3.0),
            st.integers(min_value=0, max_value=10),
        ),
        max_size=200,
    )
)
def test_no_send_while_l_slots_are_held(make: Make, ops: list[tuple[str, float, int]]) -> None:
    """Whatever the interleaving and the headers, rule 1 holds at every send.

    At each send, fewer than L earlier sends hold a slot: still unanswered, answered less
    than W ago, or given up less than W + the longest answer time ago.
    """
    ledger, clock = make(limit=5, period=4.0)
    reserved: list[Grant] = []
    sent: list[tuple[Grant, float]] = []
    until: list[float] = []  # when each landed send's slot frees
    longest = 0.0

    def held(now: float) -> int:
        return len(sent) + sum(1 for t in until if t > now)

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
            assert held(clock.now) < 5
            ledger.mark_sent(grant)
            sent.append((grant, clock.now))
        elif op in ("answer", "refuse") and sent:
            grant, at = sent.pop(n % len(sent))
            clock.now += dt / 10
            longest = max(longest, clock.now - at)
            status = 429 if op == "refuse" else 200
            ledger.complete(grant, status, headers(n % 6, dt * 2, limit=5))
            until.append(clock.now + 4.0)
        elif op == "fail" and sent:
            grant, _ = sent.pop(n % len(sent))
            ledger.fail(grant, sent=True)
            until.append(clock.now + longest + 4.0)
        elif op == "release" and reserved:
            ledger.release(reserved.pop(n % len(reserved)))


# -- rule 3: the headers, when someone else spends the budget --------------------------------


def test_answers_our_own_sends_explain_leave_no_room_whatever_their_order(
    make: Make, backend: BackendCase
) -> None:
    ledger, clock = make()
    warm(ledger, clock)  # 9 left after the probe
    a, b, c = send_spaced(ledger, clock, 3)
    # Counted a, b, c but answered c, a, b; and a stale count arrives last.
    ledger.complete(c, 200, headers(6, 9.0))
    ledger.complete(a, 200, headers(8, 9.0))
    ledger.complete(b, 200, headers(7, 9.0))
    assert backend.rooms(ledger) == []
    assert count_grants(ledger) == 6  # rule 1 alone


def test_header_room_lowers_the_budget_until_the_server_frees_it(make: Make) -> None:
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    # Another process has used 6 of the window: 3 left.
    ledger.complete(probe, 200, headers(3, 8.0))
    assert count_grants(ledger) == 3
    # At the reset one more slot is free (a rolling window frees one at a time): one probe
    # of the window's state, and W after the answer everything counted then has left.
    # (8.0: a fractional Reset written to a tenth, as far as can be told.)
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 8.0 + 0.1)
    clock.now = 1008.11
    assert count_grants(ledger) == 1
    assert ledger.next_opportunity("interactive") == pytest.approx(1010.0)


def test_a_fractional_reset_is_taken_to_its_last_digit(make: Make) -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(0, 2.345))
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 2.345 + 0.001)


def test_a_whole_reset_of_unknown_rounding_may_be_a_second_either_way(make: Make) -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(0, 4.0, floored=True))
    assert ledger.reset_rounding == "unknown"
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 4.0 + 1.0)


def test_room_subtracts_our_requests_the_server_may_not_have_counted(make: Make) -> None:
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(8, 9.9))  # another client sent one: 8 left
    in_flight = [grant_and_send(ledger) for _ in range(4)]
    reserved = ledger.try_grant("interactive")
    assert reserved is not None
    first = in_flight[0]
    assert first is not None
    clock.now += 0.01
    # The other client sent two more; our other three sends and the reservation may not be
    # counted yet: 8 - 1 - 2 = 5 left, less 4.
    ledger.complete(first, 200, headers(5, 9.9))
    assert count_grants(ledger) == 1


def test_a_stale_header_cannot_raise_room(make: Make) -> None:
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(7, 9.9))  # another client: 2 of its own
    a = grant_and_send(ledger)
    b = grant_and_send(ledger)
    assert a is not None and b is not None
    clock.now += 0.01
    ledger.complete(b, 200, headers(2, 9.9))  # the later request's answer first: 2 left
    ledger.complete(a, 200, headers(5, 9.9))  # then the older one, with more
    assert count_grants(ledger) == 1  # 2, less a (in flight when b was counted)


def test_an_answer_counted_after_a_rooms_answer_replaces_the_room(make: Make) -> None:
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(2, 9.9))  # another client used 7
    (a,) = send_spaced(ledger, clock, 1)
    clock.now += 0.01
    ledger.complete(a, 200, headers(6, 5.0))  # sent after that answer: its count is fresher
    assert count_grants(ledger) == 6


def test_a_reset_that_never_counts_down_keeps_few_rooms_and_the_strictest_room(
    make: Make, backend: BackendCase
) -> None:
    ledger, clock = make(limit=100, period=10.0)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(50, 9.99, limit=100))  # another client used 49
    pending = [grant_and_send(ledger) for _ in range(40)]
    for n, grant in enumerate(pending):
        assert grant is not None
        clock.now += 0.01
        # The same Reset every time: each answer seems to speak of another server window,
        # and none was surely counted after another.
        ledger.complete(grant, 200, headers(10, 9.0 + n * 0.01, limit=100))
    assert len(backend.rooms(ledger)) <= 8
    assert all(room.room <= 10 for room in backend.rooms(ledger))  # folding never loosens a room


def test_a_room_low_only_for_sends_then_in_flight_is_checked_by_one_probe(make: Make) -> None:
    """Another client spends the key; our last answers overtake the others of a burst.

    Room stays at the safe bound (sends in flight when the freshest answer was counted are
    subtracted), and no fresher answer will come to lift it: once every answer is in, one
    probe asks the server; its answer gives the rest of the window back.
    """
    ledger, clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(7, 9.9))  # another client used 2
    d, e, f, g = send_spaced(ledger, clock, 4)  # counted: 6, 5, 4, 3 left
    clock.now += 0.01
    ledger.complete(g, 200, headers(3, 9.0))  # d, e, f in flight: room 0 for now
    assert ledger.try_grant("interactive") is None  # no probe while answers are out
    assert ledger.next_opportunity("interactive") is None  # their answers will tell
    for grant, remaining in ((d, 6), (e, 5), (f, 4)):
        ledger.complete(grant, 200, headers(remaining, 9.0))
    assert ledger.next_opportunity("interactive") == clock.now  # now: a probe may go
    second = grant_and_send(ledger)
    assert second is not None and second.probe
    assert grant_and_send(ledger) is None  # one probe at a time
    ledger.complete(second, 200, headers(2, 9.0))  # the server had counted all of ours
    assert count_grants(ledger) == 2


def test_no_probe_when_the_server_certainly_has_no_room(make: Make) -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(0, 9.125))  # nothing else in flight: none left
    assert ledger.try_grant("interactive") is None
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 9.126)


# -- rule 4: Reset's rounding, learned ------------------------------------------------------


@pytest.mark.parametrize(("reset_format", "learned"), [("floor", "floor"), ("ceil", "ceil")])
def test_the_rounding_of_a_whole_reset_is_learned_from_a_window_we_opened(
    backend: BackendCase, reset_format: str, learned: str
) -> None:
    sim = Simulation(
        backend=backend,
        limit=10,
        period=10.0,
        mode="fixed",
        reset_format=reset_format,  # type: ignore[arg-type]
    )
    assert sim.client.ledger.reset_rounding == "unknown"
    sim.client.call(1)
    sim.client.call(1, at=sim.clock.now + 0.3)  # counted 0.3 s into the window we opened
    sim.client.call(1, at=sim.clock.now + 0.7)  # 0.7 s: ceil and nearest differ
    sim.run()
    assert sim.client.ledger.reset_rounding == learned
    assert (
        backend.rounding_offsets(sim.client.ledger) == {"floor": (0, 1), "ceil": (-1, 0)}[learned]
    )


def test_no_rounding_is_learned_from_windows_another_client_opened(backend: BackendCase) -> None:
    sim = Simulation(
        backend=backend, limit=10, period=10.0, mode="aligned", reset_format="ceil", start=1003.0
    )
    sim.client.call(5)  # the aligned window began 3 s ago: no answer pins its end
    sim.run()
    assert sim.client.ledger.reset_rounding == "unknown"


# -- rule 5: a 429 ---------------------------------------------------------------------------


def test_429_pauses_everyone_then_probes(make: Make) -> None:
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
    # Reset 4, whole seconds of unknown rounding: it may be up to 5 s away.
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 4 + 1)
    ledger.release(granted_before)
    clock.now = 1005.0
    probe = ledger.try_grant("interactive")
    assert probe is not None and probe.probe
    assert ledger.try_grant("interactive") is None
    ledger.mark_sent(probe)
    ledger.complete(probe, 200, headers(7, 5.0))
    assert ledger.try_grant("interactive") is not None


def test_retry_after_wins_over_reset(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, headers(0, 4.0, retry_after=7.0))
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 7)


def test_a_pause_asked_for_a_year_ends_after_fifteen_minutes(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, parse_rate_limit(CIMultiDict({"Retry-After": "31536000"})))
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + LONGEST_WAIT)


def test_429_without_headers_pauses_a_whole_period(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    rejected = grant_and_send(ledger)
    assert rejected is not None
    ledger.complete(rejected, 429, None)
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.0 + 10)


def test_a_refused_probe_waits_until_w_after_the_previous_refusal(make: Make) -> None:
    """At most one extra probe per window, and no pause beyond Reset plus what rule 1 needs."""
    ledger, clock = make(limit=10, period=10.0)
    warm(ledger, clock)
    first = grant_and_send(ledger)
    assert first is not None
    ledger.complete(first, 429, headers(0, 0.125))  # refused at 1000.0; next in 0.125 s
    assert ledger.next_opportunity("interactive") == pytest.approx(1000.126)
    clock.now = 1000.126
    probe = grant_and_send(ledger)
    assert probe is not None and probe.probe
    clock.now += 0.01
    # Still full past the announced reset: the server counted our refusal, or another
    # client sends. Everything it had counted at the first refusal leaves by 1010.
    ledger.complete(probe, 429, headers(0, 0.125))
    assert ledger.next_opportunity("interactive") == pytest.approx(1010.0)
    clock.now = 1010.0
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(8, 9.9))  # in: the run of refusals is over
    rejected = grant_and_send(ledger)
    assert rejected is not None
    clock.now += 0.01
    ledger.complete(rejected, 429, headers(0, 0.225))  # a new refusal: back to its Reset
    assert ledger.next_opportunity("interactive") == pytest.approx(clock.now + 0.226)


def test_requests_in_flight_refused_together_are_one_refusal(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    volley = [grant_and_send(ledger) for _ in range(3)]
    clock.now += 0.01
    for grant in volley:
        assert grant is not None
        ledger.complete(grant, 429, headers(0, 0.525))  # sent before the first refusal
    assert ledger.next_opportunity("interactive") == pytest.approx(clock.now + 0.526)


# -- lanes, limits and the rest -------------------------------------------------------------


def test_bulk_leaves_the_reserve_to_interactive(make: Make) -> None:
    ledger, clock = make(reserve=2)
    warm(ledger, clock)
    bulk = [grant_and_send(ledger, "bulk") for _ in range(10)]
    assert sum(g is not None for g in bulk) == 10 - 1 - 2  # probe + reserve left over
    assert ledger.try_grant("interactive") is not None
    assert ledger.try_grant("interactive") is not None
    assert ledger.try_grant("interactive") is None


def test_release_and_unsent_failure_give_the_slot_back(make: Make) -> None:
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
    ledger.fail(c, sent=True)  # may have gone out: it holds its slot
    assert ledger.try_grant("interactive") is None


def test_a_lower_limit_is_adopted_and_a_higher_one_is_not(make: Make) -> None:
    ledger, _clock = make(limit=10)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(19, 9.0, limit=20))
    assert ledger.limit == 10  # a bigger figure does not raise room
    ledger.complete(grant_and_send(ledger) or probe, 200, headers(3, 9.0, limit=5))
    assert ledger.limit == 5
    assert count_grants(ledger) == 3  # 5 - 2 held


def test_a_limit_raised_again_is_followed_back_up_to_the_configured_one(make: Make) -> None:
    ledger, clock = make(limit=10)
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.complete(probe, 200, headers(5, 9.0, limit=6))
    assert ledger.limit == 6
    clock.now += 11  # a window later: the plan is back to 10 (or more)
    for said, kept in ((10, 10), (20, 10)):
        grant = grant_and_send(ledger)
        assert grant is not None
        ledger.complete(grant, 200, headers(said - 1, 9.0, limit=said))
        assert ledger.limit == kept  # never past the configured limit


def test_settling_a_done_grant_twice_leaves_the_new_probe_alone(make: Make) -> None:
    ledger, _clock = make()
    probe = grant_and_send(ledger)
    assert probe is not None
    ledger.fail(probe, sent=True)  # e.g. retired when aiohttp re-sent it
    second = grant_and_send(ledger)
    assert second is not None and second.probe
    ledger.fail(probe, sent=True)  # the same grant settled again by a later error path
    assert ledger.try_grant("interactive") is None  # the second probe is still alone
    assert ledger.snapshot({}).in_flight == 1


def test_idle_for_two_windows_probes_again(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    clock.now += 2 * 10 + 1
    first = ledger.try_grant("interactive")
    assert first is not None and first.probe
    assert ledger.try_grant("interactive") is None


def test_the_first_slot_used_again_goes_alone(make: Make) -> None:
    ledger, clock = make()
    warm(ledger, clock)
    burst = [grant_and_send(ledger) for _ in range(9)]
    clock.now = 1000.5
    for grant in burst:
        assert grant is not None
        ledger.complete(grant, 200, headers(0, 9.5))
    clock.now = 1010.0  # the probe's slot is free again: its reuse checks rule 1 once
    check = ledger.try_grant("interactive")
    assert check is not None and check.probe
    ledger.mark_sent(check)
    ledger.complete(check, 200, headers(0, 0.001))  # the server agrees
    assert not grant_and_send(ledger)  # the other nine are still held
    clock.now = 1010.5
    # From now on slots are used again as they free, without a probe.
    assert ledger.try_grant("interactive") is not None


def test_a_grant_made_before_a_probe_queues_again_rather_than_go_out_beside_it(
    make: Make,
) -> None:
    # Granted before the probe, sent after it (a busy loop, a slow connection): the pipeline
    # holds a grant whose epoch is not the ledger's, so the probe really goes alone.
    ledger, clock = make()
    warm(ledger, clock)
    clock.now = 1000.5
    for _ in range(8):
        grant = grant_and_send(ledger)
        assert grant is not None
        ledger.complete(grant, 200, headers(1, 9.5))
    early = ledger.try_grant("interactive")  # reserved, not sent yet
    assert early is not None and not early.probe
    assert early.epoch == ledger.epoch
    clock.now = 1010.0  # the cold-start probe's slot is free again: its reuse probes
    probe = ledger.try_grant("interactive")
    assert probe is not None and probe.probe
    assert probe.epoch == ledger.epoch != early.epoch
    ledger.release(early)  # what the pipeline does with it: queue again
    assert ledger.try_grant("interactive") is None  # until the probe's answer


def test_budget_key_groups_shipstation_hosts() -> None:
    assert budget_key("https://ssapi.shipstation.com", "k") == ("shipstation", "k")
    assert budget_key("https://ssapi6.shipstation.com/", "k") == ("shipstation", "k")
    assert budget_key("http://127.0.0.1:8080", "k") == ("127.0.0.1:8080", "k")
    assert budget_key("http://127.0.0.1:8081", "k") != budget_key("http://127.0.0.1:8080", "k")


def test_the_scheduler_module_keeps_its_public_names() -> None:
    """User code importing from ``shipstation_async.scheduler`` gets the budget's own objects."""
    from shipstation_async import _budget, scheduler

    assert scheduler.__all__
    for name in scheduler.__all__:
        assert getattr(scheduler, name) is getattr(_budget, name), name
    assert scheduler.RateLimitStatus is shipstation_async.RateLimitStatus


# -- whole runs against a simulated server ---------------------------------------------------


@pytest.mark.parametrize("delay", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("reset_format", ROUNDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_no_429_and_never_more_than_l_in_any_window_whatever_the_counting_delay(
    backend: BackendCase, mode: str, reset_format: str, delay: float
) -> None:
    for seed in range(3):
        sim = Simulation(
            backend=backend,
            limit=10,
            period=4.0,
            mode=mode,  # type: ignore[arg-type]
            reset_format=reset_format,  # type: ignore[arg-type]
            counting_delay=delay,
            seed=seed,
            start=1000.0 + 1.37 * seed,
        )
        sim.client.call(60)
        sim.run()
        assert sim.client.done == 60
        assert sim.client.rejected == 0
        assert sim.max_in_window() <= 10
        assert sim.client.ledger.margin == 0.0  # nothing to learn from a server that agrees


@pytest.mark.parametrize("reset_format", ROUNDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_budget_use_against_a_prompt_server(
    backend: BackendCase, mode: str, reset_format: str
) -> None:
    """Ideal / achieved from the first send to the first send of the last window."""
    for period, least in ((60.0, 0.999), (4.0, 0.99)):
        sim = Simulation(backend=backend, period=period, mode=mode, reset_format=reset_format)  # type: ignore[arg-type]
        sim.client.call(160)
        sim.run()
        assert sim.client.rejected == 0
        assert sim.budget_use() >= least


@pytest.mark.parametrize("mode", MODES)
def test_budget_use_against_a_server_counting_up_to_2_s_late(
    backend: BackendCase, mode: str
) -> None:
    uses = []
    for seed in range(5):
        sim = Simulation(backend=backend, period=60.0, mode=mode, counting_delay=2.0, seed=seed)  # type: ignore[arg-type]
        sim.client.call(160)
        sim.run()
        assert sim.client.rejected == 0
        uses.append(sim.budget_use())
    assert min(uses) >= 0.95


@pytest.mark.parametrize("count_rejected", [True, False])
@pytest.mark.parametrize("reset_format", ROUNDINGS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("period", [1.0, 60.0])
def test_a_cold_start_into_a_window_another_client_spent_costs_one_429(
    backend: BackendCase, period: float, mode: str, reset_format: str, count_rejected: bool
) -> None:
    limit = 10 if period == 1.0 else 40
    for seed in range(3):
        start = 1000.0 + 0.37 * seed
        sim = Simulation(
            backend=backend,
            limit=limit,
            period=period,
            mode=mode,  # type: ignore[arg-type]
            reset_format=reset_format,  # type: ignore[arg-type]
            count_rejected=count_rejected,
            seed=seed,
            start=start,
        )
        sim.foreign([start + 0.003 * i for i in range(limit)])  # one sequential burst
        sim.client.call(limit + 5, at=start + 0.003 * limit + 0.001)
        sim.run()
        assert sim.client.done == limit + 5
        assert sim.client.rejected == 1


@pytest.mark.parametrize("reset_format", ["floor", "float"])
def test_after_a_429_on_a_rolling_window_sends_follow_the_slots_it_frees(
    backend: BackendCase, reset_format: str
) -> None:
    """Another client's sends fill a rolling window one slot time (1 s) apart; we start in
    the middle: one 429, then each send within one slot time of the slot it takes freeing.
    """
    start = 1000.0
    sim = Simulation(
        backend=backend,
        limit=10,
        period=10.0,
        mode="rolling",
        reset_format=reset_format,  # type: ignore[arg-type]
        count_rejected=False,
        start=start,
    )
    sim.foreign([start + k for k in range(10)])  # the server frees them at 1010, 1011...
    sim.client.call(30, at=start + 9.5)
    sim.run()
    assert sim.client.rejected == 1
    sends = sorted(t for t, _ in sim.client.sends)[1:]  # after the refused one
    for k, sent in enumerate(sends[:9]):
        assert start + 10 + k <= sent < start + 10 + k + 1.0
    # The next window's sends start within one slot time of when the server frees them
    # (the server frees our first slots W after it counted them).
    counted = sorted(t for t, admitted, ours in sim.counted if ours and admitted)
    assert sends[9] < counted[0] + 10.0 + 1.0
    assert sim.max_in_window() <= 10


@pytest.mark.parametrize("mode", MODES)
def test_after_a_429_the_next_window_starts_within_one_slot_time(
    backend: BackendCase, mode: str
) -> None:
    """W = 60 s, L = 40 (a slot time of 1.5 s): another client's burst fills the window."""
    start = 1000.0
    for count_rejected in (True, False):
        for reset_format in ROUNDINGS:
            sim = Simulation(
                backend=backend,
                mode=mode,  # type: ignore[arg-type]
                reset_format=reset_format,  # type: ignore[arg-type]
                count_rejected=count_rejected,
                start=start,
            )
            sim.foreign([start + 0.01 * k for k in range(40)])
            sim.client.call(120, at=start + 0.5)
            sim.run()
            freed = 1020.0 if mode == "aligned" else start + 60.0  # the first slot frees
            admitted = sorted(sim.client.accepted_sends())
            # The Reset of a window another client opened, in whole seconds of unknown
            # rounding, may be a second either way (fixed and rolling windows' are capped by
            # W): up to two seconds.
            lag = 2.0 if mode == "aligned" and reset_format != "float" else 1.5
            assert freed <= admitted[0] < freed + lag
            # At most one extra probe: a sliding window that counts refusals needs two.
            assert sim.client.rejected <= (2 if mode == "rolling" and count_rejected else 1)


def test_two_clients_on_one_key_both_finish(backend: BackendCase) -> None:
    for mode in MODES:
        sim = Simulation(backend=backend, limit=10, period=1.0, mode=mode)  # type: ignore[arg-type]
        other = sim.add_client()
        sim.client.call(25)
        other.call(25, at=sim.clock.now + 0.0005)
        sim.run(until=sim.clock.now + 60.0)
        assert (sim.client.done, other.done) == (25, 25)


@pytest.mark.parametrize(
    ("server_period", "reset_format"),
    [(10.5, "float"), (12.0, "float"), (12.0, "floor"), (10.5, "floor"), (11.0, "ceil")],
)
def test_a_server_window_longer_than_w_draws_no_burst_of_429s(
    backend: BackendCase, server_period: float, reset_format: str
) -> None:
    """The client is told 10 s; the server's window lasts longer. Before, each window's
    freed slots went out together into the server's still-full window: 42 to 54 refusals in
    400 requests (a fixed window). Once the server has shown it counts longer, a full
    window's next send goes alone, so that each step rule 6 learns costs one 429 at most."""
    sim = Simulation(
        backend=backend,
        limit=40,
        period=server_period,
        mode="fixed",
        reset_format=reset_format,  # type: ignore[arg-type]
        client_limit=RateLimit(40, 10.0, reserve=0),
    )
    sim.client.call(400)
    sim.run()
    assert sim.client.done == 400
    steps = math.ceil((server_period - 10.0) / (0.02 * 10.0))  # rule 6's steps of 2% of W
    assert sim.client.rejected <= steps
    assert sim.client.ledger.margin >= server_period - 10.0 - 0.2


def test_a_learned_margin_never_exceeds_half_a_window(backend: BackendCase) -> None:
    """A sliding window that counts refusals, and another client's few requests now and then:
    each can pass for one of ours still counted, and the margin grew a step each time, to 49 s
    of a 60 s window in ten minutes."""
    start = 1014.6
    sim = Simulation(backend=backend, mode="rolling", count_rejected=True, seed=2, start=start)
    rng = random.Random(2)
    sim.foreign(sorted(start + rng.uniform(0, 600) for _ in range(30)))
    sim.client.call(400, at=start)
    sim.run(until=start + 660)
    assert 0 < sim.client.ledger.margin <= 30.0


@pytest.mark.parametrize("mode", ["fixed", "rolling"])
def test_a_server_that_counts_longer_than_it_says_teaches_a_margin(
    backend: BackendCase, mode: str
) -> None:
    """Its window is 10.1 s where the client was told 10: rule 6 learns the difference."""
    sim = Simulation(
        backend=backend,
        limit=40,
        period=10.1,
        mode=mode,  # type: ignore[arg-type]
        client_limit=RateLimit(40, 10.0, reserve=0),
    )
    sim.client.call(400)
    sim.run()
    assert sim.client.done == 400
    assert 0.1 <= sim.client.ledger.margin <= 0.1 + 0.2 + 0.01  # what it needs, within a step
    # The first slot used again went alone, so learning cost one 429, not a window's worth.
    assert sim.client.rejected == 1
