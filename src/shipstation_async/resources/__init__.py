"""Resource bindings: one module per ShipStation resource, each an attribute of the client.

``ss.orders`` is an :class:`Orders`, ``ss.shipments`` a :class:`Shipments`, and so on. The
``...Filters`` and ``...ListOptions`` typed dictionaries name the keyword arguments that
``list()`` and ``iter()`` take; :class:`CallOptions` the ones every method takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._base import CallOptions, Resource
    from .accounts import Accounts
    from .carriers import Carriers
    from .customers import CustomerFilters, CustomerListOptions, Customers
    from .fulfillments import FulfillmentFilters, FulfillmentListOptions, Fulfillments
    from .orders import OrderFilters, OrderListOptions, Orders
    from .products import ProductFilters, ProductListOptions, Products
    from .shipments import ShipmentFilters, ShipmentListOptions, Shipments
    from .stores import Stores
    from .streaming import StreamingResource
    from .users import Users
    from .warehouses import Warehouses
    from .webhooks import Webhooks

# Imported on first use: the client's own modules import resource modules while loading.
_EXPORTS: dict[str, str] = {
    "Accounts": ".accounts",
    "CallOptions": "._base",
    "Carriers": ".carriers",
    "CustomerFilters": ".customers",
    "CustomerListOptions": ".customers",
    "Customers": ".customers",
    "FulfillmentFilters": ".fulfillments",
    "FulfillmentListOptions": ".fulfillments",
    "Fulfillments": ".fulfillments",
    "OrderFilters": ".orders",
    "OrderListOptions": ".orders",
    "Orders": ".orders",
    "ProductFilters": ".products",
    "ProductListOptions": ".products",
    "Products": ".products",
    "Resource": "._base",
    "ShipmentFilters": ".shipments",
    "ShipmentListOptions": ".shipments",
    "Shipments": ".shipments",
    "Stores": ".stores",
    "StreamingResource": ".streaming",
    "Users": ".users",
    "Warehouses": ".warehouses",
    "Webhooks": ".webhooks",
}

__all__ = [
    "Accounts",
    "CallOptions",
    "Carriers",
    "CustomerFilters",
    "CustomerListOptions",
    "Customers",
    "FulfillmentFilters",
    "FulfillmentListOptions",
    "Fulfillments",
    "OrderFilters",
    "OrderListOptions",
    "Orders",
    "ProductFilters",
    "ProductListOptions",
    "Products",
    "Resource",
    "ShipmentFilters",
    "ShipmentListOptions",
    "Shipments",
    "Stores",
    "StreamingResource",
    "Users",
    "Warehouses",
    "Webhooks",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
