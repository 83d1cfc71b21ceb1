"""Generated order ``i`` straight to JSON bytes: about twice as fast as a dict then json.dumps.

:func:`.order_builder.build_generated_order` is the definition of a generated order;
:class:`OrderBytes` writes the very bytes that ``json.dumps(order, separators=(",", ":"))``
writes of it (the sandbox's response encoding), without building the dict: it draws the same
values in the same sequence and fills them into templates of pre-encoded JSON, with the
parts that repeat (customers, products, stores, money amounts) encoded once and kept.
``tests/sandbox/test_order_bytes.py`` holds the two to the same bytes over many worlds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._time import MS_PER_DAY, day_text
from ..normalize import ADDRESS_KEYS, money
from . import seed_tables
from .generated_orders import service_from
from .order_builder import CUSTOMS_ITEM_ID_BASE, ORDER_ITEM_ID_BASE
from .order_json import ORDER_KEYS
from .people import CUSTOMER_ID_BASE

if TYPE_CHECKING:
    from .generated_orders import GeneratedOrders

_dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
"""The response encoding (``json.dumps`` with compact separators) of one value."""
_str: Callable[[str], str] = json.encoder.encode_basestring_ascii
"""The same encoding of one string, without the encoder's dispatch."""

_HOLE = "\x00hole\x00"
_M128 = (1 << 128) - 1
_CUSTOMER_CACHE = 65_536
"""Customers kept encoded (each appears in about three orders of a world)."""


def _template(shape: dict[str, Any]) -> str:
    """``shape`` encoded with each ``_HOLE`` value as a ``%s`` to fill (keys in order)."""
    encoded = _dumps(shape).replace("%", "%%")
    return encoded.replace(_dumps(_HOLE), "%s")


def _holes(keys: tuple[str, ...], **fixed: Any) -> dict[str, Any]:
    return {k: fixed.get(k, _HOLE) for k in keys}


_ORDER = _template(_holes(ORDER_KEYS, holdUntilDate=None))
_ITEM = _template(
    {
        "orderItemId": _HOLE,
        "lineItemKey": _HOLE,
        "sku": _HOLE,
        "name": _HOLE,
        "imageUrl": _HOLE,
        "weight": _HOLE,
        "quantity": _HOLE,
        "unitPrice": _HOLE,
        "taxAmount": None,
        "shippingAmount": None,
        "warehouseLocation": _HOLE,
        "options": _HOLE,
        "productId": _HOLE,
        "fulfillmentSku": _HOLE,
        "adjustment": False,
        "upc": _HOLE,
        "createDate": _HOLE,
        "modifyDate": _HOLE,
    }
)
_DISCOUNT = _template(
    {
        "orderItemId": _HOLE,
        "lineItemKey": None,
        "sku": "DISCOUNT CODE",
        "name": "10% OFF",
        "imageUrl": None,
        "weight": {"value": 0, "units": "ounces"},
        "quantity": 1,
        "unitPrice": _HOLE,
        "taxAmount": None,
        "shippingAmount": None,
        "warehouseLocation": None,
        "options": [],
        "productId": None,
        "fulfillmentSku": None,
        "adjustment": True,
        "upc": None,
        "createDate": _HOLE,
        "modifyDate": _HOLE,
    }
)
_CUSTOMS = _template(
    {"contents": "merchandise", "customsItems": _HOLE, "nonDelivery": "return_to_sender"}
)
_CUSTOMS_ITEM = _template(
    {
        "customsItemId": _HOLE,
        "description": _HOLE,
        "quantity": _HOLE,
        "value": _HOLE,
        "harmonizedTariffCode": None,
        "countryOfOrigin": "US",
    }
)
_NO_CUSTOMS = _dumps({"contents": None, "customsItems": None, "nonDelivery": None})
_WEIGHT = _template({"value": _HOLE, "units": "ounces"})
_DIMENSIONS = _template({"units": "inches", "length": _HOLE, "width": _HOLE, "height": _HOLE})
_INSURED = _template({"provider": "carrier", "insureShipment": True, "insuredValue": _HOLE})
_UNINSURED = _dumps({"provider": None, "insureShipment": False, "insuredValue": 0})
_ADVANCED = _template(
    {
        "warehouseId": _HOLE,
        "nonMachinable": False,
        "saturdayDelivery": False,
        "containsAlcohol": False,
        "mergedOrSplit": False,
        "mergedIds": [],
        "parentId": None,
        "storeId": _HOLE,
        "customField1": _HOLE,
        "customField2": None,
        "customField3": None,
        "source": _HOLE,
        "billToParty": None,
        "billToAccount": None,
        "billToPostalCode": None,
        "billToCountryCode": None,
    }
)


def _filled(template: str, *values: str) -> str:
    """``template`` with values filled in; a value ``"%s"`` keeps its hole for later."""
    return template % tuple(v if v == "%s" else v.replace("%", "%%") for v in values)


class _Product:
    """A catalog product's pre-encoded item: its item and customs item with holes to fill.

    ``item`` holes: orderItemId, lineItemKey, imageUrl, quantity, fulfillmentSku, upc,
    createDate, modifyDate; ``customs`` holes: customsItemId, quantity.
    """

    __slots__ = ("cents", "customs", "image", "item", "ounces", "sku", "sku_text")

    def __init__(self, p: int) -> None:
        sku, name, oz, price, opts, location, product_id = seed_tables.PRODUCTS[p]
        self.cents = price
        self.ounces = oz
        self.sku_text = sku
        self.sku = _dumps(sku)
        self.image = _dumps(f"https://cdn.example.com/products/{sku.lower()}.jpg")
        price_text = _dumps(money(price))
        self.item = _filled(
            _ITEM,
            "%s",
            "%s",
            self.sku,
            _dumps(name),
            "%s",
            _WEIGHT % oz,
            "%s",
            price_text,
            _dumps(location),
            _dumps([{"name": n, "value": v} for n, v in opts]),
            _dumps(product_id),
            "%s",
            "%s",
            "%s",
            "%s",
        )
        self.customs = _filled(_CUSTOMS_ITEM, "%s", _dumps(name), "%s", price_text)


_ADDRESS = _template(_holes(ADDRESS_KEYS, street3=None))
_NAME_ONLY = _template({"name": _HOLE, **dict.fromkeys(ADDRESS_KEYS[1:])})


def _guid(value: int) -> str:
    """A quoted GUID string of the low 128 bits of ``value`` (as :func:`.hashing.guid`)."""
    h = "%032x" % (value & _M128)
    return f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'


def _below(bits: Callable[[int], int], n: int, k: int) -> int:
    """``randrange(n)`` of the stream whose ``getrandbits`` is ``bits`` (``k``: n's bit length).

    random.Random's own algorithm (``_randbelow``), without its two Python-level calls.
    """
    r = bits(k)
    while r >= n:
        r = bits(k)
    return r


def _encoded_choices(values: tuple[Any, ...]) -> tuple[tuple[str, ...], int, int]:
    """(each value encoded, how many, its bit length): a ``choice`` to make with :func:`_below`."""
    return tuple(_dumps(v) for v in values), len(values), len(values).bit_length()


_TAX_RATES = (0, 0, 600, 725, 825, 950)
_SHIPPING = (0, 0, 499, 599, 895, 1000, 1295)
_PROVIDERS = len(seed_tables.FULFILLMENT_PROVIDERS)
_PROVIDER_BITS = _PROVIDERS.bit_length()
_CUSTOMER_NOTES = _encoded_choices(seed_tables.CUSTOMER_NOTES)
_INTERNAL_NOTES = _encoded_choices(seed_tables.INTERNAL_NOTES)
_GIFT_MESSAGES = _encoded_choices(seed_tables.GIFT_MESSAGES)
_PAYMENT_METHODS = _encoded_choices(seed_tables.PAYMENT_METHODS)
_CONFIRMATIONS = _encoded_choices(("none", "none", "none", "delivery", "signature"))
_SERVICE_TEXT = {
    service: (
        (_dumps(service[2]), "null", "null", "null"),
        (_dumps(service[2]), _dumps(service[0]), _dumps(service[1]), _dumps(service[3])),
    )
    for service in (*seed_tables.SERVICES, *seed_tables.INTL_SERVICES)
}
"""Per service, without and with one: requestedShippingService, carrierCode, serviceCode and
packageCode, encoded."""
_NOT_FULFILLED = ("null", "null")
_PROVIDER_TEXT = {p: (_dumps(p[1]), str(p[0])) for p in seed_tables.FULFILLMENT_PROVIDERS}
"""Per fulfillment provider: its name and id, encoded."""
_HOURS_MINUTES = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECONDS = tuple(f"{s:02d}." for s in range(60))
_MILLIS = tuple(f"{m:03d}" for m in range(1000))
_ITEM_MILLIS = tuple(f".{m:03d}".rstrip("0").removesuffix(".") for m in range(1000))
"""An item timestamp's fraction: trailing zeros dropped, and no point on a whole second."""


def _pick(rnd: random.Random, choices: tuple[tuple[str, ...], int, int]) -> str:
    """``rnd.choice`` of the values, encoded."""
    values, n, k = choices
    return values[_below(rnd.getrandbits, n, k)]


def _opt(text: str | None) -> str:
    return "null" if text is None else _str(text)


def _opening(text: str) -> str:
    """``text`` encoded, without its closing quote (more text follows)."""
    return _str(text)[:-1]


def _closing(text: str) -> str:
    """``text`` encoded, without its opening quote (it follows more text)."""
    return _str(text)[1:]


# The people tables encoded once; escaping is per character, so encoded pieces join.
_FIRSTS = tuple(_opening(first) for first in seed_tables.FIRST_NAMES)
_LASTS = tuple(_closing(f" {last}") for last in seed_tables.LAST_NAMES)
# An email's local part: "first.last" lowercased, apostrophes dropped (per character, so by
# halves; the tables are ASCII, where lowercasing is per character too).
_LOCALS = tuple(_opening(first.lower().replace("'", "")) for first in seed_tables.FIRST_NAMES)
_LOCAL_LASTS = tuple(
    _str(f".{last}".lower().replace("'", ""))[1:-1] for last in seed_tables.LAST_NAMES
)
_STREETS = tuple(_closing(f" {street}") for street in seed_tables.STREET_NAMES)
_US_CITIES = tuple(
    (_str(city), _str(state), f'"{prefix}', f'"{area}-555-')
    for city, state, prefix, area in seed_tables.US_CITIES
)
_INTL_CITIES = tuple(tuple(_str(part) for part in c) for c in seed_tables.INTL_CITIES)
_COMPANIES = tuple(_str(company) for company in seed_tables.COMPANIES)
_VERIFIED = tuple(_str(v) for v in seed_tables.ADDRESS_VERIFIED)


class _Customer:
    """A generated person's pre-encoded fields: identity, ship-to and both bill-tos.

    Written straight from the person's identity hash ``hc``, as :func:`.people.person_fields`
    derives each field (``tests/sandbox/test_order_bytes.py`` holds the two to the same bytes).
    """

    __slots__ = ("address", "bill_to_full", "bill_to_name", "email", "id", "us")

    def __init__(self, c: int, hc: int) -> None:
        fi = hc % len(_FIRSTS)
        li = (hc >> 10) % len(_LASTS)
        self.id = str(CUSTOMER_ID_BASE + c * 8 + (hc >> 61))
        self.email = f'{_LOCALS[fi]}{_LOCAL_LASTS[li]}{c % 1000}@example.com"'
        name = _FIRSTS[fi] + _LASTS[li]
        street1 = f'"{(hc >> 20) % 9900 + 100}{_STREETS[(hc >> 34) % len(_STREETS)]}'
        street2 = f'"Apt {(hc >> 40) % 400 + 1}"' if (hc >> 50) % 5 == 0 else "null"
        self.us = (hc >> 53) % 12 != 0
        if self.us:
            city, state, prefix, area = _US_CITIES[(hc >> 20) % len(_US_CITIES)]
            postal = f'{prefix}{(hc >> 30) % 100:02d}"'
            country = '"US"'
            phone = f'{area}{(hc >> 12) % 10000:04d}"'
        else:
            city, state, postal, country = _INTL_CITIES[(hc >> 20) % len(_INTL_CITIES)]
            phone = f'"+{(hc >> 8) % 90 + 10} {(hc >> 16) % 9000 + 1000} {(hc >> 24) % 900000:06d}"'
        company = "null"
        if hc % 10 == 0:
            company = _COMPANIES[(hc >> 57) % len(_COMPANIES)]
        address = (
            company,
            street1,
            street2,
            city,
            state,
            postal,
            country,
            phone,
            "true" if company == "null" else "false",
        )
        self.address = _ADDRESS % (name, *address, _VERIFIED[(hc >> 4) % len(_VERIFIED)])
        self.bill_to_name = _NAME_ONLY % name
        self.bill_to_full = _ADDRESS % (name, *address, "null")


_PRODUCTS = tuple(_Product(p) for p in range(len(seed_tables.PRODUCTS)))


class OrderBytes:
    """Writes the generated orders of ``gen`` as JSON bytes (see the module docstring)."""

    def __init__(self, gen: GeneratedOrders) -> None:
        self._gen = gen
        self._customers: dict[int, _Customer] = {}
        self._money: dict[int, str] = {}
        self._text: dict[Any, str] = {}
        self._days: dict[int, str] = {}
        self._random = random.Random()  # reseeded per order (callers hold the world's lock)
        # Per store: its orderNumber's opening (a quote and the prefix), then its
        # advancedOptions for a fulfilled order (no warehouse) and for any other, with a
        # hole for customField1.
        self._stores = [
            (
                _dumps(str(store["_prefix"]))[:-1],
                _ADVANCED % ("null", _dumps(store["storeId"]), "%s", _dumps(store["_source"])),
                _ADVANCED
                % (
                    _dumps(store["_warehouseId"]),
                    _dumps(store["storeId"]),
                    "%s",
                    _dumps(store["_source"]),
                ),
            )
            for store in gen.store_records
        ]

    def _day(self, day: int) -> str:
        """A quote and day ``day``'s date with the ``T`` after it: ``"2025-05-08T``."""
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = f'"{day_text(day)}T'
        return text

    def _order_stamp(self, ms: int) -> str:
        """A quoted timestamp as format_order_ts writes it (seven fractional digits)."""
        day, rest = divmod(ms, MS_PER_DAY)
        second, milli = divmod(rest, 1000)
        return (
            f"{self._day(day)}{_HOURS_MINUTES[second // 60]}{_SECONDS[second % 60]}"
            f'{_MILLIS[milli]}0000"'
        )

    def _item_stamp(self, ms: int) -> str:
        """A quoted timestamp as format_item_ts writes it (trailing zeros dropped)."""
        day, rest = divmod(ms, MS_PER_DAY)
        second, milli = divmod(rest, 1000)
        return (
            f'{self._day(day)}{_HOURS_MINUTES[second // 60]}{second % 60:02d}{_ITEM_MILLIS[milli]}"'
        )

    def _customer(self, c: int) -> _Customer:
        found = self._customers.get(c)
        if found is None:
            if len(self._customers) >= _CUSTOMER_CACHE:
                self._customers.clear()
            found = self._customers[c] = _Customer(c, self._gen.customer_hash_of(c))
        return found

    def _amount(self, cents: int) -> str:
        text = self._money.get(cents)
        if text is None:
            text = self._money[cents] = _dumps(money(cents))
        return text

    def _json(self, value: Any) -> str:
        """A value drawn from a small set (a status, a service), encoded once."""
        text = self._text.get(value)
        if text is None:
            text = self._text[value] = _dumps(value)
        return text

    def order(self, i: int) -> bytes:
        """Generated order ``i`` as the bytes the response encoding writes of it."""
        return self.order_text(i).encode()

    def order_text(self, i: int) -> str:
        """Generated order ``i`` as the text the response encoding writes of it.

        The draws follow :func:`.order_builder.build_generated_order` one for one.
        """
        gen = self._gen
        h0, h1, h2, h3, h4, h5, h6 = gen.hashes(i)
        order_id, key_value, create, status, store_index = gen.identity(i, h0)
        shipped = gen.ship_from(i, create, h4) if status == "shipped" else None
        order_date, modify, payment = gen.dates_from(
            h3, create, shipped, status == "awaiting_payment"
        )
        pool = gen.customer_pool
        customer = self._customer(h1 % pool)
        recipient = None
        if (h1 >> 16) % 12 == 0:
            recipient = self._customer((h1 >> 24) % pool + pool)
        destination = recipient or customer
        lines, discount = gen.lines(h1)
        rnd = self._random
        rnd.seed(h2)  # the same state as random.Random(that hash)
        items, subtotal, ounces, customs = self._items(
            i, lines, discount, rnd, self._item_stamp(create), destination.us
        )
        bits = rnd.getrandbits
        tax = subtotal * _TAX_RATES[_below(bits, 6, 3)] // 10000
        shipping = _SHIPPING[_below(bits, 7, 3)]
        total_text = self._amount(subtotal + tax + shipping)
        service, has_service = service_from(h6, not destination.us, ounces, status)
        fulfilled = status in ("pending_fulfillment", "rejected_fulfillment")
        ship_by, provider, insured, bill_to, dims, custom1 = self._middle_draws(
            rnd, order_date, customer, lines, discount
        )
        by, by_id = _PROVIDER_TEXT[provider] if fulfilled else _NOT_FULFILLED
        store = self._stores[store_index]
        notes = self._notes(rnd, status, recipient is not None)
        tags = gen.tags_from(h5)
        user = gen.user_from(h5)
        return _ORDER % (
            order_id,
            f'{store[0]}{100001 + i}"',
            _guid(key_value),
            self._order_stamp(order_date),
            self._order_stamp(create),
            self._order_stamp(modify),
            "null" if payment is None else self._order_stamp(payment),
            ship_by,
            self._json(status),
            customer.id,
            customer.email,
            customer.email,
            bill_to,
            destination.address,
            items,
            total_text,
            "0" if status == "awaiting_payment" else total_text,
            self._amount(tax),
            self._amount(shipping),
            *notes[:5],
            *_SERVICE_TEXT[service][has_service],
            notes[5],
            "null" if shipped is None else f'"{day_text(shipped // MS_PER_DAY)}"',
            _WEIGHT % ounces,
            dims,
            (_INSURED % total_text) if insured else _UNINSURED,
            customs,
            store[1 if fulfilled else 2] % custom1,
            "null" if tags is None else f"[{','.join(map(str, tags))}]",
            "null" if user is None else self._json(user),
            "true" if fulfilled else "false",
            by,
            by_id,
            by,
        )

    def _items(
        self,
        i: int,
        lines: list[tuple[int, int]],
        discount: bool,
        rnd: random.Random,
        item_ts: str,
        domestic: bool,
    ) -> tuple[str, int, int, str]:
        """(items, subtotal in cents, ounces, internationalOptions), each encoded."""
        items: list[str] = []
        customs: list[str] = []
        subtotal = 0
        weight_oz = 0
        item_id = ORDER_ITEM_ID_BASE + 4 * i
        customs_id = CUSTOMS_ITEM_ID_BASE + 4 * i
        rand = rnd.random
        bits = rnd.getrandbits
        for k, (p, qty) in enumerate(lines):
            product = _PRODUCTS[p]
            subtotal += product.cents * qty
            weight_oz += product.ounces * qty
            key = f'"{bits(40):010x}"' if rand() < 0.6 else "null"
            image = product.image if rand() < 0.5 else "null"
            fulfillment_sku = product.sku if rand() < 0.2 else "null"
            upc = "null"
            if rand() < 0.3:  # randrange(10**11, 10**12)
                upc = f'"{100_000_000_000 + _below(bits, 900_000_000_000, 40)}"'
            items.append(
                product.item
                % (item_id + k, key, image, qty, fulfillment_sku, upc, item_ts, item_ts)
            )
            if not domestic:
                customs.append(product.customs % (customs_id + k, qty))
        if discount:
            off = -(subtotal // 10)
            subtotal += off
            items.append(_DISCOUNT % (item_id + 3, self._amount(off), item_ts, item_ts))
        intl = _NO_CUSTOMS if domestic else _CUSTOMS % ("[" + ",".join(customs) + "]")
        return "[" + ",".join(items) + "]", subtotal, weight_oz, intl

    def _middle_draws(
        self,
        rnd: random.Random,
        order_date: int,
        customer: _Customer,
        lines: list[tuple[int, int]],
        discount: bool,
    ) -> tuple[str, tuple[int, str], bool, str, str, str]:
        """(shipByDate, provider, insured, billTo, dimensions, customField1), drawn in order."""
        rand = rnd.random
        bits = rnd.getrandbits
        ship_by = "null"
        if rand() < 0.7:
            day = order_date // MS_PER_DAY + 3 + _below(bits, 5, 3)
            ship_by = f'{self._day(day)}00:00:00.0000000"'
        provider = seed_tables.FULFILLMENT_PROVIDERS[_below(bits, _PROVIDERS, _PROVIDER_BITS)]
        insured = rand() < 0.15
        bill_to = customer.bill_to_name if rand() < 0.6 else customer.bill_to_full
        dims = "null"
        if rand() < 0.6:
            dims = _DIMENSIONS % (
                6 + _below(bits, 19, 5),
                4 + _below(bits, 12, 4),
                2 + _below(bits, 10, 4),
            )
        custom1 = "null"
        if rand() < 0.3:
            pairs = [(_PRODUCTS[p].sku_text, q) for p, q in lines[:2]]
            if discount and len(pairs) < 2:
                pairs.append(_DISCOUNT_PAIR)
            custom1 = _str(", ".join(f"SKU: {sku} x {qty}" for sku, qty in pairs))
        return ship_by, provider, insured, bill_to, dims, custom1

    @staticmethod
    def _notes(rnd: random.Random, status: str, gift: bool) -> tuple[str, ...]:
        """customerNotes, internalNotes, gift, giftMessage, paymentMethod, confirmation."""
        rand = rnd.random
        customer_notes = _pick(rnd, _CUSTOMER_NOTES) if rand() < 0.2 else "null"
        internal_notes = _pick(rnd, _INTERNAL_NOTES) if rand() < 0.1 else "null"
        message = _pick(rnd, _GIFT_MESSAGES) if gift else "null"
        method = "null" if status == "awaiting_payment" else _pick(rnd, _PAYMENT_METHODS)
        return (
            customer_notes,
            internal_notes,
            "true" if gift else "false",
            message,
            method,
            _pick(rnd, _CONFIRMATIONS),
        )


_DISCOUNT_PAIR = ("DISCOUNT CODE", 1)
