"""Multi-warehouse routing: ship each order from the warehouse nearest its customer.

Every order awaiting shipment is assigned the warehouse (ship-from location) whose state lies
nearest the order's ship-to state, by the distance between the states' geographic centres,
and saved with ``advancedOptions.warehouseId`` set. Orders already at their nearest warehouse
are not written again, so a run after another changes nothing, and it is safe to run from
cron as orders come in. Orders outside the United States, and warehouses or orders in a state
missing from ``CENTRES``, are left as they are.

createorder replaces a whole order, so each update is the order as fetched with only its
``advanced_options.warehouse_id`` changed (``attrs.evolve``): every other field goes back as
it came. ``ss.orders.iter()`` lists every order awaiting shipment once, up to two minutes
before the server's time; an order newer than that is routed by the next run.

Run it against a local sandbox (three warehouses: Texas, Nevada and New Jersey)::

    shipstation-async sandbox serve --port 8080 &
    export SHIPSTATION_API_KEY=sandbox-key SHIPSTATION_API_SECRET=sandbox-secret
    export SHIPSTATION_BASE_URL=http://127.0.0.1:8080
    python examples/multi_warehouse.py
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence

import attrs

from shipstation_async import Order, ShipStation
from shipstation_async.models import AdvancedOptions, Warehouse

CENTRES: Mapping[str, tuple[float, float]] = {
    # Approximate geographic centre (latitude, longitude) of each state and DC.
    "AL": (32.8, -86.8), "AK": (64.2, -152.5), "AZ": (34.3, -111.7), "AR": (34.9, -92.4),
    "CA": (37.2, -119.4), "CO": (39.0, -105.5), "CT": (41.6, -72.7), "DE": (39.0, -75.5),
    "DC": (38.9, -77.0), "FL": (28.6, -82.4), "GA": (32.7, -83.4), "HI": (20.8, -156.3),
    "ID": (44.4, -114.6), "IL": (40.0, -89.2), "IN": (39.9, -86.3), "IA": (42.1, -93.5),
    "KS": (38.5, -98.4), "KY": (37.5, -85.3), "LA": (31.1, -92.0), "ME": (45.4, -69.2),
    "MD": (39.0, -76.8), "MA": (42.3, -71.8), "MI": (44.3, -85.4), "MN": (46.3, -94.3),
    "MS": (32.7, -89.7), "MO": (38.4, -92.5), "MT": (47.0, -109.6), "NE": (41.5, -99.8),
    "NV": (39.3, -116.6), "NH": (43.7, -71.6), "NJ": (40.2, -74.7), "NM": (34.4, -106.1),
    "NY": (42.9, -75.5), "NC": (35.6, -79.4), "ND": (47.5, -100.5), "OH": (40.3, -82.8),
    "OK": (35.6, -97.5), "OR": (43.9, -120.6), "PA": (40.9, -77.8), "RI": (41.7, -71.5),
    "SC": (33.9, -80.9), "SD": (44.4, -100.2), "TN": (35.9, -86.4), "TX": (31.5, -99.3),
    "UT": (39.3, -111.7), "VT": (44.1, -72.7), "VA": (37.5, -78.9), "WA": (47.4, -120.5),
    "WV": (38.6, -80.6), "WI": (44.6, -89.9), "WY": (43.0, -107.6),
}  # fmt: skip


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def state_of(warehouse: Warehouse) -> str | None:
    """The state a warehouse ships from."""
    origin = warehouse.origin_address
    return None if origin is None or origin.state is None else origin.state.upper()


def nearest_warehouse(order: Order, warehouses: Sequence[Warehouse]) -> Warehouse | None:
    """The warehouse nearest the order's ship-to state (None: no basis to choose)."""
    ship_to = order.ship_to
    if ship_to is None or (ship_to.country or "US") != "US" or ship_to.state is None:
        return None
    centre = CENTRES.get(ship_to.state.upper())
    if centre is None:
        return None
    by_distance = [
        (distance_km(centre, CENTRES[state]), w)
        for w in warehouses
        if (state := state_of(w)) is not None and state in CENTRES
    ]
    return min(by_distance, key=lambda pair: pair[0])[1] if by_distance else None


async def route(ss: ShipStation, order: Order, warehouses: Sequence[Warehouse]) -> bool:
    """Set the order's warehouse to its nearest; False when it already was (or no choice)."""
    target = nearest_warehouse(order, warehouses)
    options = order.advanced_options or AdvancedOptions()
    if target is None or target.warehouse_id == options.warehouse_id:
        return False
    routed = attrs.evolve(
        order, advanced_options=attrs.evolve(options, warehouse_id=target.warehouse_id)
    )
    await ss.orders.create_or_update(routed)
    state = order.ship_to.state if order.ship_to else "?"
    print(f"{order.order_number} ({state}) -> {target.warehouse_name}")
    return True


async def main() -> None:
    """Route every order awaiting shipment (credentials and base URL from the environment)."""
    async with ShipStation() as ss:
        warehouses = await ss.warehouses.list()
        seen = routed = 0
        async with ss.orders.iter(order_status="awaiting_shipment") as orders:
            async for order in orders:
                seen += 1
                routed += await route(ss, order, warehouses)
    print(f"{routed} of {seen} orders awaiting shipment routed to a nearer warehouse")


if __name__ == "__main__":
    asyncio.run(main())
