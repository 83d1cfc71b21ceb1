"""Recipe: arq workers calling ShipStation through one budget shared in the same Redis.

Run as many workers as you like, in as many processes and on as many hosts: together they
stay within the key's 40 requests per 60 s, because every client spends the budget kept in
the Redis that arq already runs on (:class:`~shipstation_async.RedisBudget`)::

    export REDIS_URL=redis://localhost:6379/0
    export SHIPSTATION_API_KEY=... SHIPSTATION_API_SECRET=...
    arq examples.arq_worker.WorkerSettings

and enqueue jobs from anywhere::

    pool = await arq.create_pool(RedisSettings.from_dsn(REDIS_URL))
    await pool.enqueue_job("tag_order", order_id, tag_id)

``SHIPSTATION_BASE_URL`` points the workers at a sandbox instead of ShipStation, and
``SHIPSTATION_RATE_LIMIT=10/1`` gives its scaled limit (requests/seconds; the tests do both).
One client per worker process, opened at start-up and closed at shutdown: clients made per
job would work too (they share the budget), but would each open connections.
"""

from __future__ import annotations

import os
from typing import Any

from arq.connections import RedisSettings

from shipstation_async import RateLimit, RedisBudget, ShipStation

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    """Open the worker's client on the shared budget."""
    budget = RedisBudget(REDIS_URL)
    base_url = os.environ.get("SHIPSTATION_BASE_URL", "https://ssapi.shipstation.com")
    ctx["budget"] = budget
    requests, _, seconds = os.environ.get("SHIPSTATION_RATE_LIMIT", "40/60").partition("/")
    ctx["shipstation"] = ShipStation(
        base_url=base_url, budget=budget, rate_limit=RateLimit(int(requests), float(seconds))
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the client, then the budget's connections."""
    await ctx["shipstation"].aclose()
    await ctx["budget"].aclose()


async def order_status(ctx: dict[str, Any], order_id: int) -> str:
    """A job: read one order and return its status."""
    ss: ShipStation = ctx["shipstation"]
    order = await ss.orders.get(order_id)
    return str(order.order_status)


async def tag_order(ctx: dict[str, Any], order_id: int, tag_id: int) -> None:
    """A job: tag an order (a write: a failure is raised, so arq reports it)."""
    ss: ShipStation = ctx["shipstation"]
    await ss.orders.add_tag(order_id, tag_id)


class WorkerSettings:
    """``arq examples.arq_worker.WorkerSettings`` runs a worker with these jobs."""

    functions = [order_status, tag_order]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    max_jobs = 20
