"""Request handlers, one module per ShipStation resource, gathered into one router."""

from __future__ import annotations

from ..router import Router
from . import (
    accounts,
    carriers,
    customers,
    fulfillments,
    orders,
    products,
    shipments,
    stores,
    warehouses,
    webhooks,
)
from .control import PREFIX as CONTROL_PREFIX
from .control import build_control_router


def build_router() -> Router:
    """A router holding every resource's routes (the 48 endpoints of ShipStation V1)."""
    router = Router()
    for module in (
        accounts,
        carriers,
        customers,
        fulfillments,
        orders,
        products,
        shipments,
        stores,
        warehouses,
        webhooks,
    ):
        module.register(router)
    return router


__all__ = ["CONTROL_PREFIX", "build_control_router", "build_router"]
