"""Settling an ambiguous write: finding out whether a label purchase (or other write) took effect.

After :class:`~shipstation_async.errors.AmbiguousRequestError`, ``await ss.settle(exc)`` looks
for the trace the write would have left (the shipment of a label, the fulfillment of a
mark-as-shipped, the new warehouse, the carrier's balance) until it finds it or until the
server has surely finished processing the request, and answers with a :class:`Settlement`:

- ``"bought"``: it took effect; ``found`` holds what it made (for labels, the shipments);
- ``"not_bought"``: it did not, and it no longer can: sending it again buys once;
- ``"still_ambiguous"``: no certainty within the wait (the looks failed, the wait was cut
  short, or the write leaves no trace to look for): check by hand before sending it again.

The rules (when to look, what matches, the server's clock) are in ``._settle``; this module
does the looking, through the client's budget like any other call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ._intents import INTENTS, Key, purchase_key
from ._sansio import Operation
from ._settle import (
    ADD_FUNDS_PATH,
    CREATE_WAREHOUSE_PATH,
    LABEL_PATHS,
    LOOK_RETRIES,
    MARK_SHIPPED_PATH,
    FundsCheck,
    Outcome,
    PollSchedule,
    created_since,
    describe_sent,
    earliest_creation,
    filter_start,
    fulfillment_matches,
    funds_outcome,
    horizon_seconds,
    label_charges,
    label_key_matches,
    refinements_agree,
    server_date,
    warehouse_matches,
)
from .errors import (
    AmbiguousRequestError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    ShipStationError,
    TransportError,
    WriteAttempt,
)
from .limits import is_seconds
from .models import Carrier, Fulfillment, Label, Shipment, Warehouse
from .models.converter import converter
from .resources._base import decode_page, paged_query, structure_list

if TYPE_CHECKING:
    from .client import ShipStation

__all__ = ["Outcome", "Settlement", "horizon_seconds"]

_log = logging.getLogger("shipstation_async")


@attrs.frozen
class Settlement:
    """The outcome of settling an ambiguous write (see :meth:`ShipStation.settle`).

    ``outcome``: ``"bought"`` (it took effect), ``"not_bought"`` (it did not, and no longer
    can) or ``"still_ambiguous"`` (no certainty; ``reason`` says why and what to check by
    hand). ``found``: what the write made, when bought: :class:`Shipment` records for a label
    purchase (more than one when identical purchases were made elsewhere on the account),
    :class:`Fulfillment` for a mark-as-shipped, :class:`Warehouse` for a created warehouse,
    the :class:`Carrier` with its new balance for added funds. ``attempt`` is what was sent
    and when; ``looks`` how many times the account was checked.
    """

    outcome: Outcome
    found: tuple[Any, ...]
    attempt: WriteAttempt
    looks: int
    reason: str

    @property
    def labels(self) -> tuple[Shipment, ...]:
        """The shipments of the labels found (empty unless a label purchase was bought)."""
        return tuple(item for item in self.found if isinstance(item, Shipment))

    def label(self) -> Label | None:
        """The first label found, as a :class:`Label`, or None.

        It carries the shipment's id, cost and tracking number but no ``label_data``: the V1
        API cannot download a label's PDF again (ShipStation's web app can reprint it).
        """
        shipments = self.labels
        if not shipments:
            return None
        first = min(shipments, key=lambda s: s.shipment_id or 0)
        return Label(
            shipment_id=first.shipment_id,
            order_id=first.order_id,
            order_number=first.order_number,
            shipment_cost=first.shipment_cost,
            insurance_cost=first.insurance_cost,
            tracking_number=first.tracking_number,
        )


@attrs.frozen
class _Look:
    """What one look found: matches, a verdict where it gives its own, and the server's clock."""

    found: tuple[Any, ...]
    earliest: datetime
    verdict: Outcome | None = None
    server_clock: bool = True
    doubt: str | None = None
    """Why a ``still_ambiguous`` verdict could not conclude."""


async def settle(
    client: ShipStation,
    error: AmbiguousRequestError,
    *,
    max_wait: float | None = None,
    horizon: float | None = None,
    exclude: frozenset[int] | None = None,
) -> Settlement:
    """Find out whether the write behind ``error`` took effect (see the module docstring).

    ``horizon``: seconds after the send by which the server has surely finished processing
    (default :func:`horizon_seconds` of the client's timeout and the slowest answer seen);
    ``max_wait``: seconds to wait from now at most (default: until the horizon has passed,
    and as long again while looks fail or cannot conclude, then up to
    :data:`~._settle.LOOK_RETRIES` more looks while they fail transiently); a failed look is
    retried after a doubling, jittered wait; ``exclude``: shipment ids
    known to belong to other purchases (default: those this process's purchases of the same
    label were answered with).
    """
    attempt = _checked_attempt(client, error)
    final = INTENTS.settled(attempt)
    if isinstance(final, Settlement):
        return final  # certain once: nothing can change it (later labels are not its own)
    if horizon is None:
        horizon = horizon_seconds(attempt.timeout, attempt.slowest_answer, attempt.min_horizon)
    elif not is_seconds(horizon) or horizon < 0:
        raise InvalidRequestError(f"horizon must be >= 0 seconds, got {horizon!r}", field="horizon")
    if max_wait is not None and (not is_seconds(max_wait) or max_wait < 0):
        raise InvalidRequestError(
            f"max_wait must be >= 0 seconds or None, got {max_wait!r}", field="max_wait"
        )
    look = _LOOKS.get(attempt.path)
    doubt = _why_unsettleable(attempt)
    if look is None or doubt is not None:
        return _finish(attempt, "still_ambiguous", (), 0, doubt or "no check exists for it")
    if exclude is None:
        exclude = (
            INTENTS.claimed(purchase_key(client, attempt.path, attempt.body))
            if attempt.path in LABEL_PATHS
            else frozenset()
        )
    if attempt.path == ADD_FUNDS_PATH:
        # Whatever it finds, the caller has been told: the carrier may be funded again.
        INTENTS.resolve(funds_key(client._account, str(attempt.body.get("carrierCode"))))
    now = client._ledger.clock()
    settled_at = attempt.sent_at + horizon
    deadline = now + max_wait if max_wait is not None else max(now, settled_at) + horizon
    schedule = PollSchedule(attempt.sent_at, horizon, deadline)
    retries = LOOK_RETRIES if max_wait is None else 0
    settlement = await _Settling(client, attempt, look, schedule, deadline, exclude, retries).run()
    if attempt.path in LABEL_PATHS and settlement.outcome != "still_ambiguous":
        # Certain now: a purchase of the same label may go ahead (see resources.buy_label),
        # and a later one's settlement must not take this one's label for its own.
        INTENTS.settle_finally(attempt, settlement)
        key = purchase_key(client, attempt.path, attempt.body)
        INTENTS.resolve(key, attempt)
        if settlement.outcome == "bought":
            INTENTS.claim(key, (s.shipment_id for s in settlement.labels))
    return settlement


_LookFn = Callable[
    ["ShipStation", WriteAttempt, datetime | None, float, frozenset[int]], Awaitable["_Look"]
]


class _Settling:
    """One settlement's looks, on the schedule, until one of them decides."""

    def __init__(
        self,
        client: ShipStation,
        attempt: WriteAttempt,
        look: _LookFn,
        schedule: PollSchedule,
        deadline: float,
        exclude: frozenset[int],
        retries: int,
    ) -> None:
        self.client, self.attempt, self.look = client, attempt, look
        self.schedule, self.deadline, self.exclude = schedule, deadline, exclude
        self.clock = client._ledger.clock
        self.looks = 0
        self.last_look: float | None = None
        # The server-clock bound the previous look learnt: the next look's filter. Until there
        # is one, a look is filtered by this host's clock and cannot prove an absence.
        self.trusted_since: datetime | None = None
        self.failure: ShipStationError | None = None
        self.inconclusive = False
        self.doubt: str | None = None
        self.failures = 0  # failed looks in a row
        # Whether one more look is worth making once the wait is over, and how many may be
        # (none when the caller set max_wait: its wait ends when it says).
        self.retry_due = False
        self.retries_left = retries
        self.patient = retries > 0
        # ShipStation may list no shipment for a test label: only finding one is proof.
        self.proof_of_absence = not (attempt.path in LABEL_PATHS and attempt.body.get("testLabel"))

    async def run(self) -> Settlement:
        """Look until found, until an absence is proved, or until the deadline."""
        while True:
            now = self.clock()
            at = self.schedule.next_look(looks=self.looks, last_look=self.last_look, now=now)
            if at is None:
                if not (self.retry_due and self.retries_left > 0):
                    return self._finish("still_ambiguous", (), self._doubt())
                # The wait is over, but the last look failed for a while only (or just
                # learnt the server's clock): one more look, never more than LOOK_RETRIES.
                self.retries_left -= 1
                at = now
            if at > now:
                await asyncio.sleep(at - now)
            began = self.clock()
            self.looks += 1
            seen = await self._look(began)
            if seen is None:
                continue
            if seen.verdict == "bought" or (seen.verdict is None and seen.found):
                return self._finish("bought", seen.found, "found what it made")
            if self._proves_absence(seen, began):
                horizon = self.schedule.horizon
                reason = f"nothing was made: no trace {horizon:g} s after the send"
                return self._finish("not_bought", (), reason)

    async def _look(self, began: float) -> _Look | None:
        """One look; None when it taught nothing (it failed, or could not conclude)."""
        remaining = max(0.0, self.deadline - self.clock())
        if self.patient:  # no max_wait: a look made late still gets a timeout's worth
            remaining = max(remaining, self.attempt.timeout)
        try:
            seen = await self.look(
                self.client, self.attempt, self.trusted_since, remaining, self.exclude
            )
        except ShipStationError as exc:
            self.failure, self.inconclusive = exc, True
            self.failures += 1
            self.retry_due = isinstance(exc, TransportError | ServerError | RateLimitError)
            _log.info("settling %s: a look failed (%s)", self.attempt.path, exc)
        else:
            self.failure, self.inconclusive = None, seen.verdict == "still_ambiguous"
            self.doubt = seen.doubt
            self.failures, self.retry_due = 0, False
            if not self.inconclusive:
                return seen
            # A later look may conclude: on the schedule, as a look that found nothing (each
            # look is a request from the budget).
            self.last_look = began
            return None
        # Look again after a wait that doubles while looks fail, drawn from its upper half
        # so that settlements failing together do not ask again together.
        gap = self.schedule.retry_gap(max(1, self.failures))
        pause = random.uniform(gap / 2, gap)
        if not (self.retry_due and self.retries_left):
            pause = min(pause, max(0.0, self.deadline - self.clock()))
        await asyncio.sleep(pause)
        return None

    def _proves_absence(self, seen: _Look, began: float) -> bool:
        # Only a look filtered and cut by the server's own clock (its Date) proves anything:
        # without one, this host's clock stands in, and it may be minutes off.
        trusted = self.trusted_since is not None and seen.server_clock
        if seen.server_clock:
            self.trusted_since = seen.earliest
        past_horizon = self.schedule.proves_absence(began)
        # A look past the horizon that cannot prove anything is followed by one at once.
        self.last_look = began if trusted or not past_horizon else None
        self.retry_due = not trusted and seen.server_clock and past_horizon
        return trusted and past_horizon and self.proof_of_absence

    def _doubt(self) -> str:
        if self.failure is not None:
            return f"the last look failed ({self.failure})"
        if self.inconclusive:
            if self.doubt is not None:
                return self.doubt
            return "the balance moved by neither the amount nor nothing, net of labels charged"
        if not self.proof_of_absence:
            return "no shipment appeared, but ShipStation may list none for a test label"
        if self.trusted_since is None and self.looks:
            return "no answer carried the server's Date, so no look could prove an absence"
        return f"the wait ended before the server had surely finished ({self.schedule.horizon:g} s)"

    def _finish(self, outcome: Outcome, found: tuple[Any, ...], reason: str) -> Settlement:
        return _finish(self.attempt, outcome, found, self.looks, reason)


_NEEDS = {
    "/orders/createlabelfororder": ("orderId", "carrierCode", "serviceCode", "packageCode"),
    "/shipments/createlabel": ("shipTo", "carrierCode", "serviceCode", "packageCode"),
    MARK_SHIPPED_PATH: ("orderId",),
    CREATE_WAREHOUSE_PATH: ("originAddress",),
    ADD_FUNDS_PATH: ("carrierCode", "amount"),
}


def _why_unsettleable(attempt: WriteAttempt) -> str | None:
    """Why what was sent cannot be looked for (a write made by hand with an odd body)."""
    needs = _NEEDS.get(attempt.path)
    if needs is None:
        return f"no check exists for {attempt.path}"
    body = attempt.body
    if not isinstance(body, Mapping) or any(body.get(key) is None for key in needs):
        return "the request's body does not say what to look for"
    if attempt.path == "/shipments/createlabel" and not isinstance(body["shipTo"], Mapping):
        return "the request's body does not say what to look for"
    if attempt.path == ADD_FUNDS_PATH and not isinstance(attempt.baseline, FundsCheck):
        return "no balance was read before the funding, so nothing can be compared"
    return None


def _checked_attempt(client: ShipStation, error: AmbiguousRequestError) -> WriteAttempt:
    if not isinstance(error, AmbiguousRequestError):
        raise InvalidRequestError(
            f"settle() takes an AmbiguousRequestError, got {type(error).__name__}", field="error"
        )
    attempt = error.attempt
    if attempt is None:
        raise InvalidRequestError(
            "this AmbiguousRequestError does not say what was sent, so it cannot be settled",
            field="error",
        )
    if attempt.account != client._account:
        raise InvalidRequestError(
            "this AmbiguousRequestError came from a client on another account or API; settle "
            "it with a client on the same key and base_url",
            field="error",
        )
    return attempt


def _finish(
    attempt: WriteAttempt, outcome: Outcome, found: tuple[Any, ...], looks: int, reason: str
) -> Settlement:
    _log.info(
        "settled %s %s: %s after %d look(s) (%s)",
        attempt.method,
        attempt.path,
        outcome,
        looks,
        reason,
    )
    return Settlement(outcome=outcome, found=found, attempt=attempt, looks=looks, reason=reason)


def check_by_hand(settlement: Settlement) -> str:
    """What the caller should check by hand after a settlement ended still ambiguous."""
    attempt = settlement.attempt
    what = describe_sent(attempt.path, attempt.body)
    if attempt.path in LABEL_PATHS:
        where = "ShipStation's shipments (or the carrier's account) for"
    elif attempt.path == ADD_FUNDS_PATH:
        where = "the carrier's funding history for"
    else:
        where = "the account for"
    return f"{settlement.reason}; check {where} {what} before sending it again"


# -- looks ---------------------------------------------------------------------------------------


async def _get(
    client: ShipStation, operation: Operation, max_wait: float
) -> tuple[Any, str | None, float, float]:
    """One call through the budget: its JSON, the server's ``Date``, when and what wall time."""
    headers: dict[str, str] = {}
    data = await client.request(operation, max_wait=max_wait, headers_out=headers)
    return data, headers.get("Date"), client._ledger.clock(), time.time()


def _filter_from(attempt: WriteAttempt, trusted_since: datetime | None, now: float) -> datetime:
    if trusted_since is not None:
        return filter_start(trusted_since)
    # The first look has only this host's clock to go by; a wide margin, and no proof.
    return filter_start(
        earliest_creation(
            date_header=None, answered_at=now, sent_at=attempt.sent_at, wall_now=time.time()
        )
    )


async def _pages(
    client: ShipStation,
    path: str,
    envelope: str,
    cls: type[Any],
    filters: Mapping[str, Any],
    max_wait: float,
) -> tuple[list[Any], str | None, float, float]:
    """Every page of a listing, and the first page's ``Date``, arrival and wall time."""
    items: list[Any] = []
    page, first = 1, None
    while True:
        query = paged_query(page, 500, sort_by="CreateDate", **filters)
        data, date, answered, wall = await _get(
            client, Operation("GET", path, query=query), max_wait
        )
        first = first or (date, answered, wall)
        result = decode_page(data, envelope, cls, page=page, page_size=500)
        items.extend(result.items)
        if page >= result.pages:
            return items, *first
        page += 1


def _bound(attempt: WriteAttempt, date: str | None, answered: float, wall: float) -> datetime:
    return earliest_creation(
        date_header=date, answered_at=answered, sent_at=attempt.sent_at, wall_now=wall
    )


async def _look_labels(
    client: ShipStation,
    attempt: WriteAttempt,
    trusted_since: datetime | None,
    max_wait: float,
    exclude: frozenset[int],
) -> _Look:
    sent = attempt.body
    filters: dict[str, Any] = {
        "create_date_start": _filter_from(attempt, trusted_since, client._ledger.clock())
    }
    if attempt.path == "/orders/createlabelfororder":
        filters["order_id"] = sent["orderId"]
    else:
        filters["carrier_code"] = sent["carrierCode"]
    shipments, date, answered, wall = await _pages(
        client, "/shipments", "shipments", Shipment, filters, max_wait
    )
    earliest = _bound(attempt, date, answered, wall)
    keyed = [
        s
        for s in shipments
        if s.shipment_id not in exclude
        and created_since(s.create_date, earliest)
        and label_key_matches(attempt.path, sent, s)
    ]
    found = tuple(s for s in keyed if refinements_agree(sent, s))
    if keyed and not found:
        # The server may report a purchase otherwise than it was sent (a weight in other
        # units, a confirmation or ship date of its own): such a shipment may be this one.
        ids = ", ".join(str(s.shipment_id) for s in keyed)
        doubt = (
            f"shipment {ids} was made since with the purchase's order (or recipient), carrier, "
            "service and package, but another ship date, weight or confirmation than was "
            "sent: it may be this purchase; check it in ShipStation before buying again"
        )
        return _Look((), earliest, "still_ambiguous", date is not None, doubt)
    return _Look(found, earliest, server_clock=date is not None)


async def _look_fulfillments(
    client: ShipStation,
    attempt: WriteAttempt,
    trusted_since: datetime | None,
    max_wait: float,
    exclude: frozenset[int],
) -> _Look:
    sent = attempt.body
    filters = {
        "order_id": sent["orderId"],
        "create_date_start": _filter_from(attempt, trusted_since, client._ledger.clock()),
    }
    records, date, answered, wall = await _pages(
        client, "/fulfillments", "fulfillments", Fulfillment, filters, max_wait
    )
    earliest = _bound(attempt, date, answered, wall)
    found = tuple(
        f
        for f in records
        if created_since(f.create_date, earliest) and fulfillment_matches(sent, f)
    )
    return _Look(found, earliest, server_clock=date is not None)


async def _look_warehouses(
    client: ShipStation,
    attempt: WriteAttempt,
    trusted_since: datetime | None,
    max_wait: float,
    exclude: frozenset[int],
) -> _Look:
    data, date, answered, wall = await _get(client, Operation("GET", "/warehouses"), max_wait)
    earliest = _bound(attempt, date, answered, wall)
    found = tuple(
        w
        for w in structure_list(data, Warehouse)
        if created_since(w.create_date, earliest) and warehouse_matches(attempt.body, w)
    )
    return _Look(found, earliest, server_clock=date is not None)


async def _look_funds(
    client: ShipStation,
    attempt: WriteAttempt,
    trusted_since: datetime | None,
    max_wait: float,
    exclude: frozenset[int],
) -> _Look:
    baseline = attempt.baseline
    sent = attempt.body
    code = str(sent["carrierCode"])
    query = {"carrierCode": code}
    data, date, answered, wall = await _get(
        client, Operation("GET", "/carriers/getcarrier", query=query), max_wait
    )
    earliest = _bound(attempt, date, answered, wall)
    carrier = converter.structure(data, Carrier)
    until = server_date(date)
    if not isinstance(baseline, FundsCheck) or until is None or carrier.balance is None:
        return _Look((), earliest, verdict="still_ambiguous", server_clock=date is not None)
    shipments, *_ = await _pages(
        client,
        "/shipments",
        "shipments",
        Shipment,
        {"carrier_code": code, "create_date_start": filter_start(baseline.read_at)},
        max_wait,
    )
    spent = label_charges(shipments, carrier_code=code, since=baseline.read_at, until=until)
    amount = Decimal(str(sent["amount"]))
    verdict = (
        None
        if spent is None
        else funds_outcome(
            amount=amount, before=baseline.balance, after=carrier.balance, spent=spent
        )
    )
    if verdict is None:
        # Inconclusive: a later look may fit; it must not pass for an absence.
        return _Look((), earliest, verdict="still_ambiguous")
    return _Look((carrier,) if verdict == "bought" else (), earliest, verdict=verdict)


_LOOKS = {
    "/orders/createlabelfororder": _look_labels,
    "/shipments/createlabel": _look_labels,
    MARK_SHIPPED_PATH: _look_fulfillments,
    CREATE_WAREHOUSE_PATH: _look_warehouses,
    ADD_FUNDS_PATH: _look_funds,
}


async def read_funds_baseline(
    client: ShipStation, carrier_code: str, options: Mapping[str, Any]
) -> FundsCheck | None:
    """The carrier's balance and the server's time of reading it, before adding funds.

    None when the answer lacks a balance or a ``Date``: the funding then cannot be settled.
    """
    headers: dict[str, str] = {}
    operation = Operation("GET", "/carriers/getcarrier", query={"carrierCode": carrier_code})
    data = await client.request(operation, headers_out=headers, **options)
    carrier = converter.structure(data, Carrier)
    read_at = server_date(headers.get("Date"))
    if carrier.balance is None or read_at is None:
        return None
    return FundsCheck(carrier_code=carrier_code, balance=carrier.balance, read_at=read_at)


def funds_key(account: str, carrier_code: str) -> Key:
    """The registry key of a carrier's fundings."""
    return (account, ("/carriers/addfunds", carrier_code))
