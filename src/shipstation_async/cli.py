"""The ``shipstation-async`` command line.

``shipstation-async demo`` starts an embedded sandbox and pages through its orders concurrently
through the shared scheduler; ``shipstation-async sandbox serve`` runs the sandbox standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from . import _argtypes as types
from ._cli_webhooks import add_webhooks, run_listen
from .errors import ShipStationError
from .limits import RateLimit
from .sandbox.standalone import add_arguments as add_serve_arguments
from .streams import WALKS


def _moment(text: str) -> datetime:
    """A date (midnight Pacific) or an ISO datetime with an offset."""
    from ._time import from_pacific_wall

    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value.tzinfo is None:
        if len(text) > 10:
            raise argparse.ArgumentTypeError("give a date, or a datetime with an offset")
        value = from_pacific_wall(value)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shipstation-async`` command."""
    parser = argparse.ArgumentParser(
        prog="shipstation-async",
        description="Asyncio SDK for the ShipStation V1 API: tools and a local sandbox.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log the SDK's decisions: each request and its answer, retries, 429 pauses",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo(commands)
    _add_backfill(commands)
    add_webhooks(commands)
    sandbox = commands.add_parser("sandbox", help="the local ShipStation stand-in")
    sandbox_commands = sandbox.add_subparsers(
        dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True
    )
    serve = sandbox_commands.add_parser(
        "serve", help="serve the sandbox until interrupted", formatter_class=types.HelpFormatter
    )
    add_serve_arguments(serve)
    return parser


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="page through an embedded sandbox's orders concurrently and report the figures",
        formatter_class=types.HelpFormatter,
    )
    demo.add_argument("--orders", type=types.count, default=12000, help="orders in the sandbox")
    demo.add_argument("--page-size", type=int, default=100, help="orders per page (1..500)")
    demo.add_argument(
        "--rate-limit",
        type=types.rate_limit,
        default="40/5",
        help="REQUESTS/SECONDS enforced by the sandbox and paced by the client: ShipStation's "
        "40/60 scaled down so the demo takes seconds (40/60 is the real one)",
    )
    demo.add_argument("--seed", type=int, default=1, help="sandbox data seed")


def _add_backfill(commands: Any) -> None:
    backfill = commands.add_parser(
        "backfill",
        help="copy every record of a resource into a JSONL or SQLite file, resumable",
        description="Copy every record of a resource into a JSONL file (or a SQLite table), "
        "resumable at any moment: stop it (Ctrl-C, or a kill) and run the same command with "
        "--resume. Credentials come from SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET "
        "(not needed with --sandbox).",
        formatter_class=types.HelpFormatter,
    )
    backfill.add_argument("resource", choices=list(WALKS))
    backfill.add_argument(
        "--start", type=_moment, default=None, help="YYYY-MM-DD (Pacific) or ISO with offset"
    )
    backfill.add_argument("--end", type=_moment, default=None, help="default: now minus 2 min")
    backfill.add_argument("--out", default=None, help="JSONL file (default RESOURCE.jsonl)")
    backfill.add_argument(
        "--sqlite", default=None, help="upsert into this SQLite file's RESOURCE table instead"
    )
    backfill.add_argument(
        "--resume",
        action="store_true",
        help="continue the run its checkpoint holds (or start one if there is none)",
    )
    backfill.add_argument(
        "--since-last",
        action="store_true",
        help="orders modified since the last run (appends new versions; implies --resume)",
    )
    backfill.add_argument(
        "--concurrency", type=types.positive, default=4, help="date ranges fetched at once"
    )
    backfill.add_argument(
        "--base-url",
        default=None,
        help="the API's address, for example a `sandbox serve` on http://127.0.0.1:8080 "
        "(default: ShipStation's)",
    )
    backfill.add_argument(
        "--sandbox", action="store_true", help="run against an embedded sandbox (same data)"
    )
    backfill.add_argument(
        "--sandbox-orders", type=types.count, default=20000, help="orders in the embedded sandbox"
    )
    backfill.add_argument(
        "--rate-limit",
        type=types.rate_limit,
        default="40/60",
        help="REQUESTS/SECONDS, the API key's plan",
    )


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


# Fixed, so a resumed run sees the same data; in the past, so no clock leaves orders after T0.
SANDBOX_END = datetime(2025, 11, 1, tzinfo=UTC)


async def run_backfill(args: argparse.Namespace) -> int:
    """The ``backfill`` command: a resumable copy with a progress display."""
    from .backfill import Backfill, SqliteSink
    from .client import ShipStation
    from .sandbox.own_process import SandboxProcess

    out, checkpoint = _output(args)
    sink: Any = out
    if args.sqlite:
        sink = SqliteSink(out, table=args.resource, id_key=WALKS[args.resource].id_key)
    # A bulk-only process: no slots held back for interactive calls.
    rate_limit = attrs.evolve(args.rate_limit, reserve=0)
    async with contextlib.AsyncExitStack() as stack:
        if args.sandbox:
            # In a process of its own: the sandbox builds each page in Python, and on the
            # client's interpreter it would take turns with the client's work.
            sandbox = await stack.enter_async_context(
                SandboxProcess(
                    orders=args.sandbox_orders,
                    seed=1,
                    rate_limit=args.rate_limit,
                    world_end=SANDBOX_END,
                )
            )
            ss = ShipStation(
                sandbox.api_key,
                sandbox.api_secret,
                base_url=sandbox.url,
                rate_limit=rate_limit,
            )
        elif args.base_url:
            ss = ShipStation(base_url=args.base_url, rate_limit=rate_limit)
        else:
            ss = ShipStation(rate_limit=rate_limit)
        await stack.enter_async_context(ss)
        display = _Display(ss, args.resource)
        job = Backfill(
            ss,
            args.resource,
            start=args.start,
            end=args.end,
            sink=sink,
            checkpoint=checkpoint,
            concurrency=args.concurrency,
            resume=args.resume or args.since_last,
            on_progress=display.update,
            since_last=args.since_last,
        )
        try:
            with display:
                summary = await job.run()
        except asyncio.CancelledError:
            print("stopped; the checkpoint is saved. Resume with the same command and --resume")
            raise
    if summary.resumed and not summary.requests:
        print(f"{summary.records} {args.resource} in {out}: that run was already complete")
        return 0
    print(
        f"{summary.records} {args.resource} in {out} ({summary.records_this_run} this run), "
        f"{summary.requests} requests, {summary.rate_limited} 429s, {summary.elapsed:.1f} s"
    )
    return 0


def eta(requests_left: int, status: Any) -> float:
    """Seconds the budget needs for ``requests_left`` more requests.

    What the window has free goes at once, the rest at ``limit`` per ``period + margin``.
    """
    beyond = max(0, requests_left - status.remaining)
    return float(-(-beyond // status.limit) * (status.period + status.margin))


class _Display:
    """A rich progress bar when rich is installed (the ``cli`` extra), plain lines otherwise.

    The bar's total is the records written plus those the walkers' last answers say are left;
    the ETA is what the budget needs for the requests left (see :func:`eta`).
    """

    def __init__(self, ss: Any, resource: str) -> None:
        self._ss = ss
        self._resource = resource
        self._bar: Any = None
        self._no_rich = False
        self._task: Any = None
        self._last_plain = 0.0

    def __enter__(self) -> _Display:
        return self

    def _start_bar(self) -> bool:
        # On the first batch: a run with nothing left to fetch shows no bar at all.
        if self._no_rich:
            return False
        if self._bar is None:
            try:
                from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
            except ImportError:
                self._no_rich = True
                return False
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=12),
                TaskProgressColumn(),
                TextColumn("{task.fields[detail]}"),
                refresh_per_second=4,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self._resource, total=None, detail="")
        return True

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, progress: Any) -> None:
        status = self._ss.rate_limit_status()
        detail = (
            f"{progress.records} · {progress.pages} pages · {progress.requests} req · "
            f"budget {status.sent_in_window}/{status.limit} per {status.period:g}s"
        )
        if progress.requests_left is not None:
            detail += f" · ETA {eta(progress.requests_left, status):.0f}s"
        if self._start_bar():
            total = None
            if progress.records_left is not None:
                total = progress.records + progress.records_left
            self._bar.update(self._task, completed=progress.records, total=total, detail=detail)
        elif progress.elapsed - self._last_plain >= 2:
            self._last_plain = progress.elapsed
            print(f"{self._resource}: {detail}", flush=True)


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
    """Entry point of the ``shipstation-async`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if args.verbose:
        logging.getLogger("shipstation_async").setLevel(logging.DEBUG)
    try:
        if args.command == "demo":
            return asyncio.run(run_demo(args.orders, args.page_size, args.rate_limit, args.seed))
        if args.command == "backfill":
            if args.since_last and args.resource != "orders":
                return _usage("--since-last walks modifyDate, which only the orders list has")
            if args.sandbox and args.base_url:
                return _usage("--sandbox and --base-url exclude each other")
            if args.start and args.end and args.end < args.start:
                return _usage(f"--end ({args.end}) is before --start ({args.start})")
            if problem := _existing_output(args):
                return _usage(problem)
            return asyncio.run(run_backfill(args))
        if args.command == "webhooks" and args.webhooks_command == "listen":
            return asyncio.run(run_listen(args))
        if args.command == "sandbox" and args.sandbox_command == "serve":
            asyncio.run(_serve(args))
            return 0
    except KeyboardInterrupt:
        return 130
    except sqlite3.Error as exc:
        # The checkpoint (or the --sqlite output) could not be opened or written.
        where = _output(args)[1] if args.command == "backfill" else "SQLite"
        print(f"shipstation-async: error: {where}: {exc}", file=sys.stderr)
        return 1
    except (ShipStationError, OSError) as exc:
        notes = "".join(f"; {note}" for note in getattr(exc, "__notes__", ()))
        print(f"shipstation-async: error: {exc}{notes}", file=sys.stderr)
        return 1
    return 2


def _output(args: argparse.Namespace) -> tuple[Path, Path]:
    """A backfill's output file and its checkpoint (a SQLite output holds its own)."""
    from .backfill.checkpoint import checkpoint_beside

    if args.sqlite:
        return Path(args.sqlite), Path(args.sqlite)
    out = Path(args.out or f"{args.resource}.jsonl")
    return out, checkpoint_beside(out)


def _usage(message: str) -> int:
    print(f"shipstation-async: error: {message}", file=sys.stderr)
    return 2


def _existing_output(args: argparse.Namespace) -> str | None:
    """Why the backfill must not write to its output now, or None.

    An earlier run's checkpoint is continued only with ``--resume`` (``--since-last`` implies
    it); a JSONL file holding data that no checkpoint accounts for is someone else's and is
    never written to. What a first run that failed before its first batch leaves (empty
    files) does not count.
    """
    from .backfill.checkpoint import holds_output, unaccounted_data

    out, checkpoint = _output(args)
    if holds_output(checkpoint):
        if args.resume or args.since_last:
            return None
        if args.sqlite:
            return (
                f"{out} already holds data (an earlier run's, or other tables): add --resume "
                "to continue an earlier run, or choose another --sqlite file"
            )
        return (
            f"{out} and its checkpoint hold an earlier run: add --resume to continue it, or "
            "remove them"
        )
    if not args.sqlite and unaccounted_data(out, checkpoint):
        return (
            f"{out} already holds data that no backfill checkpoint accounts for; it is left "
            "untouched: choose another --out, or remove it"
        )
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
