"""Backfills N sandbox orders (sandbox at URL) into a JSONL file; prints peak RSS in MB."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
from pathlib import Path

from shipstation_async import RateLimit, ShipStation
from shipstation_async.backfill import Backfill


async def main(url: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "orders.jsonl"
        async with ShipStation(
            "bench", "s", base_url=url, rate_limit=RateLimit(100_000, 60.0)
        ) as ss:
            summary = await Backfill(ss, "orders", sink=out, page_size=500).run()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": summary.records, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
