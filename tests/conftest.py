from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from shipstation_async import RateLimit, RetryPolicy, ShipStation

from .groups import (  # noqa: F401 - pytest finds its hooks by name in conftest
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_configure_node,
    pytest_unconfigure,
    pytest_xdist_make_scheduler,
)
from .recording import RecordingServer
from .redis_server import RedisCluster, RedisServer, require, require_cluster

NO_WAIT = RetryPolicy(max_attempts=4, base=0.0)


def unique_key() -> str:
    """A fresh API key, so each test has a budget of its own in the process-wide registry."""
    return f"key-{uuid.uuid4().hex[:12]}"


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until ``condition()`` holds (a state the test sets up, not a time it measures).

    Polling instead of a fixed sleep: a loaded machine may take longer to get there.
    """
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(0.01)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a loopback port for the whole test session."""
    server = require()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A Redis Cluster of three primaries on loopback ports, for the whole test session."""
    cluster = require_cluster()
    cluster.start()
    yield cluster
    cluster.stop()


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


@pytest.fixture
def recorder_url_for_sync() -> Iterator[str]:
    """A recording server on its own thread and loop, for tests that run asyncio.run()."""
    import asyncio
    import threading

    started = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"] = loop
        server = RecordingServer()
        loop.run_until_complete(server.__aenter__())
        holder["url"] = server.url
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.__aexit__())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(10)
    yield str(holder["url"])
    loop = holder["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
