"""Webhook subscriptions (what triggers a delivery: :mod:`.webhook_triggers`)."""

from __future__ import annotations

import copy
from typing import Any

from ..data.hashing import mix
from .base import Shared

JSON = dict[str, Any]

WEBHOOK_EVENTS: tuple[str, ...] = (
    "ORDER_NOTIFY",
    "ITEM_ORDER_NOTIFY",
    "SHIP_NOTIFY",
    "ITEM_SHIP_NOTIFY",
    "FULFILLMENT_SHIPPED",
    "FULFILLMENT_REJECTED",
)
"""The webhook events ShipStation V1 offers (reference §6)."""


class WebhookBackend:
    """The subscriptions by WebHookID, in ``GET /webhooks`` item form (PascalCase keys)."""

    def __init__(self, shared: Shared, *, key: int, seller_id: int) -> None:
        self._shared = shared
        self._lock = shared.lock
        self._key = key
        self._seller_id = seller_id
        self._webhooks: dict[int, JSON] = {}
        self._next_id = 100_000 + mix(key + 900) % 100_000

    def get(self, webhook_id: int) -> JSON | None:
        """One subscription, or None."""
        with self._lock:
            w = self._webhooks.get(webhook_id)
            return None if w is None else copy.deepcopy(w)

    def subscribe(
        self, *, target_url: str, event: str, store_id: int | None, friendly_name: str | None
    ) -> int:
        """Record a webhook subscription; returns its id (later notifications reach it)."""
        with self._lock:
            self._next_id += 1 + mix(self._key + self._next_id) % 13
            hook_id = self._next_id
            self._webhooks[hook_id] = {
                "IsLabelAPIHook": False,
                "WebHookID": hook_id,
                "SellerID": self._seller_id,
                "StoreID": store_id,
                "HookType": event,
                "MessageFormat": "Json",
                "Url": target_url,
                "Name": friendly_name,
                "BulkCopyBatchID": None,
                "BulkCopyRecordID": None,
                "Active": True,
                "WebhookLogs": [],
                "Seller": None,
                "Store": None,
            }
            self._shared.changes.emit("webhooks", hook_id, "create")
            return hook_id

    def unsubscribe(self, webhook_id: int) -> bool:
        """Remove a webhook subscription; False when it does not exist."""
        with self._lock:
            if self._webhooks.pop(webhook_id, None) is None:
                return False
            self._shared.changes.emit("webhooks", webhook_id, "delete")
            return True

    def list_webhooks(self) -> list[JSON]:
        """The webhook subscriptions."""
        with self._lock:
            return [copy.deepcopy(w) for w in self._webhooks.values()]
