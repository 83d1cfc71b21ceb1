"""The ``webhooks listen`` command: receive deliveries, poll as a backup, print each version."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from . import _argtypes as types
from ._cli_errors import ENVIRONMENT, EXIT_OK, EXIT_STATUS, credentials_problem, directory_problem


def add_webhooks(commands: Any) -> None:
    """Add ``webhooks listen`` to the command line."""
    webhooks = commands.add_parser("webhooks", help="receive ShipStation's webhooks")
    sub = webhooks.add_subparsers(
        dest="webhooks_command", metavar="WEBHOOKS_COMMAND", required=True
    )
    listen = sub.add_parser(
        "listen",
        help="receive deliveries and print each record version once (polling backup on)",
        description="Serve a webhook receiver and print (or write as JSONL) each new record "
        "version once, from deliveries and from a polling backup. The token that "
        "authenticates deliveries comes from SHIPSTATION_WEBHOOK_TOKEN; API credentials "
        "from SHIPSTATION_API_KEY and SHIPSTATION_API_SECRET (not needed with --sandbox), "
        "checked with one request at start. Runs until Ctrl-C (exit status 130).",
        epilog=f"{EXIT_STATUS}\n\n{ENVIRONMENT}",
        formatter_class=types.HelpFormatter,
    )
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on")
    listen.add_argument("--port", type=types.port, default=8000, help="port to listen on")
    listen.add_argument("--path", default="/shipstation/events", help="path deliveries come to")
    listen.add_argument(
        "--subscribe-url",
        default=None,
        help="the public URL of this listener (https): subscribe it (token added) at start",
    )
    listen.add_argument(
        "--events",
        default="ORDER_NOTIFY,SHIP_NOTIFY",
        help="comma-separated events to receive (and subscribe)",
    )
    listen.add_argument("--out", default=None, help="append each version to this JSONL file")
    listen.add_argument(
        "--store",
        default=None,
        help="SQLite file of accepted deliveries (default shipstation-webhooks.sqlite; "
        "with --sandbox, memory)",
    )
    listen.add_argument(
        "--poll-interval", type=float, default=60.0, help="seconds between polling rounds"
    )
    listen.add_argument(
        "--base-url",
        default=None,
        help="the API's address (default: SHIPSTATION_BASE_URL when set, else ShipStation's)",
    )
    listen.add_argument(
        "--sandbox",
        action="store_true",
        help="run against an embedded sandbox whose orders change as it is polled (new "
        "orders, edits, status changes, labels) and that posts webhooks to this listener",
    )
    listen.add_argument(
        "--rate-limit", type=types.rate_limit, default="40/60", help="REQUESTS/SECONDS"
    )


def listen_problem(args: argparse.Namespace) -> str | None:
    """Why ``webhooks listen`` cannot run as asked (a usage error: nothing is sent), or None."""
    from .webhooks._http import EVENTS
    from .webhooks._tokens import TOKEN_ENV

    if args.sandbox and args.base_url:
        return "--sandbox and --base-url exclude each other"
    if not args.path.startswith("/"):
        return f"--path must start with /, got {args.path!r}"
    if not args.host.strip():
        return "--host must name an address (127.0.0.1, say), got an empty one"
    wanted = [event.strip() for event in args.events.split(",") if event.strip()]
    unknown = [event for event in wanted if event not in EVENTS]
    if unknown or not wanted:
        return f"--events takes ShipStation's events ({', '.join(sorted(EVENTS))}), got {unknown}"
    if not os.environ.get(TOKEN_ENV, "").strip():
        return (
            f"{TOKEN_ENV} is not set: the token that authenticates ShipStation's deliveries "
            "(16 characters or more; `python -c 'import secrets; print(secrets.token_urlsafe"
            "(32))'` makes one)"
        )
    if not args.sandbox and (missing := credentials_problem()):
        return missing
    for path, option in ((args.out, "--out"), (args.store, "--store")):
        if path and (problem := directory_problem(path, option)):
            return problem
    return None


class _Printer:
    """Writes each record version handed over: a line on stdout, or JSONL to a file."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self.count = 0

    async def __call__(self, notification: Any) -> None:
        for kind, records in (
            ("order", notification.orders),
            ("shipment", notification.shipments),
            ("fulfillment", notification.fulfillments),
        ):
            for record in records:
                line = {
                    "event": notification.resource_type,
                    "source": notification.source,
                    "kind": kind,
                    "record": record.raw,
                }
                self._out.write(json.dumps(line, default=str) + "\n")
                self.count += 1
        self._out.flush()


async def run_listen(args: argparse.Namespace) -> int:
    """The ``webhooks listen`` command."""
    from aiohttp import web

    from .client import ShipStation
    from .sandbox import MutationWorkload, Sandbox
    from .webhooks import MemoryStore, WebhookReceiver

    events = [e.strip() for e in args.events.split(",") if e.strip()]
    async with contextlib.AsyncExitStack() as stack:
        if args.sandbox:
            # Changes come with each list request the polling makes: a live account in small.
            changes = MutationWorkload(seed=1, per_request=2, deletes=0.0, ships=1.0)
            sandbox = await stack.enter_async_context(
                Sandbox(orders=50, rate_limit=args.rate_limit, mutations=changes)
            )
            ss = ShipStation(
                sandbox.api_key,
                sandbox.api_secret,
                base_url=sandbox.url,
                rate_limit=args.rate_limit,
            )
        else:  # without --base-url: SHIPSTATION_BASE_URL, else ShipStation's own address
            ss = ShipStation(base_url=args.base_url, rate_limit=args.rate_limit)
        await stack.enter_async_context(ss)
        if not args.sandbox:
            # Wrong credentials or address end the command now, not in a warning per round.
            await ss.webhooks.list()
        out: IO[str] = sys.stdout
        if args.out:
            # Opened once at start-up; the writes that follow are small appends.
            out = stack.enter_context(Path(args.out).open("a", encoding="utf-8"))  # noqa: ASYNC230, SIM115
        store = args.store or (MemoryStore() if args.sandbox else "shipstation-webhooks.sqlite")
        receiver = WebhookReceiver(ss, store=store, poll_interval=args.poll_interval)
        printer = _Printer(out)
        receiver.on(*events, name="shipstation-async.listen")(printer)
        await receiver.start()
        stack.push_async_callback(receiver.close)
        app = web.Application()
        app.router.add_route("*", args.path, receiver.aiohttp_handler())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, args.host, args.port).start()
        port = runner.addresses[0][1] if runner.addresses else args.port  # the bound one (--port 0)
        local = f"http://{_reachable(args.host)}:{port}{args.path}"
        print(f"listening on {local} (polling every {args.poll_interval:g} s)", file=sys.stderr)
        if args.subscribe_url or args.sandbox:
            public = args.subscribe_url or local
            report = await receiver.ensure_subscribed(public, events)
            print(
                f"subscribed {len(report.subscribed)} new, {len(report.kept)} already there",
                file=sys.stderr,
            )
        await asyncio.Event().wait()
    return EXIT_OK


def _reachable(host: str) -> str:
    """The host part of a URL that reaches a listener on ``host`` (wildcards: loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
