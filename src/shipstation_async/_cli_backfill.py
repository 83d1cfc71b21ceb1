"""The ``backfill`` command: its options, the checks made before anything is sent, the run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from . import _argtypes as types
from ._cli_errors import ENVIRONMENT, EXIT_OK, EXIT_STATUS, credentials_problem, directory_problem
from ._cli_progress import Display
from .streams import WALKS

# Fixed, so a resumed run sees the same data; in the past, so no clock leaves orders after T0.
SANDBOX_END = datetime(2025, 11, 1, tzinfo=UTC)


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
    if not 1900 <= value.year <= 2999:  # (near years 1 and 9999 the walk's arithmetic overflows)
        raise argparse.ArgumentTypeError(f"a year from 1900 to 2999, got {text!r}")
    return value


def add_backfill(commands: Any) -> None:
    """Add ``backfill`` to the command line."""
    backfill = commands.add_parser(
        "backfill",
        help="copy every record of a resource into a JSONL or SQLite file, resumable",
        description="Copy every record of a resource into a JSONL file (or a SQLite table), "
        "resumable at any moment: stop it (Ctrl-C, or a kill) and run the same command with "
        "--resume. A run that fails before writing anything leaves nothing behind. One run at "
        "a time writes an output: another started on it meanwhile (a cron job overlapping the "
        "last one) exits with status 2 at once. A copy is whole: products include the "
        "inactive ones and shipments their items, unless --no-inactive or --no-items. "
        "Credentials come from SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET (not needed "
        "with --sandbox).",
        epilog=f"{EXIT_STATUS}\n\n{ENVIRONMENT}",
        formatter_class=types.HelpFormatter,
    )
    backfill.add_argument("resource", choices=list(WALKS))
    backfill.add_argument(
        "--start", type=_moment, default=None, help="YYYY-MM-DD (Pacific) or ISO with offset"
    )
    backfill.add_argument("--end", type=_moment, default=None, help="default: now minus 2 min")
    backfill.add_argument("--out", default=None, help="JSONL file (default RESOURCE.jsonl)")
    backfill.add_argument(
        "--sqlite",
        default=None,
        help="upsert into this SQLite file's RESOURCE table instead of a JSONL file (not with "
        "--out)",
    )
    backfill.add_argument(
        "--resume",
        action="store_true",
        help="continue the run its checkpoint holds (or start one if there is none); the "
        "resource, --start and --end must be that run's",
    )
    backfill.add_argument(
        "--since-last",
        action="store_true",
        help="orders modified since the last run (appends new versions; implies --resume)",
    )
    backfill.add_argument(
        "--inactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="products only: the inactive ones too (showInactive=true), the default; "
        "--no-inactive copies the active ones only",
    )
    backfill.add_argument(
        "--items",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="shipments only: each with its items (includeShipmentItems=true), the default; "
        "--no-items leaves shipmentItems null, as the API does unless asked",
    )
    backfill.add_argument(
        "--concurrency", type=types.positive, default=4, help="date ranges fetched at once"
    )
    backfill.add_argument(
        "--base-url",
        default=None,
        help="the API's address, for example a `sandbox serve` on http://127.0.0.1:8080 "
        "(default: SHIPSTATION_BASE_URL when set, else ShipStation's)",
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


def output(args: argparse.Namespace) -> tuple[Path, Path]:
    """A backfill's output file and its checkpoint (a SQLite output holds its own)."""
    from .backfill.checkpoint import checkpoint_beside

    if args.sqlite:
        return Path(args.sqlite), Path(args.sqlite)
    out = Path(args.out or f"{args.resource}.jsonl")
    return out, checkpoint_beside(out)


def list_filters(args: argparse.Namespace) -> dict[str, bool]:
    """The list filters a backfill sends, as ``iter()`` names them.

    A backfill is a copy: the API's defaults leave inactive products and shipments' items
    out, so they are asked for unless turned off. Off sends nothing (the API's default), so
    such a run's checkpoint is the one a run without the filter made.
    """
    if args.resource == "products" and args.inactive is not False:
        return {"show_inactive": True}
    if args.resource == "shipments" and args.items is not False:
        return {"include_shipment_items": True}
    return {}


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why the backfill cannot run as asked (a usage error: nothing is sent), or None."""
    if args.since_last and args.resource != "orders":
        return "--since-last walks modifyDate, which only the orders list has"
    if args.inactive is not None and args.resource != "products":
        return "--inactive and --no-inactive are for products (the list with inactive records)"
    if args.items is not None and args.resource != "shipments":
        return "--items and --no-items are for shipments (the list with shipment items)"
    if args.sandbox and args.base_url:
        return "--sandbox and --base-url exclude each other"
    for option, value in (("--out", args.out), ("--sqlite", args.sqlite)):
        if value is not None and not value.strip():
            return f"{option} needs a file name, got an empty one"
    if args.out and args.sqlite:
        return (
            "--out and --sqlite exclude each other: a backfill writes one output, a JSONL "
            "file (--out) or a SQLite table (--sqlite)"
        )
    if args.start and args.end and args.end < args.start:
        return f"--end ({args.end}) is before --start ({args.start})"
    if not args.sandbox and (missing := credentials_problem()):
        return missing
    out, _ = output(args)
    if problem := directory_problem(out, "--sqlite" if args.sqlite else "--out"):
        return problem
    return _existing_output(args)


def _existing_output(args: argparse.Namespace) -> str | None:
    """Why the backfill must not write to its output now, or None.

    An earlier run's checkpoint is continued only with ``--resume`` (``--since-last`` implies
    it), and only by the same backfill (resource, --start, --end); a JSONL file holding data
    that no checkpoint accounts for is someone else's and is never written to. What a first
    run that failed before its first batch leaves (empty files) does not count.
    """
    from .backfill.checkpoint import holds_output, unaccounted_data

    out, checkpoint = output(args)
    if holds_output(checkpoint):
        if args.resume or args.since_last:
            return _another_backfill(args, checkpoint)
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


def _another_backfill(args: argparse.Namespace, checkpoint: Path) -> str | None:
    """Why ``--resume`` cannot continue the run ``checkpoint`` holds, or None."""
    from .backfill.checkpoint import read_run
    from .backfill.engine import describe_backfill, query_key

    try:
        saved = read_run(checkpoint)
    except sqlite3.Error:
        return f"{checkpoint} is not a backfill checkpoint (not a SQLite database it wrote)"
    if saved is None:
        return None  # a database of other tables: the run adds its own beside them
    asked = query_key(args.start, args.end, list_filters(args), since_last=args.since_last)
    if saved.resource == args.resource and saved.query == asked:
        return None
    theirs = describe_backfill(saved.resource, saved.query)
    return (
        f"{checkpoint} belongs to another backfill: {theirs}; this command asks for "
        f"{describe_backfill(args.resource, asked)}. Resume that one with its own resource, "
        "--start, --end (and --no-inactive or --no-items, if it was made without them), or "
        "write this one to another output"
    )


async def run_backfill(args: argparse.Namespace) -> int:
    """The ``backfill`` command: a resumable copy with a progress display."""
    from .backfill import Backfill, SqliteSink
    from .client import ShipStation
    from .sandbox.own_process import SandboxProcess

    out, checkpoint = output(args)
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
                sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=rate_limit
            )
        else:  # without --base-url: SHIPSTATION_BASE_URL, else ShipStation's own address
            ss = ShipStation(base_url=args.base_url, rate_limit=rate_limit)
        await stack.enter_async_context(ss)
        display = Display(ss, args.resource)
        job = Backfill(
            ss,
            args.resource,
            start=args.start,
            end=args.end,
            sink=sink,
            checkpoint=checkpoint,
            filters=list_filters(args),
            concurrency=args.concurrency,
            resume=args.resume or args.since_last,
            on_progress=display.update,
            since_last=args.since_last,
        )
        try:
            with display:
                summary = await job.run()
        except asyncio.CancelledError:
            if _resumable(checkpoint):
                print("stopped; the checkpoint is saved: run the same command with --resume")
            else:
                print("stopped before any record was written; nothing to resume")
            raise
    if summary.resumed and not summary.requests:
        print(f"{summary.records} {args.resource} in {out}: that run was already complete")
        return EXIT_OK
    print(
        f"{summary.records} {args.resource} in {out} ({summary.records_this_run} this run), "
        f"{summary.requests} requests, {summary.rate_limited} 429s, {summary.elapsed:.1f} s"
    )
    return EXIT_OK


def _resumable(checkpoint: Path) -> bool:
    """Whether ``checkpoint`` holds a run to resume."""
    from .backfill.checkpoint import read_run

    try:
        return read_run(checkpoint) is not None
    except sqlite3.Error:
        return False
