"""A sandbox in a process of its own: serves the same world, keeps its credentials, stops."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import aiohttp

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import World
from shipstation_async.sandbox.own_process import SandboxProcess
from shipstation_async.sandbox.world import OrderQuery

from .helpers import FIXED_END, auth_headers


async def test_it_serves_the_same_world_and_stops_with_its_parent() -> None:
    world = World(orders=700, seed=5, end=FIXED_END)
    async with SandboxProcess(
        orders=700, seed=5, rate_limit=RateLimit(1000, 60), world_end=FIXED_END
    ) as sb:
        proc = sb._proc
        assert proc is not None and sb.url.startswith("http://127.0.0.1:")
        # The secret is handed over on stdin, never on the command line.
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()  # noqa: ASYNC240 - tiny
        assert sb.api_secret.encode() not in cmdline and sb.api_secret not in repr(sb)
        async with aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as session:
            async with session.get("/orders", params={"pageSize": "500", "page": "2"}) as r:
                assert r.status == 200 and r.headers["X-Rate-Limit-Limit"] == "1000"
                page = await r.json()
            async with session.get("/orders", headers=auth_headers(sb, secret="wrong")) as r:
                assert r.status == 401
        expected, total = world.orders.query(OrderQuery(page=2, page_size=500))
        assert page["orders"] == expected and page["total"] == total == 700
        # Ctrl-C reaches the whole process group: the child leaves stopping to its parent.
        os.kill(proc.pid, signal.SIGINT)
        async with (
            aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as session,
            session.get("/orders") as r,
        ):
            assert r.status == 200
    assert proc.returncode == 0
