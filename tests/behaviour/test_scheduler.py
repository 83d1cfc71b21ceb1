"""The shared scheduler against the sandbox over real loopback HTTP, in every window mode.

The sandbox enforces LIMIT (10 per 1 s). Its ``max_in_window`` counts the most requests it
accepted within any 1 s interval, whatever its own window mode, at the moments it counted them:
rule 1 says it never exceeds 10.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shipstation_async import RateLimit, RateLimitError
from shipstation_async._sansio import Credentials
from shipstation_async.events import Event, RequestSent, ResponseReceived, Throttled
from shipstation_async.sandbox import Faults, ThreadedSandbox

from ._helpers import LIMIT, MODES, client_for, close_a_loop_with_a_request_out
from ._worker import probe_discipline

pytestmark = pytest.mark.timing

Factory = Callable[..., ThreadedSandbox]


PER_PROCESS = 25  # calls each of the two processes makes (L = 10 per second)


def fresh(factory: Factory, **kwargs: Any) -> ThreadedSandbox:
    options: dict[str, Any] = {
        "orders": 60,
        "rate_limit": LIMIT,
        "api_key": f"key-{uuid.uuid4().hex[:10]}",
    }
    options.update(kwargs)
    return factory(**options)


@pytest.fixture(params=MODES, ids=[f"{w}-{r}" for w, r in MODES])
def sandbox(
    request: pytest.FixtureRequest, shipstation_sandbox_factory: Factory
) -> ThreadedSandbox:
    window, reset_format = request.param
    return fresh(shipstation_sandbox_factory, window=window, reset_format=reset_format)


def assert_clean(sandbox: ThreadedSandbox, expected_requests: int | None = None) -> None:
    stats = sandbox.stats()
    assert stats.rate_limited == 0
    assert stats.max_in_window <= LIMIT.requests
    if expected_requests is not None:
        assert stats.requests == expected_requests


async def test_concurrent_callers_use_the_whole_budget_and_never_exceed_it(
    sandbox: ThreadedSandbox,
) -> None:
    async with client_for(sandbox) as ss:
        pages = await asyncio.gather(
            *(ss.orders.list(page=1 + i % 6, page_size=10) for i in range(30))
        )
    assert all(len(page.items) == 10 for page in pages)
    assert_clean(sandbox, 30)
    arrivals = sorted(a[0] for a in sandbox.arrivals())
    # Rule 2: after the cold-start probe the rest of the first window goes out at once, not
    # spaced period/limit apart (0.8 s for these nine). The bound leaves room for a loaded
    # host (0.28 s was seen beside a CPU hog), not for spacing.
    assert arrivals[9] - arrivals[1] < 0.5
    # And no window is wasted: three windows for 30 requests (a fourth would put the last
    # arrival 3 periods after the first). Slow answers on a loaded host hold slots longer
    # (rules 1 and 6), which is why the bound is not 2 periods and a little.
    assert arrivals[-1] - arrivals[0] < 3 * LIMIT.period


async def test_two_clients_on_one_key_share_the_budget(sandbox: ThreadedSandbox) -> None:
    async with client_for(sandbox) as first, client_for(sandbox) as second:
        await asyncio.gather(
            *(first.orders.list(page_size=5) for _ in range(12)),
            *(second.orders.list(page_size=5) for _ in range(12)),
        )
    assert_clean(sandbox, 24)


async def test_a_client_per_request_still_shares_the_budget(sandbox: ThreadedSandbox) -> None:
    async def handle_one_web_request() -> int:
        async with client_for(sandbox) as ss:
            return len((await ss.orders.list(page_size=3)).items)

    assert await asyncio.gather(*(handle_one_web_request() for _ in range(22))) == [3] * 22
    assert_clean(sandbox, 22)


@pytest.mark.parametrize("mode", [("fixed", "floor"), ("rolling", "float"), ("aligned", "ceil")])
def test_threads_with_their_own_loops_share_the_budget(
    shipstation_sandbox_factory: Factory, mode: tuple[str, str]
) -> None:
    sandbox = fresh(shipstation_sandbox_factory, window=mode[0], reset_format=mode[1])
    errors: list[BaseException] = []

    async def work() -> None:
        async with client_for(sandbox) as ss:
            await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(11)))

    def thread_main() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=thread_main) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert_clean(sandbox, 22)


@pytest.mark.parametrize("mode", [("fixed", "floor"), ("rolling", "float")])
def test_asyncio_run_twice_keeps_the_window(
    shipstation_sandbox_factory: Factory, mode: tuple[str, str]
) -> None:
    sandbox = fresh(shipstation_sandbox_factory, window=mode[0], reset_format=mode[1])

    async def job() -> None:
        async with client_for(sandbox) as ss:
            await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(8)))

    started = time.monotonic()
    asyncio.run(job())
    asyncio.run(job())  # a worker's next job: the first job's sends are still in the window
    assert time.monotonic() - started >= LIMIT.period
    assert_clean(sandbox, 16)


@pytest.mark.parametrize("count_rejected", [True, False])
@pytest.mark.parametrize("mode", MODES, ids=[f"{w}-{r}" for w, r in MODES])
async def test_cold_start_into_a_spent_window_costs_one_429(
    shipstation_sandbox_factory: Factory, mode: tuple[str, str], count_rejected: bool
) -> None:
    sandbox = fresh(
        shipstation_sandbox_factory,
        window=mode[0],
        reset_format=mode[1],
        count_rejected=count_rejected,
    )
    # Another process spends the whole window on this key just before we start, all at once
    # (one after the other, a loaded machine took most of the window's second to send them,
    # and the first had left the rolling window when our probe came). Start just after a
    # whole second, so that in "aligned" mode the spent window (aligned to the sandbox's wall
    # clock) is still the current one when our first request arrives.
    await asyncio.sleep(1.02 - time.time() % 1.0)
    auth = Credentials(sandbox.api_key, sandbox.api_secret).authorization.reveal()
    async with aiohttp.ClientSession() as raw:

        async def spend() -> int:
            async with raw.get(sandbox.url + "/orders", headers={"Authorization": auth}) as r:
                return r.status

        assert await asyncio.gather(*(spend() for _ in range(LIMIT.requests))) == [200] * 10
    events: list[Event] = []
    async with client_for(sandbox, hooks=[events.append]) as ss:
        pages = await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(15)))
        status = ss.rate_limit_status()
    assert len(pages) == 15
    # The probe met the 429; everyone else waited for the window instead of hammering it.
    if mode[0] == "rolling" and count_rejected:
        # A sliding window that counts our refused probe may still be full when the slot it
        # announced frees: one extra probe, then W after the first refusal all has left.
        assert 1 <= status.rate_limited <= 2
    else:
        assert status.rate_limited == 1
    assert sandbox.stats().rate_limited == status.rate_limited
    assert probe_discipline(events)


async def test_a_429_mid_burst_holds_everyone_then_probes(
    shipstation_sandbox_factory: Factory,
) -> None:
    faults = Faults()
    sandbox = fresh(shipstation_sandbox_factory, faults=faults, latency=0.05)
    timeline: list[tuple[float, Event]] = []
    async with client_for(sandbox, hooks=[lambda e: timeline.append((time.monotonic(), e))]) as ss:
        await ss.orders.list(page_size=1)  # warm: the probe is done
        faults.script("rate_limit", times=1, retry_after=0.6)
        await asyncio.gather(*(ss.orders.list(page_size=1) for _ in range(12)))
    assert sum(a[3] == 429 for a in sandbox.arrivals()) == 1
    assert sandbox.stats().requests == 1 + 12 + 1  # one re-send: the refused request
    (refused_at,) = [t for t, e in timeline if isinstance(e, ResponseReceived) and e.status == 429]
    # Held until Retry-After had passed (on the client's own clock: load only delays), then
    # one request alone (the probe), the rest after its answer.
    probes = [t for t, e in timeline if isinstance(e, RequestSent) and e.probe]
    assert min(t for t in probes if t > refused_at) >= refused_at + 0.6
    assert any(isinstance(e, Throttled) for _, e in timeline)
    assert probe_discipline([e for _, e in timeline])
    assert sandbox.stats().max_in_window <= LIMIT.requests


async def test_interactive_calls_use_the_reserve_and_jump_the_bulk_queue(
    shipstation_sandbox_factory: Factory,
) -> None:
    sandbox = fresh(shipstation_sandbox_factory)
    done: dict[str, list[float]] = {"bulk": [], "interactive": []}

    async with client_for(sandbox) as ss:
        start = time.monotonic()

        async def call(lane: str) -> None:
            await ss.orders.list(page_size=1, lane=lane)  # type: ignore[arg-type]
            done[lane].append(time.monotonic() - start)

        bulk = [asyncio.ensure_future(call("bulk")) for _ in range(25)]
        await asyncio.sleep(0.2)  # bulk has taken all but the reserve of the first window
        assert ss.rate_limit_status().queued["bulk"] > 0
        interactive = [asyncio.ensure_future(call("interactive")) for _ in range(4)]
        await asyncio.gather(*bulk, *interactive)
    first_interactive = min(done["interactive"])
    assert first_interactive < 0.45  # the reserve slot, no wait for the next window
    # The other three were queued behind 15 bulk requests, and went first in window two.
    assert max(done["interactive"]) < sorted(done["bulk"])[-5]
    assert_clean(sandbox, 29)


async def test_max_wait_fails_fast_and_sends_nothing(shipstation_sandbox_factory: Factory) -> None:
    sandbox = fresh(shipstation_sandbox_factory, rate_limit=RateLimit(3, 2.0))
    async with client_for(sandbox, rate_limit=RateLimit(3, 2.0)) as ss:
        await asyncio.gather(*(ss.orders.list(page_size=1) for _ in range(3)))
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await ss.orders.list(page_size=1, max_wait=0.2)
        assert time.monotonic() - started < 0.3
        assert info.value.sent is False
    assert sandbox.stats().requests == 3


async def test_every_attempt_is_counted_under_faults(shipstation_sandbox_factory: Factory) -> None:
    faults = Faults(error_rate=0.25, drop_before_rate=0.1, drop_after_rate=0.1, seed=7)
    sandbox = fresh(shipstation_sandbox_factory, faults=faults)
    async with client_for(sandbox) as ss:
        pages = await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(20)))
        sent = ss.rate_limit_status().total_sent
    assert len(pages) == 20
    stats = sandbox.stats()
    assert stats.requests == sent > 20  # retries happened, and each one was counted
    assert stats.rate_limited == 0
    assert stats.max_in_window <= LIMIT.requests


@pytest.mark.parametrize(
    ("window", "count_rejected"),
    [("fixed", True), ("aligned", True), ("rolling", True), ("rolling", False)],
)
def test_two_processes_on_one_key_complete_and_recover_by_probe(
    shipstation_sandbox_factory: Factory, window: str, count_rejected: bool
) -> None:
    # With the retry policy's default cap. On a rolling window that does not count rejected
    # requests, one process's probe can land just after the other's next burst, window after
    # window: its calls must still complete.
    sandbox = fresh(
        shipstation_sandbox_factory, orders=20, window=window, count_rejected=count_rejected
    )
    root = Path(__file__).resolve().parents[2]
    command = [
        sys.executable,
        "-m",
        "tests.behaviour._worker",
        sandbox.url,
        sandbox.api_key,
        sandbox.api_secret,
        str(PER_PROCESS),
    ]
    processes = [
        subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    reports = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        reports.append(json.loads(out))
    for report in reports:
        assert report["ok"] == PER_PROCESS, report["errors"]
        assert report["probe_discipline"]
    # Without a shared budget the two collide, and each recovers through its own probes.
    stats = sandbox.stats()
    assert stats.requests == sum(r["sent"] for r in reports)
    assert stats.accepted == 2 * PER_PROCESS


def list_two(sandbox: ThreadedSandbox) -> Callable[[], Awaitable[Any]]:
    """A call listing two orders with a client of its own (made where it is called)."""
    return lambda: client_for(sandbox).orders.list(page_size=2)


@pytest.mark.parametrize("waiting", [False, True], ids=["next-loop", "loop-waiting"])
def test_a_loop_closed_with_its_probe_out_does_not_hold_the_key(
    shipstation_sandbox_factory: Factory, waiting: bool
) -> None:
    # A worker that makes a loop per job and closes it with loop.close() while a request of
    # its first job (the key's probe) is still out: that request never ends. The next job's
    # loop (or one already waiting behind the probe) must not wait for it for ever.
    sandbox = fresh(shipstation_sandbox_factory, faults=Faults())
    sandbox.faults.script("late", delay=4.0, path="/orders")
    probe_out, closed = threading.Event(), threading.Event()

    def out() -> None:
        probe_out.set()
        if waiting:
            time.sleep(0.5)  # the other loop's request now waits behind the probe

    def first_job() -> None:
        close_a_loop_with_a_request_out(sandbox, list_two(sandbox), "/orders", before_close=out)
        closed.set()

    async def next_job() -> float:
        async with client_for(sandbox, max_wait=None) as ss:
            started = time.monotonic()
            await asyncio.wait_for(ss.orders.list(page_size=2), 10.0)
            return time.monotonic() - started

    if waiting:
        thread = threading.Thread(target=first_job)
        thread.start()
        assert probe_out.wait(10)
        took = asyncio.run(next_job())
        thread.join(10)
        assert closed.is_set()
    else:
        first_job()
        took = asyncio.run(next_job())
    assert took < 4.0  # not behind the lost probe's answer (4 s late)
    assert_clean(sandbox)


def test_a_short_max_wait_behind_a_closed_loops_probe_still_gets_through(
    shipstation_sandbox_factory: Factory,
) -> None:
    # This loop's waiting room exists before the other loop closes with the key's probe out;
    # each call may wait only 0.3 s, less than the look for closed loops that a long wait makes.
    sandbox = fresh(shipstation_sandbox_factory, faults=Faults())
    sandbox.faults.script("late", delay=30.0, path="/orders")

    async def main() -> None:
        async with client_for(sandbox, max_wait=0.3) as ss:
            ss.rate_limit_status()  # its waiting room is made now
            await asyncio.to_thread(
                close_a_loop_with_a_request_out, sandbox, list_two(sandbox), "/orders"
            )
            sandbox.faults.clear()
            await ss.orders.list(page_size=2)

    asyncio.run(main())
    assert_clean(sandbox)


def test_the_waiting_rooms_of_closed_loops_are_not_kept(
    shipstation_sandbox_factory: Factory,
) -> None:
    # A job per loop, each on a key of its own (an integration's merchants): a closed loop's
    # room goes when the next loop's is made.
    from shipstation_async._budget import waiting

    sandboxes = [fresh(shipstation_sandbox_factory) for _ in range(3)]
    for sandbox in sandboxes * 2:

        async def job(sandbox: ThreadedSandbox = sandbox) -> None:
            async with client_for(sandbox) as ss:
                await ss.orders.list(page_size=1)

        asyncio.run(job())
    rooms = [room for rooms in waiting._rooms.values() for room in rooms]
    assert sum(room.loop_is_gone() for room in rooms) <= 1  # the last job's, until the next
