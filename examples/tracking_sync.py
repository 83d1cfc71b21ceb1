"""Tracking sync: the tracking numbers of the labels made since the last run.

Run it from cron (every few minutes or hourly): it lists the shipments created since its
checkpoint, prints each one's order number, carrier and tracking number (where a shop would
send them to its customers), and then moves the checkpoint on. ``ss.shipments.iter()`` yields
every shipment of the range exactly once, and the range ends two minutes before the server's
time (``stream.t0``: ShipStation lists a record a little after it is made), so a label made
during a run comes with the next one: none is missed, none is printed twice. The checkpoint is
written only after the whole range was read, so a run that dies is simply done again. The
first run looks back ``FIRST_RUN_DAYS`` days.

The checkpoint is a small JSON file: ``TRACKING_CHECKPOINT`` (default
``tracking-sync.json`` in the current directory). Labels voided later are not reported again
(a void does not change a shipment's creation time; the webhook receiver's polling reports
voids).

Run it against a local sandbox, whose generated shipments go back years::

    shipstation-async sandbox serve --port 8080 &
    export SHIPSTATION_API_KEY=sandbox-key SHIPSTATION_API_SECRET=sandbox-secret
    export SHIPSTATION_BASE_URL=http://127.0.0.1:8080
    python examples/tracking_sync.py     # the last week's labels
    python examples/tracking_sync.py     # nothing new
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shipstation_async import ShipStation
from shipstation_async.models import Shipment

FIRST_RUN_DAYS = 7
PACIFIC = ZoneInfo("America/Los_Angeles")  # the zone of ShipStation's timestamps


def checkpoint_path() -> Path:
    """Where the checkpoint is kept (``TRACKING_CHECKPOINT``)."""
    return Path(os.environ.get("TRACKING_CHECKPOINT") or "tracking-sync.json")


def load_checkpoint(path: Path) -> datetime | None:
    """The end of the range the last run read (None before the first run)."""
    if not path.exists():
        return None
    return datetime.fromisoformat(json.loads(path.read_text("utf-8"))["synced_until"])


def save_checkpoint(path: Path, synced_until: datetime) -> None:
    """Record the end of the range read, atomically (a crash leaves the old one)."""
    temporary = path.with_name(path.name + ".tmp")
    text = json.dumps({"synced_until": synced_until.astimezone(UTC).isoformat()})
    temporary.write_text(text, "utf-8")
    temporary.replace(path)


def describe(shipment: Shipment) -> str:
    """One line per label."""
    voided = " (voided)" if shipment.voided else ""
    return (
        f"{shipment.order_number or '-'}: {shipment.carrier_code} "
        f"{shipment.tracking_number}{voided}"
    )


async def sync(ss: ShipStation, since: datetime) -> tuple[int, datetime | None]:
    """Print the labels created after ``since``; returns how many and the range's end."""
    printed = 0
    async with ss.shipments.iter(create_date_start=since, ordered=True) as stream:
        async for shipment in stream:
            # The range starts at `since` itself, which the last run's range ended at.
            if shipment.create_date is not None and shipment.create_date <= since:
                continue
            print(describe(shipment))
            printed += 1
    # T0 is a wall-clock time in ShipStation's zone; None: nothing matched, keep `since`.
    end = None if stream.t0 is None else stream.t0.replace(tzinfo=PACIFIC)
    return printed, end


async def main() -> None:
    """Sync once (credentials and base URL from the environment)."""
    path = checkpoint_path()
    since = load_checkpoint(path) or datetime.now(UTC) - timedelta(days=FIRST_RUN_DAYS)
    async with ShipStation() as ss:
        printed, end = await sync(ss, since)
    if end is not None and end > since:
        save_checkpoint(path, end)
    until = (end or since).astimezone(UTC)
    print(f"{printed} new labels; synced until {until:%Y-%m-%d %H:%M:%S} UTC")


if __name__ == "__main__":
    asyncio.run(main())
