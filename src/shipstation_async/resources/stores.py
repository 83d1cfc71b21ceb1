"""``ss.stores``: selling channels, their refreshes and marketplaces."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Unpack

from .._sansio import Operation, Safety
from .._time import format_query_datetime
from ..models import Marketplace, RefreshStatus, Store, SuccessResult
from ._base import CallOptions, Resource, check_id, success, to_body


class Stores(Resource):
    """Stores: list, get, replace, refresh, and (de)activate."""

    async def list(
        self,
        *,
        show_inactive: bool | None = None,
        marketplace_id: int | None = None,
        **options: Unpack[CallOptions],
    ) -> builtins.list[Store]:
        """Every store (GET /stores); list results carry no status mappings."""
        query = {"showInactive": show_inactive, "marketplaceId": marketplace_id}
        return await self._models(Operation("GET", "/stores", query=query), Store, options)

    async def get(self, store_id: int, **options: Unpack[CallOptions]) -> Store:
        """One store with its status mappings (GET /stores/{storeId})."""
        check_id(store_id, "store_id")
        return await self._model(Operation("GET", f"/stores/{store_id}"), Store, options)

    async def update(
        self, store: Store | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> Store:
        """Replace a store (PUT /stores/{storeId}); send the whole record (get, evolve, update).

        The response shape is undocumented: the store as answered is returned; an empty answer
        returns the store that was sent.
        """
        body = to_body(store, Store, "store")
        store_id = check_id(body.get("storeId"), "store.storeId")
        data = await self._call(Operation("PUT", f"/stores/{store_id}", body=body), options)
        if isinstance(data, Mapping) and "storeId" in data:
            return self._structure_store(data)
        return self._structure_store(body)

    def _structure_store(self, data: Mapping[str, Any]) -> Store:
        from ._base import structure

        return structure(data, Store)

    async def refresh(
        self,
        store_id: int | None = None,
        refresh_date: datetime | date | None = None,
        **options: Unpack[CallOptions],
    ) -> SuccessResult:
        """Start a store refresh (POST /stores/refreshstore); no store_id refreshes every store.

        A date without a time means midnight Pacific. Not idempotent (each call starts one).
        """
        if store_id is not None:
            check_id(store_id, "store_id")
        when = None if refresh_date is None else format_query_datetime(refresh_date, "refresh_date")
        query = {"storeId": store_id, "refreshDate": when}
        body = {k: v for k, v in query.items() if v is not None}
        operation = Operation(
            "POST",
            "/stores/refreshstore",
            query=query,
            body=body,
            safety=Safety.NON_IDEMPOTENT,
        )
        return success(await self._call(operation, options))

    async def get_refresh_status(
        self, store_id: int, **options: Unpack[CallOptions]
    ) -> RefreshStatus:
        """The state of a store's refresh (GET /stores/getrefreshstatus)."""
        query = {"storeId": check_id(store_id, "store_id")}
        return await self._model(
            Operation("GET", "/stores/getrefreshstatus", query=query), RefreshStatus, options
        )

    async def list_marketplaces(self, **options: Unpack[CallOptions]) -> builtins.list[Marketplace]:
        """Every marketplace ShipStation integrates with (GET /stores/marketplaces)."""
        return await self._models(Operation("GET", "/stores/marketplaces"), Marketplace, options)

    async def deactivate(self, store_id: int, **options: Unpack[CallOptions]) -> SuccessResult:
        """Deactivate a store (POST /stores/deactivate)."""
        body = {"storeId": check_id(store_id, "store_id")}
        return success(
            await self._call(Operation("POST", "/stores/deactivate", body=body), options)
        )

    async def reactivate(self, store_id: int, **options: Unpack[CallOptions]) -> SuccessResult:
        """Reactivate a store (POST /stores/reactivate)."""
        body = {"storeId": check_id(store_id, "store_id")}
        return success(
            await self._call(Operation("POST", "/stores/reactivate", body=body), options)
        )
