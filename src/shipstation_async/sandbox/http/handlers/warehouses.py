"""Warehouses (ship-from locations): list, get, create, update, delete.

PUT replaces the whole record (fields left out become null, a missing isDefault false), except
that a missing (or null) returnAddress defaults to the originAddress with ``residential``
null, as on create (see :func:`...state.warehouses.default_return_address`). DELETE is a soft
delete: the warehouse is no longer listed or fetched (``World.get`` still shows it); the
default warehouse cannot be deleted (400).
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from ...state.warehouses import default_return_address
from ..context import context
from ..models import WAREHOUSE
from ..responses import bad_request, json_response, not_found
from ..router import Router
from .body import Body, read_object
from .common import add_write, path_int, success


def _validate(body: Body) -> None:
    body.text("warehouseName", max_len=100)
    body.address("originAddress", required=True)
    body.address("returnAddress")
    body.boolean("isDefault")


async def list_warehouses(request: web.Request) -> web.StreamResponse:
    """``GET /warehouses``: a bare array."""
    return json_response(context(request).world.list_warehouses())


async def get_warehouse(request: web.Request) -> web.StreamResponse:
    """``GET /warehouses/{warehouseId}``: one warehouse, or 404."""
    warehouse = context(request).world.warehouse(path_int(request, "warehouseId"))
    if warehouse is None:
        return not_found("Warehouse not found")
    return json_response(warehouse)


async def create_warehouse(request: web.Request) -> web.StreamResponse:
    """``POST /warehouses/createwarehouse``: returns the new Warehouse."""
    world = context(request).world
    body, problem = await read_object(request, "warehouse", WAREHOUSE)
    if body is None:
        return cast(web.Response, problem)
    _validate(body)
    if body.errors:
        return bad_request(body.errors)
    data = {k: v for k, v in body.data.items() if k.lower() not in ("warehouseid", "createdate")}
    return json_response(world.add_warehouse(data))


async def update_warehouse(request: web.Request) -> web.StreamResponse:
    """``PUT /warehouses/{warehouseId}``: replace the warehouse; returns it."""
    world = context(request).world
    warehouse_id = path_int(request, "warehouseId")
    body, problem = await read_object(request, "warehouse", WAREHOUSE)
    if body is None:
        return cast(web.Response, problem)
    given = body.integer("warehouseId")
    if given is not None and given != warehouse_id:
        body.error("warehouseId", f"The body's warehouseId {given} is not the path's.")
    _validate(body)
    if body.errors:
        return bad_request(body.errors)
    data = dict(body.data)
    if body.raw("returnAddress") is None:
        data["returnAddress"] = default_return_address(body.mapping("originAddress"))
    updated = world.replace_warehouse(warehouse_id, data)
    if updated is None:
        return not_found("Warehouse not found")
    return json_response(updated)


async def delete_warehouse(request: web.Request) -> web.StreamResponse:
    """``DELETE /warehouses/{warehouseId}``: soft delete; the default one is refused."""
    world = context(request).world
    warehouse_id = path_int(request, "warehouseId")
    with world.lock:
        warehouse = world.warehouse(warehouse_id)
        if warehouse is None:
            return not_found("Warehouse not found")
        if warehouse["isDefault"]:
            return bad_request(
                {
                    "warehouseId": [
                        "The default warehouse cannot be deleted: make another one the "
                        "default first."
                    ]
                }
            )
        world.delete_warehouse(warehouse_id)
    return success("The requested warehouse has been deleted.")


def register(router: Router) -> None:
    """Add the warehouse routes to ``router``."""
    router.add("GET", "/warehouses", list_warehouses)
    router.add("GET", "/warehouses/{warehouseId:int}", get_warehouse)
    add_write(router, "POST", "/warehouses/createwarehouse", create_warehouse)
    add_write(router, "PUT", "/warehouses/{warehouseId:int}", update_warehouse)
    add_write(router, "DELETE", "/warehouses/{warehouseId:int}", delete_warehouse)
