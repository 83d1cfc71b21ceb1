"""The ``shipstation-async`` command line.

``shipstation-async demo`` starts an embedded sandbox and pages through its orders concurrently
through the shared scheduler; ``shipstation-async sandbox serve`` runs the sandbox standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from datetime import datetime

from .limits import RateLimit


def _rate_limit(text: str) -> RateLimit:
    try:
        return RateLimit.parse(text)
    except Exception as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give an offset, for example 2026-01-01T00:00:00-08:00")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shipstation-async`` command."""
    parser = argparse.ArgumentParser(
        prog="shipstation-async",
        description="Asyncio SDK for the ShipStation V1 API: tools and a local sandbox.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the SDK's decisions")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="page through an embedded sandbox's orders concurrently and report the figures",
    )
    demo.add_argument("--orders", type=int, default=12000, help="orders in the sandbox")
    demo.add_argument("--page-size", type=int, default=100, help="orders per page (1..500)")
    demo.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=RateLimit(40, 5.0),
        help="REQUESTS/SECONDS enforced by the sandbox and paced by the client (default 40/5, "
        "ShipStation's 40/60 scaled down so the demo takes seconds; 40/60 is the real one)",
    )
    demo.add_argument("--seed", type=int, default=1, help="sandbox data seed")

    sandbox = commands.add_parser("sandbox", help="the local ShipStation stand-in")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--orders", type=int, default=1000)
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--rate-limit", type=_rate_limit, default=RateLimit(40, 60.0))
    serve.add_argument("--window", choices=["fixed", "aligned", "rolling"], default="fixed")
    serve.add_argument("--reset-format", choices=["int", "float"], default="int")
    serve.add_argument("--api-key", default="sandbox-key")
    serve.add_argument("--api-secret", default="sandbox-secret")
    serve.add_argument(
        "--end",
        type=_aware_datetime,
        default=None,
        help="the generated world's last moment (ISO 8601 with offset); fixed data across runs",
    )
    return parser


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
        return 0 if ok else 1


def _describe(rate_limit: RateLimit) -> str:
    return f"{rate_limit.requests} requests / {rate_limit.period:g} s"


async def _serve(args: argparse.Namespace) -> None:
    from .sandbox import serve

    print(
        f"ShipStation sandbox on http://{args.host}:{args.port} "
        f"(API key {args.api_key!r}, secret {args.api_secret!r}, {args.orders} orders, "
        f"limit {_describe(args.rate_limit)}); Ctrl-C stops it",
        flush=True,
    )
    await serve(
        host=args.host,
        port=args.port,
        orders=args.orders,
        seed=args.seed,
        rate_limit=args.rate_limit,
        window=args.window,
        reset_format=args.reset_format,
        api_key=args.api_key,
        api_secret=args.api_secret,
        end=args.end,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shipstation-async`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        if args.command == "demo":
            return asyncio.run(run_demo(args.orders, args.page_size, args.rate_limit, args.seed))
        if args.command == "sandbox" and args.sandbox_command == "serve":
            asyncio.run(_serve(args))
            return 0
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
