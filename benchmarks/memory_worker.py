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
    print(json.dumps({"records": summary.records, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the address space exec created; ru_maxrss
    can carry the peak of the parent that forked this process (a large benchmark runner)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
