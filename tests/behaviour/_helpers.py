from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.sandbox import ThreadedSandbox

LIMIT = RateLimit(10, 1.0)
MODES = [(w, r) for w in ("fixed", "aligned", "rolling") for r in ("floor", "ceil", "float")]
NO_WAIT = RetryPolicy(max_attempts=6, base=0.0)


def client_for(sandbox: ThreadedSandbox, **kwargs: Any) -> ShipStation:
    options: dict[str, Any] = {
        "base_url": sandbox.url,
        "rate_limit": LIMIT,
        "retry": NO_WAIT,
        "max_wait": 30.0,
    }
    options.update(kwargs)
    return ShipStation(sandbox.api_key, sandbox.api_secret, **options)


def window_counts(times: list[float], period: float) -> int:
    """Most arrivals within any half-open interval of ``period`` seconds."""
    times = sorted(times)
    best = 0
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + period:
            j += 1
        best = max(best, j - i)
    return best


async def newest_created(ss: ShipStation) -> Any:
    """The creation time of the account's newest order."""
    page = await ss.orders.list(page_size=1, sort_by="CreateDate", sort_dir="DESC")
    newest = page.items[0].create_date
    assert newest is not None
    return newest


async def arrived(sandbox: ThreadedSandbox, path: str, count: int = 1) -> None:
    """Wait until the sandbox has received ``count`` requests for ``path`` (up to 20 s)."""
    for _ in range(4000):
        if sandbox.stats().by_path.get(path, 0) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{path} did not arrive")


def close_a_loop_with_a_request_out(
    sandbox: ThreadedSandbox,
    send: Callable[[], Awaitable[Any]],
    path: str,
    *,
    before_close: Callable[[], None] = lambda: None,
    collect: bool = False,
) -> None:
    """Run ``send()`` on an event loop of its own and close that loop once ``path`` arrived.

    ``loop.close()`` (not ``asyncio.run``) leaves the request's task pending for ever; with
    ``collect`` the garbage collector then closes its coroutine, as it eventually would.
    ``send`` is called on that loop (make the client there).
    """
    loop = asyncio.new_event_loop()

    async def start() -> None:
        asyncio.ensure_future(send())  # noqa: RUF006 - left pending on purpose
        await arrived(sandbox, path)

    loop.run_until_complete(start())
    before_close()
    loop.close()
    if collect:
        gc.collect()
