"""The ``shipstation-async`` command line.

``shipstation-async demo`` starts an embedded sandbox and pages through its orders concurrently
through the shared scheduler; ``shipstation-async sandbox serve`` runs the sandbox standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from . import _argtypes as types
from ._cli_backfill import add_backfill, output, run_backfill, usage_problem
from ._cli_errors import (
    ENVIRONMENT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STATUS,
    EXIT_USAGE,
    PROG,
    report,
    usage,
)
from ._cli_webhooks import add_webhooks, listen_problem, run_listen
from ._version import __version__
from .errors import ShipStationError
from .limits import RateLimit
from .sandbox.serve_options import add_arguments as add_serve_arguments


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shipstation-async`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Asyncio SDK for the ShipStation V1 API: tools and a local sandbox.",
        epilog=f"{EXIT_STATUS}\n\n{ENVIRONMENT}",
        formatter_class=types.HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log the SDK's decisions: each request and its answer, retries, 429 pauses",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo(commands)
    add_backfill(commands)
    add_webhooks(commands)
    sandbox = commands.add_parser("sandbox", help="the local ShipStation stand-in")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True
    )
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the sandbox until interrupted",
        description="Serve a local ShipStation V1 sandbox that enforces the rate limit, until "
        "Ctrl-C (exit status 130).",
        epilog=EXIT_STATUS,
        formatter_class=types.HelpFormatter,
    )
    add_serve_arguments(serve)
    return parser


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="page through an embedded sandbox's orders concurrently and report the figures",
        epilog=EXIT_STATUS,
        formatter_class=types.HelpFormatter,
    )
    demo.add_argument("--orders", type=types.count, default=12000, help="orders in the sandbox")
    demo.add_argument(
        "--page-size", type=types.page_size, default=100, help="orders per page (1..500)"
    )
    demo.add_argument(
        "--rate-limit",
        type=types.rate_limit,
        default="40/5",
        help="REQUESTS/SECONDS enforced by the sandbox and paced by the client: ShipStation's "
        "40/60 scaled down so the demo takes seconds (40/60 is the real one)",
    )
    demo.add_argument("--seed", type=int, default=1, help="sandbox data seed")


async def run_demo(orders: int, page_size: int, rate_limit: RateLimit, seed: int) -> int:
    """Start a sandbox, fetch every page of its orders concurrently, print what happened."""
    from .client import ShipStation
    from .sandbox import Sandbox

    async with (
        Sandbox(orders=orders, seed=seed, rate_limit=rate_limit) as sandbox,
        ShipStation(
            sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=rate_limit
        ) as ss,
    ):
        print(f"sandbox: {orders} orders at {sandbox.url}, limit {_describe(rate_limit)}")
        started = time.monotonic()
        first = await ss.orders.list(page=1, page_size=page_size)
        rest = await asyncio.gather(
            *(ss.orders.list(page=n, page_size=page_size) for n in range(2, first.pages + 1))
        )
        elapsed = time.monotonic() - started
        pages = [first, *rest]
        fetched = [order.order_id for page in pages for order in page.items]
        stats = sandbox.stats()
        status = ss.rate_limit_status()
        ideal = (-(-len(pages) // rate_limit.requests) - 1) * rate_limit.period
        print(f"fetched {len(fetched)} orders ({len(set(fetched))} unique) in {len(pages)} pages")
        print(f"requests sent: {status.total_sent}, 429s: {stats.rate_limited}")
        print(
            f"most requests the sandbox accepted in any {rate_limit.period:g} s: "
            f"{stats.max_in_window} (limit {rate_limit.requests})"
        )
        print(f"elapsed {elapsed:.2f} s (the budget alone needs at least {ideal:.2f} s)")
        ok = len(set(fetched)) == first.total == orders and stats.rate_limited == 0
        print("OK" if ok else "MISMATCH")
        return EXIT_OK if ok else EXIT_FAILED


def _describe(rate_limit: RateLimit) -> str:
    return f"{rate_limit.requests} requests / {rate_limit.period:g} s"


async def _serve(args: argparse.Namespace) -> None:
    from .sandbox.standalone import serve_arguments

    def ready(sandbox: Any) -> None:
        # Once it listens: a port in use or a bad address fails before any banner.
        print(
            f"ShipStation sandbox on {sandbox.url} "
            f"(API key {args.api_key!r}, secret {args.api_secret!r}, {args.orders} orders, "
            f"limit {_describe(args.rate_limit)}); Ctrl-C stops it",
            flush=True,
        )

    await serve_arguments(args, ready=ready)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shipstation-async`` command; returns its exit status.

    0 done, 1 failed, 2 usage error, 130 interrupted (see :mod:`._cli_errors`).
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if args.verbose:
        logging.getLogger("shipstation_async").setLevel(logging.DEBUG)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except (ShipStationError, OSError, sqlite3.Error) as exc:
        # The checkpoint (or the --sqlite output) is the file a backfill's SQLite error is about.
        where = str(output(args)[1]) if args.command == "backfill" else None
        return report(exc, where)


def _run(args: argparse.Namespace) -> int:
    """Run the command ``args`` names, once its options are checked."""
    if args.command == "demo":
        return asyncio.run(run_demo(args.orders, args.page_size, args.rate_limit, args.seed))
    if args.command == "backfill":
        if problem := usage_problem(args):
            return usage(problem)
        return asyncio.run(run_backfill(args))
    if args.command == "webhooks" and args.webhooks_command == "listen":
        if problem := listen_problem(args):
            return usage(problem)
        return asyncio.run(run_listen(args))
    if args.command == "sandbox" and args.sandbox_command == "serve":
        asyncio.run(_serve(args))
        return EXIT_OK
    return EXIT_USAGE  # pragma: no cover - argparse requires a known command


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main())
