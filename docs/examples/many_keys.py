"""Many merchants' API keys in one process: a client per key, one aiohttp session for all.

Each key has its own budget (40 requests per 60 s each), so the clients never wait on one
another; the shared session keeps one connection pool instead of one per key. The accounts
come from a CSV file of ``name,api_key,api_secret`` lines (``SHIPSTATION_BASE_URL`` points
every client at a sandbox).

Run: ``python many_keys.py accounts.csv``.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Sequence
from typing import NamedTuple

import aiohttp

from shipstation_async import ShipStation, ShipStationError


class Account(NamedTuple):
    """One merchant's credentials."""

    name: str
    api_key: str
    api_secret: str


def load_accounts(path: str) -> list[Account]:
    """The accounts of a ``name,api_key,api_secret`` CSV file."""
    with open(path, newline="") as file:
        return [Account(*row) for row in csv.reader(file) if row]


async def awaiting(ss: ShipStation) -> int:
    """How many orders wait to be shipped on one account (one request)."""
    page = await ss.orders.list(page_size=1, order_status="awaiting_shipment")
    return page.total


async def report(accounts: Sequence[Account]) -> dict[str, int | str]:
    """Each account's count of orders awaiting shipment, or the error it met."""
    async with aiohttp.ClientSession() as session:
        clients = [ShipStation(a.api_key, a.api_secret, session=session) for a in accounts]
        try:
            results = await asyncio.gather(
                *(awaiting(ss) for ss in clients), return_exceptions=True
            )
        finally:
            # Closes each client; the session passed in stays open until the block ends.
            await asyncio.gather(*(ss.aclose() for ss in clients))
    counts: dict[str, int | str] = {}
    for account, result in zip(accounts, results, strict=True):
        if isinstance(result, ShipStationError):
            counts[account.name] = f"failed: {type(result).__name__}"
        elif isinstance(result, BaseException):
            raise result  # not the API's doing: a bug, or a cancellation
        else:
            counts[account.name] = result
    return counts


if __name__ == "__main__":
    for name, count in asyncio.run(report(load_accounts(sys.argv[1]))).items():
        print(f"{name}: {count}")
