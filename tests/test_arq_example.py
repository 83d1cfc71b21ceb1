"""The arq recipe (examples/arq_worker.py): two worker processes, one shared budget."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from shipstation_async import RateLimit
from shipstation_async.sandbox import ThreadedSandbox

from .redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timing


def _start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    """``arq --burst``: the worker runs the queued jobs, then exits."""
    return subprocess.Popen(
        [sys.executable, "-m", "arq", "--burst", "examples.arq_worker.WorkerSettings"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_two_arq_workers_spend_one_budget(redis_server: RedisServer) -> None:
    limit = RateLimit(10, 1.0)
    url = f"redis://127.0.0.1:{redis_server.port}/5"  # a database of its own: arq's queue
    with ThreadedSandbox(orders=0, rate_limit=limit, window="rolling") as sandbox:
        ids = [sandbox.world.add_order(orderNumber=f"A-{n}")["orderId"] for n in range(30)]
        pool = await create_pool(RedisSettings.from_dsn(url))
        jobs = [await pool.enqueue_job("order_status", order_id) for order_id in ids]
        env = {
            **os.environ,
            "REDIS_URL": url,
            "SHIPSTATION_API_KEY": sandbox.api_key,
            "SHIPSTATION_API_SECRET": sandbox.api_secret,
            "SHIPSTATION_BASE_URL": sandbox.url,
            "SHIPSTATION_RATE_LIMIT": "10/1",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
        workers = [_start_worker(env) for _ in range(2)]
        outputs = await asyncio.gather(
            *(asyncio.to_thread(w.communicate, timeout=120) for w in workers)
        )
        results = [await job.result(timeout=10) for job in jobs if job is not None]
        await pool.aclose()
        stats = sandbox.stats()
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    assert results == ["awaiting_shipment"] * 30
    # Both workers ran jobs, together within the limit: no 429, never more than L per window.
    assert all("order_status" in err for _, err in outputs), [err for _, err in outputs]
    assert stats.rate_limited == 0
    assert stats.max_in_window <= limit.requests
