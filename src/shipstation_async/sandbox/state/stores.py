"""Stores: the account's selling channels, their status mappings and refreshes."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

import attrs

from .. import normalize
from .._time import format_item_ts, ms_to_naive, parse_ts
from ..data import catalog
from .base import Shared

JSON = dict[str, Any]

STORE_KEYS: tuple[str, ...] = (
    "storeId",
    "storeName",
    "marketplaceId",
    "marketplaceName",
    "accountName",
    "email",
    "integrationUrl",
    "active",
    "companyName",
    "phone",
    "publicEmail",
    "website",
    "refreshDate",
    "lastRefreshAttempt",
    "createDate",
    "modifyDate",
    "autoRefresh",
    "statusMappings",
)
"""The keys of a Store (reference §3); lists leave out ``statusMappings``."""

REFRESH_UPDATING = (2, "Updating orders")
"""getrefreshstatus while a refresh runs (the documented example's values)."""
REFRESH_IDLE = (4, "Idle")
"""getrefreshstatus when no refresh runs (the real value set is unconfirmed: a sandbox choice)."""


@attrs.define
class _Refresh:
    started: float  # time.monotonic()
    attempt_ms: int
    refresh_ms: int


def _refresh_date(ms: int) -> str:
    d = ms_to_naive(ms)
    return f"{d.month}-{d.day}-{d.year}"


class StoreBackend:
    """The stores by storeId (inactive ones kept).

    A refresh reports "Updating orders" for ``refresh_seconds`` after it starts.
    """

    def __init__(self, shared: Shared, stores: dict[int, JSON], refresh_seconds: float) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._stores = stores
        self._refreshes: dict[int, _Refresh] = {}
        self.refresh_seconds = refresh_seconds

    def ids(self) -> list[int]:
        """The ids of every store (inactive ones too)."""
        with self._lock:
            return list(self._stores)

    def all(self) -> list[JSON]:
        """Every store (inactive ones too), with statusMappings (fresh dicts)."""
        with self._lock:
            return [copy.deepcopy(s) for s in self._stores.values()]

    def get(self, store_id: int) -> JSON | None:
        """One store with statusMappings (inactive ones too), or None."""
        with self._lock:
            s = self._stores.get(store_id)
            return None if s is None else copy.deepcopy(s)

    @property
    def manual_store_id(self) -> int | None:
        """The first active Manual Store's id (orders default to it), or None."""
        with self._lock:
            for s in self._stores.values():
                if s["active"] and s["marketplaceId"] == catalog.MANUAL_MARKETPLACE_ID:
                    return int(s["storeId"])
            return None

    def list_stores(
        self, *, show_inactive: bool = False, marketplace_id: int | None = None
    ) -> list[JSON]:
        """Stores as ``GET /stores`` lists them: no statusMappings, active only by default."""
        with self._lock:
            out = []
            for s in self._stores.values():
                if not show_inactive and not s["active"]:
                    continue
                if marketplace_id is not None and s["marketplaceId"] != marketplace_id:
                    continue
                record = copy.deepcopy(s)
                record.pop("statusMappings", None)
                out.append(record)
            return out

    def add(self, data: Mapping[str, Any]) -> JSON:
        """Add a store from Store JSON (see :meth:`..world.World.add_store`)."""
        with self._lock:
            out = normalize.pick(data, STORE_KEYS)
            if out["storeId"] is None:
                out["storeId"] = max(self._stores, default=10_000) + 1 + len(self._stores)
            store_id = int(out["storeId"])
            if store_id in self._stores:
                raise ValueError(f"storeId {store_id} already exists")
            mp = None
            if out["marketplaceId"] is not None:
                mp = catalog.MARKETPLACE_BY_ID.get(int(out["marketplaceId"]))
            elif out["marketplaceName"] is not None:
                mp = catalog.MARKETPLACE_BY_NAME.get(str(out["marketplaceName"]))
            else:
                mp = catalog.MARKETPLACE_BY_ID[catalog.MANUAL_MARKETPLACE_ID]
            if mp is None:
                raise ValueError("unknown marketplace: see GET /stores/marketplaces")
            out["marketplaceId"], out["marketplaceName"] = mp[0], mp[1]
            out["storeName"] = out["storeName"] or f"Store {store_id}"
            out["active"] = True if out["active"] is None else bool(out["active"])
            out["autoRefresh"] = bool(out["autoRefresh"])
            now = format_item_ts(self._shared.clock())
            out["createDate"] = out["createDate"] or now
            out["modifyDate"] = out["modifyDate"] or now
            self._stores[store_id] = out
            self._shared.changes.emit("stores", store_id, "create")
            return copy.deepcopy(out)

    def replace(self, store_id: int, data: Mapping[str, Any]) -> JSON | None:
        """Replace a store with ``data``; returns it, or None when it does not exist.

        As PUT does: absent fields become null, absent booleans false; storeId, marketplace,
        createDate and refresh dates are kept.
        """
        with self._lock:
            current = self._stores.get(store_id)
            if current is None:
                return None
            out = normalize.pick(data, STORE_KEYS)
            for field in (
                "storeId",
                "marketplaceId",
                "marketplaceName",
                "createDate",
                "refreshDate",
                "lastRefreshAttempt",
            ):
                out[field] = current[field]
            out["active"] = bool(out["active"])
            out["autoRefresh"] = bool(out["autoRefresh"])
            mappings = out["statusMappings"]
            out["statusMappings"] = (
                [normalize.pick(m, ("orderStatus", "statusKey")) for m in mappings]
                if isinstance(mappings, list)
                else None
            )
            out["modifyDate"] = format_item_ts(self._shared.clock())
            self._stores[store_id] = out
            self._shared.changes.emit("stores", store_id, "update")
            return copy.deepcopy(out)

    def set_active(self, store_id: int, active: bool) -> bool:
        """Deactivate or reactivate a store; False when it does not exist."""
        with self._lock:
            s = self._stores.get(store_id)
            if s is None:
                return False
            if s["active"] != active:
                s["active"] = active
                s["modifyDate"] = format_item_ts(self._shared.clock())
            self._shared.changes.emit("stores", store_id, "reactivate" if active else "deactivate")
            return True

    def refreshable(self, store_id: int) -> bool:
        """Whether a store can be refreshed (active, and its marketplace can refresh)."""
        with self._lock:
            s = self._stores.get(store_id)
            if s is None or not s["active"]:
                return False
            mp = catalog.MARKETPLACE_BY_ID.get(int(s["marketplaceId"]))
            return bool(mp and mp[2])

    def refresh(self, store_ids: list[int], refresh_ms: int | None) -> None:
        """Start a refresh of these stores (``refresh_ms``: the date to import from)."""
        with self._lock:
            now = self._shared.clock()
            for sid in store_ids:
                s = self._stores[sid]
                since = refresh_ms if refresh_ms is not None else now
                self._refreshes[sid] = _Refresh(time.monotonic(), now, since)
                s["lastRefreshAttempt"] = format_item_ts(now)
                s["refreshDate"] = format_item_ts(since)
                self._shared.changes.emit("stores", sid, "refresh")

    def refresh_status(self, store_id: int) -> JSON | None:
        """``GET /stores/getrefreshstatus``'s answer for a store, or None if unknown.

        "Updating orders" for ``refresh_seconds`` after a refresh starts, "Idle" otherwise.
        """
        with self._lock:
            s = self._stores.get(store_id)
            if s is None:
                return None
            r = self._refreshes.get(store_id)
            attempt: str | None = None
            since: str | None = None
            if r is not None:
                running = time.monotonic() - r.started < self.refresh_seconds
                sid, text = REFRESH_UPDATING if running else REFRESH_IDLE
                attempt = _refresh_date(r.attempt_ms)
                since = _refresh_date(r.refresh_ms)
            else:
                sid, text = REFRESH_IDLE
                if s["lastRefreshAttempt"]:
                    attempt = _refresh_date(parse_ts(str(s["lastRefreshAttempt"])))
                if s["refreshDate"]:
                    since = _refresh_date(parse_ts(str(s["refreshDate"])))
            return {
                "storeId": store_id,
                "refreshStatusId": sid,
                "refreshStatus": text,
                "lastRefreshAttempt": attempt,
                "refreshDate": since,
            }

    @staticmethod
    def marketplaces() -> list[JSON]:
        """The marketplaces ShipStation integrates with (``GET /stores/marketplaces``)."""
        return [
            {
                "name": name,
                "marketplaceId": mid,
                "canRefresh": refresh,
                "supportsCustomMappings": mappings,
                "supportsCustomStatuses": statuses,
                "canConfirmShipments": confirms,
            }
            for mid, name, refresh, mappings, statuses, confirms in catalog.MARKETPLACES
        ]
