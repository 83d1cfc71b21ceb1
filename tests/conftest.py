from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from shipstation_async import RateLimit, RetryPolicy, ShipStation

from .recording import RecordingServer

NO_WAIT = RetryPolicy(max_attempts=4, base=0.0)


def unique_key() -> str:
    """A fresh API key, so each test has a budget of its own in the process-wide registry."""
    return f"key-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def recorder() -> AsyncIterator[RecordingServer]:
    async with RecordingServer() as server:
        yield server


@pytest.fixture
async def client(recorder: RecordingServer) -> AsyncIterator[ShipStation]:
    async with ShipStation(
        unique_key(),
        "s3cr3t-value",
        base_url=recorder.url,
        rate_limit=RateLimit(1000, 60.0),
        retry=NO_WAIT,
        max_wait=10,
    ) as ss:
        yield ss
