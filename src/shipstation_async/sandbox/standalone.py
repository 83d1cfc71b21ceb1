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
from .faults import Faults
from .http.request_body import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE
from .http.server import DEFAULT_RATE_LIMIT, Sandbox
from .ratewindow import RESET_FORMATS, WINDOW_MODES, ResetFormat, WindowMode
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The serving options: this module's runner and ``shipstation-async sandbox serve``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=types.port, default=8080, help="port (0: any free one)")
    parser.add_argument("--orders", type=types.count, default=1000, help="generated orders")
    parser.add_argument("--seed", type=int, default=0, help="world seed")
    parser.add_argument(
        "--end",
        type=_parse_end,
        default=None,
        help="the generated world's end, ISO 8601 (naive: Pacific time; default: the start "
        "of the current hour). Fix it for the same data in every process and hour",
    )
    parser.add_argument(
        "--dense",
        type=_parse_dense,
        action="append",
        default=[],
        metavar="INDEX:COUNT[:DISTINCT]",
        help="COUNT generated orders from INDEX on share one createDate second (repeatable)",
    )
    parser.add_argument(
        "--rate-limit",
        type=types.rate_limit,
        default=f"{DEFAULT_RATE_LIMIT.requests}/{DEFAULT_RATE_LIMIT.period:g}",
        help="REQUESTS/SECONDS per API key (ShipStation's is 40/60)",
    )
    parser.add_argument(
        "--window",
        choices=WINDOW_MODES,
        default="fixed",
        help="how the rate-limit window is counted",
    )
    parser.add_argument(
        "--reset-format",
        choices=RESET_FORMATS,
        default="floor",
        help="X-Rate-Limit-Reset in whole seconds rounded down (floor; int is the same) or up "
        "(ceil), as the API sends whole seconds, or fractional (float)",
    )
    parser.add_argument(
        "--no-count-rejected",
        action="store_true",
        help="refused (429) requests do not count against the window",
    )
    parser.add_argument(
        "--no-prebuild",
        action="store_true",
        help="build orders' answers only when first read (by default a background thread builds "
        "them from the start: a core for about 4 s per 50,000 orders, up to 176 MiB)",
    )
    parser.add_argument(
        "--counting-delay",
        type=types.seconds,
        default=0.0,
        help="each request waits a random 0 to this many seconds before the limit counts it "
        "(a loaded server)",
    )
    parser.add_argument(
        "--latency", type=types.seconds, default=0.0, help="seconds added to each request"
    )
    parser.add_argument(
        "--error-rate", type=types.share, default=0.0, help="share of requests answered 500/502/503"
    )
    parser.add_argument(
        "--late-rate",
        type=types.share,
        default=0.0,
        help="share of requests processed only after --late-delay (the client may be gone)",
    )
    parser.add_argument(
        "--late-delay",
        type=types.seconds,
        default=0.0,
        help="seconds a late request waits, read but unprocessed",
    )
    _add_webhook_arguments(parser)
    _add_request_arguments(parser)
    parser.add_argument("--api-key", default="sandbox-key", help="the key it accepts")
    parser.add_argument("--api-secret", default="sandbox-secret", help="the secret it accepts")


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


def _add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The options on what requests the sandbox accepts."""
    parser.add_argument(
        "--max-date-range-days",
        type=types.count,
        default=90,
        help="the longest date range (*Start to *End) the orders and shipments lists accept; "
        "0: no limit",
    )
    parser.add_argument(
        "--body-timeout",
        type=types.seconds,
        default=DEFAULT_BODY_TIMEOUT,
        help="seconds a request body may take to arrive (then 408 and the connection closed)",
    )
    parser.add_argument(
        "--max-body-size",
        type=types.positive,
        default=DEFAULT_MAX_BODY_SIZE,
        help="the largest request body in bytes (then 413)",
    )


def _add_webhook_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--webhook-*`` fault options."""
    parser.add_argument(
        "--webhook-delay-rate",
        type=types.share,
        default=0.0,
        help="share of webhook deliveries held back a uniform 0 to --webhook-max-delay seconds",
    )
    parser.add_argument(
        "--webhook-max-delay",
        type=types.seconds,
        default=10.0,
        help="the longest delay of a delayed webhook delivery",
    )
    parser.add_argument(
        "--webhook-drop-rate",
        type=types.share,
        default=0.0,
        help="share of webhook deliveries never sent",
    )
    parser.add_argument(
        "--webhook-duplicate-rate",
        type=types.share,
        default=0.0,
        help="share of webhook deliveries sent twice",
    )
    parser.add_argument(
        "--webhook-seed", type=int, default=0, help="seed of the webhook faults' random stream"
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


def _parse_end(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from None


def _parse_dense(text: str) -> tuple[int, int] | tuple[int, int, int]:
    try:
        parts = [int(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise argparse.ArgumentTypeError(f"expected INDEX:COUNT[:DISTINCT], got {text!r}")


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
