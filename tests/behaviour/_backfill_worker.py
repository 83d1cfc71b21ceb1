"""Runs a backfill against a sandbox URL (for the SIGKILL test); prints the summary as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from shipstation_async import RateLimit, ShipStation
from shipstation_async.backfill import Backfill, Progress


async def run(url: str, key: str, secret: str, out: str, pause: float) -> dict[str, object]:
    def slow(_: Progress) -> None:
        time.sleep(pause)  # widen the window in which a kill can land mid-run

    async with ShipStation(key, secret, base_url=url, rate_limit=RateLimit(10_000, 60.0)) as ss:
        summary = await Backfill(
            ss, "orders", sink=out, concurrency=3, page_size=40, on_progress=slow
        ).run()
    return {
        "records": summary.records,
        "this_run": summary.records_this_run,
        "resumed": summary.resumed,
    }


if __name__ == "__main__":
    url, key, secret, out, pause = sys.argv[1:6]
    print(json.dumps(asyncio.run(run(url, key, secret, out, float(pause)))))
