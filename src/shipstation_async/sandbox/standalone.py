"""Running the sandbox as a standalone server (``python -m shipstation_async.sandbox``).

``--end 2025-06-01T12:00`` fixes the generated world's end (naive: Pacific wall-clock; an
offset is converted), so servers started in different processes or hours with the same
``--orders``, ``--seed`` and ``--end`` serve the same data. ``--dense INDEX:COUNT[:DISTINCT]``
(repeatable) puts ``COUNT`` orders from ``INDEX`` on in one createDate second. The
``--webhook-*`` options set the webhook faults (:class:`.webhook_delivery.WebhookDelivery`);
webhooks go to loopback targets only. ``--max-date-range-days`` sets the longest date range
the orders and shipments lists accept (90, as the API's notes state; 0: no limit);
``--body-timeout`` and ``--max-body-size`` bound request bodies (then 408, 413).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from .. import _argtypes as types
from ..errors import ConfigurationError
from ..limits import RateLimit
from .defaults import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_RATE_LIMIT
from .faults import Faults
from .http.server import Sandbox
from .ratewindow import ResetFormat, WindowMode
from .serve_options import add_arguments
from .webhook_delivery import WebhookDelivery

log = logging.getLogger("shipstation_async.sandbox")


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    orders: int = 1000,
    seed: int = 0,
    rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
    window: WindowMode = "fixed",
    reset_format: ResetFormat = "floor",
    count_rejected: bool = True,
    counting_delay: float = 0.0,
    latency: float = 0.0,
    faults: Faults | None = None,
    api_key: str = "sandbox-key",
    api_secret: str = "sandbox-secret",
    max_date_range_days: int | None = 90,
    ready: Callable[[Sandbox], object] | None = None,
    end: datetime | None = None,
    dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
    webhooks: WebhookDelivery | None = None,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    prebuild: bool = True,
) -> None:
    """Serve a sandbox until cancelled (Ctrl-C under ``asyncio.run``).

    Logs the URL and the credentials at INFO under ``shipstation_async.sandbox``; ``ready``
    is called with the started :class:`Sandbox` (for example to print its URL). ``end`` is
    :class:`Sandbox`'s ``world_end``; the other arguments are :class:`Sandbox`'s, except that
    ``prebuild`` is on by default here (the server has its own interpreter).
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
        counting_delay=counting_delay,
        latency=latency,
        faults=faults,
        api_key=api_key,
        api_secret=api_secret,
        max_date_range_days=max_date_range_days,
        world_end=end,
        dense_seconds=dense_seconds,
        webhooks=webhooks,
        body_timeout=body_timeout,
        max_body_size=max_body_size,
        prebuild=prebuild,
    ) as sandbox:
        log.info(
            "ShipStation sandbox at %s  API key: %s  API secret: %s  (%d orders, seed %d, "
            "%d requests per %g s, %s window, Reset %s, counting delay up to %g s, "
            "world end %s)",
            sandbox.url,
            sandbox.api_key,
            sandbox.api_secret,
            orders,
            seed,
            rate_limit.requests,
            rate_limit.period,
            window,
            sandbox.reset_format,
            counting_delay,
            sandbox.world.orders.end_iso,
        )
        if ready is not None:
            ready(sandbox)
        await asyncio.Event().wait()


async def serve_arguments(
    args: argparse.Namespace, ready: Callable[[Sandbox], object] | None = None
) -> None:
    """:func:`serve` with the options :func:`add_arguments` parsed."""
    await serve(
        host=args.host,
        port=args.port,
        orders=args.orders,
        seed=args.seed,
        rate_limit=args.rate_limit,
        window=args.window,
        reset_format=args.reset_format,
        count_rejected=not args.no_count_rejected,
        counting_delay=args.counting_delay,
        latency=args.latency,
        faults=Faults(
            error_rate=args.error_rate, late_rate=args.late_rate, late_delay=args.late_delay
        ),
        api_key=args.api_key,
        api_secret=args.api_secret,
        end=args.end,
        dense_seconds=args.dense,
        max_date_range_days=args.max_date_range_days or None,
        body_timeout=args.body_timeout,
        max_body_size=args.max_body_size,
        prebuild=not args.no_prebuild,
        webhooks=WebhookDelivery(
            delay_rate=args.webhook_delay_rate,
            max_delay=args.webhook_max_delay,
            drop_rate=args.webhook_drop_rate,
            duplicate_rate=args.webhook_duplicate_rate,
            seed=args.webhook_seed,
        ),
        ready=ready,
    )


def build_parser() -> argparse.ArgumentParser:
    """The command-line options of ``python -m shipstation_async.sandbox``."""
    parser = argparse.ArgumentParser(
        prog="python -m shipstation_async.sandbox",
        description="Serve a local ShipStation V1 sandbox that enforces the rate limit.",
        formatter_class=types.HelpFormatter,
    )
    add_arguments(parser)
    parser.add_argument("--log-level", default="INFO", help="logging level")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, serve until Ctrl-C, and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        asyncio.run(serve_arguments(args))
    except KeyboardInterrupt:
        return 130  # interrupted: the status `shipstation-async sandbox serve` gives Ctrl-C too
    except ConfigurationError as exc:
        parser.error(str(exc))
    except OSError as exc:  # the address is taken or cannot be bound
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0
