"""Another receiver process on a RedisStore: it stores jobs (printing their ids), waits for a
line on stdin, then saves them and prints ``saved`` or ``taken over``.

Usage: ``_redis_worker.py URL PREFIX LEASE COUNT``. The tests kill it (SIGKILL) or freeze it
(SIGSTOP) while it holds the jobs.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from shipstation_async.webhooks import JobTakenOver, RedisStore
from shipstation_async.webhooks.store import Job


async def main(url: str, prefix: str, lease: str, count: str) -> None:
    store = RedisStore(url, prefix=prefix, lease=float(lease))
    jobs = [
        Job(
            id=uuid.uuid4().hex,
            key=f"worker|{uuid.uuid4().hex}",
            resource_type="ORDER_NOTIFY",
            source="webhook",
            received_at=time.time(),
        )
        for _ in range(int(count))
    ]
    for job in jobs:
        assert await store.add_job(job, remember_until=time.time() + 60)
    print(" ".join(job.id for job in jobs), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        for job in jobs:
            await store.save_job(job)
        print("saved", flush=True)
    except JobTakenOver:
        print("taken over", flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
