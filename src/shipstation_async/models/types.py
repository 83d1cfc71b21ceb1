"""Enumerated strings of the API as Literal types.

The annotations name the documented values; values the server adds later are still accepted at
runtime (as plain strings) by the default converter and rejected by the strict one.
"""

from __future__ import annotations

from typing import Literal

OrderStatus = Literal[
    "awaiting_payment",
    "awaiting_shipment",
    "pending_fulfillment",
    "shipped",
    "on_hold",
    "cancelled",
    "rejected_fulfillment",
]
"""An order's status (distinct from a shipment's label/delivery state)."""

Confirmation = Literal["none", "delivery", "signature", "adult_signature", "direct_signature"]
"""Delivery confirmation; ``direct_signature`` is FedEx only."""

WeightUnits = Literal["pounds", "ounces", "grams"]
"""Units of a :class:`~shipstation_async.models.Weight`."""

DimensionUnits = Literal["inches", "centimeters"]
"""Units of :class:`~shipstation_async.models.Dimensions`."""

InsuranceProvider = Literal["shipsurance", "carrier", "provider", "xcover", "parcelguard"]
"""Who insures a shipment."""

CustomsContents = Literal["merchandise", "documents", "gift", "returned_goods", "sample"]
"""What an international shipment contains."""

NonDelivery = Literal["return_to_sender", "treat_as_abandoned"]
"""What happens to an undeliverable international shipment."""

BillToParty = Literal["my_account", "my_other_account", "recipient", "third_party"]
"""Who pays for the shipping."""

AddressVerified = Literal[
    "Address not yet validated",
    "Address validated successfully",
    "Address validation warning",
    "Address validation failed",
]
"""Read-only address validation state."""

OrderSortBy = Literal["OrderDate", "ModifyDate", "CreateDate"]
"""Sort keys of GET /orders."""

SortDir = Literal["ASC", "DESC"]
"""Sort direction."""
