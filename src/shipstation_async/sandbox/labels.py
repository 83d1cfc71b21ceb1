"""Labels: the ledger of purchases and the small PDF every label carries."""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs


@attrs.frozen
class LabelPurchase:
    """One label bought through ``/shipments/createlabel`` or ``/orders/createlabelfororder``.

    ``endpoint`` is the path that bought it; ``request`` the JSON body exactly as received;
    ``shipment_id`` the shipment it created (None for a test label, which creates none);
    ``order_id`` the order it was for (None for createlabel); money is Decimal dollars;
    ``charged``: the amount taken from a funded carrier's balance (0 for test labels and
    unfunded carriers); ``create_date`` the purchase time in ShipStation's order format.
    """

    sequence: int
    endpoint: str
    request: Any
    shipment_id: int | None
    order_id: int | None
    carrier_code: str
    service_code: str
    package_code: str
    shipment_cost: Decimal
    insurance_cost: Decimal
    charged: Decimal
    tracking_number: str
    test_label: bool
    create_date: str

    def to_json(self) -> dict[str, Any]:
        """The purchase as JSON (camelCase keys, money as numbers), for the control API."""
        return {
            "sequence": self.sequence,
            "endpoint": self.endpoint,
            "request": copy.deepcopy(self.request),
            "shipmentId": self.shipment_id,
            "orderId": self.order_id,
            "carrierCode": self.carrier_code,
            "serviceCode": self.service_code,
            "packageCode": self.package_code,
            "shipmentCost": float(self.shipment_cost),
            "insuranceCost": float(self.insurance_cost),
            "charged": float(self.charged),
            "trackingNumber": self.tracking_number,
            "testLabel": self.test_label,
            "createDate": self.create_date,
        }


def _pdf_text(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def label_pdf(lines: Sequence[str], *, width: int = 288, height: int = 432) -> bytes:
    """A valid one-page PDF (4x6 inches by default) showing ``lines`` in Helvetica.

    The cross-reference table carries the true byte offsets, so PDF readers open it without
    repair.
    """
    y = height - 40
    parts = ["BT", "/F1 12 Tf", f"20 {y} Td", "16 TL"]
    for k, line in enumerate(lines):
        parts.append(f"({_pdf_text(line)}) Tj" if k == 0 else f"({_pdf_text(line)}) '")
    parts.append("ET")
    content = "\n".join(parts).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            "/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
        ).encode(),
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def label_data(lines: Sequence[str]) -> str:
    """``label_pdf(lines)`` as base64 text, as ``labelData`` carries it."""
    return base64.b64encode(label_pdf(lines)).decode("ascii")
