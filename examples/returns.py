"""Returns: a prepaid return label for a shipped order, from the customer back to the warehouse.

Given an order number (``RETURN_ORDER_NUMBER``; without it, the order of the most recent
label, which is handy against the sandbox), the script finds the label the order went out
with and buys a return label (``is_return_label=True``) with the same carrier, service and
package, from the address the order was shipped to, to the return address of the warehouse
it was shipped from. The label's PDF is written to ``return-<order number>.pdf`` in
``RETURN_LABEL_DIR`` (default: the current directory), ready to email to the customer.

The purchase goes through ``ss.shipments.create_label_once``, which settles an ambiguous
outcome itself (a timeout or a 5xx after the request went out): a label that was bought is
returned (without its PDF, which the V1 API cannot download again: reprint it from
ShipStation), one that provably was not is bought again, and only when no certainty can be
had does it raise ``AmbiguousRequestError``, whose message says what to check. Each run buys
one return label.

Labels are test labels unless ``EXAMPLE_REAL_LABELS=1`` (real postage against ShipStation;
free against the sandbox). Run it against a local sandbox::

    shipstation-async sandbox serve --port 8080 --orders 200 &
    export SHIPSTATION_API_KEY=sandbox-key SHIPSTATION_API_SECRET=sandbox-secret
    export SHIPSTATION_BASE_URL=http://127.0.0.1:8080
    python examples/returns.py
"""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import date
from pathlib import Path

from shipstation_async import AmbiguousRequestError, ShipStation
from shipstation_async.models import Address, Shipment


def real_labels() -> bool:
    """Whether to buy real labels (``EXAMPLE_REAL_LABELS=1``) rather than test labels."""
    return os.environ.get("EXAMPLE_REAL_LABELS") == "1"


def outbound(shipment: Shipment) -> bool:
    """A label the order went out with (not voided, not itself a return)."""
    return not shipment.voided and not shipment.is_return_label


async def outbound_label(ss: ShipStation, order_number: str | None) -> Shipment | None:
    """The latest outbound label of the order (of the most recent label's order if None)."""
    if order_number is None:
        page = await ss.shipments.list(page_size=20, sort_by="CreateDate", sort_dir="DESC")
        candidates = [s for s in page.items if outbound(s) and s.order_number]
    else:
        labels = await ss.shipments.find_labels(order_number=order_number)
        candidates = [s for s in labels if outbound(s) and s.order_number == order_number]
    return max(candidates, key=lambda s: s.shipment_id or 0, default=None)


async def return_address(ss: ShipStation, warehouse_id: int | None) -> Address:
    """Where returns go: the shipping warehouse's return address (else its origin)."""
    warehouses = await ss.warehouses.list()
    warehouse = next(
        (w for w in warehouses if w.warehouse_id == warehouse_id),
        next(w for w in warehouses if w.is_default),
    )
    address = warehouse.return_address or warehouse.origin_address
    assert address is not None, f"warehouse {warehouse.warehouse_name} has no address"
    return address


async def main() -> None:
    """Buy one return label (credentials and base URL from the environment)."""
    wanted = os.environ.get("RETURN_ORDER_NUMBER") or None
    async with ShipStation() as ss:
        shipped = await outbound_label(ss, wanted)
        if shipped is None:
            print(f"no label found for order {wanted or '(any)'}: nothing to return")
            return
        assert shipped.carrier_code and shipped.service_code and shipped.weight
        assert shipped.ship_to is not None
        to = await return_address(ss, shipped.warehouse_id)
        try:
            label = await ss.shipments.create_label_once(
                shipped.carrier_code,
                shipped.service_code,
                shipped.package_code or "package",
                date.today(),
                shipped.weight,
                ship_from=shipped.ship_to,
                ship_to=to,
                is_return_label=True,
                test_label=not real_labels(),
            )
        except AmbiguousRequestError as exc:
            print(f"check by hand before buying again: {exc}")
            return
    print(
        f"return label for {shipped.order_number}: {shipped.carrier_code} "
        f"{label.tracking_number} to {to.city}, {to.state}"
    )
    if label.label_data:
        path = (
            Path(os.environ.get("RETURN_LABEL_DIR") or ".") / f"return-{shipped.order_number}.pdf"
        )
        path.write_bytes(base64.b64decode(label.label_data))
        print(f"label written to {path}")


if __name__ == "__main__":
    asyncio.run(main())
