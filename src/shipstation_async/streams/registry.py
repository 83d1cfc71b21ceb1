"""The walk registry: how each listing that can be streamed is walked, by resource name.

Public: the resources' ``iter()`` and the backfill read the same entries, so a listing is
described once (:data:`WALKS`, and :data:`MODIFIED_ORDERS` for an incremental sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import attrs

from ..errors import DecodeError
from ..models import Customer, Fulfillment, Order, Product, Shipment
from .plan import KEY_SHAPE, MAX_RANGE, spelt_out


@attrs.frozen
class Walk:
    """How one resource is walked: its path, envelope, date parameters and keys."""

    path: str
    envelope: str
    model: type[Any]
    id_key: str
    start_param: str | None = "createDateStart"
    end_param: str | None = "createDateEnd"
    date_key: str = "createDate"
    max_range: timedelta | None = MAX_RANGE
    sort_by: str = "CreateDate"
    """The sort key matching ``date_key`` (ModifyDate for an incremental walk)."""
    range_names: tuple[str, str] | None = ("create_date_start", "create_date_end")
    """The keyword arguments that bound the walked range, as ``list()`` and ``iter()`` name
    them (None: the list has no date filter)."""

    @property
    def decoded_keys(self) -> tuple[str, str, str]:
        """The keys read of each record: its date and id, and modifyDate.

        modifyDate: an incremental backfill's band. A page read with each record's bytes kept
        decodes only these.
        """
        return (self.date_key, self.id_key, "modifyDate")

    def record_key(self, record: Mapping[str, Any]) -> str:
        """The record's ``date_key`` as a :func:`wall_key`; :class:`DecodeError` if unusable.

        A stream places every record in time by it, so a record without one cannot be walked.
        """
        value = record.get(self.date_key)
        if isinstance(value, str):
            if KEY_SHAPE.fullmatch(value):
                return value  # already a key (wall_key's shortcut, checked once here)
            key = spelt_out(value)
            if KEY_SHAPE.fullmatch(key):
                return key
        raise DecodeError(
            f"{self.path}: a record ({self.id_key}={record.get(self.id_key)!r}) has no usable "
            f"{self.date_key} ({value!r}), which a stream needs to place it"
        )


ORDERS = Walk(path="/orders", envelope="orders", model=Order, id_key="orderId")
SHIPMENTS = Walk(path="/shipments", envelope="shipments", model=Shipment, id_key="shipmentId")
FULFILLMENTS = Walk(
    path="/fulfillments",
    envelope="fulfillments",
    model=Fulfillment,
    id_key="fulfillmentId",
    max_range=None,
)
PRODUCTS = Walk(
    path="/products",
    envelope="products",
    model=Product,
    id_key="productId",
    start_param="startDate",
    end_param="endDate",
    max_range=None,
    range_names=("start_date", "end_date"),
)
CUSTOMERS = Walk(
    path="/customers",
    envelope="customers",
    model=Customer,
    id_key="customerId",
    start_param=None,
    end_param=None,
    max_range=None,
    range_names=None,
)

MODIFIED_ORDERS = attrs.evolve(
    ORDERS,
    start_param="modifyDateStart",
    end_param="modifyDateEnd",
    date_key="modifyDate",
    sort_by="ModifyDate",
    range_names=("modify_date_start", "modify_date_end"),
)
"""Orders walked by ModifyDate: an incremental sync (the only list with a modifyDate filter)."""

WALKS: Mapping[str, Walk] = MappingProxyType(
    {
        "orders": ORDERS,
        "shipments": SHIPMENTS,
        "fulfillments": FULFILLMENTS,
        "products": PRODUCTS,
        "customers": CUSTOMERS,
    }
)
"""Every listing a stream can walk, by the name of its resource on the client (``ss.orders``)."""
