"""Order import: create or update ShipStation orders from a shop's feed, idempotently.

Each record of the shop's export becomes an order through createorder with an ``orderKey``
(the shop's own id), so ShipStation updates the order it already has under that key instead
of making another. The script also writes a fingerprint of the record into the order's
``customField3`` and reads the orders back before writing: a record ShipStation already
holds unchanged is not sent again, so a second run with the same feed writes nothing (no
modifyDate bumped, no budget spent on writes). An update starts from ShipStation's copy and
replaces only what the feed owns, so what others set there (a warehouse, tags) stays; orders
already shipped or cancelled are left as they are. Pick a custom field your account does not
use for the fingerprint.

Run it against a local sandbox::

    shipstation-async sandbox serve --port 8080 &
    export SHIPSTATION_API_KEY=sandbox-key SHIPSTATION_API_SECRET=sandbox-secret
    export SHIPSTATION_BASE_URL=http://127.0.0.1:8080
    python examples/order_import.py            # created 3
    python examples/order_import.py            # unchanged 3

``SHOP_FEED=feed.json`` reads the feed from a file (a JSON list shaped like ``SAMPLE_FEED``);
without it the sample below is imported. Without ``SHIPSTATION_BASE_URL`` the orders go to
ShipStation itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from shipstation_async import Order, ShipStation
from shipstation_async.models import Address, AdvancedOptions, OrderItem, Weight

FeedRecord = Mapping[str, Any]

SAMPLE_FEED: list[dict[str, Any]] = [
    {
        "id": 5001,
        "number": "SHOP-5001",
        "placed_at": "2026-01-05T15:04:00+00:00",
        "paid": True,
        "email": "ada@example.com",
        "ship_to": {
            "name": "Ada Lovelace",
            "street": "1600 Pennsylvania Ave",
            "city": "Washington",
            "state": "DC",
            "zip": "20500",
        },
        "lines": [{"sku": "TS-BLK-M", "title": "T-shirt", "qty": 2, "price": "12.50"}],
        "weight_oz": 24,
    },
    {
        "id": 5002,
        "number": "SHOP-5002",
        "placed_at": "2026-01-05T16:30:00+00:00",
        "paid": True,
        "email": "grace@example.com",
        "ship_to": {
            "name": "Grace Hopper",
            "street": "1 Navy Pier",
            "city": "Chicago",
            "state": "IL",
            "zip": "60611",
        },
        "lines": [
            {"sku": "MUG-WHT", "title": "Mug", "qty": 1, "price": "9.00"},
            {"sku": "TS-BLK-L", "title": "T-shirt", "qty": 1, "price": "12.50"},
        ],
        "weight_oz": 30,
    },
    {
        "id": 5003,
        "number": "SHOP-5003",
        "placed_at": "2026-01-06T09:12:00+00:00",
        "paid": False,
        "email": "alan@example.com",
        "ship_to": {
            "name": "Alan Turing",
            "street": "350 Fifth Ave",
            "city": "New York",
            "state": "NY",
            "zip": "10118",
        },
        "lines": [{"sku": "CAP-RED", "title": "Cap", "qty": 3, "price": "15.00"}],
        "weight_oz": 18,
    },
]

EDITABLE = {"awaiting_payment", "awaiting_shipment", "pending_fulfillment", "on_hold"}
"""The statuses whose orders createorder may still change."""


def fingerprint(record: FeedRecord) -> str:
    """A short digest of a feed record: equal digests, nothing to send."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return "feed:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def order_key(record: FeedRecord) -> str:
    """The orderKey: the shop's own id, which ShipStation matches updates by."""
    return f"shop-{record['id']}"


def feed_fields(record: FeedRecord) -> dict[str, Any]:
    """What the feed owns in an order (everything else stays as ShipStation has it)."""
    to = record["ship_to"]
    address = Address(
        name=to["name"],
        street1=to["street"],
        city=to["city"],
        state=to["state"],
        postal_code=to["zip"],
        country=to.get("country", "US"),
        residential=True,
    )
    items = [
        OrderItem(
            line_item_key=f"{record['id']}-{n}",
            sku=line["sku"],
            name=line["title"],
            quantity=line["qty"],
            unit_price=Decimal(line["price"]),
        )
        for n, line in enumerate(record["lines"], 1)
    ]
    total = sum((Decimal(line["price"]) * line["qty"] for line in record["lines"]), Decimal(0))
    return {
        "order_number": record["number"],
        "order_key": order_key(record),
        "order_date": datetime.fromisoformat(record["placed_at"]),
        "order_status": "awaiting_shipment" if record["paid"] else "awaiting_payment",
        "customer_email": record["email"],
        "bill_to": address,
        "ship_to": address,
        "items": items,
        "amount_paid": total if record["paid"] else Decimal(0),
        "weight": Weight(value=Decimal(record["weight_oz"]), units="ounces"),
    }


async def find_existing(ss: ShipStation, record: FeedRecord) -> Order | None:
    """ShipStation's order under this record's key, if it has one."""
    # The orderKey is what keeps the import idempotent: an order this lookup misses is
    # updated by createorder all the same, never duplicated. The lookup saves the writes.
    page = await ss.orders.list(order_number=record["number"], page_size=500)
    return next((o for o in page.items if o.order_key == order_key(record)), None)


async def import_record(ss: ShipStation, record: FeedRecord, existing: Order | None) -> str:
    """Create, update or leave one order; returns what was done."""
    digest = fingerprint(record)
    if existing is None:
        fields = feed_fields(record)
        order = Order(**fields, advanced_options=AdvancedOptions(custom_field3=digest))
        saved = await ss.orders.create_or_update(order)
        action = "created"
    elif existing.advanced_options and existing.advanced_options.custom_field3 == digest:
        return "unchanged"
    elif existing.order_status not in EDITABLE:
        print(f"kept {record['number']}: {existing.order_status} in ShipStation")
        return "kept"
    else:
        options = existing.advanced_options or AdvancedOptions()
        order = attrs.evolve(
            existing,
            **feed_fields(record),
            advanced_options=attrs.evolve(options, custom_field3=digest),
        )
        saved = await ss.orders.create_or_update(order)
        action = "updated"
    print(f"{action} {saved.order_number} (order {saved.order_id})")
    return action


async def import_feed(ss: ShipStation, feed: Sequence[FeedRecord]) -> Counter[str]:
    """Import every record; the lookups run together, paced by the client's budget."""
    existing = await asyncio.gather(*(find_existing(ss, record) for record in feed))
    done: Counter[str] = Counter()
    for record, order in zip(feed, existing, strict=True):
        done[await import_record(ss, record, order)] += 1
    return done


def load_feed() -> list[dict[str, Any]]:
    """The feed named by ``SHOP_FEED``, or the sample."""
    path = os.environ.get("SHOP_FEED")
    if not path:
        return SAMPLE_FEED
    feed: list[dict[str, Any]] = json.loads(Path(path).read_text("utf-8"))
    return feed


async def main() -> None:
    """Import the feed (credentials and base URL from the environment)."""
    feed = load_feed()
    async with ShipStation() as ss:
        done = await import_feed(ss, feed)
    print(", ".join(f"{action} {count}" for action, count in sorted(done.items())))


if __name__ == "__main__":
    asyncio.run(main())
