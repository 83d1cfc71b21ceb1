"""Breaks out of a stream and leaves at once (for the clean-exit test); run with -X dev."""

from __future__ import annotations

import asyncio
import sys

from shipstation_async import RateLimit, ShipStation


async def main(url: str, key: str, secret: str) -> None:
    async with ShipStation(key, secret, base_url=url, rate_limit=RateLimit(1000, 60.0)) as ss:
        async for _ in ss.orders.iter(concurrency=4, page_size=20):
            break
        async for _ in ss.orders.iter(concurrency=3, page_size=20).pages():
            break
        try:
            async for _ in ss.orders.iter(concurrency=2, page_size=20):
                raise LookupError  # the consumer's own error ends the loop
        except LookupError:
            pass
    # asyncio.run() returns right after: nothing may be left pending or unclosed.


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
    print("done")
