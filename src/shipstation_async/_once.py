"""Buying a label at most once per intent, and one write at a time per key, in this process.

The purchase itself is ``create_label``; what this adds is the bookkeeping around it, in the
process-wide registry (:mod:`._intents`):

- purchases that cannot be told apart afterwards (one :func:`._settle.label_key`) run one at a
  time, and a caller asking for exactly the purchase under way shares its outcome;
- an ambiguous purchase is remembered as unresolved at once, and forgotten only when settled:
  a settlement cut short (a job's timeout, a loop's shutdown) is taken up again by the next
  purchase of the key instead of being taken for one that did not happen;
- the purchase runs on even when its caller is cancelled once it may have gone out (those
  waiting for it learn its outcome); before that, the last caller's cancellation drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._intents import (
    INTENTS,
    Flight,
    FlightLost,
    Key,
    outcome_of,
    purchase_intent,
    purchase_key,
    remember_on_wire,
)
from ._send_watch import SEND_WATCH, SendWatch
from .errors import AmbiguousRequestError, ShipStationError
from .models import Label
from .settlement import Settlement, check_by_hand, settle

if TYPE_CHECKING:
    from .client import ShipStation

_log = logging.getLogger("shipstation_async")


class _Interrupted(Exception):
    """The purchase a caller waited for ended without an outcome of its own: go again."""


async def buy_label_once(
    client: ShipStation,
    path: str,
    body: Mapping[str, Any],
    buy: Callable[[], Awaitable[Label]],
) -> Label:
    """Buy a label at most once for this intent (the body of ``create_label_once``)."""
    key = purchase_key(client, path, body)
    intent = purchase_intent(body)
    while True:
        flight, mine = INTENTS.join(key, intent, asyncio.get_running_loop())
        if mine:
            return await _run(client, key, flight, intent, path, body, buy)
        same = flight.intent == intent
        if same:
            INTENTS.share(flight)
        try:
            label: Label = await outcome_of(key, flight)
        except (_Interrupted, FlightLost):
            continue  # it ended before it could tell: take it up (the registry remembers)
        except ShipStationError:
            if same:
                raise
            continue  # a different purchase under the same key ended: now this one
        except asyncio.CancelledError:
            if same:
                _give_up(flight)
            raise
        if same:
            return label


async def _run(
    client: ShipStation,
    key: Key,
    flight: Flight,
    intent: str,
    path: str,
    body: Mapping[str, Any],
    buy: Callable[[], Awaitable[Label]],
) -> Label:
    watch = SendWatch()
    context = contextvars.copy_context()
    context.run(SEND_WATCH.set, watch)
    task = asyncio.get_running_loop().create_task(
        _purchase(client, key, intent, path, body, buy), context=context
    )
    task.add_done_callback(functools.partial(_land, key, flight))
    loop = asyncio.get_running_loop()

    def drop_unsent() -> None:
        # Nothing went out and nobody waits for it: drop it (on its own loop).
        if not task.done() and not watch.sent:
            task.cancel()

    def drop() -> None:
        with contextlib.suppress(RuntimeError):  # its loop closed: nothing runs there any more
            loop.call_soon_threadsafe(drop_unsent)

    def lost() -> None:
        # Its loop was closed under it (see Intents.free_if_lost).
        if task.done():  # it ended, but its loop closed before it could say so: say it now
            _land(key, flight, task)
        elif not body.get("testLabel"):
            remember_on_wire(key, intent, watch)

    flight.drop = drop
    flight.on_lost = lost
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        _give_up(flight, watch.sent)
        raise


def _give_up(flight: Flight, sent: bool = True) -> None:
    """A caller of ``flight`` was cancelled: the last one drops it if it is still unsent."""
    if sent:
        flight.abandoned = True  # if it buys, the caller's retry gets that label
    if INTENTS.unshare(flight) == 0 and flight.drop is not None:
        flight.drop()


def _land(key: Key, flight: Flight, task: asyncio.Future[Label]) -> None:
    INTENTS.land(key, flight)
    if flight.abandoned and not task.cancelled() and task.exception() is None:
        INTENTS.leave_unseen(key, flight.intent, task.result())
    if task.cancelled():
        # Dropped unsent, or cut short by its loop's end (the registry remembers an
        # ambiguous purchase): whoever waits takes it up.
        flight.outcome.set_exception(_Interrupted())
    elif task.exception() is not None:
        flight.outcome.set_exception(task.exception())
    else:
        flight.outcome.set_result(task.result())


async def _purchase(
    client: ShipStation,
    key: Key,
    intent: str,
    path: str,
    body: Mapping[str, Any],
    buy: Callable[[], Awaitable[Label]],
) -> Label:
    unseen = INTENTS.take_unseen(key, intent)
    if isinstance(unseen, Label):
        return unseen  # bought for a caller that gave up: this is its retry
    prior = INTENTS.unresolved(key)
    if prior is not None:
        prior_intent, prior_error = prior
        settlement = await settle(client, prior_error)  # claims what it finds, resolves
        if settlement.outcome == "still_ambiguous":
            raise _still_ambiguous(prior_error, settlement, earlier=True)
        INTENTS.resolve(key)
        if settlement.outcome == "bought" and prior_intent == intent:
            return _recovered(settlement)
        # Not bought, or bought for a purchase that asked for something else: now this one.
    attempts = 0
    while True:
        attempts += 1
        try:
            return await buy()
        except AmbiguousRequestError as exc:
            if not body.get("testLabel"):  # a test label costs nothing to forget
                INTENTS.leave_unresolved(key, intent, exc)  # before settling, which may not end
            settlement = await settle(client, exc)  # claims what it finds, resolves
            if settlement.outcome == "still_ambiguous":
                raise _still_ambiguous(exc, settlement, earlier=False) from None
            INTENTS.resolve(key)
            if settlement.outcome == "bought":
                return _recovered(settlement)
            if attempts >= client._retry.max_attempts:
                exc.cause.add_note(
                    f"settled: none of the {attempts} attempts bought a label "
                    "(the retry policy's max_attempts)"
                )
                raise exc.cause from None
            _log.info("%s: settled as not bought; buying again", path)


def _recovered(settlement: Settlement) -> Label:
    label = settlement.label()
    if len(settlement.labels) > 1:
        _log.warning(
            "%s: %d labels match one purchase (bought elsewhere on the account too?); "
            "returning the first",
            settlement.attempt.path,
            len(settlement.labels),
        )
    assert label is not None  # bought means a shipment was found
    return label


def _still_ambiguous(
    error: AmbiguousRequestError, settlement: Settlement, *, earlier: bool
) -> AmbiguousRequestError:
    prefix = "an earlier purchase of this label is still unresolved: " if earlier else ""
    return AmbiguousRequestError(
        prefix + check_by_hand(settlement),
        method=error.method,
        path=error.path,
        cause=error.cause,
        attempt=error.attempt,
        settlement=settlement,
    )
