"""A deterministic mutation workload: the account changes while a client lists it.

Attach a :class:`MutationWorkload` to a sandbox (``Sandbox(..., mutations=workload)``, or set
``sandbox.mutations`` at any time; None detaches it). Before the sandbox answers each list
request on one of the workload's ``paths`` (default ``/orders``, ``/shipments`` and
``/fulfillments``; a request refused with 400, 401 or 429, or failed by an injected fault
before its handler ran, does not count), it numbers the request (1, 2, ...) and applies a
batch of ``per_request`` mutations, all under the world's lock and before the page is read,
so the page already shows them. Each mutation's kind is drawn with the weights ``inserts``,
``modifies``, ``status_changes``, ``deletes`` and ``ships``:

- ``insert``: a new order (a copy of a random generated order's customer, store and items,
  with new ids) with createDate = modifyDate = now and orderDate backdated: half within 3
  days, half up to ``max_backdate_days``; status awaiting_payment (1 in 4) or
  awaiting_shipment. Each insert is an import action of its own (one ORDER_NOTIFY when paid).
- ``modify``: a random existing order, generated or not, gets modifyDate = now (and an
  internalNotes line saying so); nothing else changes.
- ``status``: a random order whose status can move gets modifyDate = now and another status:
  awaiting_payment -> awaiting_shipment (paid now); awaiting_shipment -> on_hold or
  cancelled; on_hold -> awaiting_shipment; pending_fulfillment -> rejected_fulfillment;
  rejected_fulfillment -> awaiting_shipment. Shipped and cancelled orders do not move.
- ``delete``: a random existing order is soft-deleted, as ``DELETE /orders/{id}`` does (gone
  from lists and gets).
- ``ship``: a random awaiting_shipment order ships now: with a label (a new shipment, 85 in
  100; not in the label ledger, which records API purchases) or marked as shipped (a new
  fulfillment); the order becomes shipped with modifyDate = now.

createDate never changes after an order is created. "Now" is the world's clock
(:meth:`OrderStore.stamp`): Pacific wall-clock ms, never before the world's end nor before an
earlier stamp, so new orders never sort before earlier ones; orders created within one
millisecond share a createDate and then sort by orderId, which rises with creation. Targets
are drawn uniformly over every order index (64 tries to find a live one that fits; else the
mutation falls back to a modify, or to an insert when no order is live).

The burst: before answering list request ``burst_after + 1`` (after that request's batch),
``burst_size`` orders (default 600: more than a 500-order page; one import action, so one
webhook per store and one importBatch) are inserted with createDates
inside one wall-clock second, starting now: spread over what remains of that second (so
several share a millisecond when fewer milliseconds remain than orders), or, with
``burst_distinct`` d, over d consecutive milliseconds (moved to the next second's start when
d milliseconds no longer fit in this one; ``burst_distinct=1``: all identical).

Determinism: the same ``seed`` over the same world (orders, seed, end) and the same sequence
of list requests with no other writes gives the same mutations (kinds, orderIds, statuses,
request numbers); only the timestamps differ, as they follow the clock. Concurrent requests
are numbered in the order they reach the workload. :attr:`MutationWorkload.log` lists every
mutation done (:class:`Mutation`); ``GET /__sandbox/mutations`` serves it over HTTP.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._time import MS_PER_DAY, MS_PER_SECOND, format_date, format_item_ts, format_order_ts
from .data import seed_tables

if TYPE_CHECKING:
    from .world import World

JSON = dict[str, Any]

MutationKind = Literal["insert", "modify", "status", "delete", "ship", "burst"]
"""What one mutation did (see the module docstring)."""

DEFAULT_PATHS: tuple[str, ...] = ("/orders", "/shipments", "/fulfillments")
"""The list endpoints whose requests trigger a batch, unless told otherwise."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "awaiting_payment": ("awaiting_shipment",),
    "awaiting_shipment": ("on_hold", "cancelled"),
    "on_hold": ("awaiting_shipment",),
    "pending_fulfillment": ("rejected_fulfillment",),
    "rejected_fulfillment": ("awaiting_shipment",),
}
"""The status changes a ``status`` mutation makes: from a status to one of these."""

_TRIES = 64
_LABEL_SHARE = 0.85


@attrs.frozen
class Mutation:
    """One change the workload made.

    ``request``: the number (from 1) of the list request before whose answer it happened;
    ``path``: that request's path (lower case, no trailing slash). ``order_id``,
    ``create_date`` (the order's, which never changes), ``modify_date`` and ``order_status``
    as the order stands after the change (for a delete: as it stood when deleted).
    ``previous_status``: the status before (None for new orders). ``order_date``: new
    orders' orderDate. ``shipment_id`` / ``fulfillment_id``: the record a ``ship`` created.
    """

    request: int
    path: str
    kind: MutationKind
    order_id: int
    create_date: str
    modify_date: str
    order_status: str
    previous_status: str | None = None
    order_date: str | None = None
    shipment_id: int | None = None
    fulfillment_id: int | None = None

    def to_json(self) -> JSON:
        """The mutation as a JSON object with camelCase keys."""
        return {
            "request": self.request,
            "path": self.path,
            "kind": self.kind,
            "orderId": self.order_id,
            "createDate": self.create_date,
            "modifyDate": self.modify_date,
            "orderStatus": self.order_status,
            "previousStatus": self.previous_status,
            "orderDate": self.order_date,
            "shipmentId": self.shipment_id,
            "fulfillmentId": self.fulfillment_id,
        }


class MutationWorkload:
    """Seeded changes applied before list requests are answered (see the module docstring).

    ``seed``: the random stream. ``per_request``: mutations per list request (0: only the
    burst). ``inserts``, ``modifies``, ``status_changes``, ``deletes``, ``ships``: relative
    weights of the kinds (non-negative; some must be positive when ``per_request`` is).
    ``burst_after``: the burst comes before answering list request ``burst_after + 1``
    (None: no burst); ``burst_size`` orders; ``burst_distinct``: how many distinct
    createDates they get (None: as many as the rest of the second allows). ``paths``: the
    list endpoints that trigger batches (case-insensitive). ``max_backdate_days``: the
    oldest orderDate an insert gets, in days before its createDate.

    Attributes (read them while no request is in flight, or under ``world.lock``): ``log``
    (every :class:`Mutation`, oldest first) and ``requests`` (list requests seen). A workload
    keeps its state (random stream, count, log, burst done) for its lifetime: give each
    sandbox a new one for repeatable runs.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        per_request: int = 3,
        inserts: float = 1.0,
        modifies: float = 1.0,
        status_changes: float = 0.5,
        deletes: float = 0.5,
        ships: float = 0.0,
        burst_after: int | None = None,
        burst_size: int = 600,
        burst_distinct: int | None = None,
        paths: Sequence[str] = DEFAULT_PATHS,
        max_backdate_days: int = 3 * 365,
    ) -> None:
        weights = (inserts, modifies, status_changes, deletes, ships)
        if per_request < 0:
            raise ValueError(f"per_request must be >= 0, got {per_request!r}")
        if any(w < 0 for w in weights) or (per_request > 0 and sum(weights) <= 0):
            raise ValueError("the kind weights must be >= 0 and not all 0")
        if burst_after is not None and burst_after < 0:
            raise ValueError(f"burst_after must be >= 0 or None, got {burst_after!r}")
        if burst_size < 1:
            raise ValueError(f"burst_size must be >= 1, got {burst_size!r}")
        if burst_distinct is not None and not 1 <= burst_distinct <= 1000:
            raise ValueError(f"burst_distinct must be in 1..1000 or None, got {burst_distinct!r}")
        if max_backdate_days < 1:
            raise ValueError(f"max_backdate_days must be >= 1, got {max_backdate_days!r}")
        self.seed = seed
        self.per_request = per_request
        self.weights: dict[MutationKind, float] = {
            "insert": inserts,
            "modify": modifies,
            "status": status_changes,
            "delete": deletes,
            "ship": ships,
        }
        self.burst_after = burst_after
        self.burst_size = burst_size
        self.burst_distinct = burst_distinct
        self.paths = tuple(_norm(p) for p in paths)
        self.max_backdate_days = max_backdate_days
        self.log: list[Mutation] = []
        self.requests = 0
        self._rng = random.Random(f"shipstation-sandbox-mutations:{seed}")
        self._burst_done = False
        self._created = 0
        self._lock = threading.Lock()

    # -- inspection ---------------------------------------------------------------------------

    def order_ids(self, *kinds: MutationKind) -> list[int]:
        """The orderIds the log names, in log order, for these kinds (all kinds if none)."""
        with self._lock:
            return [m.order_id for m in self.log if not kinds or m.kind in kinds]

    def counts(self) -> dict[str, int]:
        """How many mutations of each kind were done."""
        with self._lock:
            return dict(Counter(m.kind for m in self.log))

    def triggers(self, path: str) -> bool:
        """Whether a list request on ``path`` triggers a batch."""
        return _norm(path) in self.paths

    # -- applying ------------------------------------------------------------------------------

    def apply(self, world: World, path: str) -> list[Mutation]:
        """Count one list request on ``path`` and apply its batch; returns what was done.

        Does nothing (and counts nothing) for a path the workload does not watch. The
        sandbox calls this; call it yourself to mutate a world without a server.
        """
        if not self.triggers(path):
            return []
        path = _norm(path)
        with world.lock, self._lock:
            self.requests += 1
            done: list[Mutation] = []
            kinds = list(self.weights)
            weights = list(self.weights.values())
            for _ in range(self.per_request):
                kind = self._rng.choices(kinds, weights)[0]
                done.append(self._one(world, kind, path))
            if (
                self.burst_after is not None
                and not self._burst_done
                and self.requests > self.burst_after
            ):
                self._burst_done = True
                done += self._burst(world, path)
            self.log += done
            return done

    def _one(self, world: World, kind: MutationKind, path: str) -> Mutation:
        orders = world.orders
        if kind == "insert" or not orders.live_count():
            return self._insert(world, path, orders.stamp(), "insert")
        if kind == "delete":
            i = self._pick(world, None)
            if i is not None:
                return self._delete(world, path, i)
        elif kind == "status":
            i = self._pick(world, tuple(TRANSITIONS))
            if i is not None:
                return self._status(world, path, i)
        elif kind == "ship":
            i = self._pick(world, ("awaiting_shipment",))
            if i is not None:
                return self._ship(world, path, i)
        i = self._pick(world, None)
        if i is None:
            return self._insert(world, path, orders.stamp(), "insert")
        return self._modify(world, path, i)

    def _pick(self, world: World, statuses: tuple[str, ...] | None) -> int | None:
        """A random live order index (with one of ``statuses``), or None after the tries."""
        orders = world.orders
        n = len(orders)
        for _ in range(_TRIES):
            i = self._rng.randrange(n)
            if orders.is_live(i) and (statuses is None or orders.status(i) in statuses):
                return i
        return None

    def _entry(
        self,
        path: str,
        kind: MutationKind,
        order: JSON,
        previous: str | None,
        **extra: Any,
    ) -> Mutation:
        return Mutation(
            request=self.requests,
            path=path,
            kind=kind,
            order_id=int(order["orderId"]),
            create_date=str(order["createDate"]),
            modify_date=str(order["modifyDate"]),
            order_status=str(order["orderStatus"]),
            previous_status=previous,
            **extra,
        )

    def _modify(self, world: World, path: str, i: int) -> Mutation:
        orders = world.orders
        order_id = orders.order_id(i)
        previous = orders.status(i)
        now = format_order_ts(orders.stamp())
        order = orders.touch(
            order_id,
            {"modifyDate": now, "internalNotes": f"Edited by the mutation workload at {now}."},
        )
        return self._entry(path, "modify", order, previous)

    def _status(self, world: World, path: str, i: int) -> Mutation:
        orders = world.orders
        order_id = orders.order_id(i)
        current = orders.at(i)
        previous = str(current["orderStatus"])
        new = self._rng.choice(TRANSITIONS[previous])
        now = orders.stamp()
        fields: JSON = {"orderStatus": new, "modifyDate": format_order_ts(now)}
        if previous == "awaiting_payment":
            fields.update(
                paymentDate=format_order_ts(now),
                amountPaid=current["orderTotal"],
                paymentMethod=current["paymentMethod"] or "Credit Card",
            )
        if previous == "on_hold":
            fields["holdUntilDate"] = None
        if previous == "rejected_fulfillment":
            fields.update(
                externallyFulfilled=False,
                externallyFulfilledBy=None,
                externallyFulfilledById=None,
                externallyFulfilledByName=None,
            )
        order = orders.touch(order_id, fields)
        return self._entry(path, "status", order, previous)

    def _delete(self, world: World, path: str, i: int) -> Mutation:
        orders = world.orders
        order = orders.at(i)
        orders.delete(int(order["orderId"]))
        return self._entry(path, "delete", order, str(order["orderStatus"]))

    def _ship(self, world: World, path: str, i: int) -> Mutation:
        orders = world.orders
        order = orders.at(i)
        now = orders.stamp()
        day = format_date(now)
        carrier, service, package = (
            order["carrierCode"],
            order["serviceCode"],
            order["packageCode"],
        )
        if not carrier or not service:
            carrier, service, _name, package = self._rng.choice(seed_tables.SERVICES)
        package = package or "package"
        label = self._rng.random() < _LABEL_SHARE
        tracking = f"9400{self._rng.randrange(10**17, 10**18)}"
        extra: JSON = {}
        order_fields = {"serviceCode": service, "packageCode": package}
        if label:
            shipment, changed = world.shipping.ship_with_label(
                order,
                self._shipment(world, order, day, tracking, carrier, service, package),
                {"shipDate": day, "carrierCode": carrier, **order_fields},
                now_ms=now,
            )
            extra["shipment_id"] = int(shipment["shipmentId"])
        else:
            fulfillment, changed = world.shipping.mark_as_shipped(
                order,
                carrier_code=carrier,
                ship_day=day,
                tracking_number=tracking,
                notify_sales_channel=False,
                order_fields=order_fields,
                now_ms=now,
            )
            extra["fulfillment_id"] = int(fulfillment["fulfillmentId"])
        return self._entry(path, "ship", changed, str(order["orderStatus"]), **extra)

    def _shipment(
        self,
        world: World,
        order: JSON,
        day: str,
        tracking: str,
        carrier: str,
        service: str,
        package: str,
    ) -> JSON:
        """The shipment of a label the workload buys for ``order`` (a random cost)."""
        adv = order["advancedOptions"] or {}
        return {
            "shipDate": day,
            "shipmentCost": 5 + self._rng.randrange(1500) / 100,
            "insuranceCost": 0,
            "trackingNumber": tracking,
            "isReturnLabel": False,
            "carrierCode": carrier,
            "serviceCode": service,
            "packageCode": package,
            "confirmation": order["confirmation"] or "none",
            "warehouseId": adv.get("warehouseId") or world.default_warehouse_id,
            "marketplaceNotified": False,
            "shipTo": order["shipTo"],
            "weight": order["weight"],
            "dimensions": order["dimensions"],
            "insuranceOptions": order["insuranceOptions"],
            "advancedOptions": {
                "billToParty": None,
                "billToAccount": None,
                "billToPostalCode": None,
                "billToCountryCode": None,
                "storeId": adv.get("storeId"),
            },
            "shipmentItems": order["items"],
        }

    def _burst(self, world: World, path: str) -> list[Mutation]:
        orders = world.orders
        t0 = orders.stamp()
        second_end = (t0 // MS_PER_SECOND + 1) * MS_PER_SECOND
        n = self.burst_size
        if self.burst_distinct is None:
            room = second_end - t0
            d = min(n, room)
            stamps = [t0 + (k * d // n) * room // d for k in range(n)]
        else:
            d = min(self.burst_distinct, n)
            if t0 + d > second_end:
                t0 = second_end
            stamps = [t0 + k * d // n for k in range(n)]
        orders.advance_stamp(stamps[-1])
        with world.changes.action():  # one import: one batch, one webhook per store
            return [self._insert(world, path, ms, "burst") for ms in stamps]

    def _insert(self, world: World, path: str, create_ms: int, kind: MutationKind) -> Mutation:
        orders = world.orders
        rng = self._rng
        self._created += 1
        if orders.count:
            base = orders.generated(rng.randrange(orders.count))
        else:
            base = world.build_order({"orderNumber": "x", "orderStatus": "awaiting_shipment"}, None)
        status = "awaiting_payment" if rng.randrange(4) == 0 else "awaiting_shipment"
        if rng.random() < 0.5:
            back = rng.randrange(3 * MS_PER_DAY)
        else:
            back = rng.randrange(self.max_backdate_days * MS_PER_DAY)
        order_ms = (create_ms - back) // MS_PER_SECOND * MS_PER_SECOND
        paid = status != "awaiting_payment"
        item_ts = format_item_ts(create_ms)
        ship_by = order_ms // MS_PER_DAY + 3 + rng.randrange(5)
        items = [
            {
                **item,
                "orderItemId": world.allocate_item_id(),
                "createDate": item_ts,
                "modifyDate": item_ts,
            }
            for item in base.get("items") or ()
        ]
        intl = dict(base.get("internationalOptions") or {})
        if intl.get("customsItems"):
            intl["customsItems"] = [
                {**c, "customsItemId": world.allocate_customs_item_id()}
                for c in intl["customsItems"]
            ]
        adv = dict(base.get("advancedOptions") or {})
        adv["warehouseId"] = adv.get("warehouseId") or world.default_warehouse_id
        order = dict(base)
        order.pop("orderId", None)
        order.update(
            orderNumber=f"MUT-{self._created:07d}",
            orderKey=str(uuid.UUID(int=rng.getrandbits(128))),
            orderDate=format_order_ts(order_ms),
            createDate=format_order_ts(create_ms),
            modifyDate=format_order_ts(create_ms),
            paymentDate=(
                format_order_ts(min(order_ms + rng.randrange(600) * MS_PER_SECOND, create_ms))
                if paid
                else None
            ),
            shipByDate=format_order_ts(ship_by * MS_PER_DAY),
            orderStatus=status,
            amountPaid=base.get("orderTotal", 0) if paid else 0,
            paymentMethod=(base.get("paymentMethod") or "Credit Card") if paid else None,
            carrierCode=None,
            serviceCode=None,
            packageCode=None,
            shipDate=None,
            holdUntilDate=None,
            externallyFulfilled=False,
            externallyFulfilledBy=None,
            externallyFulfilledById=None,
            externallyFulfilledByName=None,
            items=items,
            internationalOptions=intl,
            advancedOptions=adv,
        )
        stored = orders.put(order)
        return self._entry(path, kind, stored, None, order_date=stored["orderDate"])


def _norm(path: str) -> str:
    return "/" + path.strip().strip("/").lower()
