"""Typed models of ShipStation's objects and the converter that reads and writes them."""

from ._base import Model, Page, SuccessResult
from .accounts import RegisterAccountResult, Tag, User
from .carriers import Carrier, Package, Service
from .common import (
    Address,
    AdvancedOptions,
    CustomsItem,
    Dimensions,
    InsuranceOptions,
    InternationalOptions,
    Weight,
)
from .converter import converter, make_converter, strict_converter
from .customers import Customer, CustomerTag, MarketplaceUsername
from .fulfillments import Fulfillment
from .orders import (
    CreateOrdersResult,
    ItemOption,
    MarkAsShippedResult,
    Order,
    OrderItem,
    OrderResult,
)
from .products import Product, ProductCategory, ProductTag, ProductType
from .shipments import Label, Rate, Shipment, VoidResult
from .stores import Marketplace, RefreshStatus, StatusMapping, Store
from .warehouses import Warehouse
from .webhooks import SubscribeResult, Webhook, WebhookEvent

__all__ = [
    "Address",
    "AdvancedOptions",
    "Carrier",
    "CreateOrdersResult",
    "Customer",
    "CustomerTag",
    "CustomsItem",
    "Dimensions",
    "Fulfillment",
    "InsuranceOptions",
    "InternationalOptions",
    "ItemOption",
    "Label",
    "MarkAsShippedResult",
    "Marketplace",
    "MarketplaceUsername",
    "Model",
    "Order",
    "OrderItem",
    "OrderResult",
    "Package",
    "Page",
    "Product",
    "ProductCategory",
    "ProductTag",
    "ProductType",
    "Rate",
    "RefreshStatus",
    "RegisterAccountResult",
    "Service",
    "Shipment",
    "StatusMapping",
    "Store",
    "SubscribeResult",
    "SuccessResult",
    "Tag",
    "User",
    "VoidResult",
    "Warehouse",
    "Webhook",
    "WebhookEvent",
    "Weight",
    "converter",
    "make_converter",
    "strict_converter",
]
