"""The send hook's hold: a request granted before a probe or a 429 waits, and gives up cleanly.

Driven through the pipeline's own ``Attempt`` and the hook aiohttp awaits before it writes a
request's headers (``_http._headers_sent``), against a ledger on a clock the test moves.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from shipstation_async import RateLimit, RateLimitError, _http
from shipstation_async._budget import InFlightLimit, Ledger, LoopScheduler
from shipstation_async._pipeline import Attempt
from shipstation_async._sansio import PreparedRequest, RateLimitHeaders
from tests.recording import RecordingServer


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def headers(remaining: int, reset: float, retry_after: float | None = None) -> RateLimitHeaders:
    return RateLimitHeaders(10, remaining, reset, False, retry_after)


def attempt(scheduler: LoopScheduler, grant: Any, deadline: float | None = None) -> Attempt:
    owner = InFlightLimit(10)
    pipeline = SimpleNamespace(deadlines=None, closed=False, in_flight=owner, hooks=())
    call = SimpleNamespace(
        lane="interactive",
        deadline=deadline,
        prepared=SimpleNamespace(method="GET", path="/orders"),
        attempt=1,
    )
    return Attempt(pipeline, None, scheduler, call, grant)  # type: ignore[arg-type]


def sent(ledger: Ledger) -> Any:
    """A grant taken and sent at once."""
    grant = ledger.try_grant("interactive")
    assert grant is not None
    ledger.mark_sent(grant)
    return grant


def warmed(clock: Clock | None = None) -> Ledger:
    """A ledger whose cold-start probe was answered (9 of 10 left); the real clock if None."""
    rate_limit = RateLimit(10, 10.0, margin=0.1, reserve=0)
    ledger = Ledger(rate_limit) if clock is None else Ledger(rate_limit, clock=clock)
    ledger.complete(sent(ledger), 200, headers(9, 10.0))
    return ledger


def test_a_probes_own_outcome_settles_it_not_an_older_probes() -> None:
    # p0 probes, a 429 pauses everyone, p1 probes after the pause; p0, still connecting, then
    # gives its slot back. That must not free the way for a third probe beside p1.
    clock = Clock()
    ledger = warmed(clock)
    other = sent(ledger)
    clock.now = 1010.2  # the cold start's slot frees: its reuse probes
    p0 = ledger.try_grant("interactive")
    assert p0 is not None and p0.probe
    ledger.complete(other, 429, headers(0, 1.0, retry_after=1.0))
    clock.now = 1011.5
    p1 = ledger.try_grant("interactive")
    assert p1 is not None and p1.probe
    ledger.release(p0)  # held at its send hook (its epoch is old): it queues again
    assert ledger.try_grant("interactive") is None  # p1 is still out: nobody else goes
    ledger.mark_sent(p1)
    ledger.complete(p0, 200, headers(5, 8.0))  # settled already: changes nothing
    assert ledger.try_grant("interactive") is None
    ledger.complete(p1, 200, headers(8, 8.5))
    assert ledger.try_grant("interactive") is not None


async def test_a_request_granted_again_is_held_again_if_a_probe_came_meanwhile() -> None:
    clock = Clock()
    ledger = warmed(clock)
    scheduler = LoopScheduler(ledger, asyncio.get_running_loop())
    early = scheduler.grant_now("interactive", InFlightLimit(10))
    assert early is not None
    other = sent(ledger)
    clock.now = 1000.5
    ledger.complete(other, 429, headers(0, 1.0, retry_after=1.0))  # `early` is stale now
    request = attempt(scheduler, early)
    hook = asyncio.ensure_future(_http._headers_sent(None, request, None))  # type: ignore[arg-type]
    for _ in range(3):
        await asyncio.sleep(0)
    assert not hook.done() and early.state == "done"  # it gave its slot back, and waits
    clock.now = 1003.0
    probe = sent(ledger)  # the pause's probe (another task, say)
    assert probe.probe
    probes: list[Any] = []

    def first_reuse() -> None:  # runs after the answer wakes the request, before it resumes
        clock.now = 1010.2  # the cold start's slot frees: its reuse probes
        check = sent(ledger)
        assert check.probe
        probes.append(check)

    ledger.complete(probe, 200, headers(8, 9.0))
    asyncio.get_running_loop().call_soon(first_reuse)
    for _ in range(5):
        await asyncio.sleep(0)
    assert probes and not hook.done()  # not beside the new probe
    assert request.grant.state != "sent"
    ledger.complete(probes[0], 200, headers(7, 0.5))
    await asyncio.wait_for(hook, 5)
    assert request.grant.state == "sent" and request.grant.epoch == ledger.epoch


async def test_a_request_held_past_its_max_wait_raises_rate_limit_error(
    recorder: RecordingServer,
) -> None:
    # Granted, then a probe went out before its headers: it waits for the probe's answer, and
    # when max_wait runs out first the caller gets what waiting for a slot raises, not a
    # transport failure (nothing was sent).
    ledger = warmed()
    scheduler = LoopScheduler(ledger, asyncio.get_running_loop())
    early = scheduler.grant_now("interactive", InFlightLimit(10))
    assert early is not None
    ledger._probes.needed = True  # as after two idle windows: the next grant probes
    probe = ledger.try_grant("interactive")
    assert probe is not None and probe.probe
    request = attempt(scheduler, early, deadline=ledger.clock() + 0.3)
    prepared = PreparedRequest("GET", recorder.url + "/orders", "/orders", {}, None)
    async with aiohttp.ClientSession(trace_configs=[_http.SEND_HOOK]) as session:
        with pytest.raises(RateLimitError) as info:
            await _http.send(
                session,
                prepared,
                request,
                aiohttp.ClientTimeout(total=5),
                session_headers=None,
                middlewares=None,
                redactor=SimpleNamespace(text=lambda text: text),  # type: ignore[arg-type]
            )
    assert info.value.__traceback__ is not None  # raised here, without aiohttp's frames
    assert not recorder.requests  # nothing went out
