from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from shipstation_async.errors import ConfigurationError
from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox, ThreadedSandbox

from .helpers import auth_headers


def sync_get(sb: Any, path: str) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(sb.url + path, headers=auth_headers(sb))
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "shipstation-sandbox"]


def test_threaded_sandbox_from_a_sync_test() -> None:
    before = len(sandbox_threads())
    with ThreadedSandbox(orders=20, rate_limit=RateLimit(2, 60.0)) as sb:
        assert len(sandbox_threads()) == before + 1
        status, body, headers = sync_get(sb, "/orders")
        assert status == 200 and body["total"] == 20
        assert headers["X-Rate-Limit-Remaining"] == "1"
        sb.faults.script("error", status=503)
        assert sync_get(sb, "/orders")[0] == 503
        assert sync_get(sb, "/orders")[0] == 429
        st = sb.stats()
        assert (st.requests, st.accepted, st.rate_limited) == (3, 2, 1)
        assert [a[3] for a in sb.arrivals()] == [200, 503, 429]
        sb.reset_stats()
        assert sb.stats().requests == 0
        sb.add_credentials("k2", "s2")
        assert sync_get(ThreadedView(sb, "k2", "s2"), "/orders")[0] == 200
        assert sb.world.orders.count == 20 and sb.rate_limit.requests == 2
        assert sb.window_state().remaining == 0
    assert len(sandbox_threads()) == before
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(sb.url + "/orders", timeout=2)


class ThreadedView:
    def __init__(self, sb: ThreadedSandbox, key: str, secret: str) -> None:
        self.url, self.api_key, self.api_secret = sb.url, key, secret


async def test_threaded_sandbox_from_an_async_test() -> None:
    with ThreadedSandbox(orders=30, latency=0.05) as sb:
        async with aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s:
            results = await asyncio.gather(*(s.get("/orders?pageSize=10") for _ in range(4)))
            for r in results:
                assert r.status == 200
                assert (await r.json())["pages"] == 3
                r.release()
        assert sb.stats().accepted == 4


async def test_async_sandbox_and_threaded_sandbox_side_by_side() -> None:
    async with Sandbox(orders=3) as local:
        with ThreadedSandbox(orders=4) as remote:
            async with aiohttp.ClientSession() as s:
                for sb, total in ((local, 3), (remote, 4)):
                    async with s.get(f"{sb.url}/orders", headers=auth_headers(sb)) as r:
                        assert (await r.json())["total"] == total


def test_start_failure_is_raised_in_the_caller() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError):
            ThreadedSandbox(orders=1, port=port).start()
    with pytest.raises(ConfigurationError):
        ThreadedSandbox(orders=1, window="nope")  # type: ignore[typeddict-item]


def test_close_is_idempotent() -> None:
    sb = ThreadedSandbox(orders=1).start()
    sb.close()
    sb.close()


# -- the pytest plugin ----------------------------------------------------------------------


def test_fixture_defaults(shipstation_sandbox: ThreadedSandbox) -> None:
    assert shipstation_sandbox.world.orders.count == 200
    assert shipstation_sandbox.rate_limit == RateLimit()
    status, body, headers = sync_get(shipstation_sandbox, "/orders?pageSize=500")
    assert status == 200 and body["total"] == 200
    assert headers["X-Rate-Limit-Limit"] == "40"


@pytest.mark.shipstation_sandbox(orders=7, rate_limit=RateLimit(1, 60.0), seed=4)
def test_marker_configures_the_fixture(shipstation_sandbox: ThreadedSandbox) -> None:
    assert shipstation_sandbox.world.orders.count == 7
    assert shipstation_sandbox.world.seed == 4
    assert sync_get(shipstation_sandbox, "/orders")[0] == 200
    assert sync_get(shipstation_sandbox, "/orders")[0] == 429


@pytest.mark.shipstation_sandbox(orders=9)
class TestMarkerOnAClass:
    @pytest.mark.shipstation_sandbox(seed=2)
    def test_closest_marker_wins_per_argument(self, shipstation_sandbox: ThreadedSandbox) -> None:
        assert shipstation_sandbox.world.orders.count == 9
        assert shipstation_sandbox.world.seed == 2


@pytest.mark.shipstation_sandbox(orders=3)
async def test_fixture_in_an_async_test(shipstation_sandbox: ThreadedSandbox) -> None:
    async with (
        aiohttp.ClientSession(headers=auth_headers(shipstation_sandbox)) as s,
        s.get(f"{shipstation_sandbox.url}/orders") as r,
    ):
        assert (await r.json())["total"] == 3


def test_factory_starts_several_and_stops_them(
    shipstation_sandbox_factory: Callable[..., ThreadedSandbox],
) -> None:
    a = shipstation_sandbox_factory(orders=2, seed=1)
    b = shipstation_sandbox_factory(orders=2, seed=2)
    assert a.url != b.url
    assert sync_get(a, "/orders")[1] != sync_get(b, "/orders")[1]


def test_marker_is_registered(pytestconfig: pytest.Config) -> None:
    markers = pytestconfig.getini("markers")
    assert any(m.startswith("shipstation_sandbox(") for m in markers)
