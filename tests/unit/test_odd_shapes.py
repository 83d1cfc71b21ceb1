"""Odd but plausible shapes in answers: blank strings for absent values, and one record that
cannot be read, which must be named without breaking what can be read about it."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from shipstation_async.errors import DecodeError
from shipstation_async.models import Order, Store, Warehouse, converter
from shipstation_async.resources._base import decode_page, structure_list, to_body


@pytest.mark.parametrize(
    ("key", "attr"),
    [
        ("shipDate", "ship_date"),  # a date
        ("orderDate", "order_date"),  # a timestamp
        ("holdUntilDate", "hold_until_date"),
        ("amountPaid", "amount_paid"),  # money
        ("customerId", "customer_id"),  # an id
        ("tagIds", "tag_ids"),  # a list
        ("weight", "weight"),  # an object
        ("shipTo", "ship_to"),
    ],
)
def test_a_blank_string_reads_as_absent_and_goes_back_as_received(key: str, attr: str) -> None:
    for blank in ("", " "):
        order = converter.structure({"orderId": 1, key: blank}, Order)
        assert getattr(order, attr) is None
        # A full replacement sends the server's own spelling of what was not changed.
        body = converter.unstructure(attrs.evolve(order, order_number="A-1"))
        assert body[key] == blank


def test_a_store_read_from_a_list_keeps_its_blank_status_mappings_on_update() -> None:
    """The list sends ``statusMappings: ""``; an update sent back with ``[]`` could clear
    the store's mappings, where the server's own value says nothing of them."""
    store = converter.structure({"storeId": 7, "storeName": "A", "statusMappings": ""}, Store)
    body = to_body(attrs.evolve(store, store_name="B"), Store, "store")
    assert body["statusMappings"] == ""
    assert body["storeName"] == "B"


def test_a_value_set_on_a_blank_field_is_sent() -> None:
    order = converter.structure({"orderId": 1, "tagIds": ""}, Order)
    assert converter.unstructure(attrs.evolve(order, tag_ids=[4]))["tagIds"] == [4]


def test_an_unreadable_record_is_named_by_its_place_and_id() -> None:
    page = {"orders": [{"orderId": 5}, {"orderId": 6, "items": [{}, {"unitPrice": "x"}]}]}
    with pytest.raises(DecodeError) as info:
        decode_page(page, "orders", Order, page=1, page_size=500)
    assert str(info.value) == (
        "Order #1 (orderId 6): Order.items[1]: OrderItem.unitPrice: expected a number, got 'x'"
    )
    with pytest.raises(DecodeError, match=r"^Warehouse #0 \(warehouseId 9\): "):
        structure_list([{"warehouseId": 9, "originAddress": 3}], Warehouse)


def test_an_unreadable_value_is_quoted_short_and_a_container_not_at_all() -> None:
    """An error message ends up in logs: it never copies an order's contents. A list is
    never read from an object's keys or a string's characters."""
    secret_ish: dict[str, Any] = {"name": "Jane Roe", "street1": "12 Hidden Lane"}
    with pytest.raises(DecodeError) as info:
        converter.structure({"orderId": 1, "tagIds": secret_ish}, Order)
    assert str(info.value) == "Order.tagIds: expected a JSON array, got an object"
    with pytest.raises(DecodeError) as info:
        converter.structure({"orderId": 1, "items": "Jane Roe, 12 Hidden Lane"}, Order)
    assert str(info.value) == "Order.items: expected a JSON array, got str"
    assert converter.structure({"orderId": 1, "tagIds": {}}, Order).tag_ids == []
    with pytest.raises(DecodeError) as info:
        converter.structure({"orderId": 1, "customerId": "n" * 500}, Order)
    assert len(str(info.value)) < 200


def test_a_record_sent_back_as_a_mapping_keeps_its_blank_values() -> None:
    """A record's own JSON (an untyped stream's, a poll's) carries blanks for absent dates
    and lists: sent back as a mapping, they go as received, not refused as unreadable."""
    order = {"orderNumber": "A", "orderDate": "2024-01-01T10:00:00", "shipDate": "", "tagIds": ""}
    assert to_body(order, Order, "order") == order
    store = {"storeId": 7, "statusMappings": "", "refreshDate": " "}
    assert to_body(store, Store, "store") == store


def test_an_object_where_an_enumeration_belongs_names_its_record() -> None:
    page = {"orders": [{"orderId": 4, "orderStatus": {"name": "shipped"}}]}
    with pytest.raises(DecodeError) as info:
        decode_page(page, "orders", Order, page=1, page_size=500)
    assert str(info.value) == (
        "Order #0 (orderId 4): Order.orderStatus: unexpected value a JSON object"
    )


def test_a_us_date_the_api_reads_goes_out_as_written() -> None:
    """ShipStation (.NET, US culture) reads ``12/1/2026 10:00 PM`` in a body; the SDK's own
    reader does not, and must not refuse it for that."""
    for text in ("12/01/2026", "12/1/2026 10:00 PM", "12/01/2026 22:00:00"):
        body = to_body({"orderNumber": "A", "holdUntilDate": text}, Order, "order")
        assert body["holdUntilDate"] == text
