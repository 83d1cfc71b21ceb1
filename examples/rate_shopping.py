"""Rate shopping: quote every carrier, buy the cheapest label, never buy one twice.

For the oldest orders awaiting shipment (``BATCH`` of them per run), the script asks every
connected carrier for rates from the order's warehouse, picks the cheapest service the goods
qualify for, and buys that label for the order, which ShipStation then marks shipped: the
next run takes the next orders, and an order whose label was bought is not taken again.

A label purchase is the one call that must not be repeated blindly: when it times out or
meets a 5xx after it went out, ShipStation may have bought the label (and may still be
processing it). The client then raises ``AmbiguousRequestError`` instead of retrying, and
``await ss.settle(exc)`` finds out, waiting until ShipStation has surely finished:
``"bought"`` (use the label it found), ``"not_bought"`` (buying again buys once) or
``"still_ambiguous"`` (check by hand; do not buy again). ``ss.orders.create_label_once`` does
the same in one call, and also keeps identical purchases in this process from overlapping.

Labels are test labels unless ``EXAMPLE_REAL_LABELS=1``, which against ShipStation buys real
postage. A test label leaves its order awaiting shipment (so each run quotes the same orders)
and may leave no shipment to find (so an ambiguous test purchase settles as
``"still_ambiguous"`` once the wait is over). Against the sandbox every label is free::

    shipstation-async sandbox serve --port 8080 --orders 200 &
    export SHIPSTATION_API_KEY=sandbox-key SHIPSTATION_API_SECRET=sandbox-secret
    export SHIPSTATION_BASE_URL=http://127.0.0.1:8080 EXAMPLE_REAL_LABELS=1
    python examples/rate_shopping.py

``tests/test_examples.py`` also runs it with the sandbox told to drop the answer to a label
purchase that took effect (``sandbox.faults.script("drop_after", path=...)``): the label is
found by settling, and bought once.
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from shipstation_async import (
    AmbiguousRequestError,
    BadRequestError,
    InvalidRequestError,
    Order,
    ShipStation,
)
from shipstation_async.models import Label, Warehouse

BATCH = 3
"""Orders shipped per run (the oldest awaiting shipment)."""

EXCLUDED_SERVICES = {"usps_media_mail"}
"""Services the goods do not qualify for (Media Mail takes only books and recorded media)."""

ATTEMPTS = 3
"""Purchases per label that may be cut off before giving up (each is settled first)."""


def real_labels() -> bool:
    """Whether to buy real labels (``EXAMPLE_REAL_LABELS=1``) rather than test labels."""
    return os.environ.get("EXAMPLE_REAL_LABELS") == "1"


class Quote(NamedTuple):
    """One carrier service's price for a package; tuples compare cheapest first."""

    total: Decimal
    carrier_code: str
    service_code: str


async def carrier_quotes(
    ss: ShipStation, carrier: str, from_postal_code: str, order: Order
) -> list[Quote]:
    """One carrier's rates for the order's package (none if it cannot ship it)."""
    assert order.ship_to is not None and order.weight is not None
    ship_to = order.ship_to
    try:
        rates = await ss.shipments.get_rates(
            carrier,
            from_postal_code,
            ship_to.country or "US",
            ship_to.postal_code or "",
            order.weight,
            to_state=ship_to.state or None,
            to_city=ship_to.city or None,
            residential=ship_to.residential,
        )
    except (InvalidRequestError, BadRequestError) as exc:  # e.g. UPS without a state
        print(f"{order.order_number}: no {carrier} rates ({exc})")
        return []
    return [
        Quote(r.total, carrier, r.service_code)
        for r in rates
        if r.service_code is not None and r.service_code not in EXCLUDED_SERVICES
    ]


async def quotes_for(
    ss: ShipStation, order: Order, origin: Warehouse, carriers: list[str]
) -> list[Quote]:
    """Every carrier's rates, asked together (the client's budget paces them)."""
    assert origin.origin_address is not None and origin.origin_address.postal_code is not None
    postal_code = origin.origin_address.postal_code
    answers = await asyncio.gather(
        *(carrier_quotes(ss, carrier, postal_code, order) for carrier in carriers)
    )
    return [quote for quotes in answers for quote in quotes]


async def buy(ss: ShipStation, order: Order, quote: Quote) -> Label | None:
    """Buy the label once; None when no certainty could be had (check by hand)."""
    assert order.order_id is not None
    for _ in range(ATTEMPTS):
        try:
            return await ss.orders.create_label(
                order.order_id,
                quote.carrier_code,
                quote.service_code,
                "package",
                date.today(),
                test_label=not real_labels(),
            )
        except AmbiguousRequestError as exc:
            # Maybe bought: look before buying again (never retry a purchase blindly).
            settlement = await ss.settle(exc)
            if settlement.outcome == "bought":
                print(f"{order.order_number}: the purchase had gone through (found by settling)")
                return settlement.label()
            if settlement.outcome == "still_ambiguous":
                print(f"{order.order_number}: check by hand before buying: {settlement.reason}")
                return None
            # "not_bought": nothing was bought, and nothing can be any more; buy again.
    print(f"{order.order_number}: {ATTEMPTS} purchases were cut off, none took effect; try later")
    return None


async def ship_oldest(ss: ShipStation) -> int:
    """Ship up to BATCH orders awaiting shipment at their cheapest rate; returns labels bought."""
    page = await ss.orders.list(
        order_status="awaiting_shipment", sort_by="OrderDate", sort_dir="ASC", page_size=BATCH
    )
    warehouses = {w.warehouse_id: w for w in await ss.warehouses.list()}
    default = next(w for w in warehouses.values() if w.is_default)
    carriers = [c.code for c in await ss.carriers.list() if c.code is not None]
    bought = 0
    for order in page.items:
        if order.weight is None or not order.weight.value or order.ship_to is None:
            print(f"{order.order_number}: no weight or address; skipped")
            continue
        options = order.advanced_options
        origin = warehouses.get(options.warehouse_id if options else None, default)
        quotes = await quotes_for(ss, order, origin, carriers)
        if not quotes:
            print(f"{order.order_number}: no carrier quoted a rate; skipped")
            continue
        quote = min(quotes)
        label = await buy(ss, order, quote)
        if label is not None:
            bought += 1
            print(
                f"{order.order_number}: {quote.carrier_code} {quote.service_code} "
                f"${quote.total:.2f} tracking {label.tracking_number}"
            )
    return bought


async def main() -> None:
    """Ship a batch (credentials and base URL from the environment)."""
    async with ShipStation() as ss:
        bought = await ship_oldest(ss)
    kind = "labels" if real_labels() else "test labels"
    print(f"{bought} {kind} bought")


if __name__ == "__main__":
    asyncio.run(main())
