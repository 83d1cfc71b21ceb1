"""Stores: list, get, update, refresh, refresh status, marketplaces, (de)activate.

PUT replaces the whole store (fields left out become null, missing booleans false); the
storeId, marketplace, createDate and refresh dates are read-only and kept; the answer is the
updated Store (ShipStation's is unconfirmed). refreshstore takes storeId and refreshDate from
the query string or the body; without a storeId it refreshes every active store whose
marketplace can refresh. A store that cannot refresh (a Manual Store, an inactive one) gets
a 400. getrefreshstatus reports ``2 "Updating orders"`` for ``World.refresh_seconds`` after a
refresh starts, then ``4 "Idle"`` (the full status list is unconfirmed). deactivate answers
"The requested store has been deactivated." where the documented example reads
"reactivated", taken for a copy of reactivate's text (a guess: no other source shows it).
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from ...data.order_json import ORDER_STATUSES
from ..context import context
from ..models import REFRESH_STORE, STORE, STORE_REF
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import Body, read_bound, read_object
from .common import add_write, path_int, success
from .params import QueryParams


async def list_stores(request: web.Request) -> web.StreamResponse:
    """``GET /stores?showInactive=&marketplaceId=``: a bare array, no statusMappings."""
    params = QueryParams.of(request)
    show_inactive = params.boolean("showInactive")
    marketplace_id = params.integer("marketplaceId")
    if params.errors:
        return bad_request(params.errors)
    world = context(request).world
    return json_response(
        world.list_stores(show_inactive=show_inactive, marketplace_id=marketplace_id)
    )


async def get_store(request: web.Request) -> web.StreamResponse:
    """``GET /stores/{storeId}``: one store with statusMappings, or 404."""
    store = context(request).world.store(path_int(request, "storeId"))
    if store is None:
        return not_found("Store not found")
    return json_response(store)


async def update_store(request: web.Request) -> web.StreamResponse:
    """``PUT /stores/{storeId}``: replace the store; returns it."""
    world = context(request).world
    store_id = path_int(request, "storeId")
    body, problem = await read_object(request, "store", STORE)
    if body is None:
        return cast(web.Response, problem)
    given = body.integer("storeId")
    if given is not None and given != store_id:
        body.error("storeId", f"The body's storeId {given} is not the path's {store_id}.")
    body.text("storeName", required=True, max_len=100)
    body.boolean("active")
    body.boolean("autoRefresh")
    mappings = body.raw("statusMappings")
    if mappings is not None:
        if not isinstance(mappings, list):
            body.error("statusMappings", "The statusMappings field must be an array.")
        else:
            for k, m in enumerate(mappings):
                status = m.get("orderStatus") if isinstance(m, dict) else None
                if status not in ORDER_STATUSES:
                    body.error(
                        f"statusMappings[{k}].orderStatus",
                        f"The value '{status}' is not a valid order status.",
                    )
    if body.errors:
        return bad_request(body.errors)
    updated = world.replace_store(store_id, body.data)
    if updated is None:
        return not_found("Store not found")
    return json_response(updated)


async def refresh_store(request: web.Request) -> web.StreamResponse:
    """``POST /stores/refreshstore``: start a refresh of one store, or of all of them."""
    world = context(request).world
    params = QueryParams.of(request)
    store_id = params.integer("storeId")
    refresh = params.timestamp("refreshDate")
    if params.errors:
        return bad_request(params.errors)
    data, problem = await read_bound(request, "request", REFRESH_STORE)
    if problem is not None:
        return problem
    if isinstance(data, dict):
        body = Body(data, "request")
        if store_id is None:
            store_id = body.integer("storeId")
        if refresh is None:
            refresh = body.date("refreshDate")
        if body.errors:
            return bad_request(body.errors)
    with world.lock:
        if store_id is None:
            ids = [int(s["storeId"]) for s in world.list_stores()]
            ids = [sid for sid in ids if world.refreshable(sid)]
            world.refresh_stores(ids, refresh)
            return success("A store refresh has been initiated for all refreshable stores")
        if world.store(store_id) is None:
            return not_found("Store not found")
        if not world.refreshable(store_id):
            return bad_request(
                {"storeId": [f"Store {store_id} cannot be refreshed (inactive or manual)."]}
            )
        world.refresh_stores([store_id], refresh)
    return success(f"A store refresh has been initiated for Store ID {store_id}")


async def refresh_status(request: web.Request) -> web.StreamResponse:
    """``GET /stores/getrefreshstatus?storeId=``: the store's refresh state."""
    params = QueryParams.of(request)
    store_id = params.integer("storeId")
    if store_id is None and not params.errors:
        params.error("storeId", "The storeId field is required.")
    if params.errors or store_id is None:
        return bad_request(params.errors)
    status = context(request).world.refresh_status(store_id)
    if status is None:
        return not_found("Store not found")
    return json_response(status)


async def marketplaces(request: web.Request) -> web.StreamResponse:
    """``GET /stores/marketplaces``: a bare array of marketplaces."""
    return json_response(context(request).world.marketplaces())


async def _set_active(request: web.Request, *, active: bool) -> web.StreamResponse:
    body, problem = await read_object(request, "request", STORE_REF)
    if body is None:
        return cast(web.Response, problem)
    store_id = body.integer("storeId", required=True)
    if body.errors or store_id is None:
        return bad_request(body.errors)
    world = context(request).world
    if not world.set_store_active(store_id, active):
        return not_found("Store not found")
    word = "reactivated" if active else "deactivated"
    return success(f"The requested store has been {word}.", as_string=True)


async def deactivate(request: web.Request) -> web.StreamResponse:
    """``POST /stores/deactivate``: ``{"success": "true", "message": ...}``."""
    return await _set_active(request, active=False)


async def reactivate(request: web.Request) -> web.StreamResponse:
    """``POST /stores/reactivate``: ``{"success": "true", "message": ...}``."""
    return await _set_active(request, active=True)


def register(router: Router) -> None:
    """Add the store routes to ``router``."""
    router.add("GET", "/stores", list_stores)
    router.add("GET", "/stores/marketplaces", marketplaces)
    router.add("GET", "/stores/getrefreshstatus", refresh_status)
    router.add("GET", "/stores/{storeId:int}", get_store)
    add_write(router, "PUT", "/stores/{storeId:int}", update_store)
    add_write(router, "POST", "/stores/refreshstore", refresh_store)
    add_write(router, "POST", "/stores/deactivate", deactivate)
    add_write(router, "POST", "/stores/reactivate", reactivate)
