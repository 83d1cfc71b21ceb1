"""The sandbox's speed: 500-order pages from ``sandbox serve``, and the README's main job.

``sandbox_pages`` serves a 100,000-order world from ``shipstation-async sandbox serve`` in its
own process and times 500-order pages from request to last byte over one loopback connection
(a bare HTTP/1.1 client, so the figures are the server's): *cold* pages are first reads of
their orders with the background prebuild off (``--no-prebuild``), *ahead* pages are first
reads of a walk through consecutive pages (which the sandbox builds ahead of the walker),
*warm* pages were read before; *prebuilt* pages are first reads once the prebuild, on by
default, has ended. Paced figures leave
100 ms between requests (a client doing something with each page); pages per second are
back to back.

``main_job`` runs the README's first command (``backfill orders --sandbox --sandbox-orders
50000 --rate-limit 40/2``) as its own process, with ``-v`` so that each request is logged,
and measures from the first request's send to the last write of ``orders.jsonl`` (the last
batch, committed right after). The budget-ideal time is ``(ceil(requests / 40) - 1) x 2 s`` plus
one page (ONE_PAGE); ``full_windows_min`` is the fewest requests any full 2 s window sent (40 when
the budget is used whole).
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from .processes import free_port, sandbox_args

Figures = dict[str, float]

WORLD_ORDERS = 100_000
PREBUILT_ORDERS = 50_000
"""The world of the prebuilt figures: the main job's, all of it within the cache."""
PAGE = 500
PACE = 0.1
"""Seconds between paced requests."""
ONE_PAGE = 0.1
"""The main job's allowance for its last page: the issue's figure for one 500-order page."""
_ROOT = Path(__file__).resolve().parents[1]
_AUTH = "Basic " + base64.b64encode(b"bench:s").decode()


async def _serve(port: int, orders: int, prebuild: bool) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shipstation_async",
        "sandbox",
        "serve",
        *sandbox_args(port, orders),
        *([] if prebuild else ["--no-prebuild"]),
        cwd=_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
    )
    for _ in range(400):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return proc
    proc.terminate()
    raise RuntimeError("the sandbox did not start")


class _Connection:
    """One keep-alive HTTP/1.1 connection on a blocking socket, reading whole bodies.

    Blocking on purpose: nothing else runs in the benchmark's process, and a plain
    ``recv_into`` adds the least of the client's own time to the figures.
    """

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._rest = b""

    def page(self, page: int) -> float:
        """Seconds from sending ``GET /orders`` for ``page`` to its body's last byte."""
        request = (
            f"GET /orders?sortBy=CreateDate&pageSize={PAGE}&page={page} HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: {_AUTH}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        self._sock.sendall(request)
        data = self._rest
        while b"\r\n\r\n" not in data:
            data += self._sock.recv(65536)
        head, _, data = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])  # type: ignore[index]
        body = bytearray(length)
        view = memoryview(body)
        got = min(len(data), length)
        view[:got] = data[:got]
        self._rest = data[got:]
        while got < length:
            got += self._sock.recv_into(view[got:])
        elapsed = time.perf_counter() - started
        if not head.startswith(b"HTTP/1.1 200") or body.count(b'"orderId":') != PAGE:
            raise RuntimeError(f"page {page}: not a full page: {head[:40]!r}")
        return elapsed

    def close(self) -> None:
        self._sock.close()


async def _paced(conn: _Connection, pages: list[int]) -> float:
    """p50 milliseconds of ``pages``, one at a time with PACE between them."""
    times = []
    for page in pages:
        times.append(conn.page(page))
        await asyncio.sleep(PACE)
    return statistics.median(times) * 1000


async def _rate(conn: _Connection, pages: list[int]) -> float:
    """Pages per second, back to back."""
    started = time.perf_counter()
    for page in pages:
        conn.page(page)
    return len(pages) / (time.perf_counter() - started)


async def sandbox_pages(quick: bool) -> Figures:
    """500-order pages from ``sandbox serve``: cold, built ahead and warm (see the module)."""
    n = 8 if quick else 20
    pages = WORLD_ORDERS // PAGE
    rng = random.Random(time.time_ns())
    # Even pages only: reading page k builds page k + 1 ahead, never a page measured cold.
    evens = rng.sample(range(2, pages // 2, 2), 2 * n)
    cold, cold_rate = evens[:n], sorted(evens[n:])
    walk = list(range(pages // 2 + 1, pages // 2 + 1 + n))
    port = free_port()
    server = await _serve(port, WORLD_ORDERS, prebuild=False)
    try:
        conn = _Connection(port)
        conn.page(1)  # the connection and the server's first-request costs
        await asyncio.sleep(PACE)
        figures = {"cold_p50_ms": await _paced(conn, cold)}
        rng.shuffle(cold)
        figures["warm_p50_ms"] = await _paced(conn, cold)
        figures["ahead_p50_ms"] = await _paced(conn, walk)
        figures["cold_pages_per_s"] = await _rate(conn, cold_rate)
        figures["warm_pages_per_s"] = await _rate(conn, cold_rate)
        conn.close()
    finally:
        server.terminate()
        await server.wait()
    return figures | await _prebuilt(n, rng)


async def _prebuilt(n: int, rng: random.Random) -> Figures:
    """First reads once ``sandbox serve``'s background prebuild has ended (its CPU idle).

    On a world of PREBUILT_ORDERS, all of which its cache holds. ``prebuild_s``: from the
    server's start to the end of its prebuild.
    """
    port = free_port()
    started = time.perf_counter()
    server = await _serve(port, PREBUILT_ORDERS, prebuild=True)
    try:
        await _until_idle(server.pid)
        built = time.perf_counter() - started
        conn = _Connection(port)
        conn.page(1)
        await asyncio.sleep(PACE)
        first_reads = rng.sample(range(2, PREBUILT_ORDERS // PAGE + 1), n)
        return {"prebuild_s": built, "prebuilt_p50_ms": await _paced(conn, first_reads)}
    finally:
        server.terminate()
        await server.wait()


async def _until_idle(pid: int, quiet: float = 0.5, limit: float = 120.0) -> None:
    """Wait until process ``pid`` has used no CPU for ``quiet`` seconds."""

    def cpu() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    deadline = time.perf_counter() + limit
    last = cpu()
    while time.perf_counter() < deadline:
        await asyncio.sleep(quiet)
        now = cpu()
        if now == last:
            return
        last = now
    raise RuntimeError("the sandbox's prebuild did not end")


_LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) shipstation_async DEBUG GET /orders -> "
    r"(\d+) in ([\d.]+) s"
)


def _windows(sends: list[float], period: float) -> list[int]:
    """Requests per window: each opens at the first send at or after the last one's end."""
    counts: list[int] = []
    start = -math.inf
    for t in sorted(sends):
        if t >= start + period:
            start = t
            counts.append(0)
        counts[-1] += 1
    return counts


async def main_job(quick: bool) -> Figures:
    """The README's main job end to end (see the module docstring)."""
    orders = 25_000 if quick else 50_000
    period = 2.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "orders.jsonl"
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "shipstation_async", "-v", "backfill", "orders"),
            *("--sandbox", "--sandbox-orders", str(orders), "--rate-limit", "40/2"),
            *("--out", str(out), "--resume"),
            cwd=_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "COLUMNS": "120"},
        )
        stdout, stderr = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"the main job failed: {stderr.decode()[-2000:]}")
        last_write = out.stat().st_mtime
        lines = sum(1 for _ in out.open("rb"))
    sends = []
    for line in stderr.decode().splitlines():
        m = _LOG_LINE.match(line)
        if m is None:
            continue
        if m[2] != "200":
            raise RuntimeError(f"the main job got a {m[2]}")
        logged = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        sends.append(logged - float(m[3]))
    if lines != orders or not sends:
        raise RuntimeError(f"the main job wrote {lines} orders: {stdout.decode()[-500:]}")
    windows = _windows(sends, period)
    elapsed = last_write - min(sends)
    ideal = (math.ceil(len(sends) / 40) - 1) * period + ONE_PAGE
    return {
        "elapsed_s": elapsed,
        "ideal_s": ideal,
        "ratio": elapsed / ideal,
        "requests": len(sends),
        "windows": float(len(windows)),
        "full_windows_min": float(min(windows[:-1] or windows)),
    }


SANDBOX_BENCHMARKS = {"sandbox_pages": sandbox_pages, "main_job": main_job}
