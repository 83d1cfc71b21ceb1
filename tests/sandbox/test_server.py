from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import aiohttp
import pytest

from shipstation_async.errors import ConfigurationError
from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox

from .helpers import auth_headers

RATE_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


async def test_url_has_no_trailing_slash_and_port_is_assigned(sandbox: Sandbox) -> None:
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert not sandbox.url.endswith("/")
    assert sandbox.url.endswith(f":{sandbox.port}") and sandbox.port > 0


def test_url_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        _ = Sandbox(orders=1).url


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": "sliding"},
        {"reset_format": "str"},
        {"latency": -1.0},
        {"api_key": ""},
        # The command line's form: before, accepted, then a 500 for every request.
        {"rate_limit": "40/2"},
        {"rate_limit": (40, 2)},
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Sandbox(orders=1, **kwargs)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"sandbox-key:wrong").decode(),
        "Basic " + base64.b64encode(b"other-key:sandbox-secret").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic %%%not-base64",
        "Bearer sandbox-key",
    ],
)
async def test_bad_credentials_get_a_plain_text_401_without_rate_headers(
    sandbox: Sandbox, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{sandbox.url}/orders", headers=headers) as r,
    ):
        assert r.status == 401
        assert r.content_type == "text/plain"
        assert await r.text() == "401 Unauthorized"
        assert not any(h in r.headers for h in RATE_HEADERS)
    assert sandbox.stats().accepted == 0


async def test_401s_do_not_consume_the_window() -> None:
    async with Sandbox(orders=5, rate_limit=RateLimit(3, 60.0)) as sb, aiohttp.ClientSession() as s:
        for _ in range(5):
            async with s.get(f"{sb.url}/orders") as r:
                assert r.status == 401
        async with s.get(f"{sb.url}/orders", headers=auth_headers(sb)) as r:
            assert r.status == 200
            assert r.headers["X-Rate-Limit-Remaining"] == "2"
        st = sb.stats()
        assert (st.requests, st.accepted, st.by_status) == (6, 1, {401: 5, 200: 1})


async def test_every_non_401_response_carries_the_rate_headers(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    seen = {}
    for method, path in [
        ("GET", "/orders"),
        ("GET", "/orders/1"),
        ("GET", "/orders?pageSize=9999"),
        ("POST", "/orders"),
        ("GET", "/no/such/thing"),
    ]:
        async with session.request(method, path) as r:
            seen[(method, path)] = r.status
            assert all(h in r.headers for h in RATE_HEADERS), (method, path)
            assert r.headers["X-Rate-Limit-Limit"] == "100000"
    assert sorted(seen.values()) == [200, 400, 404, 404, 405]


async def test_429_body_and_headers_and_window_reopening() -> None:
    clock = [1000.0]
    async with (
        Sandbox(orders=5, rate_limit=RateLimit(3, 60.0), clock=lambda: clock[0]) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        remaining = []
        for _ in range(3):
            async with s.get("/orders") as r:
                assert r.status == 200
                remaining.append(r.headers["X-Rate-Limit-Remaining"])
            clock[0] += 10.4
        assert remaining == ["2", "1", "0"]
        async with s.get("/orders") as r:
            assert r.status == 429
            assert await r.json() == {"message": "Too Many Requests"}
            assert r.headers["X-Rate-Limit-Limit"] == "3"
            assert r.headers["X-Rate-Limit-Remaining"] == "0"
            assert r.headers["X-Rate-Limit-Reset"] == "28"  # 60 - 31.2, floored
        clock[0] = 1060.0
        async with s.get("/orders") as r:
            assert r.status == 200
            assert r.headers["X-Rate-Limit-Remaining"] == "2"
            assert r.headers["X-Rate-Limit-Reset"] == "60"
        st = sb.stats()
        assert (st.accepted, st.rate_limited, st.requests) == (4, 1, 5)


async def test_float_reset_format() -> None:
    clock = [0.0]
    async with (
        Sandbox(orders=1, reset_format="float", clock=lambda: clock[0]) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        async with s.get("/orders"):
            pass
        clock[0] = 12.3456
        async with s.get("/orders") as r:
            assert r.headers["X-Rate-Limit-Reset"] == "47.654"
            assert r.headers["X-Rate-Limit-Limit"] == "40"  # the real default


async def test_each_api_key_has_its_own_window() -> None:
    async with (
        Sandbox(orders=1, rate_limit=RateLimit(2, 60.0)) as sb,
        aiohttp.ClientSession(sb.url) as s,
    ):
        sb.add_credentials("second-key", "second-secret")
        main, second = auth_headers(sb), auth_headers(sb, "second-key", "second-secret")
        statuses = []
        for headers in (main, main, main, second, second, second):
            async with s.get("/orders", headers=headers) as r:
                statuses.append(r.status)
        assert statuses == [200, 200, 429, 200, 200, 429]
        assert sb.window_state().remaining == 0
        assert sb.window_state("second-key").remaining == 0
        assert sb.window_state("unused-key").remaining == 2
        assert sb.stats().max_in_window == 2


async def test_rolling_and_aligned_windows_are_served() -> None:
    clock = [95.0]
    for window, expected in (
        ("aligned", [200, 200, 429, 200]),  # 95, 96 in [60,120); 119 refused; 120 new window
        ("rolling", [200, 200, 429, 429]),  # (60, 120] holds 95 and 96 (and 119 counts)
    ):
        clock[0] = 95.0
        async with (
            Sandbox(
                orders=1, rate_limit=RateLimit(2, 60.0), window=window, clock=lambda: clock[0]
            ) as sb,
            aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
        ):
            statuses = []
            for t in (95.0, 96.0, 119.0, 120.0):
                clock[0] = t
                async with s.get("/orders") as r:
                    statuses.append(r.status)
            assert statuses == expected, window


async def test_max_in_window_measures_a_burst_across_fixed_windows() -> None:
    clock = [0.0]
    async with (
        Sandbox(orders=1, rate_limit=RateLimit(5, 1.0), clock=lambda: clock[0]) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        for t in [0.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
            clock[0] = t
            async with s.get("/orders"):
                pass
        st = sb.stats()
        assert st.accepted == 10 and st.rate_limited == 1
        assert st.max_in_window == 9  # 4 at 0.9 and 5 at 1.0 fall in [0.9, 1.9)


async def test_stats_by_path_status_reset_and_arrivals(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    order_id = sandbox.world.orders.order_id(3)
    for path in ["/orders?page=2", "/orders", f"/orders/{order_id}", "/nope"]:
        async with session.get(path):
            pass
    st = sandbox.stats()
    assert st.requests == 4 and st.accepted == 4 and st.handled == 3
    assert st.by_path == {"/orders": 2, f"/orders/{order_id}": 1, "/nope": 1}
    assert st.by_status == {200: 3, 404: 1}
    log = sandbox.arrivals()
    assert [(m, p, s) for _, m, p, s in log] == [
        ("GET", "/orders?page=2", 200),
        ("GET", "/orders", 200),
        ("GET", f"/orders/{order_id}", 200),
        ("GET", "/nope", 404),
    ]
    times = [t for t, *_ in log]
    assert times == sorted(times)
    sandbox.reset_stats()
    st = sandbox.stats()
    assert (st.requests, st.accepted, st.by_path, st.max_in_window) == (0, 0, {}, 0)
    assert sandbox.arrivals() == []
    async with session.get("/orders") as r:
        # The window kept its state: 5 requests counted against it so far.
        assert r.headers["X-Rate-Limit-Remaining"] == str(100_000 - 5)


async def test_latency_delays_admitted_requests() -> None:
    async with (
        Sandbox(orders=1, latency=0.25) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        t0 = time.perf_counter()
        async with s.get("/orders") as r:
            assert r.status == 200
        assert time.perf_counter() - t0 >= 0.25
        # Latency overlaps: five concurrent requests take about one latency, not five.
        t0 = time.perf_counter()

        async def one() -> int:
            async with s.get("/orders") as r:
                return r.status

        assert await asyncio.gather(*(one() for _ in range(5))) == [200] * 5
        assert time.perf_counter() - t0 < 1.0
        sb.faults.latency = 0.3
        t0 = time.perf_counter()
        async with s.get("/orders"):
            pass
        assert time.perf_counter() - t0 >= 0.55
    # 401s are not delayed.
    async with Sandbox(orders=1, latency=5.0) as sb, aiohttp.ClientSession() as s:
        t0 = time.perf_counter()
        async with s.get(f"{sb.url}/orders") as r:
            assert r.status == 401
        assert time.perf_counter() - t0 < 1.0


async def test_close_is_idempotent_and_frees_the_port() -> None:
    sb = Sandbox(orders=1)
    await sb.start()
    port = sb.port
    with pytest.raises(RuntimeError):
        await sb.start()
    await sb.close()
    await sb.close()
    again = Sandbox(orders=1, port=port)
    async with again:
        assert again.port == port
