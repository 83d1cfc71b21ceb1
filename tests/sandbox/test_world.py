from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from shipstation_async.sandbox.world import ORDER_KEYS, ORDER_STATUSES, OrderQuery, World

from .helpers import DATE, FIXED_END, ITEM_TS, ORDER_TS, documented_order, ts


@pytest.fixture(scope="module")
def world() -> World:
    return World(orders=1500, seed=11, end=FIXED_END)


@pytest.fixture(scope="module")
def orders(world: World) -> list[dict[str, Any]]:
    return [world.orders.at(i) for i in range(world.orders.count)]


def test_same_seed_same_orders_different_seed_different() -> None:
    a = World(orders=300, seed=5, end=FIXED_END)
    b = World(orders=300, seed=5, end=FIXED_END)
    c = World(orders=300, seed=6, end=FIXED_END)
    for i in (0, 1, 150, 299):
        assert json.dumps(a.orders.at(i)) == json.dumps(b.orders.at(i))
    differing = sum(a.orders.at(i) != c.orders.at(i) for i in range(50))
    assert differing == 50
    assert a.store_ids == b.store_ids != c.store_ids


def test_every_order_has_every_documented_key(orders: list[dict[str, Any]]) -> None:
    doc = documented_order()
    assert list(ORDER_KEYS) == list(doc)
    item_keys = set(doc["items"][0])
    address_keys = set(doc["shipTo"])
    for o in orders:
        assert list(o) == list(doc)
        assert set(o["billTo"]) == set(o["shipTo"]) == address_keys
        assert set(o["advancedOptions"]) == set(doc["advancedOptions"])
        assert set(o["insuranceOptions"]) == set(doc["insuranceOptions"])
        assert set(o["internationalOptions"]) == set(doc["internationalOptions"])
        assert set(o["weight"]) == set(doc["weight"])
        if o["dimensions"] is not None:
            assert set(o["dimensions"]) == set(doc["dimensions"])
        assert 1 <= len(o["items"]) <= 4
        for item in o["items"]:
            assert set(item) == item_keys
            assert set(item["weight"]) == set(doc["items"][0]["weight"])
            for option in item["options"]:
                assert set(option) == {"name", "value"}


def test_create_date_rises_strictly_and_dates_are_consistent(orders: list[dict[str, Any]]) -> None:
    creates = [ts(o["createDate"]) for o in orders]
    assert all(a < b for a, b in itertools.pairwise(creates))
    # Spread over about three years ending at `end`.
    assert creates[-1] <= FIXED_END
    assert (FIXED_END - creates[0]).days >= 3 * 365 - 2
    for o in orders:
        create = ts(o["createDate"])
        assert ts(o["orderDate"]) <= create <= ts(o["modifyDate"]) <= FIXED_END
        assert (o["paymentDate"] is None) == (o["orderStatus"] == "awaiting_payment")


def test_ids_numbers_and_keys_are_unique_and_invertible(
    world: World, orders: list[dict[str, Any]]
) -> None:
    ids = [o["orderId"] for o in orders]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len({o["orderNumber"] for o in orders}) == len(orders)
    assert len({o["orderKey"] for o in orders}) == len(orders)
    for i in (0, 7, 1499):
        o = orders[i]
        assert world.orders.index_of(o["orderId"]) == i
        assert world.orders.get(o["orderId"]) == o
        assert world.orders.find_by_key(o["orderKey"]) == o
    gaps = {b - a for a, b in itertools.pairwise(ids)}
    assert len(gaps) > 1  # not a contiguous range: clients must not assume one
    missing = next(x for x in range(ids[0], ids[-1]) if x not in set(ids))
    assert world.orders.get(missing) is None
    assert world.orders.get(1) is None
    assert world.orders.find_by_key("no-such-key") is None
    assert world.orders.find_by_key("00000000-0000-0000-0000-000000000000") is None


def test_formats_and_values_are_realistic(orders: list[dict[str, Any]]) -> None:
    statuses = {o["orderStatus"] for o in orders}
    assert statuses == set(ORDER_STATUSES)
    stores = {o["advancedOptions"]["storeId"] for o in orders}
    assert 2 <= len(stores) <= 5
    assert len({o["shipTo"]["name"] for o in orders}) > 200
    assert any(o["shipTo"]["country"] != "US" for o in orders)
    assert any(o["internationalOptions"]["customsItems"] for o in orders)
    assert any(any(i["adjustment"] for i in o["items"]) for o in orders)
    for o in orders:
        for key in ("orderDate", "createDate", "modifyDate"):
            assert ORDER_TS.match(o[key]), o[key]
        for key in ("paymentDate", "shipByDate"):
            assert o[key] is None or ORDER_TS.match(o[key])
        assert o["shipDate"] is None or DATE.match(o["shipDate"])
        assert (o["shipDate"] is not None) == (o["orderStatus"] == "shipped")
        for item in o["items"]:
            assert ITEM_TS.match(item["createDate"]) and ITEM_TS.match(item["modifyDate"])
            assert item["name"]
        for money in (o["orderTotal"], o["amountPaid"], o["taxAmount"], o["shippingAmount"]):
            assert isinstance(money, int | float)
            assert round(money, 2) == money
        subtotal = sum(i["quantity"] * i["unitPrice"] for i in o["items"])
        total = subtotal + o["taxAmount"] + o["shippingAmount"]
        assert o["orderTotal"] == pytest.approx(total, abs=0.005)
        assert o["weight"]["value"] == sum(i["weight"]["value"] * i["quantity"] for i in o["items"])


def test_put_updates_keep_create_date_and_bump_modify_date() -> None:
    w = World(orders=50, seed=1, end=FIXED_END)
    before = w.orders.at(10)
    stored = w.orders.put(
        {"orderId": before["orderId"], "orderStatus": "on_hold", "createDate": "2001-01-01"}
    )
    assert stored["createDate"] == before["createDate"]
    assert stored["orderKey"] == before["orderKey"]
    assert ts(stored["modifyDate"]) > FIXED_END
    assert w.orders.get(before["orderId"]) == stored
    page, _total = w.orders.query(OrderQuery(order_status="on_hold", page_size=500))
    assert before["orderId"] in [o["orderId"] for o in page]
    # The returned dict is a copy: mutating it changes nothing.
    stored["orderStatus"] = "shipped"
    assert w.orders.get(before["orderId"])["orderStatus"] == "on_hold"  # type: ignore[index]
    # Upsert by orderKey.
    again = w.orders.put({"orderKey": before["orderKey"], "internalNotes": "by key"})
    assert again["orderId"] == before["orderId"] and again["internalNotes"] == "by key"


def test_put_with_an_unknown_order_id_adds_that_order() -> None:
    w = World(orders=20, seed=1, end=FIXED_END)
    low = w.orders.put({"orderId": 12345, "orderNumber": "LOW"})
    assert low["orderId"] == 12345 and w.orders.get(12345) == low
    auto = w.orders.put({"orderNumber": "AUTO"})
    assert auto["orderId"] > w.orders.at(19)["orderId"]
    page, total = w.orders.query(OrderQuery())
    assert total == 22
    ids = [o["orderId"] for o in page]
    assert ids == sorted(ids) and ids[0] == 12345 and ids[-1] == auto["orderId"]
    page, _ = w.orders.query(OrderQuery(sort_desc=True, page_size=2))
    assert [o["orderNumber"] for o in page] == ["AUTO", w.orders.at(19)["orderNumber"]]


def test_put_adds_new_orders_at_the_end() -> None:
    w = World(orders=50, seed=1, end=FIXED_END)
    last = w.orders.at(49)
    new = w.orders.put({"orderNumber": "NEW-1", "shipTo": {"name": "Ada Lovelace"}})
    assert new["orderId"] > last["orderId"]
    assert ts(new["createDate"]) > ts(last["createDate"])
    assert set(new) == set(ORDER_KEYS)
    assert w.orders.get(new["orderId"]) == new
    assert w.orders.find_by_key(new["orderKey"]) == new
    assert len(w.orders) == 51
    page, total = w.orders.query(OrderQuery(page_size=10, page=6))
    assert total == 51 and page[-1]["orderId"] == new["orderId"]
    page, total = w.orders.query(OrderQuery(customer_name="lovelace"))
    assert [o["orderId"] for o in page] == [new["orderId"]]
    page, total = w.orders.query(OrderQuery(sort_by="CreateDate", sort_desc=True, page_size=1))
    assert page[0]["orderId"] == new["orderId"]


@pytest.mark.cpu_bound
def test_a_million_orders_page_and_date_filter_fast() -> None:
    w = World(orders=1_000_000, seed=3, end=FIXED_END)
    t0 = time.perf_counter()
    page, total = w.orders.query(OrderQuery(page=1500, page_size=500))
    assert total == 1_000_000 and len(page) == 500
    assert page[0]["orderId"] == w.orders.order_id(749_500)
    mid = w.orders.create_ms(600_000)
    page, total = w.orders.query(
        OrderQuery(create_start=mid, create_end=mid + 86_400_000, page_size=500)
    )
    assert page[0]["orderId"] == w.orders.order_id(600_000)
    assert 500 <= total <= 1200  # ~913 orders a day
    page, total = w.orders.query(OrderQuery(sort_desc=True, page_size=3))
    assert [o["orderId"] for o in page] == [
        w.orders.order_id(i) for i in (999_999, 999_998, 999_997)
    ]
    assert time.perf_counter() - t0 < 1.5


@pytest.mark.parametrize("needle", ["smith", "an", "LIAM", "zz"])
def test_customer_name_filter_paths_agree_with_the_orders(
    world: World, orders: list[dict[str, Any]], needle: str
) -> None:
    def expected(subset: list[dict[str, Any]]) -> list[int]:
        return [
            o["orderId"]
            for o in subset
            if any(needle.lower() in (a["name"] or "").lower() for a in (o["billTo"], o["shipTo"]))
        ]

    # The whole world: matching customers are precomputed.
    page, total = world.orders.query(OrderQuery(customer_name=needle, page_size=500))
    assert [o["orderId"] for o in page] == expected(orders)[:500]
    assert total == len(expected(orders))
    # A narrow createDate range: names are derived per order.
    lo, hi = world.orders.create_ms(100), world.orders.create_ms(400)
    page, total = world.orders.query(
        OrderQuery(customer_name=needle, create_start=lo, create_end=hi, page_size=500)
    )
    assert [o["orderId"] for o in page] == expected(orders[100:401])
