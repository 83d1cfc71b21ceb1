"""The seeded world beyond orders: consistency, determinism, scale, rates and label PDFs."""

from __future__ import annotations

import base64
import itertools
import re
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipstation_async.sandbox import World, rates
from shipstation_async.sandbox.data.catalog import PACKAGE_BY_CODE, SERVICES
from shipstation_async.sandbox.labels import label_data, label_pdf
from shipstation_async.sandbox.state.customers import CustomerQuery
from shipstation_async.sandbox.state.fulfillments import FulfillmentQuery
from shipstation_async.sandbox.state.shipments import ShipmentQuery

from .helpers import FIXED_END, ts


@pytest.fixture(scope="module")
def world() -> World:
    return World(orders=1500, seed=11, end=FIXED_END)


def all_shipments(world: World) -> list[dict[str, Any]]:
    page, _ = world.shipments.query(ShipmentQuery(page_size=10_000))
    return page


def test_every_reference_resolves(world: World) -> None:
    stores = {s["storeId"]: s for s in world.stores}
    tags = set(world.tag_ids)
    users = set(world.user_ids)
    warehouses = {w["warehouseId"] for w in world.warehouses}
    for i in range(world.orders.count):
        o = world.orders.at(i)
        store = stores[o["advancedOptions"]["storeId"]]
        assert store["active"]
        if o["advancedOptions"]["warehouseId"] is not None:
            assert o["advancedOptions"]["warehouseId"] in warehouses
        assert set(o["tagIds"] or ()) <= tags
        assert o["userId"] is None or o["userId"] in users
        customer = world.customers.get(o["customerId"])
        assert customer is not None and customer["email"] == o["customerEmail"]
        for item in o["items"]:
            if item["productId"] is not None:
                product = world.product(item["productId"])
                assert product is not None and product["sku"] == item["sku"]
        if o["orderStatus"] == "shipped":
            assert o["carrierCode"] and o["serviceCode"]
            assert world.carrier(o["carrierCode"]) is not None
    shipments = all_shipments(world)
    fulfillments, _ = world.fulfillments.query(FulfillmentQuery(page_size=10_000))
    for record in itertools.chain(shipments, fulfillments):
        order = world.orders.get(record["orderId"])
        assert order is not None and order["orderStatus"] == "shipped"
        assert order["shipDate"] == record["shipDate"]
        assert ts(order["createDate"]) <= ts(record["createDate"]) <= ts(order["modifyDate"])
    assert len(shipments) + len(fulfillments) == sum(
        world.orders.at(i)["orderStatus"] == "shipped" for i in range(world.orders.count)
    )
    assert 0.7 < len(shipments) / (len(shipments) + len(fulfillments)) < 0.95


def test_catalogue_shape(world: World) -> None:
    manual = [s for s in world.stores if s["marketplaceName"] == "ShipStation" and s["active"]]
    assert len(manual) == 1 and world.manual_store_id == manual[0]["storeId"]
    assert any(not s["active"] for s in world.stores)
    assert len({s["marketplaceId"] for s in world.stores}) >= 4
    assert 2 <= len(world.warehouses) <= 3
    assert [w["isDefault"] for w in world.warehouses].count(True) == 1
    assert {c["code"] for c in world.list_carriers()} == {"stamps_com", "ups", "fedex"}
    assert all(re.match(r"^[0-9a-f-]{36}$", u) for u in world.user_ids) and len(
        world.list_users()
    ) < len(world.list_users(show_inactive=True))
    assert {8362, 8324, 8336, 8221} <= set(world.tag_ids)


def test_shipments_rise_with_the_index_and_carry_rate_model_costs(world: World) -> None:
    shipments = all_shipments(world)
    creates = [ts(s["createDate"]) for s in shipments]
    assert all(a < b for a, b in itertools.pairwise(creates))
    ids = [s["shipmentId"] for s in shipments]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len({s["trackingNumber"] for s in shipments}) == len(shipments)
    for s in shipments[:200]:
        assert world.shipments.get(s["shipmentId"]) is not None
        origin = world.get("warehouses", s["warehouseId"])
        assert origin is not None
        z = rates.zone(
            origin["originAddress"]["postalCode"], s["shipTo"]["postalCode"], s["shipTo"]["country"]
        )
        q = rates.rates(
            s["carrierCode"],
            ounces=s["weight"]["value"],
            zone=z,
            service_code=s["serviceCode"],
            package_code=s["packageCode"],
            dimensions_in=None
            if s["dimensions"] is None
            else (s["dimensions"]["length"], s["dimensions"]["width"], s["dimensions"]["height"]),
            residential=bool(s["shipTo"]["residential"]),
            confirmation=s["confirmation"],
        )
        assert len(q) == 1 and round(q[0].total_cents / 100, 2) == s["shipmentCost"]
        if s["carrierCode"] == "ups":
            assert re.match(r"^1Z[0-9A-Z]{16}$", s["trackingNumber"])


def test_editing_a_warehouse_does_not_rewrite_shipping_history() -> None:
    w = World(orders=200, seed=4, end=FIXED_END)
    before = all_shipments(w)
    for warehouse in w.warehouses:
        moved = {
            **warehouse,
            "originAddress": {**warehouse["originAddress"], "postalCode": "99501"},
        }
        w.replace_warehouse(warehouse["warehouseId"], moved)
    assert all_shipments(w) == before


def test_same_seed_same_world() -> None:
    a = World(orders=300, seed=5, end=FIXED_END)
    b = World(orders=300, seed=5, end=FIXED_END)
    c = World(orders=300, seed=6, end=FIXED_END)
    assert a.stores == b.stores and a.warehouses == b.warehouses
    assert a.list_carriers() == b.list_carriers() != c.list_carriers()
    assert all_shipments(a) == all_shipments(b) != all_shipments(c)
    q = CustomerQuery(page_size=500)
    assert a.customers.query(q) == b.customers.query(q) != c.customers.query(q)
    assert a.user_ids == b.user_ids != c.user_ids


@pytest.mark.cpu_bound
def test_a_million_orders_list_shipments_and_customers_fast() -> None:
    w = World(orders=1_000_000, seed=3, end=FIXED_END)
    t0 = time.perf_counter()
    page, total = w.shipments.query(ShipmentQuery(page=200, page_size=500))
    assert 400_000 < total < 550_000 and len(page) == 500
    mid = w.orders.ship_ms(600_000)
    page, window = w.shipments.query(
        ShipmentQuery(create_start=mid, create_end=mid + 90 * 86_400_000, page_size=500)
    )
    assert 20_000 < window < 50_000
    assert ts(page[0]["createDate"]) >= ts(w.orders.at(600_000)["createDate"])
    page, customers = w.customers.query(CustomerQuery(page=300, page_size=500))
    assert customers == w.orders.customer_pool and len(page) == 500
    assert time.perf_counter() - t0 < 4.0


def test_python_seeding_api() -> None:
    w = World(orders=10, seed=1, end=FIXED_END)
    tag = w.add_tag(name="Rush")
    product = w.add_product(sku="X-1", name="Thing", weightOz=3)
    order = w.add_order(
        orderNumber="PY-1",
        tagIds=[tag["tagId"], 999],
        items=[{"sku": "x-1", "name": "Thing", "quantity": 3, "unitPrice": 2.5}],
        shipTo={"name": "A", "street1": "1 Main", "city": "Austin", "state": "TX",
                "postalCode": "78701", "country": "US"},
    )  # fmt: skip
    assert order["tagIds"] == [tag["tagId"]] and order["orderTotal"] == 7.5
    assert order["items"][0]["productId"] == product["productId"]
    assert order["shipTo"]["addressVerified"] == "Address validated successfully"
    assert w.get("orders", order["orderId"]) == order
    again = w.add_order(orderKey=order["orderKey"], orderNumber="PY-1b")
    assert again["orderId"] == order["orderId"] and again["orderNumber"] == "PY-1b"
    assert w.add_warehouse(warehouseName="Spare")["returnAddress"]["city"]
    assert w.add_store(storeName="Etsy 2", marketplaceName="Etsy")["marketplaceId"] == 32
    assert w.add_user(userName="u")["userId"] in w.user_ids
    assert w.add("customers", {"name": "C", "email": "c@x.y"})["customerId"] > 0
    with pytest.raises(ValueError, match="already exists"):
        w.add_product(sku="X-1")
    with pytest.raises(ValueError, match="already exists"):
        w.add_tag(tagId=tag["tagId"], name="dup")
    with pytest.raises(ValueError, match="marketplace"):
        w.add_store(marketplaceName="Nowhere")
    with pytest.raises(ValueError, match="cannot add"):
        w.add("shipments", {})  # type: ignore[arg-type]


def test_label_pdf_is_well_formed() -> None:
    pdf = label_pdf(["UPS Ground", "TRACKING #: 1Z999", "(parens) and \\ slash"])
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    assert b"\\(parens\\)" in pdf and b"1Z999" in pdf
    assert base64.b64decode(label_data(["x"])).startswith(b"%PDF")


DOMESTIC = [s for s in SERVICES if s.domestic]


@given(
    service=st.sampled_from(DOMESTIC),
    ounces=st.floats(0.1, 1000),
    more=st.floats(0, 500),
    zone=st.integers(1, 7),
)
def test_rates_never_fall_with_weight_or_distance(
    service: rates.ServiceSpec, ounces: float, more: float, zone: int
) -> None:
    package = PACKAGE_BY_CODE[(service.carrier_code, "package")]
    base = rates.quote(service, package, ounces=ounces, zone=zone)
    heavier = rates.quote(service, package, ounces=ounces + more, zone=zone)
    farther = rates.quote(service, package, ounces=ounces, zone=zone + 1)
    if base is None:
        return
    assert farther is not None and farther.total_cents >= base.total_cents
    if heavier is not None:
        assert heavier.total_cents >= base.total_cents


def test_zones() -> None:
    assert rates.zone("78703", "78745", "US") == 1
    assert rates.zone("78703", "98101", "US") > rates.zone("78703", "73301", "US")
    assert rates.zone("78703", "", "CA") == 9 and rates.zone("78703", "", "DE") == 10
    with pytest.raises(ValueError):
        rates.zone("7870", "98101", "US")
