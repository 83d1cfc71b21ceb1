"""Typed models of ShipStation's objects and the converter that reads and writes them."""

from ._base import Page, SuccessResult
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
from .orders import ItemOption, Order, OrderItem

__all__ = [
    "Address",
    "AdvancedOptions",
    "CustomsItem",
    "Dimensions",
    "InsuranceOptions",
    "InternationalOptions",
    "ItemOption",
    "Order",
    "OrderItem",
    "Page",
    "SuccessResult",
    "Weight",
    "converter",
    "make_converter",
    "strict_converter",
]
