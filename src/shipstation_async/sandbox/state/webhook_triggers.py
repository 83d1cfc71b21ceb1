"""Which writes ShipStation would announce by webhook, and the batches the announcements name.

The trigger rules (reference §6), applied to every write whether anyone subscribed or not:

- Orders (``ORDER_NOTIFY``, ``ITEM_ORDER_NOTIFY``): an order created in any status except
  awaiting_payment, or an awaiting_payment order moving to any status except cancelled
  (paid through createorder's upsert or the mutation workload, held, labelled or marked as
  shipped). One notification per import action (:meth:`.changes.ChangeFeed.action`: one
  ``createorder``, one ``createorders`` call, one control-API seed call, one workload insert,
  one workload burst) and store: the orders it covers share one ``importBatch`` GUID, which
  ``GET /orders?importBatch=`` resolves (to the orders' current state). An order created
  awaiting_payment joins no batch until it is paid; then it joins the batch of the action
  that paid it. (Guesses: ShipStation does not document what an import batch lists.)
- Labels (``SHIP_NOTIFY``, ``ITEM_SHIP_NOTIFY``): a new outbound label, i.e. a shipment made
  by ``createlabelfororder``, ``createlabel`` or the workload's ``ship``. Each label is its
  own batch, numbered from :data:`LABEL_BATCH_BASE` + 1, which ``GET /shipments?batchId=``
  resolves (the shipment's own ``batchNumber`` stays null). Return labels and test labels
  (no shipment) announce nothing; neither do voids, mark-as-shipped, status changes or edits.
- Fulfillments (``FULFILLMENT_SHIPPED``, a guess: ShipStation documents no trigger for it):
  each mark as shipped, as ``/fulfillments?orderId=``. ``FULFILLMENT_REJECTED`` is never
  announced.

Notifications are made when the action ends, in the thread that ran it, under the world's
lock; listeners (:meth:`WebhookTriggers.subscribe`, the sandbox's webhook emitter) must only
record or enqueue them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import attrs

from .._time import format_order_ts
from .base import Shared
from .changes import ChangeRecord

if TYPE_CHECKING:
    from .fulfillments import FulfillmentStore
    from .orders import OrderStore
    from .shipments import ShipmentStore

NotifiedResource = Literal["orders", "shipments", "fulfillments"]
"""The list endpoint a notification's ``resource_url`` names."""

LABEL_BATCH_BASE = 190_000_000
"""Label batch ids start above this (far above the generated shipments' batchNumbers)."""

EVENTS: dict[str, tuple[str, ...]] = {
    "orders": ("ORDER_NOTIFY", "ITEM_ORDER_NOTIFY"),
    "shipments": ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"),
    "fulfillments": ("FULFILLMENT_SHIPPED",),
}
"""The webhook events each kind of notification is delivered to."""

Listener = Callable[["WebhookNotification"], None]


@attrs.frozen
class WebhookNotification:
    """One announcement the state made, before any delivery.

    ``sequence``: from 1, in the order they were made. ``resource``: the list endpoint its
    URL names. ``store_id``: its records' store (None: none). ``batch``: the import batch
    GUID (orders), the label batch id (shipments) or the orderId (fulfillments), as text.
    ``record_ids``: the orderIds, the shipmentId or the fulfillmentId it covers;
    ``versions``: each one's modifyDate (orders) or createDate (shipments, fulfillments) as
    written by the action. ``action_id``: the change feed action that made it.
    """

    sequence: int
    resource: NotifiedResource
    store_id: int | None
    batch: str
    record_ids: tuple[int, ...]
    versions: tuple[str, ...]
    action_id: int

    def to_json(self) -> dict[str, object]:
        """The notification as a JSON object with camelCase keys."""
        return {
            "sequence": self.sequence,
            "resource": self.resource,
            "storeId": self.store_id,
            "batch": self.batch,
            "recordIds": list(self.record_ids),
            "versions": list(self.versions),
            "actionId": self.action_id,
        }

    @property
    def events(self) -> tuple[str, ...]:
        """The webhook events (``HookType``) that receive this notification."""
        return EVENTS[self.resource]

    def resource_path(self, event: str) -> str:
        """The ``resource_url`` for ``event`` without the host: prefix the server's base URL.

        ``/orders?storeID=S&importBatch=G`` (``storeID`` left out without a store),
        ``/shipments?batchId=N&includeShipmentItems=False`` (``True`` for
        ``ITEM_SHIP_NOTIFY``), ``/fulfillments?orderId=N``.
        """
        if event not in self.events:
            raise ValueError(f"{event} does not receive {self.resource} notifications")
        if self.resource == "orders":
            store = "" if self.store_id is None else f"storeID={self.store_id}&"
            return f"/orders?{store}importBatch={self.batch}"
        if self.resource == "shipments":
            items = "True" if event == "ITEM_SHIP_NOTIFY" else "False"
            return f"/shipments?batchId={self.batch}&includeShipmentItems={items}"
        return f"/fulfillments?orderId={self.batch}"


_Other = tuple[NotifiedResource, int | None, str, int, str]
"""A label or fulfillment to announce: (resource, store, batch, record id, version)."""


@attrs.define
class _Pending:
    """What one running action has to announce so far."""

    orders: dict[int | None, dict[int, str]] = attrs.field(factory=dict)  # store -> id -> ver
    others: list[_Other] = attrs.field(factory=list)


class WebhookTriggers:
    """Applies the trigger rules to the change feed (see the module docstring).

    ``notifications()``: every notification made, oldest first. ``subscribe(listener)``: call
    ``listener(notification)`` with each later one. ``orders_in_import_batch(guid)`` and
    ``shipments_in_batch(batch_id)``: what a batch named in a URL lists (None: unknown).
    """

    def __init__(
        self,
        shared: Shared,
        *,
        seed: int,
        orders: OrderStore,
        shipments: ShipmentStore,
        fulfillments: FulfillmentStore,
    ) -> None:
        self._lock = shared.lock
        self._orders = orders
        self._shipments = shipments
        self._fulfillments = fulfillments
        # The last status seen per order: a generated order never seen has its generated one.
        self._status: dict[int, str] = {}
        self._pending: dict[int, _Pending] = {}
        self._import_batches: dict[str, list[int]] = {}
        self._label_batches: dict[int, int] = {}
        self._next_label_batch = LABEL_BATCH_BASE
        self._rng = random.Random(f"shipstation-sandbox-import-batches:{seed}")
        self._log: list[WebhookNotification] = []
        self._listeners: list[Listener] = []
        shared.changes.subscribe(self._on_record)
        shared.changes.on_action_end(self._on_action_end)

    # -- inspection ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every later notification; returns the unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.remove(listener)

        return unsubscribe

    def notifications(self) -> list[WebhookNotification]:
        """Every notification made so far, oldest first."""
        with self._lock:
            return list(self._log)

    def orders_in_import_batch(self, guid: str) -> list[int] | None:
        """The orderIds an import batch covers (in the order imported), or None if unknown."""
        with self._lock:
            found = self._import_batches.get(guid.strip().lower())
            return None if found is None else list(found)

    def shipments_in_batch(self, batch_id: int) -> list[int] | None:
        """The shipmentIds of a label batch made here, or None if it is not one."""
        with self._lock:
            found = self._label_batches.get(batch_id)
            return None if found is None else [found]

    # -- the rules ----------------------------------------------------------------------------

    def _on_record(self, record: ChangeRecord) -> None:
        if isinstance(record.record_id, int):
            with self._lock:
                self._apply(record)

    def _apply(self, record: ChangeRecord) -> None:
        record_id = int(record.record_id)
        if record.resource == "orders" and record.action in ("create", "update"):
            self._observe_order(record_id, record.action_id, created=record.action == "create")
        elif record.resource == "shipments":
            self._on_shipment(record_id, record)
        elif record.resource == "fulfillments" and record.action == "create":
            found = self._fulfillments.get(record_id)
            if found is None or found.get("orderId") is None:
                return
            order_id = int(found["orderId"])
            self._observe_order(order_id, record.action_id, created=False)
            i = self._orders.index_of(order_id)
            store = None if i is None else self._orders.store_id(i)
            created = str(found["createDate"])
            entry: _Other = ("fulfillments", store, str(order_id), record_id, created)
            self._pending_of(record.action_id).others.append(entry)

    def _on_shipment(self, shipment_id: int, record: ChangeRecord) -> None:
        found = self._shipments.get(shipment_id)
        if found is None:
            return
        if found.get("orderId") is not None:
            self._observe_order(int(found["orderId"]), record.action_id, created=False)
        if record.action != "create" or found.get("isReturnLabel"):
            return
        self._next_label_batch += 1
        batch = self._next_label_batch
        self._label_batches[batch] = shipment_id
        store_id = (found.get("advancedOptions") or {}).get("storeId")
        store = None if store_id is None else int(store_id)
        entry: _Other = ("shipments", store, str(batch), shipment_id, str(found["createDate"]))
        self._pending_of(record.action_id).others.append(entry)

    def _observe_order(self, order_id: int, action_id: int, *, created: bool) -> None:
        """Note the order's status; queue it when it is new and paid, or just paid."""
        orders = self._orders
        i = orders.index_of(order_id)
        if i is None:
            return
        status = orders.status(i)
        before = self._status.get(order_id)
        if before is None and not created and i < orders.count:
            before = orders.generated_status(i)
        self._status[order_id] = status
        if created:
            due = status != "awaiting_payment"
        else:
            due = before == "awaiting_payment" and status not in ("awaiting_payment", "cancelled")
        pending = self._pending.get(action_id)
        queued = pending is not None and any(order_id in g for g in pending.orders.values())
        if due or queued:  # queued: an order changed again by its own action gets that version
            modify = orders.modify_ms(i)
            version = "" if modify is None else format_order_ts(modify)
            group = self._pending_of(action_id).orders.setdefault(orders.store_id(i), {})
            group[order_id] = version

    def _pending_of(self, action_id: int) -> _Pending:
        pending = self._pending.get(action_id)
        if pending is None:
            pending = self._pending[action_id] = _Pending()
        return pending

    def _on_action_end(self, action_id: int) -> None:
        with self._lock:
            pending = self._pending.pop(action_id, None)
            if pending is None:
                return
            parts: list[tuple[NotifiedResource, int | None, str, tuple[int, ...], tuple[str, ...]]]
            parts = []
            if pending.orders:
                guid = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
                self._import_batches[guid] = [o for g in pending.orders.values() for o in g]
                for store, group in pending.orders.items():
                    parts.append(("orders", store, guid, tuple(group), tuple(group.values())))
            for resource, store, batch, record_id, version in pending.others:
                parts.append((resource, store, batch, (record_id,), (version,)))
            first = len(self._log) + 1
            made = [
                WebhookNotification(first + k, *part, action_id) for k, part in enumerate(parts)
            ]
            self._log += made
            for notification in made:
                for listener in list(self._listeners):
                    listener(notification)
