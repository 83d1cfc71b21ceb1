"""A second process on the same API key (two-process test): prints a JSON report."""

from __future__ import annotations

import asyncio
import json
import sys

from shipstation_async import RateLimit, RetryPolicy, ShipStation
from shipstation_async.events import Event, RequestSent, ResponseReceived


def probe_discipline(events: list[Event]) -> bool:
    """After a probe goes out, nothing else goes out before the probe's answer."""
    probing = False
    for event in events:
        if isinstance(event, RequestSent):
            if probing:
                return False
            probing = event.probe
        elif isinstance(event, ResponseReceived) and event.probe:
            probing = False
    return True


async def run(url: str, key: str, secret: str, count: int) -> dict[str, object]:
    events: list[Event] = []
    async with ShipStation(
        key,
        secret,
        base_url=url,
        rate_limit=RateLimit(10, 1.0),
        retry=RetryPolicy(base=0.0),  # the default cap: 429s do not count against it
        max_wait=60.0,
        hooks=[events.append],
    ) as ss:
        results = await asyncio.gather(
            *(ss.orders.list(page=1, page_size=5) for _ in range(count)), return_exceptions=True
        )
        status = ss.rate_limit_status()
    return {
        "ok": sum(not isinstance(r, BaseException) for r in results),
        "errors": [repr(r) for r in results if isinstance(r, BaseException)],
        "rate_limited": status.rate_limited,
        "sent": status.total_sent,
        "probe_discipline": probe_discipline(events),
        "probes": sum(isinstance(e, RequestSent) and e.probe for e in events),
    }


if __name__ == "__main__":
    url, key, secret, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, key, secret, count))))
