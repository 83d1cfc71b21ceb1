"""Assembling generated order ``i`` as ShipStation's Order JSON.

Every random choice is drawn from one ``random.Random`` seeded by the order's hash, in a
fixed sequence: the helpers below are called in that sequence, so a world is the same in
every process.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .._time import MS_PER_DAY, format_date, format_item_ts, format_order_ts
from ..normalize import ADDRESS_KEYS, money
from . import seed_tables
from .order_json import order_json
from .people import Person

if TYPE_CHECKING:
    from .generated_orders import GeneratedOrders

JSON = dict[str, Any]

ORDER_ITEM_ID_BASE = 300_000_000
"""orderItemIds of generated order ``i`` are ``ORDER_ITEM_ID_BASE + 4 * i + line``."""
CUSTOMS_ITEM_ID_BASE = 11_000_000
"""customsItemIds of generated order ``i`` are ``CUSTOMS_ITEM_ID_BASE + 4 * i + line``."""
_NO_CUSTOMS: JSON = {"contents": None, "customsItems": None, "nonDelivery": None}
_BILL_TO_KEYS = ADDRESS_KEYS[1:]  # the name comes from the customer


def build_generated_order(gen: GeneratedOrders, i: int) -> JSON:
    """Generated order ``i`` of ``gen`` as a fresh Order dict."""
    create = gen.generated_create_ms(i)
    status = gen.generated_status(i)
    order_date, modify, payment = gen.dates(i, create, status)
    store = gen.store_gen(i)
    customer, recipient, h1 = gen.people(i)
    lines, discount = gen.lines(h1)
    rnd = random.Random(gen.hash(i, 2))
    items, subtotal, weight_oz = _items(i, lines, discount, rnd, format_item_ts(create))
    tax = subtotal * rnd.choice((0, 0, 600, 725, 825, 950)) // 10000
    shipping = rnd.choice((0, 0, 499, 599, 895, 1000, 1295))
    total = subtotal + tax + shipping
    destination = recipient or customer
    ounces = sum(seed_tables.PRODUCTS[p][2] * q for p, q in lines)
    service, has_service = gen.generated_service(i, destination, ounces, status)
    carrier_code, service_code, requested, package_code = service
    ship_by = None
    if rnd.random() < 0.7:
        ship_by = format_order_ts((order_date // MS_PER_DAY + rnd.randrange(3, 8)) * MS_PER_DAY)
    fulfilled = status in ("pending_fulfillment", "rejected_fulfillment")
    provider = seed_tables.FULFILLMENT_PROVIDERS[
        rnd.randrange(len(seed_tables.FULFILLMENT_PROVIDERS))
    ]
    gift = recipient is not None
    insured = rnd.random() < 0.15
    bill_to = _bill_to(customer, rnd)
    international = destination.country != "US"
    customs = _customs(i, items) if international else dict(_NO_CUSTOMS)
    dims = _dimensions(rnd)
    custom1 = None
    if rnd.random() < 0.3:
        custom1 = ", ".join(f"SKU: {it['sku']} x {it['quantity']}" for it in items[:2])
    notes = _notes(rnd, status, gift)
    return order_json(
        orderId=gen.generated_order_id(i),
        orderNumber=gen.generated_order_number(i),
        orderKey=gen.generated_key(i),
        orderDate=format_order_ts(order_date),
        createDate=format_order_ts(create),
        modifyDate=format_order_ts(modify),
        paymentDate=None if payment is None else format_order_ts(payment),
        shipByDate=ship_by,
        orderStatus=status,
        customerId=customer.customer_id,
        customerUsername=customer.email,
        customerEmail=customer.email,
        billTo=bill_to,
        shipTo=destination.address(),
        items=items,
        orderTotal=money(total),
        amountPaid=0 if status == "awaiting_payment" else money(total),
        taxAmount=money(tax),
        shippingAmount=money(shipping),
        **notes,
        requestedShippingService=requested,
        carrierCode=carrier_code if has_service else None,
        serviceCode=service_code if has_service else None,
        packageCode=package_code if has_service else None,
        shipDate=format_date(gen.ship_ms(i, create)) if status == "shipped" else None,
        holdUntilDate=None,  # generated holds last until restored
        weight={"value": weight_oz, "units": "ounces"},
        dimensions=dims,
        insuranceOptions={
            "provider": "carrier" if insured else None,
            "insureShipment": insured,
            "insuredValue": money(total) if insured else 0,
        },
        internationalOptions=customs,
        advancedOptions=_advanced_options(store, fulfilled, custom1),
        tagIds=gen.generated_tags(i),
        userId=gen.generated_user(i),
        externallyFulfilled=fulfilled,
        externallyFulfilledBy=provider[1] if fulfilled else None,
        externallyFulfilledById=provider[0] if fulfilled else None,
        externallyFulfilledByName=provider[1] if fulfilled else None,
    )


def _items(
    i: int, lines: list[tuple[int, int]], discount: bool, rnd: random.Random, item_ts: str
) -> tuple[list[JSON], int, int]:
    """(items, subtotal in cents, weight in ounces) of the order's lines."""
    items: list[JSON] = []
    subtotal = 0
    weight_oz = 0
    for k, (p, qty) in enumerate(lines):
        sku, name, oz, price, opts, location, product_id = seed_tables.PRODUCTS[p]
        subtotal += price * qty
        weight_oz += oz * qty
        items.append(
            {
                "orderItemId": ORDER_ITEM_ID_BASE + 4 * i + k,
                "lineItemKey": f"{rnd.getrandbits(40):010x}" if rnd.random() < 0.6 else None,
                "sku": sku,
                "name": name,
                "imageUrl": (
                    f"https://cdn.example.com/products/{sku.lower()}.jpg"
                    if rnd.random() < 0.5
                    else None
                ),
                "weight": {"value": oz, "units": "ounces"},
                "quantity": qty,
                "unitPrice": money(price),
                "taxAmount": None,
                "shippingAmount": None,
                "warehouseLocation": location,
                "options": [{"name": n, "value": v} for n, v in opts],
                "productId": product_id,
                "fulfillmentSku": sku if rnd.random() < 0.2 else None,
                "adjustment": False,
                "upc": f"{rnd.randrange(10**11, 10**12)}" if rnd.random() < 0.3 else None,
                "createDate": item_ts,
                "modifyDate": item_ts,
            }
        )
    if discount:
        off = -(subtotal // 10)
        subtotal += off
        items.append(_discount_item(i, off, item_ts))
    return items, subtotal, weight_oz


def _discount_item(i: int, off_cents: int, item_ts: str) -> JSON:
    return {
        "orderItemId": ORDER_ITEM_ID_BASE + 4 * i + 3,
        "lineItemKey": None,
        "sku": "DISCOUNT CODE",
        "name": "10% OFF",
        "imageUrl": None,
        "weight": {"value": 0, "units": "ounces"},
        "quantity": 1,
        "unitPrice": money(off_cents),
        "taxAmount": None,
        "shippingAmount": None,
        "warehouseLocation": None,
        "options": [],
        "productId": None,
        "fulfillmentSku": None,
        "adjustment": True,
        "upc": None,
        "createDate": item_ts,
        "modifyDate": item_ts,
    }


def _bill_to(customer: Person, rnd: random.Random) -> JSON:
    """The billTo: a name only (most marketplaces), or the customer's address unverified."""
    if rnd.random() < 0.6:
        return {"name": customer.name, **dict.fromkeys(_BILL_TO_KEYS)}
    bill_to = customer.address()
    bill_to["addressVerified"] = None
    return bill_to


def _customs(i: int, items: list[JSON]) -> JSON:
    return {
        "contents": "merchandise",
        "customsItems": [
            {
                "customsItemId": CUSTOMS_ITEM_ID_BASE + 4 * i + k,
                "description": item["name"],
                "quantity": item["quantity"],
                "value": item["unitPrice"],
                "harmonizedTariffCode": None,
                "countryOfOrigin": "US",
            }
            for k, item in enumerate(items)
            if not item["adjustment"]
        ],
        "nonDelivery": "return_to_sender",
    }


def _dimensions(rnd: random.Random) -> JSON | None:
    if rnd.random() >= 0.6:
        return None
    return {
        "units": "inches",
        "length": rnd.randrange(6, 25),
        "width": rnd.randrange(4, 16),
        "height": rnd.randrange(2, 12),
    }


def _notes(rnd: random.Random, status: str, gift: bool) -> JSON:
    """The notes, gift, payment and confirmation fields (drawn in the order of the Order's keys)."""
    out: JSON = {}
    out["customerNotes"] = rnd.choice(seed_tables.CUSTOMER_NOTES) if rnd.random() < 0.2 else None
    out["internalNotes"] = rnd.choice(seed_tables.INTERNAL_NOTES) if rnd.random() < 0.1 else None
    out["gift"] = gift
    out["giftMessage"] = rnd.choice(seed_tables.GIFT_MESSAGES) if gift else None
    out["paymentMethod"] = (
        None if status == "awaiting_payment" else rnd.choice(seed_tables.PAYMENT_METHODS)
    )
    out["confirmation"] = rnd.choice(("none", "none", "none", "delivery", "signature"))
    return out


def _advanced_options(store: JSON, fulfilled: bool, custom1: str | None) -> JSON:
    return {
        "warehouseId": None if fulfilled else store["_warehouseId"],
        "nonMachinable": False,
        "saturdayDelivery": False,
        "containsAlcohol": False,
        "mergedOrSplit": False,
        "mergedIds": [],
        "parentId": None,
        "storeId": store["storeId"],
        "customField1": custom1,
        "customField2": None,
        "customField3": None,
        "source": store["_source"],
        "billToParty": None,
        "billToAccount": None,
        "billToPostalCode": None,
        "billToCountryCode": None,
    }
