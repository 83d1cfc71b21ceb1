"""Benchmarks of the webhook receiver: concurrent deliveries answered, aiohttp and ASGI."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from shipstation_async import RateLimit, ShipStation
from shipstation_async.sandbox import Sandbox
from shipstation_async.webhooks import Notification, SQLiteStore, WebhookReceiver

from .processes import free_port

Figures = dict[str, float]
TOKEN = "bench-token-0123456789abcdef"


async def _deliver(url: str, sandbox_url: str, count: int) -> Figures:
    """``count`` deliveries at once (each its own import batch); time to each 200."""
    bodies = [
        json.dumps(
            {
                "resource_url": f"{sandbox_url}/orders?storeID=1&importBatch={uuid.uuid4()}",
                "resource_type": "ORDER_NOTIFY",
            }
        ).encode()
        for _ in range(count)
    ]
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(body: bytes) -> None:
            started = time.perf_counter()
            async with http.post(url, data=body) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"delivery answered {answer.status}")
            latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        wall = time.perf_counter() - began
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "deliveries_per_s": count / wall,
    }


async def _with_receiver(
    serve: Callable[[WebhookReceiver, int], Awaitable[Callable[[], Awaitable[None]]]],
    quick: bool,
) -> Figures:
    count = 200 if quick else 1000
    sandbox = Sandbox(orders=0, rate_limit=RateLimit(40, 2.0))
    async with sandbox as sb, ShipStation(sb.api_key, sb.api_secret, base_url=sb.url) as ss:
        with tempfile.TemporaryDirectory() as tmp:
            if True:
                receiver = WebhookReceiver(
                    ss, token=TOKEN, store=SQLiteStore(Path(tmp) / "hooks.sqlite")
                )

                @receiver.on("ORDER_NOTIFY", name="bench")
                async def handle(notification: Notification) -> None:
                    return None

                port = free_port()
                stop = await serve(receiver, port)
                try:
                    url = receiver.target_url(f"http://127.0.0.1:{port}/shipstation/events")
                    await _deliver(url, sb.url, 20)  # warm the connections and the store
                    return await _deliver(url, sb.url, count)
                finally:
                    await stop()


async def _aiohttp(receiver: WebhookReceiver, port: int) -> Callable[[], Awaitable[None]]:
    app = web.Application()
    app.add_subapp("/shipstation", receiver.aiohttp_app())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=2048).start()
    return runner.cleanup


async def _uvicorn(receiver: WebhookReceiver, port: int) -> Callable[[], Awaitable[None]]:
    import uvicorn

    config = uvicorn.Config(
        receiver.asgi_app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        backlog=2048,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await task

    return stop


async def webhook_deliveries_aiohttp(quick: bool) -> Figures:
    """1,000 concurrent deliveries to ``receiver.aiohttp_app()`` (SQLite store): time to the
    200 answer (p50, p99) and deliveries per second; client and server share one loop."""
    return await _with_receiver(_aiohttp, quick)


async def webhook_deliveries_asgi(quick: bool) -> Figures:
    """The same against ``receiver.asgi_app()`` served by uvicorn."""
    return await _with_receiver(_uvicorn, quick)


async def webhook_end_to_end(quick: bool) -> Figures:
    """2 minutes of orders created, labelled, voided, shipped, edited and held while the
    sandbox drops 30% of webhooks, delays 30% by up to 10 s and duplicates 20%; polling
    every 10 s. Violations (a last version missed, a version twice) must be 0; latencies
    are from a webhook's emission to the first handler call with its records."""
    from tests.webhooks.scenario import run_scenario

    with tempfile.TemporaryDirectory() as tmp:
        outcome = await run_scenario(
            20.0 if quick else 120.0, poll_interval=10.0, max_delay=10.0, seed=7, tmp=Path(tmp)
        )
    return outcome.figures()


WEBHOOK_BENCHMARKS: dict[str, Callable[..., Awaitable[Figures]]] = {
    "webhook_deliveries_aiohttp": webhook_deliveries_aiohttp,
    "webhook_deliveries_asgi": webhook_deliveries_asgi,
    "webhook_end_to_end": webhook_end_to_end,
}
