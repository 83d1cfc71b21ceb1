"""A server that echoes the request's credential back in every way it can, and what leaks.

It answers each path with the credential it received (the Authorization header's token, the
secret it decodes to, the partner key) in a malformed status line, in headers, in error
bodies (plain, JSON-escaped, percent-encoded, as HTML references) and in 200 bodies where a
number or a date is due. Everything an error tracker or a log would read is then searched for
the secret, the token in any encoding and the partner key: every exception rendered with its
local variables and causes, every log record (DEBUG, every logger), every event the hooks got,
and the command line's output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import sys
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from shipstation_async import (
    AmbiguousRequestError,
    ConfigurationError,
    RateLimit,
    RetryPolicy,
    ShipStation,
    ShipStationError,
)
from shipstation_async.events import Event

KEY = "hostile-key"
PARTNER = "partner-0123456789abcdef"


# A secret whose token holds '+' and '/', the characters JSON and URLs escape.
SECRET = "s3cret-x~?>?~>-0123456789"
TOKEN = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
assert "+" in TOKEN and "/" in TOKEN


def encodings(value: str) -> list[str]:
    """``value`` as it may be written in text, JSON, URLs and HTML."""
    return [
        value,
        json.dumps(value)[1:-1].replace("/", "\\/"),
        value.replace("+", "\\u002B").replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in value),
        quote(value, safe=""),
        quote(quote(value, safe=""), safe=""),
        "".join(f"&#{ord(c)};" for c in value),
    ]


FORBIDDEN = sorted(
    {form for secret in (TOKEN, SECRET, PARTNER) for form in encodings(secret)}, key=len
)


def leaks(text: str) -> list[str]:
    return [form for form in FORBIDDEN if form in text]


def respond(status_line: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [status_line, f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += ["X-Rate-Limit-Limit: 1000", "X-Rate-Limit-Remaining: 999", "X-Rate-Limit-Reset: 30"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answer(method: str, path: str, query: str, authorization: str, partner: str) -> bytes:
    """The hostile answer to one request, by path."""
    token = authorization.removeprefix("Basic ")
    secret = base64.b64decode(token).decode().partition(":")[2]
    everything = f"Authorization: {authorization}; secret={secret}; x-partner: {partner}"
    escaped = json.dumps(everything).replace("/", "\\/").replace("+", "\\u002B")
    if path in ("/orders/1", "/shipments/createlabel"):
        return f"HTTP/1.1 2O0 {authorization} {secret} {partner}\r\n\r\n".encode()
    if path == "/orders/2":
        return respond(
            "HTTP/1.1 404 Not Found",
            everything.encode(),
            {"X-Echo": authorization, "X-Partner": partner, "WWW-Authenticate": secret},
        )
    if path == "/orders/3":
        body = '{"Message": ' + escaped + ', "ModelState": {"x": [' + escaped + "]}}"
        return respond("HTTP/1.1 500 Internal Server Error", body.encode())
    if path == "/orders/4":
        return respond("HTTP/1.1 400 Bad Request", quote(everything, safe=" :;=").encode())
    if path == "/orders/5":
        return respond("HTTP/1.1 200 OK", json.dumps({"orderId": authorization}).encode())
    if path == "/orders/6":
        body = '{"orderId": 6, "createDate": ' + escaped + "}"
        return respond("HTTP/1.1 200 OK", body.encode())
    if path == "/orders/7":
        body = json.dumps({"orderId": 7, "orderTotal": quote(secret, safe="")})
        return respond("HTTP/1.1 200 OK", body.encode())
    if path == "/products":  # the credential in every header, and no readable body
        echo = {f"X-Echo-{n}": v for n, v in enumerate((authorization, partner, secret))}
        return respond("HTTP/1.1 200 OK", b"{not json", {**echo, "Date": authorization})
    if path == "/orders/9":
        return b""  # never answers: the caller times out
    if path == "/orders/8":
        html = "".join(f"&#{ord(c)};" for c in everything)
        return respond("HTTP/1.1 401 Unauthorized", html.encode())
    if path == "/orders/createlabelfororder":
        return respond("HTTP/1.1 502 Bad Gateway", f"<html>{everything}</html>".encode())
    if path == "/orders":
        if "pageSize=50" in query:  # a call with max_wait=0.5: a 429 that outlasts it
            return respond("HTTP/1.1 429 Too Many Requests", escaped.encode(), {"Retry-After": "9"})
        return respond("HTTP/1.1 503 Service Unavailable", everything.encode())
    return respond("HTTP/1.1 200 OK", b"{}")


class HostileServer:
    """A raw TCP server (so that it can send what no HTTP library would)."""

    def __init__(self) -> None:
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            method, target, _ = head.split("\r\n", 1)[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:] if line)
            }
            if int(headers.get("content-length", "0")):
                await reader.readexactly(int(headers["content-length"]))
            self.requests += 1
            path, _, query = target.partition("?")
            auth, partner = headers.get("authorization", ""), headers.get("x-partner", "")
            reply = answer(method, path, query, auth, partner)
            if not reply:
                await asyncio.sleep(5)  # an answer that never comes
            writer.write(reply)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def first_of(stream: Any) -> Any:
    async with stream as items:
        return await anext(aiter(items))


async def timed_out(call: Any) -> Any:
    try:
        async with asyncio.timeout(0.5):
            return await call
    except TimeoutError as exc:  # rendered like the SDK's own: its cause ran through aiohttp
        raise ShipStationError("the caller's timeout") from exc


@pytest.fixture
async def hostile() -> AsyncIterator[HostileServer]:
    async with HostileServer() as server:
        yield server


TESTS = os.sep + "tests" + os.sep


def rendered(exc: BaseException) -> str:
    """What an error tracker shows: the exception, its causes, and the locals of every frame
    but the tests' own (which hold the credential they pass in, as a user's code does)."""
    parts = [repr(exc), str(exc), repr(vars(exc))]
    for name in ("cause", "details", "body", "message", "attempt"):
        parts.append(repr(getattr(exc, name, None)))
    summary: traceback.TracebackException | None = traceback.TracebackException.from_exception(
        exc, capture_locals=True
    )
    while summary is not None:
        parts += list(summary.format_exception_only())
        for frame in summary.stack:
            if TESTS not in frame.filename:
                parts.append(f"{frame.filename}:{frame.lineno} {frame.name} {frame.locals!r}")
        summary = summary.__cause__ or (
            None if summary.__suppress_context__ else summary.__context__
        )
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        parts.append(rendered(cause))
    return "\n".join(parts)


async def test_nothing_an_error_tracker_or_a_log_reads_holds_the_credential(
    hostile: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's included
    events: list[Event] = []
    calls: list[Callable[[ShipStation], Any]] = [
        *(lambda ss, n=n: ss.orders.get(n) for n in range(1, 9)),
        lambda ss: ss.orders.create_label(1, "ups", "ups_ground", "package", date(2026, 1, 5)),
        lambda ss: ss.shipments.create_label(
            "ups",
            "ups_ground",
            "package",
            date(2026, 1, 5),
            {"value": 1, "units": "ounces"},  # type: ignore[arg-type]
            {"name": "A", "postalCode": "78703"},
            {"name": "B", "postalCode": "20500"},
        ),
        lambda ss: ss.orders.list(),
        lambda ss: first_of(ss.products.iter()),  # a stream reads the answer's headers
        lambda ss: timed_out(ss.orders.get(9)),  # the caller's own timeout cuts the call
        lambda ss: ss.orders.list(page_size=50, max_wait=0.5),  # last: it pauses the budget
    ]
    errors: list[BaseException] = []
    async with ShipStation(
        KEY,
        SECRET,
        partner_key=PARTNER,
        base_url=hostile.url,
        rate_limit=RateLimit(1000, 60.0),
        retry=RetryPolicy(max_attempts=2, base=0.0),
        hooks=[events.append],
        timeout=2.0,
    ) as ss:
        for call in calls:
            with pytest.raises(ShipStationError) as info:
                await call(ss)
            errors.append(info.value)
        texts = [repr(ss), repr(vars(ss)), repr(ss.rate_limit_status())]
    assert hostile.requests >= len(calls)
    assert any(isinstance(e, AmbiguousRequestError) for e in errors)
    texts += [rendered(e) for e in errors]
    texts += [repr(e) for e in events]
    texts.append(caplog.text)
    texts += [repr(r.args) + repr(vars(r)) for r in caplog.records]
    found = {form for text in texts for form in leaks(text)}
    assert not found, f"leaked: {sorted(found)}"
    # The checks looked at something: the echoes arrived, redacted.
    assert any("[redacted]" in text for text in texts)


async def test_the_command_line_prints_no_credential(
    hostile: HostileServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SHIPSTATION_API_KEY": KEY,
        "SHIPSTATION_API_SECRET": SECRET,
        "SHIPSTATION_PARTNER_KEY": PARTNER,
    }
    outputs = []
    for base_url in (
        hostile.url,  # every answer is an echo of the credential
        f"http://{KEY}:{SECRET}@127.0.0.1:1/?{SECRET}",  # a URL carrying it
        f"ftp://user:{SECRET}@example.com/#{PARTNER}",
    ):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shipstation_async.cli",
            "--verbose",
            "backfill",
            "orders",
            "--base-url",
            base_url,
            "--out",
            str(tmp_path / "orders.jsonl"),
            "--rate-limit",
            "1000/60",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode != 0
        outputs.append(out.decode() + err.decode())
    found = {form for text in outputs for form in leaks(text)}
    assert not found, f"leaked: {sorted(found)}"
    assert "error" in outputs[0]


@pytest.mark.parametrize(
    "base_url",
    [
        f"http://{KEY}:{SECRET}@127.0.0.1:8080",
        f"https://u:{SECRET}@ssapi.shipstation.com/?x=1",
        f"https://u:{SECRET}@ssapi.shipstation.com#{SECRET}",
        f"ftp://u:{SECRET}@ssapi.shipstation.com",
        f"{SECRET}",
        "http://ssapi.shipstation.com",  # plain http across the network
        "http://10.0.0.5:8080",
    ],
)
def test_a_bad_base_url_is_refused_without_echoing_a_password(base_url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        ShipStation(KEY, SECRET, base_url=base_url, partner_key=PARTNER)
    text = rendered(info.value)
    assert not leaks(text)


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:8080"]
)
def test_plain_http_is_taken_for_a_loopback_address(base_url: str) -> None:
    assert ShipStation(KEY, SECRET, base_url=base_url).base_url == base_url


def test_a_bad_setting_shows_no_credential_in_the_traceback() -> None:
    for kwargs in ({"timeout": -1}, {"partner_key": "bad\nkey"}, {"max_wait": float("nan")}):
        with pytest.raises(ConfigurationError) as info:
            ShipStation(KEY, SECRET, **kwargs)  # type: ignore[arg-type]
        assert not leaks(rendered(info.value))
