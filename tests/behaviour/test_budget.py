"""The budget against a sandbox that counts late and rounds Reset either way, over loopback.

Every window mode and Reset rounding at once (one sandbox each, concurrently, so the suite
stays fast), with each request waiting up to 0.5, 2 or 5 s in the sandbox's queue before its
window counts it: rule 1 (a slot frees W after its answer) leaves no room for a 429 however
late the count, and the sandbox measures its most-in-any-window at its own counting moments.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from shipstation_async import RateLimit
from shipstation_async._sansio import Credentials
from shipstation_async.sandbox import ThreadedSandbox

from ._helpers import LIMIT, MODES, client_for

pytestmark = pytest.mark.timing

Factory = Callable[..., ThreadedSandbox]


def fresh(factory: Factory, **kwargs: Any) -> ThreadedSandbox:
    options: dict[str, Any] = {
        "orders": 20,
        "rate_limit": LIMIT,
        "api_key": f"key-{uuid.uuid4().hex[:10]}",
    }
    options.update(kwargs)
    return factory(**options)


@pytest.mark.parametrize("delay", [0.5, 2.0, 5.0])
async def test_no_429_whatever_the_window_the_rounding_and_the_counting_delay(
    shipstation_sandbox_factory: Factory, delay: float
) -> None:
    sandboxes = {
        mode: fresh(
            shipstation_sandbox_factory,
            window=mode[0],
            reset_format=mode[1],
            counting_delay=delay,
            seed=len(mode[0]) + len(mode[1]),
        )
        for mode in MODES
    }

    async def run(sandbox: ThreadedSandbox) -> int:
        async with client_for(sandbox, max_wait=60.0) as ss:
            pages = await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(22)))
        return len(pages)

    done = await asyncio.gather(*(run(sb) for sb in sandboxes.values()))
    assert done == [22] * len(MODES)
    for mode, sandbox in sandboxes.items():
        stats = sandbox.stats()
        assert (mode, stats.rate_limited) == (mode, 0)
        assert stats.max_in_window <= LIMIT.requests, mode
        assert stats.accepted == 22, mode


@pytest.mark.parametrize("count_rejected", [True, False])
async def test_after_a_429_on_a_rolling_window_the_next_sends_follow_within_a_slot_time(
    shipstation_sandbox_factory: Factory, count_rejected: bool
) -> None:
    """Another process spends a rolling window (L = 10 per 4 s, a slot time of 0.4 s); our
    client then starts: its sends resume within one slot time of the first slot freeing."""
    limit = RateLimit(10, 4.0)
    sandbox = fresh(
        shipstation_sandbox_factory,
        rate_limit=limit,
        window="rolling",
        reset_format="float",
        count_rejected=count_rejected,
    )
    auth = Credentials(sandbox.api_key, sandbox.api_secret).authorization.reveal()
    async with aiohttp.ClientSession() as raw:
        for _ in range(limit.requests):
            async with raw.get(sandbox.url + "/orders", headers={"Authorization": auth}) as r:
                assert r.status == 200
    spent = [a[0] for a in sandbox.arrivals()]
    async with client_for(sandbox, rate_limit=limit) as ss:
        await asyncio.gather(*(ss.orders.list(page_size=2) for _ in range(15)))
        refused = ss.rate_limit_status().rate_limited
    ours = sandbox.arrivals()[limit.requests :]
    admitted = [t for t, _, _, status in ours if status == 200]
    # One 429, then the sends resume as the other process's slots free: the first within a
    # slot time of it. A window that counts refusals is still full when the first slot frees
    # (our refused probe took it): one extra probe, then W after our first refusal.
    assert 1 <= refused <= (2 if count_rejected else 1)
    frees = (ours[0][0] if refused == 2 else spent[0]) + limit.period
    assert frees <= admitted[0] < frees + limit.period / limit.requests
    assert sandbox.stats().rate_limited == refused
