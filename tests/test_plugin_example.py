"""The README's example of testing against the sandbox fixture, verbatim."""

import pytest

from shipstation_async import RateLimit, ShipStation


@pytest.mark.asyncio
@pytest.mark.shipstation_sandbox(orders=50, rate_limit=RateLimit(40, 2.0))
async def test_lists_orders(shipstation_sandbox):  # type: ignore[no-untyped-def]
    sb = shipstation_sandbox
    async with ShipStation(
        sb.api_key, sb.api_secret, base_url=sb.url, rate_limit=sb.rate_limit
    ) as ss:
        page = await ss.orders.list(page_size=10)
    assert page.total == 50
    assert sb.stats().rate_limited == 0
