"""Benchmarks of the budget shared in Redis: processes on one key, grant latency, a fleet of keys.

Each starts its own ``redis-server`` on a loopback port (Debian's package; the README's test
command installs it) and stops it after.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from shipstation_async import Operation, RateLimit, RedisBudget, ShipStation
from shipstation_async._budget import Grant, Ledger
from shipstation_async.sandbox import ThreadedSandbox
from tests.redis_server import RedisServer

Figures = dict[str, float]
ROOT = Path(__file__).resolve().parents[1]


def _worker(
    sb: ThreadedSandbox, url: str, name: str, seconds: float, limit: RateLimit, *extra: str
) -> Any:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.behaviour._shared_worker",
            sb.url,
            sb.api_key,
            sb.api_secret,
            url,
            name,
            str(seconds),
            str(limit.requests),
            str(limit.period),
            "--streams",
            "8",
            *(extra or ("--reserve", "0")),  # bulk work only: no interactive call to wait for
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )


def _sandbox(limit: RateLimit) -> ThreadedSandbox:
    """A sandbox with a rolling window of ``limit`` and a fresh key."""
    return ThreadedSandbox(
        orders=5,
        rate_limit=limit,
        window="rolling",
        reset_format="float",
        api_key=f"bench-{uuid.uuid4().hex[:8]}",
    )


async def _processes_on_one_key(
    url: str, processes: int, limit: RateLimit, windows: int
) -> Figures:
    with _sandbox(limit) as sb:
        name = f"b{uuid.uuid4().hex[:8]}"
        seconds = (windows + 1) * limit.period
        workers = [_worker(sb, url, name, seconds, limit) for _ in range(processes)]
        reports = [
            json.loads((await asyncio.to_thread(w.communicate))[0].strip().splitlines()[-1])
            for w in workers
        ]
        admitted = sorted(t for t, _, _, status in sb.arrivals() if status == 200)
        stats = sb.stats()
    first = admitted[0]
    # From the first window's end to the last's: the probe's cold start is left out.
    span = [t for t in admitted if first + limit.period <= t < first + windows * limit.period]
    ideal = (windows - 1) * limit.requests
    assert all(not r["errors"] for r in reports), reports
    return {
        "budget_use": len(span) / ideal,
        "rate_limited": float(stats.rate_limited),
        "max_in_window": float(stats.max_in_window),
    }


async def shared_budget_use(quick: bool) -> Figures:
    """1, 2, 4 and 8 processes on one key (W = 10 s, rolling): budget use, its ratio to one
    process's, and 429s."""
    limit = RateLimit(40, 2.0 if quick else 10.0)
    windows = 3 if quick else 5
    server = RedisServer()
    server.start()
    figures: Figures = {}
    try:
        for processes in (1, 2, 4, 8):
            got = await _processes_on_one_key(server.url, processes, limit, windows)
            figures |= {f"{key}_{processes}p": value for key, value in got.items()}
    finally:
        server.stop()
    for processes in (2, 4, 8):
        figures[f"ratio_{processes}p"] = (
            figures[f"budget_use_{processes}p"] / figures["budget_use_1p"]
        )
    return figures


async def shared_interactive(quick: bool) -> Figures:
    """Interactive calls in one process while it and three others saturate the key with bulk
    work (W = 10 s, rolling, the default reserve of 4 slots; 3 calls per window): the calls'
    wait, p50 and p99, against the slot time W / L."""
    limit = RateLimit(40, 2.0 if quick else 10.0)
    seconds = (3 if quick else 5) * limit.period
    calls = 4 if quick else 15  # 3 per window: within the interactive reserve of 4
    server = RedisServer()
    server.start()
    try:
        with _sandbox(limit) as sb:
            name = f"i{uuid.uuid4().hex[:8]}"
            # Every process on the default reserve; the second also makes interactive calls.
            extras = [("--streams", "8")] * 4
            extras[1] = ("--streams", "8", "--interactive", str(calls))
            workers = [_worker(sb, server.url, name, seconds, limit, *extra) for extra in extras]
            reports = [
                json.loads((await asyncio.to_thread(w.communicate))[0].strip().splitlines()[-1])
                for w in workers
            ]
            stats = sb.stats()
    finally:
        server.stop()
    waits = sorted(reports[1]["interactive_waits"])
    p50, p99 = _percentiles(waits)
    return {
        "p50_ms": p50 * 1e3,
        "p99_ms": p99 * 1e3,
        "slot_time_ms": limit.period / limit.requests * 1e3,
        "rate_limited": float(stats.rate_limited),
    }


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


async def grant_latency(quick: bool) -> Figures:
    """One grant and its release, on the in-process ledger and on Redis (loopback): p50, p99."""
    n = 500 if quick else 3000
    limit = RateLimit(10**6, 60.0)
    ledger = Ledger(limit)
    local: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        grant = ledger.try_grant("interactive")
        assert grant is not None
        ledger.release(grant)
        local.append(time.perf_counter() - started)
    server = RedisServer()
    server.start()
    try:
        store = RedisBudget(server.url, prefix=f"g{uuid.uuid4().hex[:8]}")
        shared = store._ledger_for(("bench", uuid.uuid4().hex), limit)
        remote: list[float] = []
        for _ in range(n):
            started = time.perf_counter()
            outcome = await shared.grant("interactive", interactive_waiting=False)
            assert isinstance(outcome, Grant), outcome
            remote.append(time.perf_counter() - started)
            shared.release(outcome)
            await shared.flush()
        await store.aclose()
    finally:
        server.stop()
    local_p50, local_p99 = _percentiles(local)
    remote_p50, remote_p99 = _percentiles(remote)
    return {
        "local_p50_us": local_p50 * 1e6,
        "local_p99_us": local_p99 * 1e6,
        "redis_p50_us": remote_p50 * 1e6,
        "redis_p99_us": remote_p99 * 1e6,
    }


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fleet(quick: bool) -> Figures:
    """One process drives many keys at their full budget each, through one shared aiohttp
    session: requests per second reached vs the sum of the keys' limits, memory per key
    (idle clients, then after use), the client's CPU per request (its thread only)."""
    keys = 200 if quick else 1000
    # Each key: 4 per 10 s (1,000 keys: 400 requests per s), all bulk work: no reserve.
    limit = RateLimit(4, 10.0, reserve=0)
    windows = 3
    with ThreadedSandbox(orders=5, rate_limit=limit, window="rolling", reset_format="float") as sb:
        pairs = [(f"fleet-{uuid.uuid4().hex[:10]}", f"s-{i}") for i in range(keys)]
        for key, secret in pairs:
            sb.add_credentials(key, secret)
        rss_before = _rss_mb()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            clients = [
                ShipStation(key, secret, base_url=sb.url, rate_limit=limit, session=session)
                for key, secret in pairs
            ]
            rss_idle = _rss_mb()
            page = Operation("GET", "/orders", query={"page": 1, "pageSize": 1})
            stop_at = time.monotonic() + windows * limit.period
            done = requests = 0

            async def drive(ss: ShipStation) -> None:
                nonlocal done, requests
                while time.monotonic() < stop_at:
                    await ss.request(page, lane="bulk", max_wait=None)
                    requests += 1
                    # The span measured: after the first window (each key's cold start).
                    done += measure_from <= time.monotonic() < stop_at

            cpu = time.thread_time()
            measure_from = time.monotonic() + limit.period
            await asyncio.gather(*(drive(ss) for ss in clients for _ in range(2)))
            elapsed = stop_at - measure_from
            cpu = time.thread_time() - cpu
            rss_used = _rss_mb()
            for ss in clients:
                await ss.aclose()
        stats = sb.stats()
    return {
        "keys": float(keys),
        "rps": done / elapsed,
        "rps_vs_limits": done / elapsed / (keys * limit.requests / limit.period),
        "rate_limited": float(stats.rate_limited),
        "idle_kb_per_key": (rss_idle - rss_before) * 1024 / keys,
        "used_kb_per_key": (rss_used - rss_before) * 1024 / keys,
        "client_cpu_us_per_request": cpu / requests * 1e6,
    }


SHARED_BENCHMARKS: dict[str, Callable[..., Awaitable[Figures]]] = {
    "shared_budget_use": shared_budget_use,
    "shared_interactive": shared_interactive,
    "grant_latency": grant_latency,
    "fleet": fleet,
}
