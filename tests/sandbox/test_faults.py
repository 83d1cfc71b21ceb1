from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest

from shipstation_async.errors import ConfigurationError
from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Faults, Sandbox

from .helpers import auth_headers


async def raw_get(sandbox: Sandbox, path: str) -> bytes:
    """Send one GET on a fresh connection and return every byte the server sends back."""
    host, port = "127.0.0.1", sandbox.port
    reader, writer = await asyncio.open_connection(host, port)
    token = base64.b64encode(f"{sandbox.api_key}:{sandbox.api_secret}".encode()).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {token}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    await writer.wait_closed()
    return data


async def test_scripted_500_has_an_aspnet_body_and_rate_headers(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.faults.script("error", status=500)
    async with session.get("/orders") as r:
        assert r.status == 500
        body = await r.json()
        assert body["Message"] == "An error has occurred."
        assert set(body) == {"Message", "ExceptionMessage", "ExceptionType", "StackTrace"}
        assert "X-Rate-Limit-Remaining" in r.headers
    async with session.get("/orders") as r:
        assert r.status == 200  # times=1: only the next request
    assert sandbox.stats().handled == 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_scripted_gateway_errors_are_html(
    sandbox: Sandbox, session: aiohttp.ClientSession, status: int
) -> None:
    sandbox.faults.script("error", status=status)
    async with session.get("/orders") as r:
        assert r.status == status
        assert r.content_type == "text/html"
        assert str(status) in await r.text()


async def test_scripts_match_method_and_path_and_apply_times_in_order(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    faults = sandbox.faults
    faults.script("error", status=503, path="/orders/*", times=2)
    faults.script("error", status=500, method="GET", path="/orders")
    assert faults.pending == 3
    order_id = sandbox.world.orders.order_id(0)
    statuses = []
    for path in [
        "/orders",
        "/orders",
        f"/orders/{order_id}",
        f"/orders/{order_id}",
        f"/orders/{order_id}",
    ]:
        async with session.get(path) as r:
            statuses.append(r.status)
    assert statuses == [500, 200, 503, 503, 200]
    assert faults.pending == 0


async def test_scripted_rate_limit_carries_window_headers_and_retry_after(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.faults.script("rate_limit", retry_after=7)
    sandbox.faults.script("rate_limit", retry_after=1.5)
    sandbox.faults.script("rate_limit")
    async with session.get("/orders") as r:
        assert r.status == 429
        assert await r.json() == {"message": "Too Many Requests"}
        assert r.headers["Retry-After"] == "7"
        assert r.headers["X-Rate-Limit-Limit"] == "100000"
        assert int(r.headers["X-Rate-Limit-Remaining"]) == 100_000 - 1
    async with session.get("/orders") as r:
        assert r.headers["Retry-After"] == "1.5"
    async with session.get("/orders") as r:
        assert r.status == 429 and "Retry-After" not in r.headers
    st = sandbox.stats()
    assert st.rate_limited == 3 and st.handled == 0


async def test_drop_before_closes_the_connection_without_running_the_handler(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.script("drop_before")
    assert await raw_get(sandbox, "/orders") == b""
    st = sandbox.stats()
    assert (st.dropped, st.handled, st.accepted) == (1, 0, 1)
    assert st.by_status == {}
    assert sandbox.arrivals()[-1][1:] == ("GET", "/orders", 0)
    assert (await raw_get(sandbox, "/orders")).startswith(b"HTTP/1.1 200")


async def test_drop_after_runs_the_handler_then_closes(sandbox: Sandbox) -> None:
    sandbox.faults.script("drop_after")
    assert await raw_get(sandbox, "/orders") == b""
    st = sandbox.stats()
    assert (st.dropped, st.handled) == (1, 1)


@pytest.mark.parametrize(("kind", "handled"), [("drop_before", 0), ("drop_after", 2)])
async def test_aiohttp_sees_a_disconnect_after_its_own_resend(
    sandbox: Sandbox, session: aiohttp.ClientSession, kind: str, handled: int
) -> None:
    # aiohttp re-sends an idempotent request once when the connection drops, so both the
    # request and aiohttp's silent resend must be dropped for the caller to see the error.
    sandbox.faults.script(kind, times=2)  # type: ignore[arg-type]
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        async with session.get("/orders") as r:
            await r.read()
    st = sandbox.stats()
    assert (st.requests, st.dropped, st.handled) == (2, 2, handled)
    async with session.get("/orders") as r:
        assert r.status == 200


async def test_a_single_drop_is_hidden_by_aiohttps_resend(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.faults.script("drop_after")
    async with session.get("/orders") as r:
        assert r.status == 200
    st = sandbox.stats()
    assert (st.requests, st.dropped, st.handled) == (2, 1, 2)  # the handler ran twice


async def statuses_under(faults: Faults, n: int = 40) -> list[int]:
    async with (
        Sandbox(orders=5, faults=faults, rate_limit=RateLimit(1000, 60)) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        out = []
        for _ in range(n):
            async with s.get("/orders") as r:
                out.append(r.status)
        return out


async def test_random_shares_are_deterministic_under_a_seed() -> None:
    a = await statuses_under(Faults(error_rate=0.4, seed=3))
    b = await statuses_under(Faults(error_rate=0.4, seed=3))
    c = await statuses_under(Faults(error_rate=0.4, seed=4))
    assert a == b
    assert a != c
    errors = [s for s in a if s != 200]
    assert 6 <= len(errors) <= 28
    assert set(errors) <= {500, 502, 503} and len(set(errors)) >= 2
    only_504 = await statuses_under(Faults(error_rate=1.0, error_statuses=(504,)), n=5)
    assert only_504 == [504] * 5


async def test_scripts_do_not_shift_the_random_sequence() -> None:
    plain = Faults(error_rate=0.5, seed=9)
    scripted = Faults(error_rate=0.5, seed=9)
    scripted.script("error", status=400)
    a = await statuses_under(plain, n=20)
    b = await statuses_under(scripted, n=20)
    assert b[0] == 400 and b[1:] == a[1:]


async def test_random_drops_are_counted(sandbox: Sandbox) -> None:
    sandbox.faults.drop_before_rate = 1.0
    for _ in range(3):
        assert await raw_get(sandbox, "/orders") == b""
    sandbox.faults.clear()
    assert (await raw_get(sandbox, "/orders")).startswith(b"HTTP/1.1 200")
    assert sandbox.stats().dropped == 3


def test_faults_validate_scripts() -> None:
    f = Faults()
    with pytest.raises(ConfigurationError):
        f.script("explode")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        f.script("error", times=0)
    with pytest.raises(ConfigurationError):
        f.script("error", status=200)
    f.script("error", times=3)
    f.latency = 1.0
    f.clear()
    assert f.pending == 0 and f.latency == 0.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("error_rate", 1.5),
        ("error_rate", float("nan")),
        ("drop_before_rate", -0.1),
        ("drop_after_rate", True),
        ("latency", -1.0),
        ("latency", float("inf")),
    ],
)
def test_fault_shares_and_latency_are_checked_when_made_and_when_changed(
    field: str, value: float
) -> None:
    with pytest.raises(ConfigurationError, match=field):
        Faults(**{field: value})
    faults = Faults()
    with pytest.raises(ConfigurationError, match=field):
        setattr(faults, field, value)
    assert getattr(faults, field) == 0.0  # a refused change leaves the setting as it was
    with pytest.raises(ConfigurationError, match="latency"):
        Sandbox(latency=float("nan"))


async def _post_label_and_give_up(sandbox: Sandbox, give_up_after: float) -> None:
    """POST a label purchase on its own connection and give up after ``give_up_after`` s."""
    order_id = sandbox.world.orders.order_id(0)
    body = {
        "orderId": order_id,
        "carrierCode": "stamps_com",
        "serviceCode": "usps_priority_mail",
        "packageCode": "package",
        "shipDate": "2025-06-02",
        "weight": {"value": 12, "units": "ounces"},
        "testLabel": False,
    }
    async with aiohttp.ClientSession(sandbox.url, headers=auth_headers(sandbox)) as s:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(give_up_after):
                await s.post("/orders/createlabelfororder", json=body)


async def _wait_for_labels(sandbox: Sandbox, count: int, within: float) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    while len(sandbox.labels()) < count:
        assert loop.time() - start < within, "the purchase never took effect"
        await asyncio.sleep(0.02)
    return loop.time() - start


async def test_latency_comes_after_processing_so_a_timed_out_post_takes_effect(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.latency = 1.0
    await _post_label_and_give_up(sandbox, 0.3)
    # Processed before the delay: the label exists although the client gave up unanswered.
    assert len(sandbox.labels()) == 1
    await asyncio.sleep(0.9)  # the answer goes to a closed connection: nothing fails
    assert not [r for r in caplog.records if "handler failed" in r.getMessage()]


async def test_a_late_fault_processes_the_request_after_its_client_gave_up(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.script("late", delay=0.8, path="/orders/createlabelfororder")
    await _post_label_and_give_up(sandbox, 0.2)
    assert sandbox.labels() == []  # still on its way when the client left
    waited = await _wait_for_labels(sandbox, 1, within=5.0)
    assert waited >= 0.4
    assert sandbox.write_counts().get("POST /orders/createlabelfororder") == 1
    assert not [r for r in caplog.records if "handler failed" in r.getMessage()]


async def test_late_shares_draw_their_delay_and_keep_the_other_shares_sequence() -> None:
    plain = await statuses_under(Faults(error_rate=0.5, seed=9), n=20)
    late = Faults(error_rate=0.5, seed=9, late_rate=1.0, late_delay=(0.01, 0.03))
    assert await statuses_under(late, n=20) == plain  # late requests still answer
    decisions = [late.decide("GET", "/orders") for _ in range(40)]
    delays = {d.delay for d in decisions if d.kind == "late"}
    assert all(0.01 <= d <= 0.03 for d in delays) and len(delays) > 5
    with pytest.raises(ConfigurationError, match="late_delay"):
        Faults(late_delay=(2.0, 1.0))
    with pytest.raises(ConfigurationError, match="late_delay"):
        late.late_delay = -1.0
    with pytest.raises(ConfigurationError, match="delay"):
        late.script("late", delay=float("nan"))
