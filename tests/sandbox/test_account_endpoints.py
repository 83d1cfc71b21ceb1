"""Carriers, warehouses, products, customers, stores, users, tags, webhooks and accounts."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest

from shipstation_async import ShipStation
from shipstation_async.sandbox import Sandbox
from shipstation_async.sandbox.state.customers import CUSTOMER_KEYS
from shipstation_async.sandbox.world import PRODUCT_KEYS, STORE_KEYS

from .helpers import ITEM_TS, ORDER_TS, auth_headers, call, example, model_state_keys

Record = dict[str, Any]
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- carriers ---------------------------------------------------------------------------------


async def test_carriers_match_the_documented_shapes(session: aiohttp.ClientSession) -> None:
    status, carriers = await call(session, "GET", "/carriers")
    doc = example("Carrier/ListAllResponse.json")
    assert status == 200 and isinstance(carriers, list)
    assert {c["code"] for c in carriers} >= {"stamps_com", "ups", "fedex"}
    assert all(set(c) == set(doc[0]) for c in carriers)
    stamps = next(c for c in carriers if c["code"] == "stamps_com")
    assert stamps["requiresFundedAccount"] is True and stamps["balance"] > 0
    status, one = await call(session, "GET", "/carriers/getcarrier", carrierCode="stamps_com")
    assert status == 200 and one == stamps
    assert set(one) == set(example("Carrier/GetByIdResponse.json"))
    status, services = await call(session, "GET", "/carriers/listservices", carrierCode="fedex")
    service_doc = example("Carrier/ListServicesResponse.json")
    assert status == 200 and all(set(s) == set(service_doc[0]) for s in services)
    assert {s["code"] for s in services} <= {s["code"] for s in service_doc}
    assert {s["carrierCode"] for s in services} == {"fedex"}
    assert any(s["international"] for s in services) and any(s["domestic"] for s in services)
    status, packages = await call(session, "GET", "/carriers/listpackages", carrierCode="ups")
    package_doc = example("Carrier/ListPackagesResponse.json")
    assert status == 200 and all(set(p) == set(package_doc[0]) for p in packages)
    assert "package" in {p["code"] for p in packages}
    for path in ("/carriers/getcarrier", "/carriers/listservices", "/carriers/listpackages"):
        status, body = await call(session, "GET", path)
        assert status == 400 and model_state_keys(body) == {"carrierCode"}
        status, body = await call(session, "GET", path, carrierCode="dhl")
        assert status == 404


async def test_carrier_accounts_come_in_both_shapes_the_api_sends(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    # The API's list has FedEx's accountNumber as a number and the others as strings, and
    # a nickname where the merchant gave one: a client tested here must take both.
    status, carriers = await call(session, "GET", "/carriers")
    assert status == 200
    by_code = {c["code"]: c for c in carriers}
    assert isinstance(by_code["fedex"]["accountNumber"], int)
    assert isinstance(by_code["ups"]["accountNumber"], str)
    assert isinstance(by_code["fedex"]["nickname"], str) and by_code["ups"]["nickname"] is None
    async with ShipStation(
        sandbox.api_key, sandbox.api_secret, base_url=sandbox.url, rate_limit=sandbox.rate_limit
    ) as ss:
        fedex = next(c for c in await ss.carriers.list() if c.code == "fedex")
    assert fedex.account_number == str(by_code["fedex"]["accountNumber"])


async def test_add_funds(session: aiohttp.ClientSession) -> None:
    _, before = await call(session, "GET", "/carriers/getcarrier", carrierCode="stamps_com")
    request = {**example("Carrier/AddFundsRequest.txt"), "carrierCode": "stamps_com"}
    status, after = await call(session, "POST", "/carriers/addfunds", request)
    assert status == 200 and set(example("Carrier/AddFundsResponse.json")) <= set(after)
    assert after["balance"] == pytest.approx(before["balance"] + 20)
    for amount in (9.99, 10_000.01, "lots"):
        status, body = await call(
            session, "POST", "/carriers/addfunds", {"carrierCode": "stamps_com", "amount": amount}
        )
        assert status == 400 and model_state_keys(body) == {"request.amount"}, amount
    status, _ = await call(session, "POST", "/carriers/addfunds", {**request, "amount": 10})
    assert status == 200
    _, final = await call(session, "GET", "/carriers/getcarrier", carrierCode="stamps_com")
    assert final["balance"] == pytest.approx(before["balance"] + 30)
    status, _ = await call(session, "POST", "/carriers/addfunds", {**request, "carrierCode": "x"})
    assert status == 404


# -- warehouses ---------------------------------------------------------------------------------


async def test_warehouses_list_get_create(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    doc = example("Warehouse/GetWarehouseResponse.json")
    status, warehouses = await call(session, "GET", "/warehouses")
    assert status == 200 and 2 <= len(warehouses) <= 3
    assert sum(w["isDefault"] for w in warehouses) == 1
    for w in warehouses:
        assert set(w) == set(doc)
        assert set(w["originAddress"]) == set(doc["originAddress"])
        assert ORDER_TS.match(w["createDate"])
        _, one = await call(session, "GET", f"/warehouses/{w['warehouseId']}")
        assert one == w
    request = example("Warehouse/CreateWarehouseRequest.txt")
    status, created = await call(session, "POST", "/warehouses/createwarehouse", request)
    assert status == 200 and set(created) == set(example("Warehouse/CreateWarehouseResponse.json"))
    assert created["warehouseName"] == "Harbour Annex" and not created["isDefault"]
    # returnAddress defaults to the originAddress, residential null (the documented example).
    assert created["returnAddress"] == {**created["originAddress"], "residential": None}
    assert created["originAddress"]["street1"] == "12 Quay Street"
    _, listed = await call(session, "GET", "/warehouses")
    assert created in listed and len(listed) == len(warehouses) + 1
    status, body = await call(session, "POST", "/warehouses/createwarehouse", {"isDefault": "yes"})
    assert status == 400
    assert model_state_keys(body) == {"warehouse.originAddress", "warehouse.isDefault"}
    status, body = await call(
        session,
        "POST",
        "/warehouses/createwarehouse",
        {"originAddress": {"name": "X", "city": "Austin"}},
    )
    assert status == 400 and model_state_keys(body) == {
        "warehouse.originAddress.street1",
        "warehouse.originAddress.postalCode",
        "warehouse.originAddress.country",
    }
    status, _ = await call(session, "GET", "/warehouses/1")
    assert status == 404


async def test_warehouse_put_replaces_the_whole_record(session: aiohttp.ClientSession) -> None:
    _, warehouses = await call(session, "GET", "/warehouses")
    target = next(w for w in warehouses if not w["isDefault"])
    update = example("Warehouse/UpdateWarehouseRequest.txt")
    update = {**update, "warehouseId": target["warehouseId"], "isDefault": True}
    del update["returnAddress"]["phone"]
    status, body = await call(session, "PUT", f"/warehouses/{target['warehouseId']}", update)
    assert status == 200 and set(body) == set(example("Warehouse/UpdateWarehouseResponse.json"))
    assert body["warehouseName"] == "Riverside Depot West"
    assert body["returnAddress"]["phone"] is None  # left out: gone, not kept
    assert body["createDate"] == target["createDate"]  # read-only
    _, listed = await call(session, "GET", "/warehouses")
    assert [w["warehouseId"] for w in listed if w["isDefault"]] == [target["warehouseId"]]
    status, body = await call(
        session, "PUT", f"/warehouses/{target['warehouseId']}", {**update, "warehouseId": 1}
    )
    assert status == 400 and model_state_keys(body) == {"warehouse.warehouseId"}
    status, _ = await call(session, "PUT", "/warehouses/1", {**update, "warehouseId": 1})
    assert status == 404


async def test_warehouse_delete_is_soft_and_spares_the_default(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    _, warehouses = await call(session, "GET", "/warehouses")
    default = next(w for w in warehouses if w["isDefault"])
    other = next(w for w in warehouses if not w["isDefault"])
    status, body = await call(session, "DELETE", f"/warehouses/{default['warehouseId']}")
    assert status == 400 and model_state_keys(body) == {"warehouseId"}
    status, body = await call(session, "DELETE", f"/warehouses/{other['warehouseId']}")
    assert status == 200 and body == example("Warehouse/DeleteWarehouseResponse.json")
    status, _ = await call(session, "GET", f"/warehouses/{other['warehouseId']}")
    assert status == 404
    _, listed = await call(session, "GET", "/warehouses")
    assert other["warehouseId"] not in {w["warehouseId"] for w in listed}
    assert sandbox.world.get("warehouses", other["warehouseId"]) == other
    status, _ = await call(session, "DELETE", f"/warehouses/{other['warehouseId']}")
    assert status == 404


# -- products ---------------------------------------------------------------------------------


async def test_products_list_and_filters(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "GET", "/products", pageSize=500)
    assert status == 200 and set(body) == {"products", "total", "page", "pages"}
    products = body["products"]
    assert all(list(p) == list(PRODUCT_KEYS) and p["active"] for p in products)
    assert all(ITEM_TS.match(p["createDate"]) for p in products)
    # Every product an order uses exists.
    used = {
        i["productId"]
        for o in (sandbox.world.orders.at(k) for k in range(400))
        for i in o["items"]
        if i["productId"] is not None
    }
    assert used <= {p["productId"] for p in products}
    _, everything = await call(session, "GET", "/products", showInactive=True, pageSize=500)
    assert everything["total"] > body["total"]
    assert any(not p["active"] for p in everything["products"])
    category = products[0]["productCategory"]["categoryId"]
    tagged = next(p for p in products if p["tags"])
    for params, pred in [
        ({"sku": "mug"}, lambda p: "mug" in p["sku"].lower()),
        ({"name": "candle"}, lambda p: "candle" in p["name"].lower()),
        ({"productCategoryId": category}, lambda p: p["productCategory"]["categoryId"] == category),
        ({"productTypeId": 202}, lambda p: (p["productType"] or {}).get("productTypeId") == 202),
        (
            {"tagId": tagged["tags"][0]["tagId"]},
            lambda p: tagged["tags"][0]["tagId"] in [t["tagId"] for t in p["tags"] or ()],
        ),
    ]:
        _, got = await call(session, "GET", "/products", pageSize=500, **params)
        expected = [p["productId"] for p in products if pred(p)]
        assert expected and [p["productId"] for p in got["products"]] == expected, params
    _, by_sku = await call(session, "GET", "/products", sortBy="SKU", sortDir="DESC", pageSize=3)
    skus = sorted((p["sku"] for p in products), key=str.lower, reverse=True)
    assert [p["sku"] for p in by_sku["products"]] == skus[:3]
    _, paged = await call(session, "GET", "/products", pageSize=7, page=2)
    assert paged["pages"] == -(-body["total"] // 7) and paged["products"] == products[7:14]
    status, body = await call(session, "GET", "/products", showInactive="yes", sortBy="Price")
    assert status == 400 and model_state_keys(body) == {"showInactive", "sortBy"}


async def test_product_get_and_put_replaces_everything(session: aiohttp.ClientSession) -> None:
    _, page = await call(session, "GET", "/products", pageSize=1)
    product = page["products"][0]
    pid = product["productId"]
    status, one = await call(session, "GET", f"/products/{pid}")
    assert status == 200 and one == product
    replacement = {"productId": pid, "sku": product["sku"], "name": "Renamed", "price": 5}
    status, body = await call(session, "PUT", f"/products/{pid}", replacement)
    assert status == 200
    assert body == {"success": True, "message": "The requested product has been updated"}
    _, after = await call(session, "GET", f"/products/{pid}")
    assert after["name"] == "Renamed" and after["price"] == 5
    assert after["weightOz"] is None and after["productCategory"] is None  # not sent: gone
    assert after["active"] is False  # a missing boolean binds as false
    assert after["createDate"] == product["createDate"]
    assert after["modifyDate"] > product["modifyDate"]
    status, body = await call(session, "PUT", f"/products/{pid}", {"productId": pid})
    assert status == 400 and model_state_keys(body) == {"product.sku", "product.name"}
    status, body = await call(session, "PUT", f"/products/{pid}", {**replacement, "productId": 1})
    assert status == 400 and model_state_keys(body) == {"product.productId"}
    status, _ = await call(session, "PUT", "/products/1", {"sku": "X", "name": "Y"})
    assert status == 404
    status, _ = await call(session, "GET", "/products/1")
    assert status == 404


# -- customers --------------------------------------------------------------------------------


async def test_customers(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, body = await call(session, "GET", "/customers", pageSize=500)
    assert status == 200 and set(body) == {"customers", "total", "page", "pages"}
    customers = body["customers"]
    assert body["total"] == len(sandbox.world.customers) and len(customers) == body["total"]
    for c in customers[:50]:
        assert list(c) == list(CUSTOMER_KEYS) and ORDER_TS.match(c["createDate"])
        (username,) = c["marketplaceUsernames"]
        assert username["customerId"] == c["customerId"] and username["username"] == c["email"]
    # Every order's customer exists, with the order's email.
    by_id = {c["customerId"]: c for c in customers}
    for o in (sandbox.world.orders.at(i) for i in range(0, 400, 7)):
        assert by_id[o["customerId"]]["email"] == o["customerEmail"]
    sample = next(c for c in customers if c["countryCode"] == "US")
    tagged = next(c for c in customers if c["tags"])
    marketplace = sample["marketplaceUsernames"][0]["marketplaceId"]
    for params, pred in [
        ({"stateCode": sample["state"].lower()}, lambda c: c["state"] == sample["state"]),
        ({"countryCode": "CA"}, lambda c: c["countryCode"] == "CA"),
        (
            {"marketplaceId": marketplace},
            lambda c: c["marketplaceUsernames"][0]["marketplaceId"] == marketplace,
        ),
        (
            {"tagId": tagged["tags"][0]["tagId"]},
            lambda c: tagged["tags"][0]["tagId"] in [t["tagId"] for t in c["tags"] or ()],
        ),
    ]:
        _, got = await call(session, "GET", "/customers", pageSize=500, **params)
        expected = [c["customerId"] for c in customers if pred(c)]
        assert expected and [c["customerId"] for c in got["customers"]] == expected, params
    _, named = await call(session, "GET", "/customers", sortBy="Name", pageSize=5)
    assert [c["name"] for c in named["customers"]] == sorted(
        (c["name"] for c in customers), key=str.lower
    )[:5]
    status, one = await call(session, "GET", f"/customers/{sample['customerId']}")
    assert status == 200 and one == sample
    status, _ = await call(session, "GET", "/customers/1")
    assert status == 404


# -- stores -----------------------------------------------------------------------------------


async def test_stores_list_get_and_marketplaces(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, stores = await call(session, "GET", "/stores")
    assert status == 200 and len(stores) >= 4
    assert all(s["active"] and set(s) == set(STORE_KEYS) - {"statusMappings"} for s in stores)
    _, everything = await call(session, "GET", "/stores", showInactive=True)
    assert len(everything) > len(stores) and any(not s["active"] for s in everything)
    order_stores = {
        o["advancedOptions"]["storeId"] for o in (sandbox.world.orders.at(i) for i in range(400))
    }
    assert order_stores <= {s["storeId"] for s in stores}
    status, marketplaces = await call(session, "GET", "/stores/marketplaces")
    assert status == 200 and all(
        set(m)
        == {
            "name",
            "marketplaceId",
            "canRefresh",
            "supportsCustomMappings",
            "supportsCustomStatuses",
            "canConfirmShipments",
        }
        for m in marketplaces
    )
    shopify = next(m["marketplaceId"] for m in marketplaces if m["name"] == "Shopify")
    _, only = await call(session, "GET", "/stores", marketplaceId=shopify)
    assert [s["marketplaceName"] for s in only] == ["Shopify"]
    manual = [s for s in stores if s["marketplaceName"] == "ShipStation"]
    assert manual and manual[0]["storeId"] == sandbox.world.manual_store_id
    for s in stores:
        status, one = await call(session, "GET", f"/stores/{s['storeId']}")
        assert status == 200 and list(one) == list(STORE_KEYS)
        assert {k: v for k, v in one.items() if k != "statusMappings"} == s
        assert ITEM_TS.match(one["createDate"])
    status, shop = await call(session, "GET", f"/stores/{only[0]['storeId']}")
    assert {m["orderStatus"] for m in shop["statusMappings"]} >= {"awaiting_shipment", "shipped"}
    status, _ = await call(session, "GET", "/stores/1")
    assert status == 404


async def test_store_put_replaces_the_whole_record(session: aiohttp.ClientSession) -> None:
    _, stores = await call(session, "GET", "/stores")
    target = next(s for s in stores if s["marketplaceName"] == "Shopify")
    _, full = await call(session, "GET", f"/stores/{target['storeId']}")
    replacement = {
        "storeId": target["storeId"],
        "storeName": "Renamed Store",
        "active": True,
        "statusMappings": [{"orderStatus": "shipped", "statusKey": "done"}],
    }
    status, body = await call(session, "PUT", f"/stores/{target['storeId']}", replacement)
    assert status == 200 and list(body) == list(STORE_KEYS)
    _, after = await call(session, "GET", f"/stores/{target['storeId']}")
    assert after == body
    assert after["storeName"] == "Renamed Store" and after["website"] is None
    assert after["statusMappings"] == [{"orderStatus": "shipped", "statusKey": "done"}]
    assert after["autoRefresh"] is False
    for key in ("marketplaceId", "marketplaceName", "createDate", "refreshDate"):
        assert after[key] == full[key], key
    status, body = await call(
        session,
        "PUT",
        f"/stores/{target['storeId']}",
        {"storeId": target["storeId"], "statusMappings": [{"orderStatus": "lost"}]},
    )
    assert status == 400
    assert model_state_keys(body) == {"store.storeName", "store.statusMappings[0].orderStatus"}


async def test_refresh_store_and_its_status(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    sandbox.world.refresh_seconds = 0.3
    _, stores = await call(session, "GET", "/stores")
    shop = next(s for s in stores if s["marketplaceName"] == "Shopify")
    status, idle = await call(session, "GET", "/stores/getrefreshstatus", storeId=shop["storeId"])
    assert status == 200 and idle["refreshStatus"] == "Idle"
    assert set(idle) == {
        "storeId",
        "refreshStatusId",
        "refreshStatus",
        "lastRefreshAttempt",
        "refreshDate",
    }
    status, body = await call(
        session,
        "POST",
        "/stores/refreshstore",
        {"storeId": shop["storeId"], "refreshDate": "2025-05-20"},
    )
    assert status == 200 and body == {
        "success": True,
        "message": f"A store refresh has been initiated for Store ID {shop['storeId']}",
    }
    _, running = await call(session, "GET", "/stores/getrefreshstatus", storeId=shop["storeId"])
    assert (running["refreshStatusId"], running["refreshStatus"]) == (2, "Updating orders")
    assert running["refreshDate"] == "5-20-2025"
    assert re.match(r"^\d{1,2}-\d{1,2}-\d{4}$", running["lastRefreshAttempt"])
    await asyncio.sleep(0.35)
    _, done = await call(session, "GET", "/stores/getrefreshstatus", storeId=shop["storeId"])
    assert done["refreshStatus"] == "Idle" and done["refreshDate"] == "5-20-2025"
    # storeId in the query string; no storeId: every refreshable store.
    status, _ = await call(session, "POST", "/stores/refreshstore", storeId=shop["storeId"])
    assert status == 200
    status, body = await call(session, "POST", "/stores/refreshstore")
    assert status == 200
    amazon = next(s for s in stores if s["marketplaceName"] == "Amazon")
    _, other = await call(session, "GET", "/stores/getrefreshstatus", storeId=amazon["storeId"])
    assert other["refreshStatusId"] == 2
    manual = sandbox.world.manual_store_id
    status, body = await call(session, "POST", "/stores/refreshstore", {"storeId": manual})
    assert status == 400 and model_state_keys(body) == {"storeId"}
    status, _ = await call(session, "POST", "/stores/refreshstore", storeId=1)
    assert status == 404
    status, body = await call(session, "GET", "/stores/getrefreshstatus")
    assert status == 400 and model_state_keys(body) == {"storeId"}


async def test_deactivate_and_reactivate(session: aiohttp.ClientSession) -> None:
    _, stores = await call(session, "GET", "/stores")
    target = stores[-1]
    status, body = await call(session, "POST", "/stores/deactivate", {"storeId": target["storeId"]})
    assert status == 200
    assert body == {"success": "true", "message": "The requested store has been deactivated."}
    _, active = await call(session, "GET", "/stores")
    assert target["storeId"] not in {s["storeId"] for s in active}
    _, one = await call(session, "GET", f"/stores/{target['storeId']}")
    assert one["active"] is False
    status, body = await call(session, "POST", "/stores/reactivate", {"storeId": target["storeId"]})
    assert body == {"success": "true", "message": "The requested store has been reactivated."}
    _, active = await call(session, "GET", "/stores")
    assert target["storeId"] in {s["storeId"] for s in active}
    status, _ = await call(session, "POST", "/stores/deactivate", {"storeId": 1})
    assert status == 404


# -- users, tags, accounts, webhooks ----------------------------------------------------------


async def test_users_and_tags(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    status, users = await call(session, "GET", "/users")
    assert status == 200 and len(users) >= 2
    doc = example("User/ListUsersResponse.json")
    assert all(set(u) == set(doc[0]) and GUID.match(u["userId"]) for u in users)
    _, everyone = await call(session, "GET", "/users", showInactive=True)
    assert len(everyone) == len(users) + 1
    user_ids = {u["userId"] for u in users}
    assigned = {
        o["userId"] for o in (sandbox.world.orders.at(i) for i in range(400)) if o["userId"]
    }
    assert assigned and assigned <= user_ids
    status, tags = await call(session, "GET", "/accounts/listtags")
    doc_tags = example("Tag/ListTagsResponse.json")
    assert status == 200 and all(set(t) == set(doc_tags[0]) for t in tags)
    assert doc_tags == tags[: len(doc_tags)] or all(t in tags for t in doc_tags)
    used = {t for o in (sandbox.world.orders.at(i) for i in range(400)) for t in o["tagIds"] or ()}
    assert used and used <= {t["tagId"] for t in tags}


async def test_register_account_needs_no_auth_and_its_keys_work(sandbox: Sandbox) -> None:
    request = {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "password": "correct horse",
        "companyName": "Engines",
        "countryCode": "GB",
    }
    async with aiohttp.ClientSession(sandbox.url) as anonymous:
        status, body = await call(anonymous, "POST", "/accounts/registeraccount", request)
        assert status == 200
        assert set(body) == {"message", "sellerId", "success", "apiKey", "apiSecret"}
        assert body["success"] is True
        status, bad = await call(anonymous, "POST", "/accounts/registeraccount", {"email": "x"})
        assert status == 400 and model_state_keys(bad) == {
            "request.firstName",
            "request.lastName",
            "request.password",
            "request.email",
        }
        async with anonymous.get("/orders") as r:
            assert r.status == 401
    headers = auth_headers(sandbox, body["apiKey"], body["apiSecret"])
    async with aiohttp.ClientSession(sandbox.url, headers=headers) as s:
        status, page = await call(s, "GET", "/orders", pageSize=1)
        assert status == 200 and page["total"] == 400
    assert sandbox.window_state(body["apiKey"]).remaining < sandbox.rate_limit.requests


async def test_webhooks_subscribe_list_unsubscribe(
    sandbox: Sandbox, session: aiohttp.ClientSession
) -> None:
    status, body = await call(session, "GET", "/webhooks")
    assert status == 200 and body == {"webhooks": []}
    store = sandbox.world.manual_store_id
    request = {
        "target_url": "https://example.com/hooks/ship",
        "event": "ship_notify",
        "store_id": store,
        "friendly_name": "Ships",
    }
    status, created = await call(session, "POST", "/webhooks/subscribe", request)
    assert status == 200 and list(created) == ["id"] and isinstance(created["id"], int)
    _, other = await call(
        session,
        "POST",
        "/webhooks/subscribe",
        {"target_url": "https://example.com/o", "event": "ORDER_NOTIFY"},
    )
    _, body = await call(session, "GET", "/webhooks")
    hooks = {h["WebHookID"]: h for h in body["webhooks"]}
    assert set(hooks) == {created["id"], other["id"]}
    hook = hooks[created["id"]]
    assert set(hook) == {
        "IsLabelAPIHook",
        "WebHookID",
        "SellerID",
        "StoreID",
        "HookType",
        "MessageFormat",
        "Url",
        "Name",
        "BulkCopyBatchID",
        "BulkCopyRecordID",
        "Active",
        "WebhookLogs",
        "Seller",
        "Store",
    }
    assert (hook["HookType"], hook["Url"], hook["StoreID"], hook["Name"]) == (
        "SHIP_NOTIFY",
        request["target_url"],
        store,
        "Ships",
    )
    async with session.delete(f"/webhooks/{created['id']}") as r:
        assert r.status == 200 and await r.read() == b""
    _, body = await call(session, "GET", "/webhooks")
    assert [h["WebHookID"] for h in body["webhooks"]] == [other["id"]]
    status, _ = await call(session, "DELETE", f"/webhooks/{created['id']}")
    assert status == 404
    status, body = await call(
        session,
        "POST",
        "/webhooks/subscribe",
        {"target_url": "ftp://x", "event": "NOPE", "store_id": 1},
    )
    assert status == 400 and model_state_keys(body) == {
        "request.target_url",
        "request.event",
        "request.store_id",
    }
