"""The sandbox's rate model: what a parcel costs by service, package, weight and distance.

Prices are integer cents. Distance is a zone: 1 to 8 inside the US from the difference of the
origin's and destination's 3-digit ZIP prefixes, 9 for Canada and Mexico, 10 elsewhere.
The billable weight is the larger of the actual weight and, for UPS and FedEx (or any parcel
given dimensions over one cubic foot), the dimensional weight ``L*W*H/139`` (inches, pounds).
``otherCost`` carries the fuel surcharge (UPS, FedEx: 12 %), the residential surcharge (UPS,
FedEx Ground: $4.50) and confirmation fees. The model is deterministic: the same request
always costs the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from .data.catalog import PACKAGE_BY_CODE, SERVICES, PackageSpec, ServiceSpec

WEIGHT_UNITS: dict[str, float] = {"ounces": 1.0, "pounds": 16.0, "grams": 1 / 28.349523125}
"""Ounces per unit for the units ShipStation accepts."""
DIMENSION_UNITS: dict[str, float] = {"inches": 1.0, "centimeters": 1 / 2.54}
"""Inches per unit for the units ShipStation accepts."""
CONFIRMATIONS: tuple[str, ...] = (
    "none",
    "delivery",
    "signature",
    "adult_signature",
    "direct_signature",
)
"""The delivery confirmation values (direct_signature is FedEx only)."""
NEAR_COUNTRIES = frozenset({"CA", "MX"})

_FUEL_PCT = 12
_RESIDENTIAL_CENTS = 450
_CONFIRMATION_CENTS: dict[str, dict[str, int]] = {
    "stamps_com": {"none": 0, "delivery": 0, "signature": 320, "adult_signature": 850},
    "ups": {"none": 0, "delivery": 0, "signature": 595, "adult_signature": 750},
    "fedex": {
        "none": 0,
        "delivery": 0,
        "signature": 595,
        "adult_signature": 750,
        "direct_signature": 600,
    },
}
_DIM_DIVISOR = 139


@attrs.frozen
class Quote:
    """One rate: ``shipment_cents`` for the service, ``other_cents`` for surcharges and fees."""

    service: ServiceSpec
    package: PackageSpec
    shipment_cents: int
    other_cents: int

    @property
    def total_cents(self) -> int:
        """What the label costs: ``shipment_cents + other_cents``."""
        return self.shipment_cents + self.other_cents

    @property
    def service_name(self) -> str:
        """The rate's display name: ``"<service> - <package>"``, as ShipStation lists it."""
        return f"{self.service.name} - {self.package.name}"


def to_ounces(value: float, units: str) -> float:
    """A weight in ounces; raises ValueError for unknown units or a negative value."""
    factor = WEIGHT_UNITS.get(units.lower())
    if factor is None:
        raise ValueError(f"unknown weight units {units!r}")
    if value < 0:
        raise ValueError("weight must not be negative")
    return value * factor


def zip3(postal_code: str) -> int:
    """The 3-digit prefix of a US ZIP code (``12345`` or ``12345-6789``); ValueError otherwise."""
    code = postal_code.strip()
    head = code.split("-", 1)[0]
    if len(head) != 5 or not head.isdigit():
        raise ValueError(f"not a US ZIP code: {postal_code!r}")
    return int(head[:3])


def zone(from_postal_code: str, to_postal_code: str, to_country: str) -> int:
    """The zone from a US origin to a destination (1-8 domestic, 9 CA/MX, 10 elsewhere).

    Raises ValueError when a US postal code is not a ZIP code.
    """
    origin = zip3(from_postal_code)
    country = to_country.strip().upper()
    if country != "US":
        return 9 if country in NEAR_COUNTRIES else 10
    return 1 + min(7, abs(origin - zip3(to_postal_code)) // 125)


def billable_units(
    service: ServiceSpec, ounces: float, dimensions_in: tuple[float, float, float] | None
) -> int:
    """The billable weight in the service's units (at least 1)."""
    oz = max(ounces, 0.1)
    if dimensions_in is not None:
        length, width, height = dimensions_in
        volume = length * width * height
        if service.carrier_code != "stamps_com" or volume > 1728:
            oz = max(oz, volume / _DIM_DIVISOR * 16)
    return max(1, math.ceil(oz / service.unit_oz - 1e-9))


def quote(
    service: ServiceSpec,
    package: PackageSpec,
    *,
    ounces: float,
    zone: int,
    dimensions_in: tuple[float, float, float] | None = None,
    residential: bool = False,
    confirmation: str | None = None,
) -> Quote | None:
    """Price one parcel, or None when the service cannot carry it (too heavy, wrong region)."""
    international = zone >= 9
    if (international and not service.international) or (
        not international and not service.domestic
    ):
        return None
    if (international and not package.international) or (
        not international and not package.domestic
    ):
        return None
    if service.max_oz is not None and ounces > service.max_oz:
        return None
    if package.flat_cents is not None and service.code.startswith("usps_priority_mail"):
        cents = package.flat_cents * (3 if international else 1)
    else:
        units = billable_units(service, ounces, dimensions_in)
        cents = service.base_cents + service.per_unit_cents * (units - 1)
        cents = cents * (100 + service.zone_pct * (zone - 1)) // 100
    other = 0
    if service.carrier_code in ("ups", "fedex"):
        other += cents * _FUEL_PCT // 100
        if residential and service.code not in ("fedex_home_delivery",) and not international:
            other += _RESIDENTIAL_CENTS
    fees = _CONFIRMATION_CENTS.get(service.carrier_code, {})
    other += fees.get(confirmation or "none", 0)
    return Quote(service=service, package=package, shipment_cents=cents, other_cents=other)


def services_of(carrier_code: str) -> list[ServiceSpec]:
    """The services a carrier offers, in catalogue order."""
    return [s for s in SERVICES if s.carrier_code == carrier_code]


def rates(
    carrier_code: str,
    *,
    ounces: float,
    zone: int,
    service_code: str | None = None,
    package_code: str | None = None,
    dimensions_in: tuple[float, float, float] | None = None,
    residential: bool = False,
    confirmation: str | None = None,
) -> list[Quote]:
    """Every quote of a carrier for a parcel (one service when ``service_code`` is given)."""
    package = PACKAGE_BY_CODE.get((carrier_code, package_code or "package"))
    if package is None:
        return []
    candidates: Iterable[ServiceSpec] = services_of(carrier_code)
    if service_code is not None:
        candidates = [s for s in candidates if s.code == service_code]
    out: list[Quote] = []
    for service in candidates:
        q = quote(
            service,
            package,
            ounces=ounces,
            zone=zone,
            dimensions_in=dimensions_in,
            residential=residential,
            confirmation=confirmation,
        )
        if q is not None:
            out.append(q)
    return out


def insurance_cents(insured_value_cents: int) -> int:
    """The cost of insuring a parcel: 1 % of the insured value, at least $1.00."""
    if insured_value_cents <= 0:
        return 0
    return max(100, math.ceil(insured_value_cents / 100))


def tracking_number(carrier_code: str, n: int) -> str:
    """A tracking number in the carrier's format, derived from the integer ``n``.

    USPS (stamps_com): 22 digits starting ``9400``; UPS: ``1Z`` + 16 characters; FedEx: 12
    digits; anything else: 16 digits.
    """
    n &= (1 << 64) - 1
    if carrier_code == "stamps_com":
        return f"94001{n % 10**17:017d}"
    if carrier_code == "ups":
        alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
        account = "".join(alphabet[(n >> (5 * k)) % len(alphabet)] for k in range(6))
        return f"1Z{account}03{(n >> 30) % 10**8:08d}"
    if carrier_code == "fedex":
        return f"{n % 10**12:012d}"
    return f"{n % 10**16:016d}"
