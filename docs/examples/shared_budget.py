"""Several processes on one API key, sharing its budget through Redis.

Each process has its own event loop and its own client; ``SHIPSTATION_BUDGET_URL`` (a
``redis://`` URL) makes every client in every process spend the one budget kept there, so
that together they stay within the key's 40 requests per 60 s. Without it, each process
would count only its own requests, and together they would run into 429s.

Run: ``SHIPSTATION_BUDGET_URL=redis://localhost:6379/0 python shared_budget.py``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from shipstation_async import RateLimit, ShipStation


async def statuses(order_ids: list[int], rate_limit: RateLimit | None) -> list[str]:
    """Read each order's status; the client spends the budget in Redis."""
    # No budget= argument: SHIPSTATION_BUDGET_URL names the store for every client.
    async with ShipStation(rate_limit=rate_limit) as ss:
        return [str((await ss.orders.get(order_id)).order_status) for order_id in order_ids]


def job(order_ids: list[int], rate_limit: RateLimit | None) -> list[str]:
    """One process's share of the work, on an event loop of its own."""
    return asyncio.run(statuses(order_ids, rate_limit))


async def first_orders(count: int, rate_limit: RateLimit | None) -> list[int]:
    """Ids of the newest orders, to hand out to the processes."""
    async with ShipStation(rate_limit=rate_limit) as ss:
        page = await ss.orders.list(page_size=count, sort_by="CreateDate", sort_dir="DESC")
        return [order.order_id for order in page if order.order_id is not None]


def main(processes: int = 3, per_process: int = 10, rate_limit: RateLimit | None = None) -> int:
    """Split reads among ``processes`` processes; ``rate_limit``: the key's plan."""
    if not os.environ.get("SHIPSTATION_BUDGET_URL"):
        print("set SHIPSTATION_BUDGET_URL=redis://host:6379/0 first", file=sys.stderr)
        return 2
    ids = asyncio.run(first_orders(processes * per_process, rate_limit))
    shares = [ids[n::processes] for n in range(processes)]
    # "spawn": each process starts clean (no event loop or connection copied by a fork).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        results = list(pool.map(job, shares, [rate_limit] * processes))
    for number, share in enumerate(results, 1):
        print(f"share {number}: {len(share)} orders, statuses {sorted(set(share))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
