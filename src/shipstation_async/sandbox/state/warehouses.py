"""Warehouses: ship-from locations, one of them the default; deleted ones are kept."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .. import normalize
from .._time import format_order_ts
from ..data.hashing import mix
from .base import Shared

JSON = dict[str, Any]

WAREHOUSE_KEYS: tuple[str, ...] = (
    "warehouseId",
    "warehouseName",
    "originAddress",
    "returnAddress",
    "createDate",
    "isDefault",
)
"""The keys of a Warehouse, as the docs' examples show them."""


def default_return_address(origin: Mapping[str, Any] | None) -> JSON:
    """The return address of a warehouse created (or replaced) without one.

    The origin address copied, with ``residential`` null as the documented createwarehouse
    example shows it (origin ``true``, return address ``null``). That example's return
    address also bears the warehouseName as its name, which may have been sent: the sandbox
    keeps the origin's name ([U]).
    """
    out = normalize.address(origin)
    out["residential"] = None
    return out


class WarehouseBackend:
    """The warehouses by warehouseId; ``key`` seeds the ids of new ones."""

    def __init__(self, shared: Shared, warehouses: dict[int, JSON], key: int) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._warehouses = warehouses
        self._deleted: set[int] = set()
        self._key = key
        self._next_small_id = 1_000_000

    def _new_id_offset(self) -> int:
        self._next_small_id += 1 + mix(self._key + self._next_small_id) % 7
        return self._next_small_id

    def get_any(self, warehouse_id: int) -> JSON | None:
        """One warehouse, deleted ones included (a fresh dict), or None."""
        with self._lock:
            w = self._warehouses.get(warehouse_id)
            return None if w is None else copy.deepcopy(w)

    def list_warehouses(self) -> list[JSON]:
        """The warehouses not deleted (fresh dicts)."""
        with self._lock:
            return [
                copy.deepcopy(w) for wid, w in self._warehouses.items() if wid not in self._deleted
            ]

    def get(self, warehouse_id: int) -> JSON | None:
        """A warehouse not deleted, or None."""
        with self._lock:
            if warehouse_id in self._deleted:
                return None
            return self.get_any(warehouse_id)

    @property
    def default_id(self) -> int | None:
        """The default warehouse's id, or None when there is none."""
        with self._lock:
            for wid, w in self._warehouses.items():
                if w["isDefault"] and wid not in self._deleted:
                    return wid
            return None

    def _make_default(self, record: JSON) -> None:
        if record["isDefault"]:
            for w in self._warehouses.values():
                w["isDefault"] = False

    def add(self, data: Mapping[str, Any]) -> JSON:
        """Add a warehouse (see :meth:`..world.World.add_warehouse`)."""
        with self._lock:
            out = normalize.pick(data, WAREHOUSE_KEYS)
            if out["warehouseId"] is None:
                out["warehouseId"] = (
                    max(self._warehouses, default=20_000) + 1 + self._new_id_offset() % 97
                )
            wid = int(out["warehouseId"])
            if wid in self._warehouses:
                raise ValueError(f"warehouseId {wid} already exists")
            origin_src = out["originAddress"]
            if origin_src is None:
                default = self.default_id
                origin_src = self._warehouses[default]["originAddress"] if default else {}
            origin = normalize.address(origin_src)
            out["originAddress"] = origin
            ret = out["returnAddress"]
            out["returnAddress"] = (
                normalize.address(ret) if ret is not None else default_return_address(origin)
            )
            out["warehouseName"] = out["warehouseName"] or origin["name"]
            out["createDate"] = out["createDate"] or format_order_ts(self._shared.clock())
            out["isDefault"] = bool(out["isDefault"])
            self._make_default(out)
            self._warehouses[wid] = out
            self._shared.changes.emit("warehouses", wid, "create")
            return copy.deepcopy(out)

    def replace(self, warehouse_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a warehouse with ``data``; returns it, or None if unknown or deleted.

        As PUT does: absent fields become null, absent isDefault false; warehouseId and
        createDate are kept.
        """
        with self._lock:
            if self.get(warehouse_id) is None:
                return None
            current = self._warehouses[warehouse_id]
            out = normalize.pick(data, WAREHOUSE_KEYS)
            out["warehouseId"] = warehouse_id
            out["createDate"] = current["createDate"]
            for field in ("originAddress", "returnAddress"):
                value = out[field]
                out[field] = (
                    normalize.pick(value, normalize.ADDRESS_KEYS)
                    if isinstance(value, Mapping)
                    else None
                )
            out["isDefault"] = bool(out["isDefault"])
            self._make_default(out)
            self._warehouses[warehouse_id] = out
            self._shared.changes.emit("warehouses", warehouse_id, "update")
            return copy.deepcopy(out)

    def delete(self, warehouse_id: int) -> bool:
        """Soft-delete a warehouse (no longer listed or fetched); False if unknown."""
        with self._lock:
            if self.get(warehouse_id) is None:
                return False
            self._deleted.add(warehouse_id)
            self._shared.changes.emit("warehouses", warehouse_id, "delete")
            return True
