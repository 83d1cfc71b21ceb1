"""One worker process on a key whose budget is shared in Redis: prints a JSON report.

``python -m tests.behaviour._shared_worker URL KEY SECRET REDIS PREFIX SECONDS L W [options]``
runs bulk streams and, with ``--interactive N``, N interactive single calls spread over the
run, for SECONDS. ``--skew OFFSET FACTOR`` runs the process on a wall clock and a monotonic
clock that are OFFSET seconds off and tick FACTOR times as fast as the host's (hosts whose
clocks disagree). ``--lease S`` sets the budget's lease, ``--reserve N`` the interactive
reserve (0 for bulk-only work). ``--hold`` makes every request slow
(the sandbox is told to delay answers by the test) and is for the crash test: the worker
prints ``granted`` once its requests are in flight, then waits to be killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from shipstation_async import Operation, RateLimit, RedisBudget, RetryPolicy, ShipStation
from shipstation_async.events import Event, RequestSent, ResponseReceived


def _skew_clocks(offset: float, factor: float) -> None:
    real_time, real_monotonic = time.time, time.monotonic
    time_origin, monotonic_origin = real_time(), real_monotonic()

    def skewed_time() -> float:
        return time_origin + offset + (real_time() - time_origin) * factor

    def skewed_monotonic() -> float:
        return monotonic_origin + offset + (real_monotonic() - monotonic_origin) * factor

    time.time = skewed_time
    time.monotonic = skewed_monotonic


async def run(args: argparse.Namespace) -> dict[str, object]:
    events: list[Event] = []
    sent = asyncio.Event()

    def hook(event: Event) -> None:
        events.append(event)
        if isinstance(event, RequestSent):
            sent.set()

    budget = RedisBudget(args.redis, prefix=args.prefix, lease=args.lease, poll=0.02)
    waits: list[float] = []
    stop_at = time.monotonic() + args.seconds
    async with ShipStation(
        args.key,
        args.secret,
        base_url=args.url,
        rate_limit=RateLimit(args.limit, args.period, reserve=args.reserve),
        retry=RetryPolicy(base=0.0),
        max_wait=None,
        timeout=60.0,
        budget=budget,
        hooks=[hook],
    ) as ss:
        page = Operation("GET", "/orders", query={"page": 1, "pageSize": 1})

        async def bulk() -> int:
            done = 0
            while time.monotonic() < stop_at:
                await ss.request(page, lane="bulk")
                done += 1
            return done

        async def interactive() -> None:
            gap = args.seconds / (args.interactive + 1)
            for _ in range(args.interactive):
                await asyncio.sleep(gap)
                started = time.monotonic()
                await ss.request(page, lane="interactive")
                waits.append(time.monotonic() - started)

        if args.hold:
            # The first goes alone (a cold start's probe) and is not answered before the kill.
            calls = [asyncio.ensure_future(ss.request(page, lane="bulk")) for _ in range(3)]
            await sent.wait()
            print("granted", flush=True)
            await asyncio.gather(*calls)
        results = await asyncio.gather(
            *(bulk() for _ in range(args.streams)), interactive(), return_exceptions=True
        )
        status = ss.rate_limit_status()
    await budget.aclose()
    return {
        "ok": sum(r for r in results if isinstance(r, int)),
        "errors": [repr(r) for r in results if isinstance(r, BaseException)],
        "rate_limited": sum(isinstance(e, ResponseReceived) and e.status == 429 for e in events),
        "interactive_waits": waits,
        "degraded": status.degraded,
        "shared": status.shared,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("url", "key", "secret", "redis", "prefix"):
        parser.add_argument(name)
    parser.add_argument("seconds", type=float)
    parser.add_argument("limit", type=int)
    parser.add_argument("period", type=float)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--interactive", type=int, default=0)
    parser.add_argument("--skew", type=float, nargs=2, default=None)
    parser.add_argument("--lease", type=float, default=10.0)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--reserve", type=int, default=None)
    args = parser.parse_args()
    if args.skew is not None:
        _skew_clocks(*args.skew)
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
