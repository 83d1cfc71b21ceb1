"""A delivery answered 200 survives the process being killed before its handlers finished."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from shipstation_async import ShipStation
from shipstation_async.sandbox import Sandbox

from .conftest import delivery, new_orders

WORKER = Path(__file__).with_name("_kill_worker.py")


async def test_sigkill_after_200_and_the_restart_hands_over_once(
    sandbox: Sandbox, ss: ShipStation, tmp_path: Path
) -> None:
    ids, url_k = await new_orders(ss, sandbox, 3, "K")
    store, out = tmp_path / "hooks.sqlite", tmp_path / "handled.jsonl"
    args = [sandbox.url, sandbox.api_key, sandbox.api_secret, str(store), str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        "accept",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert first.stdin is not None and first.stdout is not None
    first.stdin.write(delivery(url_k) + b"\n")
    await first.stdin.drain()
    lines = [await asyncio.wait_for(first.stdout.readline(), 30) for _ in range(2)]
    assert sorted(lines) == [b"answered 200\n", b"handler-started\n"]
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert not out.exists()
    second = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), "resume", *args, env=env
    )
    assert await asyncio.wait_for(second.wait(), 60) == 0
    handled = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(handled) == 1 and sorted(handled[0]) == sorted(ids)
    # A third start finds nothing left to do.
    third = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), "resume", *args, env=env
    )
    assert await asyncio.wait_for(third.wait(), 60) == 0
    assert len(out.read_text().splitlines()) == 1
