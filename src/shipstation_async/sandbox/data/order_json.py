"""The one shape of an Order: its keys in documented order, and the one way to assemble it.

Generated orders, orders created through ``createorder`` and orders added with partial data
are all assembled by :func:`order_json` (or start from :func:`blank_order`), so every order
the sandbox serves has every documented key, in the documented order.
"""

from __future__ import annotations

from typing import Any, get_args

from ...models.types import OrderStatus
from ..normalize import ADDRESS_KEYS

JSON = dict[str, Any]

ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
"""The values the orderStatus filter accepts (reference §2): the SDK's own list."""
CREATE_STATUSES: tuple[str, ...] = tuple(s for s in ORDER_STATUSES if s != "rejected_fulfillment")
"""The orderStatus values createorder accepts."""
UPDATABLE_STATUSES: tuple[str, ...] = (
    "awaiting_payment",
    "awaiting_shipment",
    "on_hold",
    "pending_fulfillment",
)
"""Statuses in which createorder may update an order (shipped and cancelled are locked)."""
HOLDABLE_STATUSES: tuple[str, ...] = ("awaiting_payment", "awaiting_shipment", "on_hold")
"""Statuses from which holduntil may put an order on hold."""
SHIPPABLE_STATUSES: tuple[str, ...] = (*UPDATABLE_STATUSES,)
"""Statuses from which markasshipped may ship an order (the ones createorder may update)."""

ORDER_KEYS: tuple[str, ...] = (
    "orderId",
    "orderNumber",
    "orderKey",
    "orderDate",
    "createDate",
    "modifyDate",
    "paymentDate",
    "shipByDate",
    "orderStatus",
    "customerId",
    "customerUsername",
    "customerEmail",
    "billTo",
    "shipTo",
    "items",
    "orderTotal",
    "amountPaid",
    "taxAmount",
    "shippingAmount",
    "customerNotes",
    "internalNotes",
    "gift",
    "giftMessage",
    "paymentMethod",
    "requestedShippingService",
    "carrierCode",
    "serviceCode",
    "packageCode",
    "confirmation",
    "shipDate",
    "holdUntilDate",
    "weight",
    "dimensions",
    "insuranceOptions",
    "internationalOptions",
    "advancedOptions",
    "tagIds",
    "userId",
    "externallyFulfilled",
    "externallyFulfilledBy",
    "externallyFulfilledById",
    "externallyFulfilledByName",
)
"""The documented Order keys, in the order of the docs' GetOrderResponse example."""


def order_json(**fields: Any) -> JSON:
    """An Order with every documented key, in order: ``fields`` set, the others null."""
    unknown = fields.keys() - set(ORDER_KEYS)
    if unknown:
        raise ValueError(f"not Order keys: {sorted(unknown)}")
    order: JSON = dict.fromkeys(ORDER_KEYS)
    order.update(fields)
    return order


def blank_order() -> JSON:
    """Every documented Order key, empty: the base for orders added with partial data."""
    address = dict.fromkeys(ADDRESS_KEYS)
    return order_json(
        orderStatus="awaiting_shipment",
        billTo=dict(address),
        shipTo=dict(address),
        items=[],
        orderTotal=0,
        amountPaid=0,
        taxAmount=0,
        shippingAmount=0,
        gift=False,
        confirmation="none",
        weight={"value": 0, "units": "ounces"},
        insuranceOptions={"provider": None, "insureShipment": False, "insuredValue": 0},
        internationalOptions={"contents": None, "customsItems": None, "nonDelivery": None},
        advancedOptions={
            "warehouseId": None,
            "nonMachinable": False,
            "saturdayDelivery": False,
            "containsAlcohol": False,
            "mergedOrSplit": False,
            "mergedIds": [],
            "parentId": None,
            "storeId": None,
            "customField1": None,
            "customField2": None,
            "customField3": None,
            "source": None,
            "billToParty": None,
            "billToAccount": None,
            "billToPostalCode": None,
            "billToCountryCode": None,
        },
        externallyFulfilled=False,
    )
