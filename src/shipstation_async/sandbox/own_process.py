"""A sandbox served from a process of its own, for a client that should not share its CPU.

The sandbox builds every page it serves in Python; in the client's process it takes its turns
on the client's one interpreter, and a backfill's pages then cost the sum of both sides'
time. :class:`SandboxProcess` starts ``python -m shipstation_async.sandbox.own_process``,
hands it the options on its standard input (the credentials never appear in a command
line), reads the URL it listens on, and stops it by closing that input: so the server also
ends when its parent dies, however it dies. The child ignores Ctrl-C (the terminal sends it
to both): its parent decides when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sys
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ..limits import RateLimit

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class SandboxProcess:
    """``async with SandboxProcess(orders=..., seed=..., ...) as sb:`` serves on ``sb.url``.

    The options are :class:`.http.server.Sandbox`'s ``orders``, ``seed``, ``rate_limit``
    (its requests and period) and ``world_end``; ``api_key`` and ``api_secret`` are drawn
    at random. Raises RuntimeError when the server does not start.
    """

    def __init__(
        self,
        *,
        orders: int,
        seed: int = 0,
        rate_limit: RateLimit | None = None,
        world_end: datetime | None = None,
    ) -> None:
        limit = rate_limit if rate_limit is not None else RateLimit()
        self.api_key = f"sandbox-{secrets.token_hex(4)}"
        self.api_secret = secrets.token_urlsafe(16)
        self.url = ""
        self._options = {
            "orders": orders,
            "seed": seed,
            "requests": limit.requests,
            "period": limit.period,
            "world_end": None if world_end is None else world_end.isoformat(),
        }
        self._proc: asyncio.subprocess.Process | None = None

    def __repr__(self) -> str:
        return f"SandboxProcess(url={self.url!r}, orders={self._options['orders']!r})"

    async def __aenter__(self) -> Self:
        env = _child_env()
        self._proc = proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            # A session of its own: a terminal's Ctrl-C (sent to its foreground group) never
            # reaches it, not even while it imports, before it can ignore the signal.
            start_new_session=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        spec = {**self._options, "api_key": self.api_key, "api_secret": self.api_secret}
        proc.stdin.write(json.dumps(spec).encode() + b"\n")
        try:
            await proc.stdin.drain()
            line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT)
        except (OSError, TimeoutError):
            line = b""
        self.url = line.decode().strip()
        if not self.url.startswith("http://"):
            await self.aclose()
            raise RuntimeError("the sandbox process did not start")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the server: close its input, then wait (terminate it if it lingers)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def _child_env() -> dict[str, str]:
    """The environment of the child, which imports this very package."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    # Say where the package is when the child's sys.path alone would not find it.
    if not any(Path(p or ".").resolve() == root for p in sys.path):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(root), env.get("PYTHONPATH"))))
    return env


async def _serve(spec: dict[str, Any]) -> None:
    from .http.server import Sandbox

    end = spec["world_end"]
    async with Sandbox(
        orders=int(spec["orders"]),
        seed=int(spec["seed"]),
        rate_limit=RateLimit(int(spec["requests"]), float(spec["period"])),
        world_end=None if end is None else datetime.fromisoformat(end),
        api_key=str(spec["api_key"]),
        api_secret=str(spec["api_secret"]),
        prebuild=True,  # its own interpreter: idle time is free to build answers ahead
    ) as sandbox:
        try:
            print(sandbox.url, flush=True)
        except BrokenPipeError:
            return  # the parent is gone already (stopped while this one started)
        # Until the parent closes our input (or dies): a thread waits for the end of it.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)


def main() -> None:
    """The child: read the options line, serve, stop at the end of standard input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spec = json.loads(sys.stdin.buffer.readline())
    asyncio.run(_serve(spec))


if __name__ == "__main__":
    main()
