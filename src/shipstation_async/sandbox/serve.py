"""Running the sandbox as a standalone server (``python -m shipstation_async.sandbox``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Sequence

from ..errors import ConfigurationError
from ..limits import RateLimit
from .faults import Faults
from .ratewindow import RESET_FORMATS, WINDOW_MODES, ResetFormat, WindowMode
from .server import DEFAULT_RATE_LIMIT, Sandbox

log = logging.getLogger("shipstation_async.sandbox")


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    orders: int = 1000,
    seed: int = 0,
    rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
    window: WindowMode = "fixed",
    reset_format: ResetFormat = "int",
    count_rejected: bool = True,
    latency: float = 0.0,
    faults: Faults | None = None,
    api_key: str = "sandbox-key",
    api_secret: str = "sandbox-secret",
    max_date_range_days: int | None = 90,
    ready: Callable[[Sandbox], object] | None = None,
) -> None:
    """Serve a sandbox until cancelled (Ctrl-C under ``asyncio.run``).

    Logs the URL and the credentials at INFO under ``shipstation_async.sandbox``; ``ready``
    is called with the started :class:`Sandbox` (for example to print its URL). The other
    arguments are :class:`Sandbox`'s.
    """
    async with Sandbox(
        host=host,
        port=port,
        orders=orders,
        seed=seed,
        rate_limit=rate_limit,
        window=window,
        reset_format=reset_format,
        count_rejected=count_rejected,
        latency=latency,
        faults=faults,
        api_key=api_key,
        api_secret=api_secret,
        max_date_range_days=max_date_range_days,
    ) as sandbox:
        log.info(
            "ShipStation sandbox at %s  API key: %s  API secret: %s  (%d orders, seed %d, "
            "%d requests per %g s, %s window)",
            sandbox.url,
            sandbox.api_key,
            sandbox.api_secret,
            orders,
            seed,
            rate_limit.requests,
            rate_limit.period,
            window,
        )
        if ready is not None:
            ready(sandbox)
        await asyncio.Event().wait()


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m shipstation_async.sandbox``."""
    p = argparse.ArgumentParser(
        prog="python -m shipstation_async.sandbox",
        description="Serve a local ShipStation V1 sandbox that enforces the rate limit.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument("--orders", type=int, default=1000, help="generated orders (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    p.add_argument(
        "--rate-limit",
        default="40/60",
        help="REQUESTS/SECONDS per API key (default 40/60, ShipStation's)",
    )
    p.add_argument("--window", choices=WINDOW_MODES, default="fixed")
    p.add_argument("--reset-format", choices=RESET_FORMATS, default="int")
    p.add_argument(
        "--no-count-rejected",
        action="store_true",
        help="refused (429) requests do not count against the window",
    )
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    p.add_argument("--error-rate", type=float, default=0.0, help="share answered 500/502/503")
    p.add_argument("--api-key", default="sandbox-key")
    p.add_argument("--api-secret", default="sandbox-secret")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until Ctrl-C, and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        rate_limit = RateLimit.parse(args.rate_limit)
    except ConfigurationError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(
            serve(
                host=args.host,
                port=args.port,
                orders=args.orders,
                seed=args.seed,
                rate_limit=rate_limit,
                window=args.window,
                reset_format=args.reset_format,
                count_rejected=not args.no_count_rejected,
                latency=args.latency,
                faults=Faults(error_rate=args.error_rate),
                api_key=args.api_key,
                api_secret=args.api_secret,
            )
        )
    except KeyboardInterrupt:
        return 0
    return 0
