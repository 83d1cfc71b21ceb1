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
from .order_builder import CUSTOMS_ITEM_ID_BASE, ORDER_ITEM_ID_BASE
from .order_json import ORDER_KEYS
from .people import Person

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


class _Product:
    """A catalog product's pre-encoded item fields."""

    __slots__ = ("cents", "image", "location", "name", "options", "ounces", "product_id", "sku")

    def __init__(self, p: int) -> None:
        sku, name, oz, price, opts, location, product_id = seed_tables.PRODUCTS[p]
        self.cents = price
        self.ounces = oz
        self.sku = _dumps(sku)
        self.name = _dumps(name)
        self.image = _dumps(f"https://cdn.example.com/products/{sku.lower()}.jpg")
        self.location = _dumps(location)
        self.options = _dumps([{"name": n, "value": v} for n, v in opts])
        self.product_id = _dumps(product_id)


_ADDRESS = _template(_holes(ADDRESS_KEYS, street3=None))
_NAME_ONLY = _template({"name": _HOLE, **dict.fromkeys(ADDRESS_KEYS[1:])})


def _guid(value: int) -> str:
    """A quoted GUID string of the low 128 bits of ``value`` (as :func:`.hashing.guid`)."""
    h = "%032x" % (value & _M128)
    return f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'


def _middle_draws(
    rnd: random.Random, order_date: int, customer: _Customer, pairs: list[tuple[str, int]]
) -> tuple[str, tuple[int, str], bool, str, str, str]:
    """(shipByDate, provider, insured, billTo, dimensions, customField1), drawn in order."""
    ship_by = "null"
    if rnd.random() < 0.7:
        day = order_date // MS_PER_DAY + rnd.randrange(3, 8)
        ship_by = f'"{day_text(day)}T00:00:00.0000000"'
    provider = seed_tables.FULFILLMENT_PROVIDERS[
        rnd.randrange(len(seed_tables.FULFILLMENT_PROVIDERS))
    ]
    insured = rnd.random() < 0.15
    bill_to = customer.bill_to_name if rnd.random() < 0.6 else customer.bill_to_full
    dims = "null"
    if rnd.random() < 0.6:
        dims = _DIMENSIONS % (rnd.randrange(6, 25), rnd.randrange(4, 16), rnd.randrange(2, 12))
    custom1 = "null"
    if rnd.random() < 0.3:
        custom1 = _str(", ".join(f"SKU: {sku} x {qty}" for sku, qty in pairs[:2]))
    return ship_by, provider, insured, bill_to, dims, custom1


def _opt(text: str | None) -> str:
    return "null" if text is None else _str(text)


class _Customer:
    """A generated person's pre-encoded fields: identity, ship-to and both bill-tos."""

    __slots__ = ("address", "bill_to_full", "bill_to_name", "country", "email", "id", "person")

    def __init__(self, person: Person) -> None:
        self.person = person
        self.id = str(person.customer_id)
        self.email = _str(person.email)
        self.country = person.country
        name = _str(person.name)
        fields = (
            _opt(person.company),
            _str(person.street1),
            _opt(person.street2),
            _str(person.city),
            _str(person.state),
            _str(person.postal_code),
            _str(person.country),
            _str(person.phone),
            "true" if person.residential else "false",
        )
        self.address = _ADDRESS % (name, *fields, _str(person.verified))
        self.bill_to_name = _NAME_ONLY % name
        self.bill_to_full = _ADDRESS % (name, *fields, "null")


_PRODUCTS = tuple(_Product(p) for p in range(len(seed_tables.PRODUCTS)))
_DISCOUNT_PAIR = ("DISCOUNT CODE", 1)


class OrderBytes:
    """Writes the generated orders of ``gen`` as JSON bytes (see the module docstring)."""

    def __init__(self, gen: GeneratedOrders) -> None:
        self._gen = gen
        self._customers: dict[int, _Customer] = {}
        self._money: dict[int, str] = {}
        self._text: dict[Any, str] = {}
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

    @staticmethod
    def _stamp(ms: int, tail: str) -> str:
        """A quoted timestamp: format_item_ts (``tail`` empty) or format_order_ts ("0000")."""
        day, rest = divmod(ms, MS_PER_DAY)
        text = (
            f"{day_text(day)}T{rest // 3_600_000:02d}:{rest // 60_000 % 60:02d}:"
            f"{rest // 1000 % 60:02d}.{rest % 1000:03d}{tail}"
        )
        if not tail and text.endswith("0"):
            text = text.rstrip("0").removesuffix(".")  # as format_item_ts writes it
        return f'"{text}"'

    def _customer(self, c: int) -> _Customer:
        found = self._customers.get(c)
        if found is None:
            if len(self._customers) >= _CUSTOMER_CACHE:
                self._customers.clear()
            found = self._customers[c] = _Customer(self._gen.customer(c))
        return found

    def _amount(self, cents: int) -> str:
        text = self._money.get(cents)
        if text is None:
            text = self._money[cents] = _dumps(money(cents))
        return text

    def _json(self, value: Any) -> str:
        """A value drawn from a small set (a status, a note, a service), encoded once."""
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
        create = gen.generated_create_ms(i)
        status = gen.generated_status(i)
        order_date, modify, payment = gen.dates(i, create, status)
        h1 = gen.hash(i, 1)
        pool = gen.customer_pool
        customer = self._customer(h1 % pool)
        recipient = None
        if (h1 >> 16) % 12 == 0:
            recipient = self._customer((h1 >> 24) % pool + pool)
        lines, discount = gen.lines(h1)
        rnd = self._random
        rnd.seed(gen.hash(i, 2))  # the same state as random.Random(that hash)
        clock = self._stamp(create, "")
        items, subtotal, weight_oz, pairs, customs = self._items(i, lines, discount, rnd, clock)
        tax = subtotal * rnd.choice((0, 0, 600, 725, 825, 950)) // 10000
        shipping = rnd.choice((0, 0, 499, 599, 895, 1000, 1295))
        total = subtotal + tax + shipping
        destination = recipient or customer
        ounces = sum(seed_tables.PRODUCTS[p][2] * q for p, q in lines)
        service, has_service = gen.generated_service(i, destination.person, ounces, status)
        ship_by, provider, insured, bill_to, dims, custom1 = _middle_draws(
            rnd, order_date, customer, pairs
        )
        fulfilled = status in ("pending_fulfillment", "rejected_fulfillment")
        notes = self._notes(rnd, status, recipient is not None)
        total_text = self._amount(total)
        tags = gen.generated_tags(i)
        user = gen.generated_user(i)
        by = self._json(provider[1]) if fulfilled else "null"
        store = self._stores[gen.store_index(i)]
        ship_date = "null"
        if status == "shipped":
            ship_date = f'"{day_text(gen.ship_ms(i, create) // MS_PER_DAY)}"'
        return _ORDER % (
            gen.generated_order_id(i),
            f'{store[0]}{100001 + i}"',
            _guid(gen.generated_key_value(i)),
            self._stamp(order_date, "0000"),
            self._stamp(create, "0000"),
            self._stamp(modify, "0000"),
            "null" if payment is None else self._stamp(payment, "0000"),
            ship_by,
            self._json(status),
            customer.id,
            customer.email,
            customer.email,
            bill_to,
            destination.address,
            "[" + ",".join(items) + "]",
            total_text,
            "0" if status == "awaiting_payment" else total_text,
            self._amount(tax),
            self._amount(shipping),
            *notes[:5],
            self._json(service[2]),
            self._json(service[0]) if has_service else "null",
            self._json(service[1]) if has_service else "null",
            self._json(service[3]) if has_service else "null",
            notes[5],
            ship_date,
            _WEIGHT % weight_oz,
            dims,
            (_INSURED % total_text) if insured else _UNINSURED,
            (_CUSTOMS % ("[" + ",".join(customs) + "]"))
            if destination.country != "US"
            else _NO_CUSTOMS,
            store[1 if fulfilled else 2] % custom1,
            "null" if tags is None else _dumps(tags),
            "null" if user is None else self._json(user),
            "true" if fulfilled else "false",
            by,
            str(provider[0]) if fulfilled else "null",
            by,
        )

    def _items(
        self,
        i: int,
        lines: list[tuple[int, int]],
        discount: bool,
        rnd: random.Random,
        item_ts: str,
    ) -> tuple[list[str], int, int, list[tuple[str, int]], list[str]]:
        """(items, subtotal in cents, ounces, (sku, quantity) pairs, customs items)."""
        items: list[str] = []
        pairs: list[tuple[str, int]] = []
        customs: list[str] = []
        subtotal = 0
        weight_oz = 0
        item_id = ORDER_ITEM_ID_BASE + 4 * i
        customs_id = CUSTOMS_ITEM_ID_BASE + 4 * i
        rand = rnd.random
        for k, (p, qty) in enumerate(lines):
            product = _PRODUCTS[p]
            subtotal += product.cents * qty
            weight_oz += product.ounces * qty
            key = f'"{rnd.getrandbits(40):010x}"' if rand() < 0.6 else "null"
            image = product.image if rand() < 0.5 else "null"
            fulfillment_sku = product.sku if rand() < 0.2 else "null"
            upc = f'"{rnd.randrange(10**11, 10**12)}"' if rand() < 0.3 else "null"
            price = self._amount(product.cents)
            items.append(
                _ITEM
                % (
                    item_id + k,
                    key,
                    product.sku,
                    product.name,
                    image,
                    _WEIGHT % product.ounces,
                    qty,
                    price,
                    product.location,
                    product.options,
                    product.product_id,
                    fulfillment_sku,
                    upc,
                    item_ts,
                    item_ts,
                )
            )
            pairs.append((seed_tables.PRODUCTS[p][0], qty))
            customs.append(_CUSTOMS_ITEM % (customs_id + k, product.name, qty, price))
        if discount:
            off = -(subtotal // 10)
            subtotal += off
            items.append(_DISCOUNT % (item_id + 3, self._amount(off), item_ts, item_ts))
            pairs.append(_DISCOUNT_PAIR)
        return items, subtotal, weight_oz, pairs, customs

    def _notes(self, rnd: random.Random, status: str, gift: bool) -> tuple[str, ...]:
        """customerNotes, internalNotes, gift, giftMessage, paymentMethod, confirmation."""
        customer_notes = "null"
        if rnd.random() < 0.2:
            customer_notes = self._json(rnd.choice(seed_tables.CUSTOMER_NOTES))
        internal_notes = "null"
        if rnd.random() < 0.1:
            internal_notes = self._json(rnd.choice(seed_tables.INTERNAL_NOTES))
        message = self._json(rnd.choice(seed_tables.GIFT_MESSAGES)) if gift else "null"
        method = "null"
        if status != "awaiting_payment":
            method = self._json(rnd.choice(seed_tables.PAYMENT_METHODS))
        confirmation = self._json(rnd.choice(("none", "none", "none", "delivery", "signature")))
        return (
            customer_notes,
            internal_notes,
            "true" if gift else "false",
            message,
            method,
            confirmation,
        )
