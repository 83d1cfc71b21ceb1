from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time

import aiohttp
import pytest

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox, serve
from shipstation_async.sandbox.standalone import build_parser

from .helpers import auth_headers


async def test_serve_runs_until_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    started: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
    caplog.set_level(logging.INFO, logger="shipstation_async.sandbox")
    task = asyncio.create_task(
        serve(port=0, orders=12, rate_limit=RateLimit(5, 10.0), ready=started.set_result)
    )
    sb = await asyncio.wait_for(started, 5)
    async with (
        aiohttp.ClientSession(headers=auth_headers(sb)) as s,
        s.get(f"{sb.url}/orders") as r,
    ):
        assert r.status == 200 and (await r.json())["total"] == 12
        assert r.headers["X-Rate-Limit-Limit"] == "5"
    assert any(sb.url in m and "sandbox-secret" in m for m in caplog.messages)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as s, s.get(f"{sb.url}/orders"):
            pass


def test_parser_defaults_and_options() -> None:
    args = build_parser().parse_args([])
    assert (args.port, args.orders, args.rate_limit, args.window) == (
        8080,
        1000,
        RateLimit(40, 60.0),
        "fixed",
    )
    args = build_parser().parse_args(
        ["--port", "0", "--orders", "5", "--window", "rolling", "--rate-limit", "40/2"]
    )
    assert (args.port, args.orders, args.window, args.rate_limit) == (
        0,
        5,
        "rolling",
        RateLimit(40, 2.0),
    )
    for bad in (["--port", "70000"], ["--orders", "-1"], ["--rate-limit", "fast"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(bad)


def test_parser_takes_reset_rounding_and_counting_delay() -> None:
    args = build_parser().parse_args([])
    assert (args.reset_format, args.counting_delay) == ("floor", 0.0)
    args = build_parser().parse_args(["--reset-format", "ceil", "--counting-delay", "2.5"])
    assert (args.reset_format, args.counting_delay) == ("ceil", 2.5)
    assert build_parser().parse_args(["--reset-format", "int"]).reset_format == "int"
    for bad in (["--reset-format", "round"], ["--counting-delay", "-1"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(bad)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_python_dash_m_serves_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "shipstation_async.sandbox", "--port", "0", "--orders", "10"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"},
        # Ctrl-C as a terminal would deliver it: a test run started in the background by a
        # shell ignores SIGINT, and a child inherits an ignored signal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 15
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            url = m.group(1) if m else None
        assert url is not None, "the server did not log its URL"
        # Keep draining stderr: a child blocked writing to a full pipe would never exit.
        rest: list[str] = []
        drain = threading.Thread(target=lambda: rest.extend(proc.stderr or ()), daemon=True)
        drain.start()
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 30 s after Ctrl-C; stderr: {rest}") from None
        drain.join(5)  # EOF once the child is gone
        assert code == 130, rest  # interrupted, as every command of the command line says
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
