"""Request handlers, one module per ShipStation resource, gathered into one router."""

from __future__ import annotations

from ..router import Router
from . import orders


def build_router() -> Router:
    """A router holding every resource's routes."""
    router = Router()
    orders.register(router)
    return router


__all__ = ["build_router"]
