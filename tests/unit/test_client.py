"""The request pipeline against a loopback recording server: wire format, errors, retries."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import socket
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shipstation_async import (
    AmbiguousRequestError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    Operation,
    RateLimit,
    RateLimitError,
    RetryPolicy,
    Safety,
    ServerError,
    ShipStation,
    TransportError,
    _http,
)
from shipstation_async.events import (
    CompletedAfterCancel,
    Event,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
    Throttled,
)

from ..conftest import NO_WAIT, unique_key, until
from ..recording import RecordingServer, Reply

SECRET = "s3cr3t-value"
PARTNER = "partner-k3y-value"
LABEL = Operation(
    "POST", "/shipments/createlabel", body={"carrierCode": "ups"}, safety=Safety.NON_IDEMPOTENT
)


def rl(remaining: int = 39, reset: str = "59", limit: int = 40) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": reset,
    }


def make_client(server: RecordingServer, **kwargs: Any) -> ShipStation:
    options: dict[str, Any] = {
        "base_url": server.url,
        "rate_limit": RateLimit(1000, 60.0),
        "retry": NO_WAIT,
        "max_wait": 10,
    }
    options.update(kwargs)
    return ShipStation(unique_key(), SECRET, **options)


async def test_missing_credentials_name_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPSTATION_API_KEY", raising=False)
    monkeypatch.delenv("SHIPSTATION_API_SECRET", raising=False)
    with pytest.raises(ConfigurationError) as info:
        ShipStation()
    text = str(info.value)
    assert "api_key" in text and "SHIPSTATION_API_KEY" in text and "SHIPSTATION_API_SECRET" in text


@pytest.mark.parametrize(("key", "secret"), [("   ", "s3cret"), ("key", "   "), (" ", " ")])
def test_blank_credentials_are_refused(key: str, secret: str) -> None:
    with pytest.raises(ConfigurationError, match="must not be blank"):
        ShipStation(key, secret, base_url="http://127.0.0.1:9")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a b", "http://127.0.0.1:9/a\tb"])
def test_a_base_url_that_would_break_the_request_line_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url must be"):
        ShipStation("key", "secret", base_url=url)


async def test_credentials_from_environment(
    monkeypatch: pytest.MonkeyPatch, recorder: RecordingServer
) -> None:
    monkeypatch.setenv("SHIPSTATION_API_KEY", "ShipStation")
    monkeypatch.setenv("SHIPSTATION_API_SECRET", "Rocks")
    recorder.default = Reply(body={"orders": [], "total": 0, "page": 1, "pages": 0})
    async with ShipStation(base_url=recorder.url) as ss:
        await ss.orders.list()
    assert recorder.requests[0].headers["Authorization"] == "Basic U2hpcFN0YXRpb246Um9ja3M="


async def test_base_url_from_environment(
    monkeypatch: pytest.MonkeyPatch, recorder: RecordingServer
) -> None:
    monkeypatch.setenv("SHIPSTATION_BASE_URL", recorder.url + "/")
    recorder.default = Reply(body={"orders": [], "total": 0, "page": 1, "pages": 0})
    async with ShipStation("k", "s") as ss:
        assert ss.base_url == recorder.url
        await ss.orders.list()
    assert len(recorder.requests) == 1
    # An explicit argument wins over the environment; without either, ShipStation's own API.
    assert ShipStation("k", "s", base_url="http://127.0.0.1:9").base_url == "http://127.0.0.1:9"
    monkeypatch.delenv("SHIPSTATION_BASE_URL")
    assert ShipStation("k", "s").base_url == "https://ssapi.shipstation.com"


def test_a_bad_base_url_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPSTATION_BASE_URL", "http://u:hunter2@10.0.0.5:8080")
    with pytest.raises(ConfigurationError) as info:
        ShipStation("k", "s")
    assert "hunter2" not in str(info.value)


def _partner_header(request: Any) -> str | None:
    found = [v for k, v in request.headers.items() if k.lower() == "x-partner"]
    assert len(found) <= 1
    return found[0] if found else None


async def test_partner_key_goes_out_as_x_partner_on_every_request(
    monkeypatch: pytest.MonkeyPatch, recorder: RecordingServer
) -> None:
    monkeypatch.delenv("SHIPSTATION_PARTNER_KEY", raising=False)
    recorder.default = Reply(body={"orderId": 1}, headers=rl())
    async with make_client(recorder) as ss:
        await ss.orders.get(1)
    assert _partner_header(recorder.requests[-1]) is None
    async with make_client(recorder, partner_key="partner-0123456789") as ss:
        await ss.orders.get(1)
        await ss.request(Operation("POST", "/orders/addtag", body={"orderId": 1, "tagId": 2}))
    async with (
        aiohttp.ClientSession() as session,
        make_client(recorder, partner_key="partner-0123456789", session=session) as ss,
    ):
        await ss.orders.get(1)
    monkeypatch.setenv("SHIPSTATION_PARTNER_KEY", "from-the-environment")
    async with make_client(recorder) as ss:
        await ss.orders.get(1)
    assert [_partner_header(r) for r in recorder.requests[1:]] == [
        "partner-0123456789",
        "partner-0123456789",
        "partner-0123456789",
        "from-the-environment",
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("partner_key", ""),
        ("partner_key", "  "),
        ("partner_key", "abc\r\nX-Injected: 1"),
        ("partner_key", 12345),
        ("user_agent", "agent\nX-Injected: 1"),
    ],
)
async def test_a_header_option_that_cannot_be_sent_is_refused_up_front(
    recorder: RecordingServer, option: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError, match=option) as info:
        make_client(recorder, **{option: value})
    assert "X-Injected" not in str(info.value)
    assert recorder.requests == []


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: RateLimit(0, 60), "requests"),
        (lambda: RateLimit(40.5, 60), "requests"),  # type: ignore[arg-type]
        (lambda: RateLimit(True, 60), "requests"),
        (lambda: RateLimit(40, 0), "period"),
        (lambda: RateLimit(40, NAN), "period"),
        (lambda: RateLimit(40, INF), "period"),
        (lambda: RateLimit(40, 60, margin=NAN), "margin"),
        (lambda: RateLimit(40, 60, margin=-1), "margin"),
        (lambda: RateLimit(40, 60, reserve=40), "reserve"),
        (lambda: RateLimit(40, 60, reserve=1.5), "reserve"),  # type: ignore[arg-type]
        (lambda: RetryPolicy(max_attempts=0), "max_attempts"),
        (lambda: RetryPolicy(max_attempts=2.5), "max_attempts"),  # type: ignore[arg-type]
        (lambda: RetryPolicy(base=-0.5), "base"),
        (lambda: RetryPolicy(cap=NAN), "cap"),
        (lambda: ShipStation("k", "s", timeout=NAN), "timeout"),
        (lambda: ShipStation("k", "s", timeout=0), "timeout"),
        (lambda: ShipStation("k", "s", max_wait=NAN), "max_wait"),
        (lambda: ShipStation("k", "s", max_wait=-1), "max_wait"),
        (lambda: ShipStation("k", "s", max_in_flight=0), "max_in_flight"),
        (lambda: ShipStation("k", "s", max_in_flight=2.5), "max_in_flight"),  # type: ignore[arg-type]
        (lambda: ShipStation("k", "s", rate_limit=(40, 60)), "rate_limit"),  # type: ignore[arg-type]
        (lambda: ShipStation("k", "s", retry=3), "retry"),  # type: ignore[arg-type]
        (lambda: ShipStation("k", "s", base_url="ssapi.shipstation.com"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="ftp://127.0.0.1"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://127.0.0.1/?key=1"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://127.0.0.1:99999"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://127.0.0.1:8080/?"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://127.0.0.1:8080/#"), "base_url"),
        (lambda: ShipStation("k", "s", base_url="http://me:pw@127.0.0.1:8080"), "base_url"),
    ],
)
def test_settings_that_cannot_work_are_refused_when_made(make: Any, name: str) -> None:
    # NaN compares false with everything: a NaN period or wait would pass a "<= 0" check and
    # then grant without limit or never, so every setting is checked for what it must be.
    with pytest.raises(ConfigurationError, match=name) as info:
        make()
    assert "pw" not in str(info.value)  # a password in a URL is not echoed


async def test_settings_that_look_odd_but_work_are_taken(
    monkeypatch: pytest.MonkeyPatch, recorder: RecordingServer
) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl())
    # An upper-case scheme, a trailing slash, an empty user agent (the default), an int timeout.
    shouted = "HTTP://" + recorder.url.removeprefix("http://") + "/"
    async with make_client(recorder, base_url=shouted, user_agent="", timeout=5) as ss:
        await ss.orders.get(1)
    assert recorder.requests[-1].headers["User-Agent"].startswith("shipstation-async/")
    monkeypatch.setenv("SHIPSTATION_PARTNER_KEY", " ")
    with pytest.raises(ConfigurationError, match="SHIPSTATION_PARTNER_KEY"):
        make_client(recorder)


@pytest.mark.parametrize(
    ("options", "field"),
    [({"max_wait": NAN}, "max_wait"), ({"max_wait": -1}, "max_wait"), ({"lane": "fast"}, "lane")],
)
async def test_call_options_that_cannot_work_send_nothing(
    client: ShipStation, recorder: RecordingServer, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await client.orders.get(1, **options)
    assert info.value.field == field
    assert recorder.requests == []


async def test_orders_list_wire_format(client: ShipStation, recorder: RecordingServer) -> None:
    from datetime import UTC, datetime

    recorder.default = Reply(
        body={"orders": [{"orderId": 1, "orderTotal": 1.5}], "total": 1, "page": 2, "pages": 1},
        headers=rl(),
    )
    page = await client.orders.list(
        page=2,
        page_size=250,
        order_status="awaiting_shipment",
        create_date_start=datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
        create_date_end=datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        sort_by="CreateDate",
        sort_dir="ASC",
    )
    (request,) = recorder.requests
    assert request.method == "GET"
    assert request.path == "/orders"
    assert request.query_string == (
        "createDateStart=2024-01-01%2000%3A00%3A00&createDateEnd=2024-03-01%2000%3A00%3A00"
        "&orderStatus=awaiting_shipment&sortBy=CreateDate&sortDir=ASC&page=2&pageSize=250"
    )
    assert request.body == b""
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("shipstation-async/")
    assert request.headers["Authorization"].startswith("Basic ")
    assert page.total == 1 and page.page == 2 and page.pages == 1
    assert page.items[0].order_id == 1
    assert str(page.items[0].order_total) == "1.5"


async def test_get_order_path(client: ShipStation, recorder: RecordingServer) -> None:
    recorder.default = Reply(body={"orderId": 94113592, "orderNumber": "X"})
    order = await client.orders.get(94113592)
    assert recorder.requests[0].path == "/orders/94113592"
    assert order.order_number == "X"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"page_size": 501}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"order_status": "lost"}, "order_status"),
        ({"sort_by": "Name"}, "sort_by"),
    ],
)
async def test_bad_list_arguments_send_nothing(
    client: ShipStation, recorder: RecordingServer, kwargs: dict[str, Any], field: str
) -> None:
    from shipstation_async import InvalidRequestError

    with pytest.raises(InvalidRequestError) as info:
        await client.orders.list(**kwargs)
    assert info.value.field == field
    assert recorder.requests == []


async def test_reversed_or_naive_range_sends_nothing(
    client: ShipStation, recorder: RecordingServer
) -> None:
    from datetime import UTC, datetime

    from shipstation_async import InvalidRequestError

    with pytest.raises(InvalidRequestError) as info:
        await client.orders.list(
            modify_date_start=datetime(2024, 2, 1, tzinfo=UTC),
            modify_date_end=datetime(2024, 1, 1, tzinfo=UTC),
        )
    assert info.value.field == "modify_date_end"
    with pytest.raises(InvalidRequestError):
        await client.orders.list(create_date_start=datetime(2024, 2, 1))
    assert recorder.requests == []


async def test_error_statuses_raise_typed_errors_without_retry(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(
        Reply(400, {"Message": "The request is invalid.", "ModelState": {"pageSize": ["bad"]}}),
        Reply(401, raw=b"401 Unauthorized"),
        Reply(404, {"Message": "Not found"}),
    )
    with pytest.raises(BadRequestError) as bad:
        await client.orders.list()
    assert bad.value.details == {"pageSize": ["bad"]}
    with pytest.raises(AuthenticationError):
        await client.orders.list()
    with pytest.raises(NotFoundError):
        await client.orders.get(5)
    assert len(recorder.requests) == 3


async def test_idempotent_get_retries_5xx_and_drops(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(Reply(500, {"Message": "An error has occurred."}), Reply(drop=True))
    recorder.default = Reply(body={"orderId": 7})
    order = await client.orders.get(7)
    assert order.order_id == 7
    assert len(recorder.requests) == 3
    # aiohttp re-sends a dropped GET by itself; that re-send is counted like any other
    assert client.rate_limit_status().total_sent == 3


async def test_idempotent_retries_stop_at_the_cap(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(503, raw=b"<html>Service Unavailable</html>")
    with pytest.raises(ServerError) as info:
        await client.orders.get(7)
    assert info.value.status == 503
    assert len(recorder.requests) == NO_WAIT.max_attempts
    assert info.value.__notes__ == [
        f"gave up after {NO_WAIT.max_attempts} attempts (the retry policy's max_attempts)"
    ]


def _too_many(reset: str = "0.01") -> Reply:
    return Reply(429, {"message": "Too Many Requests"}, headers=rl(0, reset, limit=1000))


async def test_429s_are_retried_past_the_attempt_cap_until_max_wait(
    recorder: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A 429 proves the request was not processed: another process on the key may win the race
    # for several windows in a row, and the call still completes (the cap is for failures).
    fast = RateLimit(1000, 1.0, margin=0.01)
    recorder.reply(*[_too_many() for _ in range(NO_WAIT.max_attempts + 3)])
    recorder.default = Reply(body={"shipmentId": 1}, headers=rl())
    events: list[Event] = []
    caplog.set_level(logging.WARNING, logger="shipstation_async")
    async with make_client(recorder, rate_limit=fast, hooks=[events.append]) as ss:
        assert await ss.request(LABEL) == {"shipmentId": 1}
        assert ss.rate_limit_status().total_sent == NO_WAIT.max_attempts + 4
    # Every pause is told: a warning and a Throttled event per 429.
    pauses = [r for r in caplog.records if "holding every request" in r.getMessage()]
    assert len(pauses) == NO_WAIT.max_attempts + 3
    assert sum(isinstance(e, Throttled) for e in events) == NO_WAIT.max_attempts + 3
    # 429s and failures together: the failures alone meet the cap.
    recorder.reply(*[_too_many() for _ in range(NO_WAIT.max_attempts)])
    recorder.default = Reply(503, raw=b"<html>Service Unavailable</html>")
    async with make_client(recorder, rate_limit=fast) as ss:
        with pytest.raises(ServerError) as failed:
            await ss.orders.get(1)
    attempts = 2 * NO_WAIT.max_attempts
    assert failed.value.__notes__ == [
        f"gave up after {attempts} attempts, {NO_WAIT.max_attempts} of them failed "
        "(the retry policy's max_attempts)"
    ]
    # max_wait bounds the wait: a window that does not reset in time ends the call, unsent.
    recorder.requests.clear()
    recorder.reply(_too_many(), _too_many(reset="30"))
    async with make_client(recorder, rate_limit=fast, max_wait=5) as ss:
        with pytest.raises(RateLimitError) as waited:
            await ss.orders.get(1)
    assert len(recorder.requests) == 2
    assert not waited.value.sent
    assert waited.value.__notes__ == [
        "gave up after 2 attempts, 2 of them answered 429 Too Many Requests: the next would "
        "pass max_wait"
    ]


async def test_non_idempotent_5xx_is_ambiguous_and_sent_once(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(500, {"Message": "An error has occurred."})
    with pytest.raises(AmbiguousRequestError) as info:
        await client.request(LABEL)
    assert isinstance(info.value.cause, ServerError)
    assert "not retried" in str(info.value)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(302, {"orderId": 1}), (303, {}), (307, b""), (304, b""), (301, b"<html>moved</html>")],
)
async def test_a_redirect_is_never_a_result(
    client: ShipStation, recorder: RecordingServer, status: int, body: Any
) -> None:
    # The API does not redirect: a 3xx is an error for a read (not retried: the same
    # answer would come again) and ambiguous for a write (a 303 says a POST was processed).
    raw = body if isinstance(body, bytes) else None
    location = {"Location": "https://elsewhere.example/orders"}
    recorder.default = Reply(status, {} if raw is not None else body, location, raw=raw)
    with pytest.raises(APIError) as read:
        await client.request(Operation("GET", "/orders/1"))
    assert read.value.status == status and "redirect to 'https://elsewhere" in str(read.value)
    assert len(recorder.requests) == 1
    with pytest.raises(AmbiguousRequestError) as write:
        await client.request(LABEL)
    assert isinstance(write.value.cause, APIError) and write.value.cause.status == status
    assert "does not follow" in str(write.value) and len(recorder.requests) == 2


async def test_non_idempotent_drop_after_send_is_ambiguous_and_sent_once(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(drop=True)
    with pytest.raises(AmbiguousRequestError) as info:
        await client.request(LABEL)
    assert isinstance(info.value.cause, TransportError) and info.value.cause.sent
    assert len(recorder.requests) == 1


async def test_non_idempotent_timeout_is_ambiguous_and_sent_once(
    recorder: RecordingServer,
) -> None:
    recorder.default = Reply(delay=1.0)
    async with make_client(recorder, timeout=0.2) as ss:
        with pytest.raises(AmbiguousRequestError):
            await ss.request(LABEL)
    await asyncio.sleep(0)
    assert len(recorder.requests) == 1


async def test_non_idempotent_is_retried_after_429(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(Reply(429, {"message": "Too Many Requests"}, headers=rl(0, "0.2")))
    recorder.default = Reply(body={"shipmentId": 1}, headers=rl())
    events: list[Event] = []
    client._hooks = (events.append,)
    started = time.monotonic()
    result = await client.request(LABEL)
    assert result == {"shipmentId": 1}
    assert len(recorder.requests) == 2
    # held until the window reset (0.2 s) plus the margin
    assert time.monotonic() - started >= 0.2
    assert any(isinstance(e, Throttled) for e in events)
    assert client.rate_limit_status().rate_limited >= 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_even_when_not_idempotent() -> None:
    events: list[Event] = []
    async with ShipStation(
        unique_key(),
        SECRET,
        base_url=f"http://127.0.0.1:{_closed_port()}",
        retry=NO_WAIT,
        hooks=[events.append],
    ) as ss:
        with pytest.raises(TransportError) as info:
            await ss.request(LABEL)
    assert info.value.sent is False
    retries = [e for e in events if isinstance(e, RetryScheduled)]
    assert len(retries) == NO_WAIT.max_attempts - 1
    assert not any(isinstance(e, RequestSent) for e in events)
    assert ss.rate_limit_status().total_sent == 0


async def test_delete_404_after_ambiguous_attempt_counts_as_success(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.reply(Reply(drop=True), Reply(404, {"Message": "not found"}))
    op = Operation(
        "DELETE",
        "/orders/5",
        recover=lambda error: (
            {"success": True, "message": "already deleted"} if error.status == 404 else None
        ),
    )
    assert await client.request(op) == {"success": True, "message": "already deleted"}
    # Without an ambiguous first attempt the 404 stands.
    recorder.reply(Reply(404, {"Message": "not found"}))
    with pytest.raises(NotFoundError):
        await client.request(op)


async def test_max_wait_fails_fast_before_sending(recorder: RecordingServer) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(1, "30", limit=2))
    async with make_client(recorder, rate_limit=RateLimit(2, 30.0)) as ss:
        await ss.orders.get(1)
        await ss.orders.get(1)
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await ss.orders.get(1, max_wait=1.0)
        assert time.monotonic() - started < 0.5
        assert info.value.sent is False
        assert info.value.retry_after is not None and info.value.retry_after > 25
    assert len(recorder.requests) == 2


async def test_cancelled_waiter_leaves_the_queue(recorder: RecordingServer) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(1, "30", limit=2))
    async with make_client(recorder, rate_limit=RateLimit(2, 30.0), max_wait=None) as ss:
        await ss.orders.get(1)
        await ss.orders.get(1)
        waiting = asyncio.ensure_future(ss.orders.get(1))
        await until(lambda: ss.rate_limit_status().queued["interactive"] == 1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        status = ss.rate_limit_status()
        assert status.queued["interactive"] == 0 and status.reserved == 0
    assert len(recorder.requests) == 2


async def test_cancelled_label_purchase_on_the_wire_runs_to_completion(
    recorder: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.default = Reply(body={"shipmentId": 9}, delay=0.3, headers=rl())
    events: list[Event] = []
    async with make_client(recorder, hooks=[events.append]) as ss:
        task = asyncio.ensure_future(ss.request(LABEL))
        await until(lambda: len(recorder.requests) == 1)  # on the wire
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):  # the answer is due 0.3 s after the send; allow a loaded machine
            done = [e for e in events if isinstance(e, CompletedAfterCancel)]
            if done:
                break
            await asyncio.sleep(0.05)
        assert done == [CompletedAfterCancel("POST", "/shipments/createlabel", 200, None)]
        assert ss.rate_limit_status().in_flight == 0
    assert len(recorder.requests) == 1
    assert "ran to completion after its caller was cancelled" in caplog.text


async def test_cancelled_get_is_abandoned(recorder: RecordingServer) -> None:
    recorder.default = Reply(body={"orderId": 1}, delay=0.5, headers=rl())
    events: list[Event] = []
    async with make_client(recorder, hooks=[events.append]) as ss:
        task = asyncio.ensure_future(ss.orders.get(1))
        await until(lambda: len(recorder.requests) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        status = ss.rate_limit_status()
        assert status.in_flight == 0 and status.total_sent == 1  # the send stays counted
    assert not any(isinstance(e, ResponseReceived) for e in events)


async def test_hooks_see_every_step_and_a_failing_hook_is_ignored(
    client: ShipStation, recorder: RecordingServer
) -> None:
    events: list[Event] = []

    def broken(_: Event) -> None:
        raise RuntimeError("boom")

    client._hooks = (broken, events.append)
    recorder.reply(Reply(500, {"Message": "x"}, headers=rl()))
    recorder.default = Reply(body={"orderId": 3}, headers=rl(38))
    await client.orders.get(3)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RequestSent",
        "ResponseReceived",
        "RetryScheduled",
        "RequestSent",
        "ResponseReceived",
    ]
    last = events[-1]
    assert isinstance(last, ResponseReceived) and last.rate_limit is not None
    assert last.rate_limit.remaining == 38 and last.attempt == 2


async def test_secret_never_appears_in_repr_errors_logs_or_hooks(
    recorder: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events: list[Event] = []
    recorder.reply(
        Reply(500, {"Message": "x"}),
        Reply(401, raw=b"401 Unauthorized"),
        Reply(drop=True),
    )
    async with make_client(recorder, hooks=[events.append], partner_key=PARTNER) as ss:
        authorization = ss._credentials.authorization.reveal()
        texts = [repr(ss), str(ss), repr(ss._credentials), repr(ss._builder)]
        with pytest.raises(AuthenticationError) as auth:
            await ss.orders.get(1)
        with pytest.raises(AmbiguousRequestError) as ambiguous:
            await ss.request(LABEL)
        texts += [str(auth.value), repr(auth.value), str(ambiguous.value), repr(ambiguous.value)]
        texts += [str(ambiguous.value.cause), repr(ambiguous.value.cause)]
        texts += [repr(e) for e in events]
        texts.append(repr(ss.rate_limit_status()))
    texts.append(caplog.text)
    for text in texts:
        assert SECRET not in text and PARTNER not in text
        assert authorization not in text
        assert authorization.split()[1] not in text


async def test_an_error_body_echoing_the_credential_is_redacted(
    recorder: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Some gateways answer with the request's own headers in the page.
    caplog.set_level(logging.DEBUG)
    async with make_client(recorder, retry=RetryPolicy(max_attempts=1), partner_key=PARTNER) as ss:
        authorization = ss._credentials.authorization.reveal()
        echo = f"Bad gateway. Authorization: {authorization}; password={SECRET}"
        echo += f"; x-partner: {PARTNER}"
        recorder.reply(
            Reply(502, raw=echo.encode()),
            Reply(400, {"Message": echo, "ModelState": {"auth": [authorization]}}),
        )
        with pytest.raises(ServerError) as gateway:
            await ss.orders.get(1)
        with pytest.raises(BadRequestError) as invalid:
            await ss.orders.get(1)
    for error in (gateway.value, invalid.value):
        texts = [str(error), repr(error), error.message, str(error.details), str(error.body)]
        for text in texts:
            assert SECRET not in text and PARTNER not in text
            assert authorization.split()[1] not in text
        assert (
            "Bad gateway. Authorization: Basic [redacted]; password=[redacted]; "
            "x-partner: [redacted]" in error.message
        )
    assert invalid.value.details == {"auth": ["Basic [redacted]"]}
    assert SECRET not in caplog.text and authorization.split()[1] not in caplog.text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_user_session_auth_is_ignored_and_session_left_open(
    recorder: RecordingServer,
) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl())
    async with aiohttp.ClientSession(
        auth=aiohttp.BasicAuth("someone", "else"), raise_for_status=True
    ) as session:
        before = list(session.trace_configs)
        ss = make_client(recorder, session=session)
        recorder.reply(Reply(404, {"Message": "nope"}))
        with pytest.raises(NotFoundError):  # our error, not aiohttp's raise_for_status
            await ss.orders.get(1)
        await ss.orders.get(1)
        assert ss.rate_limit_status().total_sent == 2
        await ss.aclose()
        assert not session.closed
        assert session.trace_configs == before
    assert recorder.requests[0].headers["Authorization"] == ss._credentials.authorization.reveal()


async def test_clients_of_many_keys_share_one_user_session(recorder: RecordingServer) -> None:
    """The send hook runs once per request however many clients share the session (run
    twice, it took every first send for aiohttp's re-send and refused it)."""
    recorder.default = Reply(body={"orderId": 1}, headers=rl())
    async with aiohttp.ClientSession() as session:
        before = list(session.trace_configs)
        clients = [make_client(recorder, session=session) for _ in range(3)]
        await asyncio.gather(*(ss.orders.get(1) for ss in clients for _ in range(4)))
        assert [ss.rate_limit_status().total_sent for ss in clients] == [4, 4, 4]
        await clients[0].aclose()
        await clients[1].orders.get(1)  # the hook stays while another client uses it
        assert clients[1].rate_limit_status().total_sent == 5
        for ss in clients[1:]:
            await ss.aclose()
        assert session.trace_configs == before
    assert len(recorder.requests) == 13


async def test_closed_client_refuses_requests(recorder: RecordingServer) -> None:
    ss = make_client(recorder)
    await ss.aclose()
    with pytest.raises(ConfigurationError):
        await ss.orders.get(1)


async def test_aclose_fails_waiting_calls_at_once_and_lets_a_label_purchase_finish(
    recorder: RecordingServer,
) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(), delay=0.5)
    recorder.reply(Reply(body={"shipmentId": 7}, headers=rl(), delay=0.5))
    ss = make_client(recorder, max_in_flight=1)
    label = asyncio.ensure_future(ss.request(LABEL))  # takes the one in-flight slot
    waiting = [asyncio.ensure_future(ss.orders.get(n)) for n in range(1, 4)]
    # The purchase is on the wire; the reads (started with it) wait for the slot.
    await until(lambda: len(recorder.requests) == 1)
    started = time.monotonic()
    await ss.aclose()
    # The purchase completed and its caller has the answer, not an ambiguous error.
    assert await label == {"shipmentId": 7}
    assert time.monotonic() - started < 1.0
    for call in waiting:
        with pytest.raises(ClientClosedError):
            await call
    assert [r.path for r in recorder.requests] == ["/shipments/createlabel"]
    with pytest.raises(ClientClosedError):
        await ss.orders.get(1)
    await ss.aclose()  # again: nothing to do


async def test_aclose_fails_calls_held_by_the_budget_without_sending_them(
    recorder: RecordingServer,
) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(remaining=1, limit=2))
    ss = make_client(recorder, rate_limit=RateLimit(2, 60.0), max_wait=None)
    await ss.orders.get(1)
    await ss.orders.get(2)
    waiting = [asyncio.ensure_future(ss.orders.get(n)) for n in range(1, 4)]
    await until(lambda: ss.rate_limit_status().queued["interactive"] == 3)
    started = time.monotonic()
    await ss.aclose()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ClientClosedError) for r in results)
    assert time.monotonic() - started < 0.5  # not held until the window resets
    assert len(recorder.requests) == 2


async def test_aclose_ends_retries_and_cuts_off_requests_past_the_grace(
    recorder: RecordingServer,
) -> None:
    recorder.reply(
        Reply(500, {"Message": "x"}, headers={"Retry-After": "0.3"}),  # the read's retry waits
        Reply(body={"shipmentId": 7}, headers=rl(), delay=2.0),  # the purchase: too slow
    )
    ss = make_client(recorder, retry=RetryPolicy(max_attempts=4))
    read = asyncio.ensure_future(ss.orders.get(1))
    await until(lambda: len(recorder.requests) == 1)
    label = asyncio.ensure_future(ss.request(LABEL))
    await until(lambda: len(recorder.requests) == 2)
    await ss.aclose(grace=0.2)
    with pytest.raises(ClientClosedError) as closed:
        await read  # its retry found the client closed and was not sent
    assert closed.value.sent  # its first attempt reached the server (a 500)
    assert (closed.value.method, closed.value.path) == ("GET", "/orders/1")
    with pytest.raises(AmbiguousRequestError):
        await label  # cut off by the closing session: it may have taken effect
    assert [r.path for r in recorder.requests] == ["/orders/1", "/shipments/createlabel"]


async def test_aclose_past_the_grace_cuts_off_a_stalled_answer(
    recorder: RecordingServer,
) -> None:
    recorder.reply(Reply(body={"shipmentId": 7, "pad": "x" * 2000}, headers=rl(), stall_body=5))
    ss = make_client(recorder, timeout=2.0)
    label = asyncio.ensure_future(ss.request(LABEL))
    await until(lambda: len(recorder.requests) == 1)
    await asyncio.sleep(0.1)  # the headers and half the body are in
    started = time.monotonic()
    await ss.aclose(grace=0.2)
    with pytest.raises(AmbiguousRequestError, match="cut off: the client was closed"):
        await asyncio.wait_for(label, 1.0)  # not left waiting for a body that never comes
    assert time.monotonic() - started < 1.0
    status = ss.rate_limit_status()
    assert (status.in_flight, status.reserved, ss._in_flight.count) == (0, 0, 0)


async def test_a_request_held_by_a_429_after_aclose_began_is_not_sent(
    recorder: RecordingServer,
) -> None:
    recorder.reply(
        Reply(body={"orderId": 9}, headers=rl()),
        Reply(
            429, {"message": "Too Many Requests"}, headers={**rl(0), "Retry-After": "2"}, delay=0.4
        ),
    )
    recorder.default = Reply(body={"shipmentId": 7}, headers=rl())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        ss = make_client(recorder, session=session)
        await ss.orders.get(9)  # the cold-start probe: later grants come at once
        read = asyncio.ensure_future(ss.orders.get(1))  # holds the only connection; gets a 429
        await until(lambda: len(recorder.requests) == 2)
        label = asyncio.ensure_future(ss.request(LABEL))  # granted, waits for the connection
        await until(lambda: ss.rate_limit_status().reserved == 1)
        started = time.monotonic()
        await ss.aclose(grace=2.0)
        assert time.monotonic() - started < 1.0  # nothing left to wait for once the 429 landed
        for call in (read, label):
            with pytest.raises(ClientClosedError) as closed:
                await call
            assert not closed.value.sent
    assert [r.path for r in recorder.requests] == ["/orders/9", "/orders/1"]


async def test_a_cancelled_aclose_still_closes_the_session(recorder: RecordingServer) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(), delay=2.0)
    ss = make_client(recorder)
    call = asyncio.ensure_future(ss.orders.get(1))
    await until(lambda: len(recorder.requests) == 1)
    session = ss._session
    assert session is not None
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await ss.aclose()  # waiting for the call when the timeout cancels it
    assert session.closed
    with pytest.raises(ClientClosedError):
        await call


async def test_a_call_on_a_user_session_that_was_closed_raises_client_closed(
    recorder: RecordingServer,
) -> None:
    session = aiohttp.ClientSession()
    ss = make_client(recorder, session=session)
    await session.close()
    with pytest.raises(ClientClosedError, match="session is closed"):
        await ss.orders.get(1)
    assert not recorder.requests
    assert ss.rate_limit_status().reserved == 0  # its slot went back
    await ss.aclose()


async def test_retry_policy_backoff_is_capped_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, base=1.0, cap=4.0)
    samples = [policy.delay(n) for n in range(1, 8) for _ in range(50)]
    assert all(0 <= s <= 4.0 for s in samples)
    assert max(policy.delay(1) for _ in range(200)) <= 1.0
    assert policy.delay(3, server_delay=9.0) == 9.0
    assert RetryPolicy(base=0).delay(5) == 0.0


async def test_bulk_calls_are_not_bound_by_the_interactive_max_wait(
    recorder: RecordingServer,
) -> None:
    recorder.default = Reply(body={"orderId": 1}, headers=rl(1, "30", limit=2))
    async with make_client(recorder, rate_limit=RateLimit(2, 30.0), max_wait=0.5) as ss:
        await ss.orders.get(1)
        await ss.orders.get(1)
        with pytest.raises(RateLimitError):
            await ss.orders.get(1)  # interactive: the client's 0.5 s applies
        waiting = asyncio.ensure_future(ss.orders.get(1, lane="bulk"))
        await asyncio.sleep(0.7)
        assert not waiting.done()  # bulk: still queued past 0.5 s
        assert ss.rate_limit_status().queued["bulk"] == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting


async def test_untrustworthy_rate_limit_headers_leak_nothing(recorder: RecordingServer) -> None:
    recorder.reply(
        Reply(
            body={"orderId": 1},
            headers={
                "X-Rate-Limit-Remaining": "inf",
                "X-Rate-Limit-Limit": "1e999",
                "X-Rate-Limit-Reset": "nan",
            },
        ),
        Reply(
            body={"orderId": 1},
            headers={
                "Retry-After": "Wed, 21 Oct 2015 07:28:30 -0000",
                "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
            },
        ),
    )
    recorder.default = Reply(body={"orderId": 1}, headers=rl())
    async with make_client(recorder, max_wait=2.0) as ss:
        for _ in range(3):
            assert (await ss.orders.get(1)).order_id == 1
        status = ss.rate_limit_status()
        assert status.in_flight == 0 and status.reserved == 0 and not status.probing


async def test_waiters_held_by_the_in_flight_cap_do_not_spin(
    recorder: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipstation_async import scheduler

    calls = 0
    original = scheduler.LoopScheduler._dispatch

    def counting(self: scheduler.LoopScheduler) -> None:
        nonlocal calls
        calls += 1
        original(self)

    monkeypatch.setattr(scheduler.LoopScheduler, "_dispatch", counting)
    recorder.default = Reply(body={"orderId": 1}, delay=0.4, headers=rl())
    async with make_client(recorder, max_in_flight=2, max_wait=None) as ss:
        await ss.orders.get(1)
        tasks = [asyncio.ensure_future(ss.orders.get(1)) for _ in range(500)]
        await asyncio.sleep(0.05)
        calls = 0
        await asyncio.sleep(0.3)  # nothing answers in this time: nothing to do
        assert calls < 5
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_dropped_non_idempotent_put_is_not_re_sent_by_aiohttp(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(drop=True)
    op = Operation("PUT", "/custom/thing", body={"a": 1}, safety=Safety.NON_IDEMPOTENT)
    with pytest.raises(AmbiguousRequestError):
        await client.request(op)
    assert len(recorder.requests) == 1
    assert client.rate_limit_status().in_flight == 0


async def test_transport_errors_carry_no_aiohttp_context(
    client: ShipStation, recorder: RecordingServer
) -> None:
    recorder.default = Reply(drop=True)
    with pytest.raises(AmbiguousRequestError) as info:
        await client.request(LABEL)
    cause = info.value.cause
    assert cause.__context__ is None and cause.__cause__ is None


def test_loops_of_finished_asyncio_runs_are_not_kept(recorder_url_for_sync: str) -> None:
    import gc
    import weakref

    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []
    key = unique_key()

    async def job() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        async with ShipStation(
            key, SECRET, base_url=recorder_url_for_sync, rate_limit=RateLimit(1, 60.0), max_wait=0.2
        ) as ss:
            with pytest.raises(RateLimitError):
                await asyncio.gather(ss.orders.get(1), ss.orders.get(1))

    for _ in range(3):
        asyncio.run(job())
    gc.collect()
    assert [ref() for ref in loops] == [None, None, None]


async def test_aiohttp_still_gives_the_hook_the_no_resend_guarantee_rests_on(
    recorder: RecordingServer,
) -> None:
    # The pipeline holds, stamps and (for aiohttp's own re-send of a dropped idempotent
    # request) admits or refuses each send in the public on_request_headers_sent trace
    # signal. It must be awaited before the headers go out, and again before a re-send's: an
    # aiohttp release that changes either fails here, before it can break the rule.
    recorder.default = Reply(body={"orderId": 1})
    arrived_when_hooked: list[int] = []

    async def headers_sent(*_: Any) -> None:
        arrived_when_hooked.append(len(recorder.requests))

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(headers_sent)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        recorder.reply(Reply(drop=True))
        async with session.get(recorder.url + "/orders/1") as response:
            assert response.status == 200
    assert len(recorder.requests) == 2  # aiohttp re-sent the dropped GET on its own
    assert arrived_when_hooked == [0, 1]  # the hook ran before each send arrived


@pytest.mark.parametrize("shape", ["announced", "chunked", "gzip"])
async def test_an_answer_over_the_size_limit_is_not_read_whole(
    monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    # A broken or hostile server sending a huge body must not take the process's memory,
    # whether it announces its length, streams it, or sends it small and compressed.
    monkeypatch.setattr(_http, "MAX_ANSWER_BYTES", 4096)

    async def huge(request: web.Request) -> web.StreamResponse:
        if shape == "gzip":  # 64 KiB once decompressed, well under 4 KiB on the wire
            body = gzip.compress(b"[" + b"0," * 32_000 + b"0]")
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            return web.Response(body=body, headers=headers)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if shape == "chunked":
            response.enable_chunked_encoding()
        else:
            response.content_length = 1 << 30
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(64):
                await response.write(b" " * 1024)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", huge)
    async with TestServer(app, host="127.0.0.1") as server:
        base = str(server.make_url("")).rstrip("/")
        async with ShipStation(
            unique_key(), SECRET, base_url=base, rate_limit=RateLimit(1000, 60.0), retry=NO_WAIT
        ) as ss:
            with pytest.raises(TransportError, match="AnswerTooLarge"):
                await ss.request(Operation("GET", "/orders"))
            with pytest.raises(AmbiguousRequestError) as write:
                await ss.request(LABEL)
    assert isinstance(write.value.cause, TransportError) and write.value.cause.sent
