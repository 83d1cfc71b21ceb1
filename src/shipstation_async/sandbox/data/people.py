"""The people of generated orders: buying customers and gift recipients, from a hash."""

from __future__ import annotations

from typing import Any

import attrs

from . import seed_tables as tables

CUSTOMER_ID_BASE = 30_000_000
"""customerId of generated customer ``c`` is ``CUSTOMER_ID_BASE + 8 * c + (0..7)``."""


@attrs.frozen
class Person:
    """A generated customer or gift recipient."""

    customer_id: int
    first: str
    last: str
    email: str
    phone: str
    street1: str
    street2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    company: str | None
    residential: bool
    verified: str

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    def address(self, *, name: str | None = None) -> dict[str, Any]:
        """The person as an Order address (``name`` overrides theirs)."""
        return {
            "name": name or self.name,
            "company": self.company,
            "street1": self.street1,
            "street2": self.street2,
            "street3": None,
            "city": self.city,
            "state": self.state,
            "postalCode": self.postal_code,
            "country": self.country,
            "phone": self.phone,
            "residential": self.residential,
            "addressVerified": self.verified,
        }


def person_name(hc: int) -> str:
    """The name of the person with identity hash ``hc`` (cheaper than :func:`make_person`)."""
    first = tables.FIRST_NAMES[hc % len(tables.FIRST_NAMES)]
    return f"{first} {tables.LAST_NAMES[(hc >> 10) % len(tables.LAST_NAMES)]}"


def make_person(c: int, hc: int) -> Person:
    """Generated person ``c`` from its identity hash ``hc``."""
    first = tables.FIRST_NAMES[hc % len(tables.FIRST_NAMES)]
    last = tables.LAST_NAMES[(hc >> 10) % len(tables.LAST_NAMES)]
    street = (
        f"{(hc >> 20) % 9900 + 100} {tables.STREET_NAMES[(hc >> 34) % len(tables.STREET_NAMES)]}"
    )
    street2 = f"Apt {(hc >> 40) % 400 + 1}" if (hc >> 50) % 5 == 0 else None
    local = f"{first}.{last}".lower().replace("'", "")
    email = f"{local}{c % 1000}@example.com"
    if (hc >> 53) % 12 == 0:
        city, state, postal, country = tables.INTL_CITIES[(hc >> 20) % len(tables.INTL_CITIES)]
        phone = f"+{(hc >> 8) % 90 + 10} {(hc >> 16) % 9000 + 1000} {(hc >> 24) % 900000:06d}"
    else:
        city, state, prefix, area = tables.US_CITIES[(hc >> 20) % len(tables.US_CITIES)]
        postal = f"{prefix}{(hc >> 30) % 100:02d}"
        country = "US"
        phone = f"{area}-555-{(hc >> 12) % 10000:04d}"
    company = tables.COMPANIES[(hc >> 57) % len(tables.COMPANIES)] if hc % 10 == 0 else None
    return Person(
        customer_id=CUSTOMER_ID_BASE + c * 8 + (hc >> 61),
        first=first,
        last=last,
        email=email,
        phone=phone,
        street1=street,
        street2=street2,
        city=city,
        state=state,
        postal_code=postal,
        country=country,
        company=company,
        residential=company is None,
        verified=tables.ADDRESS_VERIFIED[(hc >> 4) % len(tables.ADDRESS_VERIFIED)],
    )
