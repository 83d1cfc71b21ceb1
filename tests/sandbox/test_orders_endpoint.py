from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from shipstation_async.limits import RateLimit
from shipstation_async.sandbox import Sandbox, World

from .helpers import FIXED_END, auth_headers, ts

Order = dict[str, Any]


@pytest.fixture
def all_orders(sandbox: Sandbox) -> list[Order]:
    return [sandbox.world.orders.at(i) for i in range(sandbox.world.orders.count)]


async def get(session: aiohttp.ClientSession, path: str, **params: Any) -> tuple[int, Any]:
    async with session.get(path, params={k: str(v) for k, v in params.items()}) as r:
        return r.status, await r.json()


async def list_all(session: aiohttp.ClientSession, **params: Any) -> list[Order]:
    """Every order the filters match, walking pages of 100."""
    out: list[Order] = []
    page = 1
    while True:
        status, body = await get(session, "/orders", page=page, pageSize=100, **params)
        assert status == 200, body
        out += body["orders"]
        assert body["page"] == page
        assert body["pages"] == math.ceil(body["total"] / 100)
        if page >= body["pages"]:
            assert len(out) == body["total"]
            return out
        page += 1


def fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def ids(orders: list[Order]) -> list[int]:
    return [o["orderId"] for o in orders]


async def test_envelope_defaults_and_paging(
    session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    status, body = await get(session, "/orders")
    assert status == 200
    assert set(body) == {"orders", "total", "page", "pages"}
    assert (body["total"], body["page"], body["pages"]) == (400, 1, 4)
    assert ids(body["orders"]) == ids(all_orders[:100])  # default: ascending orderId
    status, body = await get(session, "/orders", page=3, pageSize=150)
    assert (body["total"], body["page"], body["pages"]) == (400, 3, 3)
    assert ids(body["orders"]) == ids(all_orders[300:400])
    status, body = await get(session, "/orders", page=9, pageSize=150)
    assert status == 200 and body["orders"] == [] and body["page"] == 9
    status, body = await get(session, "/orders", pageSize=500)
    assert len(body["orders"]) == 400 and body["pages"] == 1
    status, body = await get(session, "/orders", sortDir="DESC", pageSize=3, page=2)
    assert ids(body["orders"]) == ids(all_orders[-6:-3][::-1])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 501}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"storeId": "abc"}, "storeId"),
        # Read as .NET reads an Int32, not as Python's int() does.
        ({"pageSize": "1_0"}, "pageSize"),
        ({"pageSize": "\uff11\uff10"}, "pageSize"),  # fullwidth digits
        ({"page": "\u0661"}, "page"),  # an Arabic-Indic digit
        ({"storeId": "2147483648"}, "storeId"),  # past Int32
        ({"orderStatus": "lost"}, "orderStatus"),
        ({"sortBy": "Price"}, "sortBy"),
        ({"sortDir": "UP"}, "sortDir"),
        ({"createDateStart": "yesterday"}, "createDateStart"),
        ({"modifyDateEnd": "2024-13-01"}, "modifyDateEnd"),
        ({"orderDateStart": "2024-02-30 10:00:00"}, "orderDateStart"),
    ],
)
async def test_bad_parameters_get_a_model_state_400(
    session: aiohttp.ClientSession, params: dict[str, Any], field: str
) -> None:
    status, body = await get(session, "/orders", **params)
    assert status == 400
    assert body["Message"] == "The request is invalid."
    assert list(body["ModelState"]) == [field]
    assert all(isinstance(m, str) and m for m in body["ModelState"][field])


async def test_several_problems_are_reported_together(session: aiohttp.ClientSession) -> None:
    status, body = await get(session, "/orders", pageSize=0, orderStatus="nope")
    assert status == 400 and set(body["ModelState"]) == {"pageSize", "orderStatus"}


async def test_filters_match_a_brute_force_reference(
    session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    sample = all_orders[123]
    store_id = sample["advancedOptions"]["storeId"]
    last = sample["shipTo"]["name"].split()[-1]
    sku = sample["items"][0]["sku"]
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"orderStatus": "on_hold"}, lambda o: o["orderStatus"] == "on_hold"),
        ({"orderStatus": "SHIPPED"}, lambda o: o["orderStatus"] == "shipped"),
        ({"storeId": store_id}, lambda o: o["advancedOptions"]["storeId"] == store_id),
        (
            {"customerName": last.upper()},
            lambda o: any(
                last.lower() in (a["name"] or "").lower() for a in (o["billTo"], o["shipTo"])
            ),
        ),
        (
            {"itemKeyword": sku[:5].lower()},
            lambda o: any(sku[:5].lower() in i["sku"].lower() for i in o["items"]),
        ),
        ({"itemKeyword": "mug"}, lambda o: any("mug" in i["name"].lower() for i in o["items"])),
        ({"itemKeyword": "lavender"}, None),  # an option value
        ({"orderNumber": "AMZ-1001"}, lambda o: o["orderNumber"].startswith("AMZ-1001")),
        (
            {"orderStatus": "shipped", "storeId": store_id},
            lambda o: o["orderStatus"] == "shipped" and o["advancedOptions"]["storeId"] == store_id,
        ),
    ]
    for params, pred in cases:
        got = await list_all(session, **params)
        if pred is None:
            assert got and all(
                any(
                    any("lavender" in op["value"].lower() for op in i["options"])
                    for i in o["items"]
                )
                for o in got
            )
            continue
        expected = [o for o in all_orders if pred(o)]
        assert expected, params
        assert ids(got) == ids(expected), params


@pytest.mark.parametrize("field", ["createDate", "modifyDate", "orderDate", "paymentDate"])
async def test_date_filters_match_the_documented_bounds(
    session: aiohttp.ClientSession, all_orders: list[Order], field: str
) -> None:
    # Inclusive bounds, except orderDateStart: "greater than" in the API's documentation.
    def after(value: datetime, start: datetime) -> bool:
        return value > start if field == "orderDate" else value >= start

    middle = ts(all_orders[200]["createDate"])
    start, end = middle - timedelta(days=40), middle + timedelta(days=40)
    got = await list_all(session, **{f"{field}Start": fmt(start), f"{field}End": fmt(end)})
    expected = [o for o in all_orders if o[field] is not None and after(ts(o[field]), start)]
    expected = [o for o in expected if ts(o[field]) <= end]
    assert len(expected) > 5 and ids(got) == ids(expected)
    only_start = await list_all(session, **{f"{field}Start": fmt(middle)})
    assert ids(only_start) == ids(
        [o for o in all_orders if o[field] is not None and after(ts(o[field]), middle)]
    )
    # At an order's own instant: the start excludes it (orderDate) or includes it, the end
    # includes it.
    instant = all_orders[77][field] or all_orders[78][field]
    at = await list_all(session, **{f"{field}Start": instant, f"{field}End": instant})
    on_instant = [o for o in all_orders if o[field] is not None and ts(o[field]) == ts(instant)]
    assert ids(at) == ([] if field == "orderDate" else ids(on_instant)) and on_instant
    through = await list_all(session, **{f"{field}End": instant})
    assert set(ids(on_instant)) <= set(ids(through))


async def test_create_date_bounds_include_the_exact_instant(
    session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    target = all_orders[77]
    iso = target["createDate"]  # 2024-..T..:..:..xxx0000, ISO with 7 digits
    got = await list_all(session, createDateStart=iso, createDateEnd=iso)
    assert ids(got) == [target["orderId"]]


async def test_date_parameter_formats(
    session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    day = ts(all_orders[150]["createDate"]).date()
    reference = None
    for start, end in [
        (f"{day} 00:00:00", f"{day} 23:59:59.999"),
        (f"{day}", f"{day}T23:59:59.999"),
        (f"{day}T00:00:00.000", f"{day} 23:59:59.9999999"),
        (f"{day}T08:00:00Z", f"{day + timedelta(days=1)}T07:59:59.999+00:00"),  # PST offset
    ]:
        if "Z" in start and not (1 <= day.month <= 2 or day.month == 12):
            continue  # the UTC form above assumes standard time (UTC-8)
        got = await list_all(session, createDateStart=start, createDateEnd=end)
        if reference is None:
            reference = ids(got)
            assert reference
            assert all(ts(o["createDate"]).date() == day for o in got)
        assert ids(got) == reference, (start, end)
    # A literal '+' in the query string decodes to a space, as ShipStation's examples send it.
    async with session.get(
        f"/orders?createDateStart={day}+00:00:00&createDateEnd={day}+23:59:59.999&pageSize=500"
    ) as r:
        assert r.status == 200
        assert ids((await r.json())["orders"]) == reference


async def test_sorts(session: aiohttp.ClientSession, all_orders: list[Order]) -> None:
    for sort_by, field in [
        ("ModifyDate", "modifyDate"),
        ("OrderDate", "orderDate"),
        ("CreateDate", "createDate"),
    ]:
        expected = sorted(all_orders, key=lambda o, f=field: (ts(o[f]), o["orderId"]))
        got = await list_all(session, sortBy=sort_by)
        assert ids(got) == ids(expected), sort_by
        got = await list_all(session, sortBy=sort_by.lower(), sortDir="desc")
        assert ids(got) == ids(expected[::-1]), sort_by
    filtered = await list_all(session, sortBy="ModifyDate", sortDir="DESC", orderStatus="shipped")
    mods = [ts(o["modifyDate"]) for o in filtered]
    assert mods == sorted(mods, reverse=True) and all(
        o["orderStatus"] == "shipped" for o in filtered
    )


async def test_ninety_day_rule(session: aiohttp.ClientSession) -> None:
    start = datetime(2024, 1, 1)
    ok = {"createDateStart": fmt(start), "createDateEnd": fmt(start + timedelta(days=90))}
    status, _ = await get(session, "/orders", **ok)
    assert status == 200
    for field in ("createDate", "modifyDate", "orderDate", "paymentDate"):
        too_long = {
            f"{field}Start": fmt(start),
            f"{field}End": fmt(start + timedelta(days=90, seconds=1)),
        }
        status, body = await get(session, "/orders", **too_long)
        assert status == 400, field
        assert list(body["ModelState"]) == [f"{field}End"]
        assert "90 days" in body["ModelState"][f"{field}End"][0]
    # One end only is not a range.
    status, _ = await get(session, "/orders", createDateStart="2015-01-01")
    assert status == 200


async def test_ninety_day_rule_is_configurable() -> None:
    world = World(orders=50, seed=1, end=FIXED_END)
    async with (
        Sandbox(world=world, max_date_range_days=None, rate_limit=RateLimit(100, 60)) as sb,
        aiohttp.ClientSession(sb.url, headers=auth_headers(sb)) as s,
    ):
        status, body = await get(
            s, "/orders", createDateStart="2000-01-01", createDateEnd="2030-01-01"
        )
        assert status == 200 and body["total"] == 50


async def test_get_one_order_and_404s(
    sandbox: Sandbox, session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    target = all_orders[42]
    status, body = await get(session, f"/orders/{target['orderId']}")
    assert status == 200 and body == target
    status, body = await get(session, f"/Orders/{target['orderId']}/")  # ASP.NET: any case
    assert status == 200 and body["orderId"] == target["orderId"]
    status, body = await get(session, f"/orders/{target['orderId'] + 1_000_000_000}")
    assert status == 404 and body == {"Message": "Order not found"}
    status, body = await get(session, "/orders/abc")
    assert status == 404
    assert body["Message"].startswith("No HTTP resource was found that matches the request URI")
    assert body["Message"].endswith("/orders/abc'.")


async def test_parameter_names_are_case_insensitive_and_empty_means_absent(
    session: aiohttp.ClientSession, all_orders: list[Order]
) -> None:
    status, body = await get(session, "/orders", ORDERSTATUS="cancelled", pagesize=500)
    assert status == 200
    assert ids(body["orders"]) == ids([o for o in all_orders if o["orderStatus"] == "cancelled"])
    status, body = await get(session, "/orders", orderStatus="", storeId="")
    assert status == 200 and body["total"] == 400


async def test_orders_put_in_the_world_are_served(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    new = sandbox.world.orders.put({"orderNumber": "X-1", "orderStatus": "on_hold"})
    status, body = await get(session, f"/orders/{new['orderId']}")
    assert status == 200 and body == new
    got = await list_all(session, orderNumber="x-")
    assert ids(got) == [new["orderId"]]
