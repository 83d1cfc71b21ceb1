"""The benchmarks: budget use, a naive client, lane latency, overhead, decoding.

Each coroutine runs once and returns its figures; ``__main__`` repeats and summarises them.
Timing comes from hooks on the client. Budget use is ideal / achieved from the first send to
the first send of the last window (so the server's answer time is not counted): the ideal is
(windows - 1) x W.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter

from shipstation_async import Operation, RateLimit, ShipStation, _sansio
from shipstation_async._sansio import Credentials, decode_json, parse_rate_limit
from shipstation_async.backfill import Backfill
from shipstation_async.events import Event, RequestSent, ResponseReceived, RetryScheduled
from shipstation_async.models import Order, converter
from shipstation_async.sandbox import ThreadedSandbox
from shipstation_async.sandbox.world import World

from .processes import free_port, sandbox_args
from .sandbox_speed import SANDBOX_BENCHMARKS
from .shared import SHARED_BENCHMARKS
from .webhooks import WEBHOOK_BENCHMARKS

L, W = 40, 4.0
Figures = dict[str, float]


class Timeline:
    """Collects send and response times from the client's hooks."""

    def __init__(self) -> None:
        self.first_send: float | None = None
        self.sends: list[float] = []
        self.last_response = 0.0
        self.latencies: list[float] = []
        self.admitted: list[float] = []  # send times of the attempts the server admitted
        self.rejected = 0
        self.retries = 0

    def __call__(self, event: Event) -> None:
        now = time.monotonic()
        if isinstance(event, RequestSent):
            self.sends.append(now)
            if self.first_send is None:
                self.first_send = now
        elif isinstance(event, ResponseReceived):
            self.last_response = now
            self.latencies.append(event.elapsed)
            self.rejected += event.status == 429
            if event.status != 429:
                self.admitted.append(now - event.elapsed)  # when it was sent
        elif isinstance(event, RetryScheduled):
            self.retries += 1

    @property
    def elapsed(self) -> float:
        assert self.first_send is not None
        return self.last_response - self.first_send

    def budget_use(self, period: float) -> float:
        """Ideal / achieved from the first send to the first send of the last window."""
        sends = sorted(self.admitted)
        windows = math.ceil(len(sends) / L)
        return (windows - 1) * period / (sends[(windows - 1) * L] - sends[0])


def ideal_time(requests: int, latency: float, window: float = W) -> float:
    """The least time any client needs: whole windows of L, then one answer's latency."""
    return (math.ceil(requests / L) - 1) * window + latency


def _auth(api_key: str, api_secret: str) -> str:
    return Credentials(api_key, api_secret).authorization.reveal()


def sandbox(window: str, reset_format: str) -> ThreadedSandbox:
    return ThreadedSandbox(
        orders=200,
        rate_limit=RateLimit(L, W),
        window=window,  # type: ignore[arg-type]
        reset_format=reset_format,  # type: ignore[arg-type]
        api_key=f"bench-{uuid.uuid4().hex[:8]}",
    )


def client(sb: ThreadedSandbox, **kwargs: Any) -> ShipStation:
    """The SDK with its default settings (no margin given) on L per W."""
    return ShipStation(
        sb.api_key,
        sb.api_secret,
        base_url=sb.url,
        rate_limit=RateLimit(L, W),
        max_wait=None,
        **kwargs,
    )


async def _utilization(window: str, reset_format: str, quick: bool) -> Figures:
    n = 3 * L if quick else 10 * L
    with sandbox(window, reset_format) as sb:
        timeline = Timeline()
        async with client(sb, hooks=[timeline]) as ss:
            await asyncio.gather(*(ss.orders.list(page_size=1) for _ in range(n)))
        stats = sb.stats()
    latency = statistics.median(timeline.latencies)
    ideal = ideal_time(n, latency)
    return {
        "requests": n,
        "budget_use": timeline.budget_use(W),
        "utilization": ideal / timeline.elapsed,
        "achieved_s": timeline.elapsed,
        "ideal_s": ideal,
        "429s": stats.rate_limited,
        "max_in_window": stats.max_in_window,
    }


async def utilization_fixed_floor(quick: bool) -> Figures:
    """SDK through the scheduler, fixed server windows, Reset floored to whole seconds."""
    return await _utilization("fixed", "floor", quick)


async def utilization_rolling_float(quick: bool) -> Figures:
    """SDK through the scheduler, a sliding server window, fractional Reset."""
    return await _utilization("rolling", "float", quick)


async def utilization_aligned_floor(quick: bool) -> Figures:
    """SDK through the scheduler, windows aligned to the server clock, floored Reset."""
    return await _utilization("aligned", "floor", quick)


async def naive_limiter(quick: bool) -> Figures:
    """What people write: aiohttp + AsyncLimiter(L, W), sleeping Reset seconds on a 429."""
    n = 3 * L if quick else 10 * L
    with sandbox("fixed", "floor") as sb:
        limiter = AsyncLimiter(L, W)
        auth = _auth(sb.api_key, sb.api_secret)
        latencies: list[float] = []
        rejected = 0
        first: list[float] = []
        last = 0.0
        async with aiohttp.ClientSession(headers={"Authorization": auth}) as session:

            async def one() -> None:
                nonlocal rejected, last
                while True:
                    async with limiter:
                        sent = time.monotonic()
                        if not first:
                            first.append(sent)
                        async with session.get(sb.url + "/orders?pageSize=1") as response:
                            await response.read()
                            last = time.monotonic()
                            latencies.append(last - sent)
                            if response.status != 429:
                                return
                            rejected += 1
                            info = parse_rate_limit(response.headers)
                            reset = info.reset if info and info.reset is not None else W
                    await asyncio.sleep(reset)

            await asyncio.gather(*(one() for _ in range(n)))
        stats = sb.stats()
    elapsed = last - first[0]
    ideal = ideal_time(n, statistics.median(latencies))
    return {
        "requests": n,
        "utilization": ideal / elapsed,
        "achieved_s": elapsed,
        "429s": rejected,
        "max_in_window": stats.max_in_window,
    }


async def _interactive_latency(lanes: bool, quick: bool) -> Figures:
    bulk_n = 3 * L if quick else 6 * L
    with sandbox("fixed", "floor") as sb:
        async with client(sb) as ss:
            waits: list[float] = []

            async def interactive_call() -> None:
                started = time.monotonic()
                await ss.orders.list(page_size=1, lane="interactive" if lanes else "bulk")
                waits.append(time.monotonic() - started)

            bulk = asyncio.gather(
                *(ss.orders.list(page_size=1, lane="bulk") for _ in range(bulk_n))
            )
            await asyncio.sleep(0.3)
            calls = []
            while not bulk.done():
                # A web request every 1.1 s: about 3.6 per window, inside the reserve of 4.
                calls.append(asyncio.ensure_future(interactive_call()))
                await asyncio.sleep(1.1)
            await bulk
            await asyncio.gather(*calls)
        stats = sb.stats()
    waits.sort()
    return {
        "calls": len(waits),
        "p50_s": statistics.median(waits),
        "p99_s": waits[min(len(waits) - 1, math.ceil(0.99 * len(waits)) - 1)],
        "max_s": waits[-1],
        "429s": stats.rate_limited,
    }


async def interactive_latency_with_lanes(quick: bool) -> Figures:
    """Wait of an interactive call while bulk work saturates the budget, lanes on."""
    return await _interactive_latency(True, quick)


async def interactive_latency_without_lanes(quick: bool) -> Figures:
    """The same calls queued in the bulk lane: first come, first served."""
    return await _interactive_latency(False, quick)


async def _wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError("the canned server did not start")


def _start_process(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], cwd=Path(__file__).resolve().parents[1])


def _start_canned_server(port: int) -> subprocess.Popen[bytes]:
    return _start_process(["-m", "benchmarks.canned_server", str(port)])


async def _timed(run: Callable[[], Awaitable[None]], n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    return n / (time.perf_counter() - wall), (time.process_time() - cpu) / n


async def overhead(quick: bool) -> Figures:
    """SDK vs raw aiohttp against a canned server in another process, limit set very high.

    At two concurrencies: 20 callers (bulk work; the figures without a suffix) and one caller
    awaiting each call in turn (a web app's single calls; suffix ``_1``). The SDK runs as
    installed (``speedups`` is 1 when msgspec reads the answers) and, figures marked ``_json``,
    with the json module reading them, as without the speedups extra. ``raw_traced`` is raw
    aiohttp with a trace config whose headers-sent hook does nothing: what the SDK's send
    hook, aiohttp's public tracing, costs aiohttp itself.
    """
    port = free_port()
    server = _start_canned_server(port)
    figures: Figures = {}
    try:
        await _wait_for_port(port)
        for workers, suffix in ((20, ""), (1, "_1")):
            n = (600 if quick else 3000) // workers * workers
            figures |= {
                key + suffix: value for key, value in (await _overhead_at(port, n, workers)).items()
            }
    finally:
        server.terminate()
        server.wait(10)
    figures["speedups"] = float(_sansio._fast_decode is not None)  # 1: msgspec read the answers
    return figures


async def _noop_hook(*_: Any) -> None:
    pass


def _traced() -> aiohttp.TraceConfig:
    # What the SDK's send hook costs aiohttp itself: one trace config (aiohttp then sends
    # every trace signal of a request), with a hook that does nothing.
    config = aiohttp.TraceConfig()
    config.on_request_headers_sent.append(_noop_hook)
    return config


async def _overhead_at(port: int, n: int, workers: int) -> Figures:
    url = f"http://127.0.0.1:{port}"
    auth = _auth("bench", "secret")
    async with (
        aiohttp.ClientSession(headers={"Authorization": auth}) as session,
        aiohttp.ClientSession(headers={"Authorization": auth}, trace_configs=[_traced()]) as traced,
        ShipStation(
            f"bench-{uuid.uuid4().hex[:8]}",
            "secret",
            base_url=url,
            rate_limit=RateLimit(10**6, 60.0),
            max_in_flight=workers,
            max_wait=None,
        ) as ss,
    ):
        operation = Operation("GET", "/orders", query={"page": 1, "pageSize": 1})

        async def raw(over: aiohttp.ClientSession = session) -> None:
            async def worker() -> None:
                for _ in range(n // workers):
                    async with over.get(url + "/orders?page=1&pageSize=1") as response:
                        data = await response.json()
                        assert isinstance(data, dict)

            await asyncio.gather(*(worker() for _ in range(workers)))

        async def raw_traced() -> None:
            await raw(traced)

        async def sdk() -> None:
            async def worker() -> None:
                for _ in range(n // workers):
                    data = await ss.request(operation)
                    assert isinstance(data, dict)

            await asyncio.gather(*(worker() for _ in range(workers)))

        fast_decode = _sansio._fast_decode  # msgspec, when the speedups extra is installed

        async def sdk_json_module() -> None:
            # The SDK as installed without the speedups extra: the json module reads answers.
            _sansio._fast_decode = None
            try:
                await sdk()
            finally:
                _sansio._fast_decode = fast_decode

        variants = (
            ("raw", raw),
            ("raw_traced", raw_traced),
            ("sdk", sdk),
            ("sdk_json", sdk_json_module),
        )
        for _, run in variants:  # warm every path: connections, imports
            await run()
        runs: dict[str, tuple[list[float], list[float]]] = {}
        for _ in range(3):  # interleaved, so drift on a shared machine hits all alike
            for name, run in variants:
                rps, cpu = await _timed(run, n)
                runs.setdefault(name, ([], []))[0].append(rps)
                runs[name][1].append(cpu)
    rps_of = {name: statistics.median(rps) for name, (rps, _) in runs.items()}
    cpu_of = {name: statistics.median(cpu) for name, (_, cpu) in runs.items()}
    figures = {"raw_rps": rps_of["raw"], "raw_cpu_us": cpu_of["raw"] * 1e6}
    figures |= {
        "raw_traced_rps": rps_of["raw_traced"],
        "raw_traced_ratio": rps_of["raw_traced"] / rps_of["raw"],
        "raw_traced_cpu_us": cpu_of["raw_traced"] * 1e6,
    }
    for name, suffix in (("sdk", ""), ("sdk_json", "_json")):
        figures |= {
            f"sdk_rps{suffix}": rps_of[name],
            f"rps_ratio{suffix}": rps_of[name] / rps_of["raw"],
            f"sdk_cpu_us{suffix}": cpu_of[name] * 1e6,
            f"cpu_ratio{suffix}": cpu_of["raw"] / cpu_of[name],
        }
    return figures


async def decode_models(quick: bool) -> Figures:
    """Orders per second from a 500-order page's JSON bytes to typed Order models.

    Also the JSON reading alone (bytes to dicts, floats as Decimal): by msgspec, as with the
    speedups extra, and by the json module, as without it.
    """
    world = World(orders=500, seed=3)
    page = json.dumps({"orders": [world.orders.at(i) for i in range(500)]}).encode()
    rounds = 4 if quick else 20
    started = time.process_time()
    for _ in range(rounds):
        data = decode_json(page)
        orders = [converter.structure(item, Order) for item in data["orders"]]
    elapsed = time.process_time() - started
    assert isinstance(orders[0].order_total, Decimal)
    per_page = elapsed / rounds
    figures = {"orders_per_s": 500 / per_page, "page_of_500_ms": per_page * 1000}
    fast_decode = _sansio._fast_decode
    readers = (
        {"json_module": None, "msgspec": fast_decode} if fast_decode else {"json_module": None}
    )
    for name, reader in readers.items():
        _sansio._fast_decode = reader
        try:
            started = time.process_time()
            for _ in range(rounds):
                read = decode_json(page)
            figures[f"read_json_ms_{name}"] = (time.process_time() - started) / rounds * 1000
            assert read == data  # the same values, whichever reads
        finally:
            _sansio._fast_decode = fast_decode
    return figures


# Walkers (each waits for its page before asking for the next): at least one per 90-day chunk,
# so no chunk waits for a free walker and no part is left to finish alone.
CONCURRENCY = 16


SPAN_DAYS = 3 * 365  # the sandbox's world spans three years before its end
BACKFILL_WINDOW = float(os.environ.get("BENCH_BACKFILL_WINDOW", "20"))  # seconds
CHUNKS = -(-SPAN_DAYS // 90)  # 13 chunks of 90 days


async def _budget_use(quick: bool, *, backfill: bool, window: float) -> Figures:
    """A listing of at least 200 pages of 500 against a sandbox in another process (L = 40
    per ``window`` s): a Backfill into JSONL, or ``ss.orders.iter()`` building typed models.

    Sized so that the requests fill six whole windows: the ideal time of the utilization
    formula, (requests / L - 1) x W + latency, is only reachable when the last window is full.
    With the range given (no probe request), 16 walkers each walk a 68-day part of about 7,200
    orders, 15 pages each: 240 requests. ``utilization_whole_windows`` is the same with whole
    windows, (ceil(requests / L) - 1) x W + latency, whatever the count.
    """
    per_part = 1_200 if quick else 7_200
    orders = CONCURRENCY * per_part
    end = datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=SPAN_DAYS + 1)
    port = free_port()
    server = _start_process(
        [
            "-m",
            "shipstation_async.sandbox",
            *sandbox_args(port, orders),
            "--log-level",
            "WARNING",
        ]
    )
    try:
        await _wait_for_port(port)
        timeline = Timeline()
        async with ShipStation(
            "bench",
            "s",
            base_url=f"http://127.0.0.1:{port}",
            rate_limit=RateLimit(L, window, reserve=0),  # a bulk-only process
            hooks=[timeline],
        ) as ss:
            if backfill:
                with tempfile.TemporaryDirectory() as folder:
                    summary = await Backfill(
                        ss,
                        "orders",
                        start=start,
                        end=end,
                        sink=Path(folder) / "orders.jsonl",
                        concurrency=CONCURRENCY,
                        page_size=500,
                    ).run()
                count, used = summary.records, summary.requests
            else:
                stream = ss.orders.iter(
                    create_date_start=start,
                    create_date_end=end,
                    concurrency=CONCURRENCY,
                    page_size=500,
                )
                count = 0
                async for _ in stream:
                    count += 1
                used = stream.requests
    finally:
        server.terminate()
        server.wait(10)
    assert count == orders, (count, orders)
    minimum = -(-orders // 500) + CHUNKS
    latency = statistics.median(timeline.latencies)
    return {
        "records": orders,
        "requests": used,
        "requests_vs_minimum": used / minimum,
        "utilization": ((used / L - 1) * window + latency) / timeline.elapsed,
        "utilization_whole_windows": ideal_time(used, latency, window) / timeline.elapsed,
        "achieved_s": timeline.elapsed,
        "429s": timeline.rejected,
        # Every send the hooks saw (aiohttp's re-sends on a dropped connection included) and
        # the SDK's retries: more sends than requests means budget spent twice on one page.
        "sends": len(timeline.sends),
        "retries": timeline.retries,
        "median_latency_s": latency,
        # From the first of the last L sends to the last answer: how long the last window's
        # work takes (the ideal counts one latency for it).
        "last_window_s": timeline.last_response - timeline.sends[-L],
    }


async def backfill_budget_use(quick: bool) -> Figures:
    """Budget use of a Backfill (raw JSON to a JSONL file) of 225 pages of 500, W = 20 s.

    A 20 s window keeps the costs that do not scale with W (the margin, a page's processing
    time before its answer's headers, the last window's queue at the one-threaded sandbox)
    about as small against W as they are against ShipStation's 60 s.
    """
    return await _budget_use(quick, backfill=True, window=4.0 if quick else BACKFILL_WINDOW)


async def stream_budget_use(quick: bool) -> Figures:
    """Budget use of ``ss.orders.iter()`` over 225 pages of 500, every order a typed model,
    with W = 4 s (so decoding at 10 pages a second is on the critical path)."""
    return await _budget_use(quick, backfill=False, window=W)


async def _backfill_rss(orders: int) -> tuple[int, float]:
    port = free_port()
    server = _start_process(
        [
            "-m",
            "shipstation_async.sandbox",
            "--port",
            str(port),
            "--orders",
            str(orders),
            # A world that ends in the past: one ending at the start of this hour holds, for
            # the hour's first two minutes, orders a backfill leaves to its next run.
            "--end",
            "2026-11-01T00:00:00",
            "--rate-limit",
            "100000/60",
            "--api-key",
            "bench",
            "--api-secret",
            "s",
            "--log-level",
            "WARNING",
        ]
    )
    try:
        await _wait_for_port(port)
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.memory_worker",
            f"http://127.0.0.1:{port}",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await worker.communicate()
    finally:
        server.terminate()
        server.wait(10)
    result = json.loads(out)
    return int(result["records"]), float(result["peak_rss_mb"])


async def backfill_memory(quick: bool) -> Figures:
    """Peak RSS of the SDK's process alone (sandbox in another) backfilling orders to JSONL."""
    small, large = (20_000, 100_000) if quick else (100_000, 1_000_000)
    small_records, small_rss = await _backfill_rss(small)
    large_records, large_rss = await _backfill_rss(large)
    assert (small_records, large_records) == (small, large)
    return {
        "small_orders": small,
        "small_peak_rss_mb": small_rss,
        "large_orders": large,
        "large_peak_rss_mb": large_rss,
        "ratio": large_rss / small_rss,
    }


async def _naive_listing(sb: ThreadedSandbox, gather: bool) -> tuple[list[int], float, int]:
    """Offset pages by hand: a sequential loop, or a gather behind AsyncLimiter(L, W)."""
    auth = _auth(sb.api_key, sb.api_secret)
    limiter = AsyncLimiter(L, W)
    rejected = 0
    async with aiohttp.ClientSession(headers={"Authorization": auth}) as session:

        async def page(number: int) -> dict[str, Any]:
            nonlocal rejected
            while True:
                async with (
                    limiter,
                    session.get(f"{sb.url}/orders?page={number}&pageSize=500") as response,
                ):
                    body = await response.read()
                    if response.status != 429:
                        return dict(json.loads(body))
                    rejected += 1
                    info = parse_rate_limit(response.headers)
                    wait = info.reset if info and info.reset is not None else W
                await asyncio.sleep(wait)

        started = time.monotonic()
        first = await page(1)
        pages = [first]
        if gather:
            pages += await asyncio.gather(*(page(n) for n in range(2, int(first["pages"]) + 1)))
        else:
            for number in range(2, int(first["pages"]) + 1):
                pages.append(await page(number))
        elapsed = time.monotonic() - started
    return [int(o["orderId"]) for p in pages for o in p["orders"]], elapsed, rejected


async def stream_vs_naive(quick: bool) -> Figures:
    """The same listing under a mutation workload: the SDK's stream, a sequential page loop,
    and a gather behind AsyncLimiter(40, 4): time, 429s, orders lost or duplicated."""
    from shipstation_async.sandbox import MutationWorkload

    orders = 8_000 if quick else 50_000
    figures: Figures = {}
    for name in ("sdk", "sequential", "gather"):
        with ThreadedSandbox(
            orders=orders,
            rate_limit=RateLimit(L, W),
            api_key=f"b-{uuid.uuid4().hex[:6]}",
        ) as sb:
            before = set(range(0))
            async with client(sb) as ss:
                ids: set[int] = set()
                page = 1
                while True:  # what exists before the listing (not counted: W is reset below)
                    result = await ss.orders.list(page=page, page_size=500, lane="bulk")
                    ids.update(o.order_id or 0 for o in result.items)
                    if page >= result.pages:
                        break
                    page += 1
                before = ids
                await asyncio.sleep(W + 0.05)  # a fresh window for the measured listing
                work = MutationWorkload(
                    seed=7,
                    per_request=6,
                    inserts=1.0,
                    modifies=2.0,
                    status_changes=1.0,
                    deletes=0.5,
                )
                sb.mutations = work
                if name == "sdk":
                    started = time.monotonic()
                    listed = [o.order_id or 0 async for o in ss.orders.iter(concurrency=8)]
                    elapsed = time.monotonic() - started
                    rejected = sb.stats().rate_limited
                else:
                    listed, elapsed, rejected = await _naive_listing(sb, gather=name == "gather")
                sb.mutations = None
            stable = before - set(work.order_ids("delete"))
            figures[f"{name}_s"] = elapsed
            figures[f"{name}_429s"] = rejected
            figures[f"{name}_lost"] = len(stable - set(listed))
            figures[f"{name}_duplicated"] = len(listed) - len(set(listed))
    return figures


# -- budget use against a sandbox process per case, run side by side -----------------------

BUDGET_REQUESTS = 4 * L  # four windows: the measure spans three


async def _budget_case(
    period: float, window: str, reset_format: str, counting_delay: float, requests: int
) -> Figures:
    """One client with default settings against its own sandbox process: ``requests``
    concurrent ``orders.list`` calls; budget use, 429s and the most admitted in any W."""
    port = free_port()
    key = f"bench-{uuid.uuid4().hex[:8]}"
    server = _start_process(
        [
            "-m",
            "shipstation_async.sandbox",
            "--port",
            str(port),
            "--orders",
            "50",
            "--rate-limit",
            f"{L}/{period:g}",
            "--window",
            window,
            "--reset-format",
            reset_format,
            "--counting-delay",
            f"{counting_delay:g}",
            "--seed",  # the sandbox's counting delays differ from case to case and run to run
            str(random.randrange(2**31)),
            "--api-key",
            key,
            "--api-secret",
            "s",
            "--log-level",
            "WARNING",
        ]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_for_port(port)
        timeline = Timeline()
        async with ShipStation(
            key,
            "s",
            base_url=url,
            rate_limit=RateLimit(L, period),
            max_wait=None,
            hooks=[timeline],
        ) as ss:
            await asyncio.gather(*(ss.orders.list(page_size=1) for _ in range(requests)))
        async with aiohttp.ClientSession() as session, session.get(url + "/__sandbox/stats") as r:
            stats = await r.json()
    finally:
        server.terminate()
        server.wait(10)
    return {
        "use": timeline.budget_use(period),
        "429s": float(stats["rate_limited"]),
        "max_in_window": float(stats["max_in_window"]),
    }


async def _budget_cases(cases: list[tuple[float, str, str, float]], quick: bool) -> Figures:
    requests = 2 * L if quick else BUDGET_REQUESTS
    results = await asyncio.gather(*(_budget_case(*case, requests) for case in cases))
    figures: Figures = {}
    for (_, window, reset_format, delay), result in zip(cases, results, strict=True):
        name = f"{window}_{reset_format}" + (f"_delay{delay:g}" if delay else "")
        figures |= {f"{name}_{key}": value for key, value in result.items()}
    return figures


async def budget_use_w60(quick: bool) -> Figures:
    """Budget use at ShipStation's real W = 60 s (L = 40), each window type x Reset rounding
    against a prompt server, and each window type against one counting requests up to 2 s
    late; every case against its own sandbox process, all side by side (about 3.5 minutes)."""
    period = 10.0 if quick else 60.0
    cases = [
        (period, w, r, 0.0)
        for w in ("fixed", "aligned", "rolling")
        for r in ("floor", "ceil", "float")
    ]
    cases += [
        (period, w, r, 2.0)
        for w, r in (("fixed", "floor"), ("aligned", "ceil"), ("rolling", "float"))
    ]
    return await _budget_cases(cases, quick)


async def budget_use_counting_delay(quick: bool) -> Figures:
    """Budget use at W = 10 s against servers that count each request 0 to 2 s, or 0 to 5 s,
    after it arrives (a queue at a loaded server), side by side."""
    cases = [
        (10.0, w, r, d)
        for d in (2.0, 5.0)
        for w, r in (("fixed", "floor"), ("aligned", "ceil"), ("rolling", "float"))
    ]
    return await _budget_cases(cases, quick)


BENCHMARKS: dict[str, Callable[..., Awaitable[Figures]]] = {
    "utilization_fixed_floor": utilization_fixed_floor,
    "utilization_rolling_float": utilization_rolling_float,
    "utilization_aligned_floor": utilization_aligned_floor,
    "budget_use_w60": budget_use_w60,
    "budget_use_counting_delay": budget_use_counting_delay,
    "naive_limiter": naive_limiter,
    "interactive_latency_with_lanes": interactive_latency_with_lanes,
    "interactive_latency_without_lanes": interactive_latency_without_lanes,
    "overhead": overhead,
    "decode_models": decode_models,
    "backfill_budget_use": backfill_budget_use,
    "stream_budget_use": stream_budget_use,
    "backfill_memory": backfill_memory,
    "stream_vs_naive": stream_vs_naive,
    **SHARED_BENCHMARKS,
    **WEBHOOK_BENCHMARKS,
    **SANDBOX_BENCHMARKS,
}
