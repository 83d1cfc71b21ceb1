"""``ss.warehouses``: ship-from locations."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Unpack

from .._sansio import Operation, Safety
from ..errors import APIError, InvalidRequestError
from ..models import Address, SuccessResult, Warehouse
from ..models.converter import converter, wire_keys
from ._base import CallOptions, Resource, check_id, success, to_body


class Warehouses(Resource):
    """Warehouses: list, get, create, replace and (soft) delete."""

    async def list(self, **options: Unpack[CallOptions]) -> builtins.list[Warehouse]:
        """Every warehouse (GET /warehouses)."""
        return await self._models(Operation("GET", "/warehouses"), Warehouse, options)

    async def get(self, warehouse_id: int, **options: Unpack[CallOptions]) -> Warehouse:
        """One warehouse (GET /warehouses/{warehouseId})."""
        check_id(warehouse_id, "warehouse_id")
        return await self._model(
            Operation("GET", f"/warehouses/{warehouse_id}"), Warehouse, options
        )

    async def create(
        self,
        origin_address: Address | Warehouse | Mapping[str, Any],
        *,
        warehouse_name: str | None = None,
        return_address: Address | Mapping[str, Any] | None = None,
        is_default: bool | None = None,
        **options: Unpack[CallOptions],
    ) -> Warehouse:
        """Create a warehouse (POST createwarehouse); the return address defaults to the origin.

        Takes the warehouse to create, a :class:`Warehouse` or a mapping with the API's keys
        (``originAddress`` among them); or its origin address, an :class:`Address` or a
        mapping, with the other fields as keywords. Each call creates one, so an ambiguous
        failure is not retried.
        """
        if origin_address is None:
            raise InvalidRequestError("origin_address is required", field="origin_address")
        warehouse = _whole_warehouse(origin_address)
        if warehouse is not None:
            if (warehouse_name, return_address, is_default) != (None, None, None):
                raise InvalidRequestError(
                    "give warehouse_name, return_address and is_default inside the warehouse, "
                    "not beside it",
                    field="warehouse_name",
                )
            body = _warehouse_body(warehouse)
        else:
            body = {
                "warehouseName": warehouse_name,
                "originAddress": to_body(origin_address, Address, "origin_address"),
                "returnAddress": None
                if return_address is None
                else to_body(return_address, Address, "return_address"),
                "isDefault": is_default,
            }
        body = {k: v for k, v in body.items() if v is not None}
        operation = Operation(
            "POST", "/warehouses/createwarehouse", body=body, safety=Safety.NON_IDEMPOTENT
        )
        return await self._model(operation, Warehouse, options)

    async def update(
        self, warehouse: Warehouse | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> Warehouse:
        """Replace a warehouse (PUT /warehouses/{warehouseId}); send the whole record."""
        body = to_body(warehouse, Warehouse, "warehouse")
        warehouse_id = check_id(body.get("warehouseId"), "warehouse.warehouseId")
        operation = Operation("PUT", f"/warehouses/{warehouse_id}", body=body)
        return converter.structure(await self._call(operation, options), Warehouse)

    async def delete(self, warehouse_id: int, **options: Unpack[CallOptions]) -> SuccessResult:
        """Soft-delete a warehouse (it becomes inactive). A 404 on a retry counts as done."""
        check_id(warehouse_id, "warehouse_id")
        operation = Operation("DELETE", f"/warehouses/{warehouse_id}", recover=_deleted)
        return success(await self._call(operation, options))


def _whole_warehouse(value: Any) -> Warehouse | Mapping[str, Any] | None:
    # A mapping for a whole warehouse has its origin inside; an address mapping never does.
    if isinstance(value, Warehouse) or (isinstance(value, Mapping) and "originAddress" in value):
        return value
    if isinstance(value, Mapping):
        # A warehouse's keys in what would be sent as its address: a whole warehouse whose
        # origin is missing or misspelt (``origin_address``), never an address.
        found = sorted(k for k in value if isinstance(k, str) and _folded(k) in _WAREHOUSE_ONLY)
        if found:
            raise InvalidRequestError(
                f"origin_address holds a warehouse's keys ({', '.join(found)}): give a whole "
                "warehouse with its address under 'originAddress', or the address alone",
                field="origin_address",
            )
    return None


def _folded(key: str) -> str:
    return key.replace("_", "").lower()


_WAREHOUSE_ONLY = frozenset(_folded(k) for k in wire_keys(Warehouse) - wire_keys(Address))


def _warehouse_body(warehouse: Warehouse | Mapping[str, Any]) -> dict[str, Any]:
    body = to_body(warehouse, Warehouse, "warehouse")
    if not body.get("originAddress"):
        raise InvalidRequestError(
            "warehouse.originAddress is required", field="warehouse.originAddress"
        )
    return body


def _deleted(error: APIError) -> SuccessResult | None:
    if error.status == 404:
        return SuccessResult(success=True, message="Already deleted (an earlier attempt did it).")
    return None
