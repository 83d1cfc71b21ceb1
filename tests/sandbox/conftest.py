from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox, World

from .helpers import FIXED_END, auth_headers

ROOMY = RateLimit(100_000, 60.0)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox with a fixed world of 400 orders and a limit tests cannot reach."""
    world = World(orders=400, seed=7, end=FIXED_END)
    async with Sandbox(world=world, rate_limit=ROOMY) as sb:
        yield sb


@pytest.fixture
async def session(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(sandbox.url, headers=auth_headers(sandbox)) as s:
        yield s
