"""The options of a served sandbox (``sandbox serve``, ``python -m shipstation_async.sandbox``).

Apart from :mod:`.standalone`, which serves: every command of the command line builds its
parser, ``sandbox serve``'s options included, and only serving needs the server (and
``aiohttp.web``).
"""

from __future__ import annotations

import argparse
from datetime import datetime

from .. import _argtypes as types
from .defaults import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_RATE_LIMIT
from .ratewindow import RESET_FORMATS, WINDOW_MODES


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
