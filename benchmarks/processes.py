"""What the benchmarks share for servers they start: a free port, the sandbox's arguments."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_args(port: int, orders: int) -> list[str]:
    """``sandbox serve`` options for a benchmark: a fixed world, a limit no run reaches.

    The world ends in the past: one ending at the start of this hour holds, for the hour's
    first two minutes, orders a backfill leaves to its next run.
    """
    return [
        "--port",
        str(port),
        "--orders",
        str(orders),
        "--end",
        "2026-11-01T00:00:00",
        "--rate-limit",
        "100000/60",
        "--api-key",
        "bench",
        "--api-secret",
        "s",
    ]
