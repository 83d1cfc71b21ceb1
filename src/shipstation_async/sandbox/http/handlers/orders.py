"""Orders: list, get, create/update (one and many), delete, holds, tags, users, shipping.

Behaviour where ShipStation's is unconfirmed (reference §5, §7), chosen to be strict:

- A missing order answers 404 ``{"Message": "Order not found"}`` (also for orderIds in a
  body); a missing tag or user likewise.
- createorder upserts by orderKey. Updating a shipped or cancelled order, sending an orderId
  with an orderKey that matches no order (or another order), gives a 400 ModelState body.
  Unknown tagIds, productIds and userIds are dropped, as the docs' example response shows
  (productIds are then resolved by SKU).
- DELETE is a soft delete: the order stays stored (``World.get("orders", id)`` shows it),
  but ``GET /orders/{id}`` answers 404 and lists leave it out. Its shipments remain.
- holduntil sets on_hold; the order returns to awaiting_shipment once the date comes (checked
  lazily on every read). Only orders awaiting payment or shipment, or on hold, can be held.
  restorefromhold on an order that is not on hold (a repeat, or a hold whose date has
  passed) answers 400 "Order N is not on hold." (a guess: the API's answer is unconfirmed).
- markasshipped and createlabelfororder refuse cancelled orders; markasshipped also refuses
  shipped ones (a second mark would be a second fulfillment). createlabelfororder on a
  shipped order buys another label, as ShipStation allows.
- ``GET /orders`` also takes ``importBatch`` (undocumented; named by ORDER_NOTIFY webhook
  URLs): only the orders of that import batch (see :mod:`...state.webhook_triggers`), none
  for an unknown one. ``createorders`` is one import action (one batch, one webhook per
  store), ``createorder`` another.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import attrs
from aiohttp import web

from ... import normalize
from ..._time import format_date
from ...data.order_json import (
    CREATE_STATUSES,
    HOLDABLE_STATUSES,
    ORDER_STATUSES,
    SHIPPABLE_STATUSES,
    UPDATABLE_STATUSES,
)
from ...encoding import join_paged
from ...rates import CONFIRMATIONS, WEIGHT_UNITS, to_ounces
from ...world import OrderQuery, SortBy, World
from ..context import context
from ..models import (
    API_ORDER,
    API_ORDERS,
    ASSIGN_USER,
    HOLD_UNTIL,
    MARK_AS_SHIPPED,
    ORDER_LABEL,
    ORDER_REF,
    ORDER_TAG,
)
from ..responses import bad_request, encoded_response, json_response, not_found
from ..router import PARAMS_KEY, Router
from .body import Body, read_bound, read_object
from .common import add_write, listing, success
from .params import QueryParams
from .shipments import buy_label, label_parcel, parse_label_request

JSON = dict[str, Any]
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_BATCH = 100
"""The most orders one createorders call takes."""
SORT_BY: tuple[SortBy, ...] = ("OrderDate", "ModifyDate", "CreateDate")


def parse_order_query(params: QueryParams, max_days: int | None) -> OrderQuery:
    """Build the :class:`OrderQuery` for ``GET /orders``; problems land in ``params.errors``."""
    create = params.date_range("createDate", max_days)
    modify = params.date_range("modifyDate", max_days)
    order = params.date_range("orderDate", max_days)
    payment = params.date_range("paymentDate", max_days)
    status = _status(params)
    sort_dir = params.choice("sortDir", ("ASC", "DESC"))
    page, page_size = params.page(default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    return OrderQuery(
        customer_name=params.text("customerName"),
        item_keyword=params.text("itemKeyword"),
        create_start=create[0],
        create_end=create[1],
        modify_start=modify[0],
        modify_end=modify[1],
        # orderDateStart is documented as "greater than" (every other bound as inclusive):
        # one millisecond on, as the query's bounds are inclusive.
        order_start=None if order[0] is None else order[0] + 1,
        order_end=order[1],
        payment_start=payment[0],
        payment_end=payment[1],
        order_number=params.text("orderNumber"),
        order_status=status,
        store_id=params.integer("storeId"),
        sort_by=cast(SortBy | None, params.choice("sortBy", SORT_BY)),
        sort_desc=sort_dir == "DESC",
        page=page,
        page_size=page_size,
    )


def _status(params: QueryParams, *, required: bool = False) -> str | None:
    status = params.text("orderStatus")
    if status is None:
        if required:
            params.error("orderStatus", "The orderStatus field is required.")
        return None
    status = status.strip().lower()
    if status not in ORDER_STATUSES:
        params.error("orderStatus", f"The value '{status}' is not a valid order status.")
        return None
    return status


async def list_orders(request: web.Request) -> web.StreamResponse:
    """``GET /orders``: the filtered, sorted page ``{orders, total, page, pages}``."""
    ctx = context(request)
    params = QueryParams.of(request)
    query = parse_order_query(params, ctx.max_date_range_days)
    if params.errors:
        return bad_request(params.errors)
    batch = params.text("importBatch")
    if batch is not None:
        found = ctx.world.webhook_triggers.orders_in_import_batch(batch)
        query = attrs.evolve(query, order_ids=frozenset(found or ()))
    return encoded_response(await listing(request, _orders_body(ctx.world), query))


def _orders_body(world: World) -> Callable[[OrderQuery], bytes]:
    """The body of an orders page for a query, built off the event loop.

    Joined there too: a 500-order page is a Python loop over 1.4 MB, which on the event loop
    would wait for the interpreter at every switch while other pages are being built.
    """

    def body(query: OrderQuery) -> bytes:
        orders, total = world.orders.query_encoded(query)
        pages = math.ceil(total / query.page_size)
        return join_paged("orders", orders, total=total, page=query.page, pages=pages)

    return body


async def list_by_tag(request: web.Request) -> web.StreamResponse:
    """``GET /orders/listbytag?orderStatus=&tagId=``: the /orders envelope (both required)."""
    ctx = context(request)
    params = QueryParams.of(request)
    status = _status(params, required=True)
    tag_id = params.integer("tagId")
    if tag_id is None and "tagId" not in params.errors:
        params.error("tagId", "The tagId field is required.")
    page, page_size = params.page(default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    if params.errors:
        return bad_request(params.errors)
    query = OrderQuery(order_status=status, tag_id=tag_id, page=page, page_size=page_size)
    return encoded_response(await listing(request, _orders_body(ctx.world), query))


async def get_order(request: web.Request) -> web.StreamResponse:
    """``GET /orders/{orderId}``: one order, or 404."""
    order_id = int(request[PARAMS_KEY]["orderId"])
    order = context(request).world.orders.get(order_id)
    if order is None:
        return not_found("Order not found")
    return json_response(order)


def validate_order(body: Body, world: World) -> None:
    """Check createorder's body, recording problems in ``body.errors``."""
    body.text("orderNumber", required=True, max_len=50)
    body.text("orderKey", max_len=100)
    body.date("orderDate", required=True)
    body.choice("orderStatus", CREATE_STATUSES, required=True)
    for field in ("paymentDate", "shipByDate", "shipDate", "holdUntilDate"):
        body.date(field)
    body.mapping("billTo", required=True)
    body.mapping("shipTo", required=True)
    for field in ("amountPaid", "taxAmount", "shippingAmount"):
        body.number(field)
    body.choice("confirmation", CONFIRMATIONS)
    body.boolean("gift")
    tags = body.raw("tagIds")
    if tags is not None and not isinstance(tags, list):
        body.error("tagIds", "The tagIds field must be an array of integers.")
    weight = body.mapping("weight")
    if weight is not None:
        units = str(normalize.ci(weight, "units") or "ounces").lower()
        if units not in WEIGHT_UNITS:
            body.error("weight.units", f"The value '{units}' is not valid for units.")
    items = body.raw("items")
    if items is not None and not isinstance(items, list):
        body.error("items", "The items field must be an array.")
    for k, raw in enumerate(items if isinstance(items, list) else []):
        if not isinstance(raw, dict):
            body.error(f"items[{k}]", "An order item must be an object.")
            continue
        item = Body(raw, body.key(f"items[{k}]"))
        item.text("name", required=True)
        item.integer("quantity", lo=0, hi=1_000_000)
        item.number("unitPrice")
        for where, problems in item.errors.items():
            body.errors.setdefault(where, []).extend(problems)
    adv = body.mapping("advancedOptions")
    if adv is not None:
        sub = Body(adv, body.key("advancedOptions"))
        store_id = sub.integer("storeId")
        if store_id is not None and world.store(store_id) is None:
            sub.error("storeId", f"Store {store_id} does not exist.")
        warehouse_id = sub.integer("warehouseId")
        if warehouse_id is not None and world.warehouse(warehouse_id) is None:
            sub.error("warehouseId", f"Warehouse {warehouse_id} does not exist.")
        for where, problems in sub.errors.items():
            body.errors.setdefault(where, []).extend(problems)


def upsert_order(body: Body, world: World) -> JSON | None:
    """Create or update one order from a validated body; None when ``body`` gets errors.

    Call with ``world.lock`` held.
    """
    validate_order(body, world)
    if body.errors:
        return None
    key = body.text("orderKey")
    order_id = body.integer("orderId")
    existing = world.orders.find_by_key(key) if key is not None else None
    if existing is None and order_id is not None:
        body.error(
            "orderId",
            "Do not send orderId when creating an order: send the orderKey of an existing "
            "order (with its orderId) to update it.",
        )
        return None
    if existing is not None:
        if order_id is not None and order_id != existing["orderId"]:
            body.error("orderId", f"orderId {order_id} is not the order with orderKey '{key}'.")
            return None
        if existing["orderStatus"] not in UPDATABLE_STATUSES:
            body.error(
                "orderKey",
                f"Order {existing['orderId']} is {existing['orderStatus']}: shipped and "
                "cancelled orders cannot be updated.",
            )
            return None
    order = world.build_order(body.data, existing)
    if existing is None:
        order.pop("orderId", None)
    return world.orders.put(order)


async def create_order(request: web.Request) -> web.StreamResponse:
    """``POST /orders/createorder``: create, or update by orderKey; returns the full Order."""
    world = context(request).world
    body, problem = await read_object(request, "apiOrder", API_ORDER)
    if body is None:
        return cast(web.Response, problem)
    with world.lock:
        order = upsert_order(body, world)
    if order is None:
        return bad_request(body.errors)
    return json_response(order)


async def create_orders(request: web.Request) -> web.StreamResponse:
    """``POST /orders/createorders``: up to 100 orders, each with its own result.

    An order that does not bind (a field of the wrong type) fails the whole call with 400, as
    Web API fails a list parameter ([U]); orders that bind but do not validate get their own
    failed result.
    """
    world = context(request).world
    data, problem = await read_bound(request, "apiOrders", API_ORDERS)
    if problem is not None:
        return problem
    if data is None:
        return bad_request({"apiOrders": ["A non-empty request body is required."]})
    if len(data) > MAX_BATCH:
        return bad_request(
            {"apiOrders": [f"At most {MAX_BATCH} orders per request; got {len(data)}."]}
        )
    results: list[JSON] = []
    with world.changes.action():  # one import: its new orders share one batch and webhook
        for k, raw in enumerate(data):
            results.append(_create_one(world, k, raw))
    return json_response({"hasErrors": any(not r["success"] for r in results), "results": results})


def _create_one(world: World, k: int, raw: Any) -> JSON:
    """One item of createorders: upsert it and answer its result entry."""
    body = Body(raw if isinstance(raw, dict) else {}, f"apiOrders[{k}]")
    if not isinstance(raw, dict):
        body.error("", "An order must be a JSON object.")
        order = None
    else:
        with world.lock:
            order = upsert_order(body, world)
    if order is None:
        messages = [f"{where}: {m}" for where, ms in body.errors.items() for m in ms]
        data = raw if isinstance(raw, dict) else {}
        return {
            "orderId": 0,
            "orderNumber": normalize.ci(data, "orderNumber"),
            "orderKey": normalize.ci(data, "orderKey"),
            "success": False,
            "errorMessage": " ".join(messages),
        }
    return {
        "orderId": order["orderId"],
        "orderNumber": order["orderNumber"],
        "orderKey": order["orderKey"],
        "success": True,
        "errorMessage": None,
    }


async def delete_order(request: web.Request) -> web.StreamResponse:
    """``DELETE /orders/{orderId}``: soft delete (see the module docstring)."""
    order_id = int(request[PARAMS_KEY]["orderId"])
    if not context(request).world.orders.delete(order_id):
        return not_found("Order not found")
    return success("The requested order has been deleted.")


async def _order_ref(
    request: web.Request, *, tag: bool = False
) -> tuple[Body | None, int, int, web.Response | None]:
    """Read ``{orderId[, tagId]}``: (body, orderId, tagId, the 400 to answer instead)."""
    body, problem = await read_object(request, "request", ORDER_TAG if tag else ORDER_REF)
    if body is None:
        return None, 0, 0, problem
    order_id = body.integer("orderId", required=True)
    tag_id = body.integer("tagId", required=True) if tag else None
    if body.errors or order_id is None:
        return body, 0, 0, bad_request(body.errors)
    return body, order_id, tag_id or 0, None


async def hold_until(request: web.Request) -> web.StreamResponse:
    """``POST /orders/holduntil``: on_hold until a date (then back to awaiting_shipment)."""
    world = context(request).world
    body, problem = await read_object(request, "request", HOLD_UNTIL)
    if body is None:
        return cast(web.Response, problem)
    order_id = body.integer("orderId", required=True)
    until = body.date("holdUntilDate", required=True)
    if body.errors or order_id is None or until is None:
        return bad_request(body.errors)
    with world.lock:
        order = world.orders.get(order_id)
        if order is None:
            return not_found("Order not found")
        if order["orderStatus"] not in HOLDABLE_STATUSES:
            body.error("orderId", f"Order {order_id} is {order['orderStatus']}: it cannot be held.")
            return bad_request(body.errors)
        world.orders.put(
            {"orderId": order_id, "orderStatus": "on_hold", "holdUntilDate": format_date(until)}
        )
    return success("Order held successfully.")


async def restore_from_hold(request: web.Request) -> web.StreamResponse:
    """``POST /orders/restorefromhold``: on_hold back to awaiting_shipment."""
    world = context(request).world
    body, order_id, _, problem = await _order_ref(request)
    if problem is not None or body is None:
        return cast(web.Response, problem)
    with world.lock:
        order = world.orders.get(order_id)
        if order is None:
            return not_found("Order not found")
        if order["orderStatus"] != "on_hold":
            body.error("orderId", f"Order {order['orderId']} is not on hold.")
            return bad_request(body.errors)
        world.orders.put(
            {
                "orderId": order["orderId"],
                "orderStatus": "awaiting_shipment",
                "holdUntilDate": None,
            }
        )
    return success("The requested order has been restored")


async def _tag(request: web.Request, *, add: bool) -> web.StreamResponse:
    world = context(request).world
    body, order_id, tag_id, problem = await _order_ref(request, tag=True)
    if problem is not None or body is None:
        return cast(web.Response, problem)
    with world.lock:
        order = world.orders.get(order_id)
        if order is None:
            return not_found("Order not found")
        if world.tag(tag_id) is None:
            return not_found(f"Tag {tag_id} not found")
        tags = set(order["tagIds"] or ())
        changed = tag_id not in tags if add else tag_id in tags
        if changed:
            tags = tags | {tag_id} if add else tags - {tag_id}
            world.orders.put({"orderId": order["orderId"], "tagIds": sorted(tags) or None})
    return success("Tag added successfully." if add else "Tag removed successfully.")


async def add_tag(request: web.Request) -> web.StreamResponse:
    """``POST /orders/addtag``: add a tag to an order (idempotent)."""
    return await _tag(request, add=True)


async def remove_tag(request: web.Request) -> web.StreamResponse:
    """``POST /orders/removetag``: remove a tag from an order (idempotent)."""
    return await _tag(request, add=False)


async def _assign(request: web.Request, *, assign: bool) -> web.StreamResponse:
    world = context(request).world
    body, problem = await read_object(request, "request", ASSIGN_USER)
    if body is None:
        return cast(web.Response, problem)
    order_ids = body.int_list("orderIds", required=True)
    user_id = body.text("userId", required=assign) if assign else None
    if body.errors or order_ids is None:
        return bad_request(body.errors)
    with world.lock:
        user = None
        if assign:
            user = world.user(str(user_id))
            if user is None:
                return not_found(f"User {user_id} not found")
        missing = [oid for oid in order_ids if world.orders.get(oid) is None]
        if missing:
            verb = "assigned" if assign else "unassigned"
            return not_found(
                f"Order(s) not found: {', '.join(map(str, missing))}. No order was {verb}."
            )
        for oid in dict.fromkeys(order_ids):
            world.orders.put({"orderId": oid, "userId": None if user is None else user["userId"]})
    return success("User assigned successfully." if assign else "User unassigned successfully.")


async def assign_user(request: web.Request) -> web.StreamResponse:
    """``POST /orders/assignuser``: all or nothing; any unknown orderId changes nothing."""
    return await _assign(request, assign=True)


async def unassign_user(request: web.Request) -> web.StreamResponse:
    """``POST /orders/unassignuser``: all or nothing, as assignuser."""
    return await _assign(request, assign=False)


async def mark_as_shipped(request: web.Request) -> web.StreamResponse:
    """``POST /orders/markasshipped``: a fulfillment, no label; returns {orderId, orderNumber}."""
    world = context(request).world
    body, problem = await read_object(request, "request", MARK_AS_SHIPPED)
    if body is None:
        return cast(web.Response, problem)
    order_id = body.integer("orderId", required=True)
    carrier = body.text("carrierCode", required=True)
    ship_date = body.date("shipDate")
    tracking = body.text("trackingNumber")
    body.boolean("notifyCustomer", default=False)
    notify_channel = body.boolean("notifySalesChannel", default=False)
    if body.errors or order_id is None or carrier is None:
        return bad_request(body.errors)
    with world.lock:
        order = world.orders.get(order_id)
        if order is None:
            return not_found("Order not found")
        if order["orderStatus"] not in SHIPPABLE_STATUSES:
            body.error(
                "orderId",
                f"Order {order_id} is {order['orderStatus']}: it cannot be marked as shipped.",
            )
            return bad_request(body.errors)
        day = format_date(ship_date if ship_date is not None else world.now_ms())
        world.shipping.mark_as_shipped(
            order,
            carrier_code=carrier,
            ship_day=day,
            tracking_number=tracking,
            notify_sales_channel=bool(notify_channel),
        )
    return json_response({"orderId": order_id, "orderNumber": order["orderNumber"]})


async def create_label_for_order(request: web.Request) -> web.StreamResponse:
    """``POST /orders/createlabelfororder``: buy a label for an order (see shipments)."""
    world = context(request).world
    body, problem = await read_object(request, "request", ORDER_LABEL)
    if body is None:
        return cast(web.Response, problem)
    order_id = body.integer("orderId", required=True)
    req = parse_label_request(body, weight_required=False)
    if body.errors or req is None or order_id is None:
        return bad_request(body.errors)
    with world.lock:
        order = world.orders.get(order_id)
        if order is None:
            return not_found("Order not found")
        if order["orderStatus"] == "cancelled":
            body.error("orderId", f"Order {order_id} is cancelled: no label can be created.")
            return bad_request(body.errors)
        ounces = req.ounces
        if ounces is None:
            w = order["weight"] or {}
            try:
                ounces = to_ounces(float(w.get("value") or 0), str(w.get("units") or "ounces"))
            except ValueError:
                ounces = 0.0
        if ounces <= 0:
            body.error("weight", "The order has no weight: send weight with the request.")
            return bad_request(body.errors)
        adv = body.mapping("advancedOptions") or {}
        wid = normalize.ci(adv, "warehouseId")
        warehouse_id = int(wid) if isinstance(wid, int) else None
        if warehouse_id is None:
            warehouse_id = (order["advancedOptions"] or {}).get("warehouseId")
        warehouse = world.warehouse(int(warehouse_id)) if warehouse_id is not None else None
        if warehouse is None:
            warehouse_id = world.default_warehouse_id
            warehouse = world.warehouse(warehouse_id) if warehouse_id is not None else None
        if warehouse is None:
            body.error("advancedOptions.warehouseId", "No ship-from warehouse: create one.")
            return bad_request(body.errors)
        parcel = label_parcel(
            body,
            endpoint="/orders/createlabelfororder",
            ounces=ounces,
            ship_from=warehouse["originAddress"] or {},
            ship_to=order["shipTo"] or {},
            order=order,
            store_id=(order["advancedOptions"] or {}).get("storeId"),
            warehouse_id=warehouse_id,
        )
        return buy_label(world, body, req, parcel)


def register(router: Router) -> None:
    """Add the order routes to ``router``."""
    router.add("GET", "/orders", list_orders)
    router.add("GET", "/orders/listbytag", list_by_tag)
    router.add("GET", "/orders/{orderId:int}", get_order)
    add_write(router, "DELETE", "/orders/{orderId:int}", delete_order)
    add_write(router, "POST", "/orders/createorder", create_order)
    add_write(router, "POST", "/orders/createorders", create_orders)
    add_write(router, "POST", "/orders/holduntil", hold_until)
    add_write(router, "POST", "/orders/restorefromhold", restore_from_hold)
    add_write(router, "POST", "/orders/addtag", add_tag)
    add_write(router, "POST", "/orders/removetag", remove_tag)
    add_write(router, "POST", "/orders/assignuser", assign_user)
    add_write(router, "POST", "/orders/unassignuser", unassign_user)
    add_write(router, "POST", "/orders/markasshipped", mark_as_shipped)
    add_write(router, "POST", "/orders/createlabelfororder", create_label_for_order)
