"""Fixed catalogues of the sandbox world: carriers, services, packages, marketplaces, tags.

These are the account-independent tables (what a carrier offers, which marketplaces exist).
The seeded parts of a world (ids, balances, names) are drawn in :mod:`.world`.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ServiceSpec:
    """A carrier service and its tariff.

    The price of a parcel is ``base_cents + per_unit_cents * (units - 1)`` where ``units`` is
    the billable weight in ``unit_oz`` steps (at least 1), raised by ``zone_pct`` percent per
    zone beyond zone 1. ``max_oz``: the heaviest parcel the service carries (None: no limit).
    """

    carrier_code: str
    code: str
    name: str
    domestic: bool
    international: bool
    base_cents: int
    per_unit_cents: int
    zone_pct: int
    unit_oz: int = 16
    max_oz: float | None = None


@attrs.frozen
class PackageSpec:
    """A carrier package type; ``flat_cents`` prices a flat-rate package (Priority Mail only)."""

    carrier_code: str
    code: str
    name: str
    domestic: bool
    international: bool
    flat_cents: int | None = None


@attrs.frozen
class CarrierSpec:
    """A carrier ShipStation connects to, and whether it needs a prepaid balance."""

    code: str
    name: str
    requires_funded_account: bool


CARRIERS: tuple[CarrierSpec, ...] = (
    CarrierSpec("stamps_com", "Stamps.com", True),
    CarrierSpec("ups", "UPS", False),
    CarrierSpec("fedex", "FedEx", False),
)

_S = ServiceSpec
SERVICES: tuple[ServiceSpec, ...] = (
    _S("stamps_com", "usps_first_class_mail", "USPS First Class Mail", True, False, 395, 75, 4,
       unit_oz=4, max_oz=15.99),
    _S("stamps_com", "usps_ground_advantage", "USPS Ground Advantage", True, False, 475, 95, 9),
    _S("stamps_com", "usps_media_mail", "USPS Media Mail", True, False, 365, 70, 0,
       max_oz=1120),
    _S("stamps_com", "usps_parcel_select", "USPS Parcel Select Ground", True, False, 790, 105, 9),
    _S("stamps_com", "usps_priority_mail", "USPS Priority Mail", True, False, 845, 130, 11),
    _S("stamps_com", "usps_priority_mail_express", "USPS Priority Mail Express", True, False,
       2850, 310, 12),
    _S("stamps_com", "usps_first_class_package_international",
       "USPS First Class Mail Intl", False, True, 1450, 420, 6, unit_oz=8, max_oz=64),
    _S("stamps_com", "usps_priority_mail_international", "USPS Priority Mail Intl", False,
       True, 4195, 520, 8),
    _S("stamps_com", "usps_priority_mail_express_international",
       "USPS Priority Mail Express Intl", False, True, 5895, 640, 8),
    _S("ups", "ups_ground", "UPS® Ground", True, False, 1095, 120, 10),
    _S("ups", "ups_3_day_select", "UPS 3 Day Select®", True, False, 1890, 210, 12),
    _S("ups", "ups_2nd_day_air", "UPS 2nd Day Air®", True, False, 2240, 295, 13),
    _S("ups", "ups_2nd_day_air_am", "UPS 2nd Day Air AM®", True, False, 2610, 320, 13),
    _S("ups", "ups_next_day_air_saver", "UPS Next Day Air Saver®", True, False, 4490, 455, 14),
    _S("ups", "ups_next_day_air", "UPS Next Day Air®", True, False, 4975, 490, 14),
    _S("ups", "ups_next_day_air_early_am", "UPS Next Day Air® Early", True, False, 8150, 520, 14),
    _S("ups", "ups_standard_international", "UPS Standard®", False, True, 2950, 380, 6),
    _S("ups", "ups_worldwide_expedited", "UPS Worldwide Expedited®", False, True, 7850, 690, 8),
    _S("ups", "ups_worldwide_saver", "UPS Worldwide Saver®", False, True, 8420, 720, 8),
    _S("ups", "ups_worldwide_express", "UPS Worldwide Express®", False, True, 9130, 760, 8),
    _S("fedex", "fedex_ground", "FedEx Ground®", True, False, 1080, 118, 10),
    _S("fedex", "fedex_home_delivery", "FedEx Home Delivery®", True, False, 1120, 118, 10),
    _S("fedex", "fedex_2day", "FedEx 2Day®", True, False, 2210, 290, 13),
    _S("fedex", "fedex_2day_am", "FedEx 2Day® A.M.", True, False, 2590, 315, 13),
    _S("fedex", "fedex_express_saver", "FedEx Express Saver®", True, False, 1985, 240, 12),
    _S("fedex", "fedex_standard_overnight", "FedEx Standard Overnight®", True, False, 4420, 450,
       14),
    _S("fedex", "fedex_priority_overnight", "FedEx Priority Overnight®", True, False, 4960, 485,
       14),
    _S("fedex", "fedex_first_overnight", "FedEx First Overnight®", True, False, 8090, 515, 14),
    _S("fedex", "fedex_ground_international", "FedEx Ground® International", False, True,
       2390, 310, 5),
    _S("fedex", "fedex_international_economy", "FedEx International Economy®", False, True,
       7420, 650, 8),
    _S("fedex", "fedex_international_priority", "FedEx International Priority®", False, True,
       8610, 705, 8),
)  # fmt: skip

_P = PackageSpec
PACKAGES: tuple[PackageSpec, ...] = (
    _P("stamps_com", "package", "Package", True, True),
    _P("stamps_com", "cubic", "Cubic", True, False),
    _P("stamps_com", "flat_rate_envelope", "Flat Rate Envelope", True, True, 995),
    _P("stamps_com", "flat_rate_padded_envelope", "Flat Rate Padded Envelope", True, True, 1060),
    _P("stamps_com", "small_flat_rate_box", "Small Flat Rate Box", True, True, 1065),
    _P("stamps_com", "medium_flat_rate_box", "Medium Flat Rate Box", True, True, 1840),
    _P("stamps_com", "large_flat_rate_box", "Large Flat Rate Box", True, True, 2495),
    _P("stamps_com", "large_envelope_or_flat", "Large Envelope or Flat", True, True),
    _P("stamps_com", "letter", "Letter", True, True),
    _P("stamps_com", "thick_envelope", "Thick Envelope", True, True),
    _P("ups", "package", "Package", True, True),
    _P("ups", "ups_letter", "UPS Letter", True, True),
    _P("ups", "ups_pak", "UPS Pak", True, True),
    _P("ups", "ups_tube", "UPS Tube", True, True),
    _P("ups", "ups_express_box", "UPS Express® Box", True, True),
    _P("fedex", "package", "Package", True, True),
    _P("fedex", "fedex_envelope", "FedEx® Envelope", True, True),
    _P("fedex", "fedex_pak", "FedEx® Pak", True, True),
    _P("fedex", "fedex_box_small", "FedEx® Small Box", True, True),
    _P("fedex", "fedex_box_medium", "FedEx® Medium Box", True, True),
    _P("fedex", "fedex_box_large", "FedEx® Large Box", True, True),
    _P("fedex", "fedex_tube", "FedEx® Tube", True, True),
)  # fmt: skip

SERVICE_BY_CODE: dict[tuple[str, str], ServiceSpec] = {
    (s.carrier_code, s.code): s for s in SERVICES
}
PACKAGE_BY_CODE: dict[tuple[str, str], PackageSpec] = {
    (p.carrier_code, p.code): p for p in PACKAGES
}
CARRIER_BY_CODE: dict[str, CarrierSpec] = {c.code: c for c in CARRIERS}

MANUAL_MARKETPLACE_ID = 0
"""The marketplaceId of ShipStation's own Manual Store (orders entered by hand or the API)."""

# (marketplaceId, name, canRefresh, supportsCustomMappings, supportsCustomStatuses,
#  canConfirmShipments)
MARKETPLACES: tuple[tuple[int, str, bool, bool, bool, bool], ...] = (
    (MANUAL_MARKETPLACE_ID, "ShipStation", False, False, False, False),
    (1, "eBay", True, True, False, True),
    (2, "Amazon", True, False, False, True),
    (8, "Magento", True, True, True, True),
    (24, "BigCommerce", True, True, True, True),
    (26, "Shopify", True, True, True, True),
    (32, "Etsy", True, False, False, True),
    (36, "WooCommerce", True, True, True, True),
    (80, "Walmart", True, False, False, True),
)
MARKETPLACE_BY_ID = {m[0]: m for m in MARKETPLACES}
MARKETPLACE_BY_NAME = {m[1]: m for m in MARKETPLACES}

# The store statuses each marketplace maps onto ShipStation's (orderStatus -> statusKey).
STATUS_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "Shopify": (
        ("awaiting_payment", "pending"),
        ("awaiting_shipment", "paid"),
        ("shipped", "fulfilled"),
        ("cancelled", "voided"),
        ("on_hold", "on_hold"),
    ),
    "Amazon": (
        ("awaiting_payment", "Pending"),
        ("awaiting_shipment", "Unshipped"),
        ("shipped", "Shipped"),
        ("cancelled", "Canceled"),
    ),
    "Etsy": (
        ("awaiting_payment", "unpaid"),
        ("awaiting_shipment", "paid"),
        ("shipped", "completed"),
        ("cancelled", "canceled"),
    ),
    "eBay": (
        ("awaiting_payment", "Incomplete"),
        ("awaiting_shipment", "Complete"),
        ("shipped", "Shipped"),
        ("cancelled", "Cancelled"),
    ),
}

# (storeName, marketplace name, active) of the stores beyond the order-bearing ones.
EXTRA_STORES: tuple[tuple[str, str, bool], ...] = (("Old eBay Store", "eBay", False),)

# (tagId, name, color): the documented example tags, then two more.
TAGS: tuple[tuple[int, str, str], ...] = (
    (8362, "Backorder", "#800080"),
    (8324, "Canada", "#ff0000"),
    (8336, "Fragile", "#33CCCC"),
    (8221, "Repeat Buyer", "#CC99FF"),
    (8401, "Gift", "#FFD700"),
    (8402, "VIP", "#0000FF"),
)

# (userName, name, active)
USERS: tuple[tuple[str, str, bool], ...] = (
    ("SS-user1", "Shipping Employee 1", True),
    ("SS-user2", "Shipping Employee 2", True),
    ("SS-manager", "Warehouse Manager", True),
    ("SS-former", "Former Employee", False),
)

# (warehouseName, name, street1, city, state, postalCode, phone)
WAREHOUSES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Main Warehouse", "Main Warehouse", "2815 Exposition Blvd", "Austin", "TX", "78703",
     "512-555-5555"),
    ("West Coast Fulfillment", "West Coast DC", "4900 Double R Blvd", "Reno", "NV", "89502",
     "775-555-0134"),
    ("East Coast Fulfillment", "East Coast DC", "300 Raritan Center Pkwy", "Edison", "NJ",
     "08837", "732-555-0187"),
)  # fmt: skip

# productCategory by SKU prefix: (categoryId, name)
CATEGORIES: dict[str, tuple[int, str]] = {
    "TS": (101, "Apparel"),
    "HD": (101, "Apparel"),
    "CAP": (101, "Apparel"),
    "SCK": (101, "Apparel"),
    "MUG": (102, "Kitchen"),
    "BTL": (102, "Kitchen"),
    "TEA": (103, "Food & Drink"),
    "COF": (103, "Food & Drink"),
    "NB": (104, "Stationery"),
    "PEN": (104, "Stationery"),
    "CDL": (105, "Home"),
    "SOAP": (105, "Home"),
    "BLK": (105, "Home"),
    "PLW": (105, "Home"),
    "PLN": (105, "Home"),
    "LMP": (105, "Home"),
    "PHN": (106, "Electronics"),
    "CBL": (106, "Electronics"),
    "CHG": (106, "Electronics"),
    "EAR": (106, "Electronics"),
    "YOGA": (107, "Fitness"),
    "DMB": (107, "Fitness"),
}
DEFAULT_CATEGORY = (108, "Gifts")
PRODUCT_TYPES: tuple[tuple[int, str], ...] = ((201, "Small Parcel"), (202, "Heavy Parcel"))

# Products no order uses: (sku, name, weight oz, price cents, location, productId)
DISCONTINUED: tuple[tuple[str, str, int, int, str | None, int], ...] = (
    ("TS-RED-S", "Classic Tee - Red (discontinued)", 6, 1799, "Aisle 1, Bin 2", 7239931),
    ("MUG-ENM-12", "Enamel Camp Mug (discontinued)", 9, 1299, None, 7239932),
)
