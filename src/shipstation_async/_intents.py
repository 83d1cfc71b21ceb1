"""The process's label purchases by what tells them apart: one in flight per key, and their traces.

Process-wide and thread-safe (clients on other threads and event loops share it), keyed by
the account (API and key digest) and :func:`._settle.label_key`:

- flights: the purchase in progress for a key, so that a second caller with the same key
  waits for it instead of overlapping it (two overlapping purchases with one key could not be
  told apart when settling);
- claims: shipment ids that earlier purchases of the key were answered with (or settled to),
  which a settlement must not take for the trace of a later one;
- unresolved: the last purchase of a key whose outcome is not known yet (remembered as soon
  as it is ambiguous, by ``create_label`` and ``create_label_once`` alike, forgotten only
  once settled), settled again before ``create_label_once`` buys anything more under the
  key and refused by ``create_label`` until then, so that neither an interrupted settlement
  nor an unsettled purchase is ever taken for one that did not happen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._send_watch import SEND_WATCH, SendWatch
from ._settle import label_key
from .errors import AmbiguousRequestError, TransportError, WriteAttempt

if TYPE_CHECKING:
    from .client import ShipStation

Key = tuple[str, tuple[str, ...]]
"""(account, label key)."""

CLAIM_SECONDS = 3600.0
"""How long a claimed shipment id is remembered (long past any settlement's horizon)."""
UNRESOLVED_SECONDS = 86_400.0
"""How long an unresolved purchase is remembered before it is forgotten."""
LOOP_CHECK_SECONDS = 1.0
"""How often a caller waiting for a purchase on another event loop checks that loop is open."""
CANCELLED_ON_THE_WIRE = "the caller was cancelled after the request went out; it ran on unseen"
LOOP_CLOSED_ON_THE_WIRE = "its event loop was closed after the request went out"


class FlightLost(Exception):
    """The purchase a caller waited for will never end: its event loop was closed under it."""


@attrs.define(eq=False)
class Flight:
    """A purchase in progress: what it asked for exactly, and its outcome when known.

    ``sharers``: the callers waiting for this very purchase (its starter included);
    ``drop``: drops the purchase if nothing went out yet (callable from any thread);
    ``abandoned``: a caller gave up on it after it went out (its label is kept for them);
    ``loop``: the event loop it runs on; ``on_lost``: remembers what it may have done, should
    that loop be closed before it ends (see :meth:`Intents.free_if_lost`).
    """

    intent: str
    outcome: concurrent.futures.Future[Any] = attrs.field(factory=concurrent.futures.Future)
    sharers: int = 1
    drop: Callable[[], None] | None = None
    abandoned: bool = False
    loop: asyncio.AbstractEventLoop | None = None
    on_lost: Callable[[], None] | None = None
    lost: bool = False


class Intents:
    """The registry (one per process: :data:`INTENTS`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._flights: dict[Key, Flight] = {}
        self._claims: dict[Key, dict[int, float]] = {}  # shipment id -> forgotten at
        self._unresolved: dict[Key, tuple[float, str, AmbiguousRequestError]] = {}
        # id(attempt) -> (forgotten at, the attempt, its certain settlement)
        self._settled: dict[int, tuple[float, object, Any]] = {}
        # Labels bought for a caller that had given up: (forgotten at, intent, label)
        self._unseen: dict[Key, tuple[float, str, Any]] = {}

    def join(
        self, key: Key, intent: str, loop: asyncio.AbstractEventLoop | None = None
    ) -> tuple[Flight, bool]:
        """The flight for ``key``: a new one this caller runs on ``loop`` (True), or not (False)."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = Flight(intent, loop=loop)
            return flight, True

    def free_if_lost(self, key: Key, flight: Flight) -> None:
        """Free ``key`` if ``flight``'s event loop was closed before it ended.

        Its task will never run again (``loop.close()`` left it pending): what it may have
        bought is remembered as unresolved first, so the next purchase settles it rather than
        buying blindly, and those waiting for it are told (:class:`FlightLost`).
        """
        loop = flight.loop
        if loop is None or not loop.is_closed():
            return
        with self._lock:
            if self._flights.get(key) is not flight:
                return  # it ended, or another caller freed it
        if flight.on_lost is not None and self.lose_once(flight):
            flight.on_lost()  # before the key is free: a next purchase must see it
        self.land(key, flight)
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            flight.outcome.set_exception(FlightLost())

    def share(self, flight: Flight) -> None:
        """One more caller waits for ``flight``'s own outcome."""
        with self._lock:
            flight.sharers += 1

    def unshare(self, flight: Flight) -> int:
        """A caller of ``flight`` gave up waiting; how many still wait."""
        with self._lock:
            flight.sharers -= 1
            return flight.sharers

    def land(self, key: Key, flight: Flight) -> None:
        """``flight`` is over: the key is free for the next purchase."""
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]

    def claim(self, key: Key, shipment_ids: Iterable[int | None]) -> None:
        """Remember shipment ids that belong to purchases of ``key`` already accounted for.

        A settlement's own finds are claimed too: it answers again from :meth:`settled`, so
        only later purchases' settlements see them, which must not take them.
        """
        now = self._clock()
        with self._lock:
            claims = self._claims.setdefault(key, {})
            for shipment_id in shipment_ids:
                if shipment_id:  # a test label's 0 (or None) names no shipment
                    claims[shipment_id] = now + CLAIM_SECONDS
            self._prune(now)

    def claimed(self, key: Key) -> frozenset[int]:
        """The shipment ids claimed for ``key`` and not yet forgotten."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            return frozenset(self._claims.get(key, ()))

    def leave_unresolved(self, key: Key, intent: str, error: AmbiguousRequestError) -> None:
        """Remember a purchase of ``key`` (asking for ``intent``) whose outcome is unknown."""
        with self._lock:
            self._unresolved[key] = (self._clock() + UNRESOLVED_SECONDS, intent, error)

    def unresolved(self, key: Key) -> tuple[str, AmbiguousRequestError] | None:
        """The unresolved purchase of ``key`` and what it asked for, if one is remembered."""
        now = self._clock()
        with self._lock:
            entry = self._unresolved.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._unresolved[key]
                return None
            return entry[1], entry[2]

    def lose_once(self, flight: Flight) -> bool:
        """True the first time only: what a lost flight may have done is remembered once.

        (A waiter on another loop and, later, the collector closing its coroutine both find
        it lost; the second must not remember it again once it was settled.)
        """
        with self._lock:
            if flight.lost:
                return False
            flight.lost = True
            return True

    def remember_lost(self, key: Key, intent: str, attempt: WriteAttempt, why: str) -> None:
        """Remember a purchase whose answer will not be seen (``why``), unless one already is."""
        with self._lock:
            if key not in self._unresolved:
                error = lost_answer(attempt, why)
                self._unresolved[key] = (self._clock() + UNRESOLVED_SECONDS, intent, error)

    def leave_unseen(self, key: Key, intent: str, label: object) -> None:
        """A purchase of ``key`` bought ``label`` after a caller had given up on it."""
        with self._lock:
            self._unseen[key] = (self._clock() + UNRESOLVED_SECONDS, intent, label)

    def take_unseen(self, key: Key, intent: str) -> Any:
        """The label an abandoned purchase of exactly ``intent`` bought (once), or None."""
        with self._lock:
            entry = self._unseen.get(key)
            if entry is None or entry[0] <= self._clock() or entry[1] != intent:
                return None
            del self._unseen[key]
            return entry[2]

    def settle_finally(self, attempt: object, settlement: object) -> None:
        """``attempt`` settled with certainty: settling it again answers ``settlement``."""
        now = self._clock()
        with self._lock:
            self._settled[id(attempt)] = (now + UNRESOLVED_SECONDS, attempt, settlement)
            for ident in [i for i, (until, _, _) in self._settled.items() if until <= now]:
                del self._settled[ident]

    def settled(self, attempt: object) -> Any:
        """The certain settlement of ``attempt`` (the very object), or None."""
        with self._lock:
            entry = self._settled.get(id(attempt))
            return entry[2] if entry is not None and entry[1] is attempt else None

    def resolve(self, key: Key, attempt: object | None = None) -> None:
        """The unresolved purchase of ``key`` is settled.

        ``attempt``: only if the purchase remembered is that one (a ``WriteAttempt``): a later
        unresolved purchase of the same key stays remembered.
        """
        with self._lock:
            entry = self._unresolved.get(key)
            if entry is not None and (attempt is None or entry[2].attempt is attempt):
                del self._unresolved[key]

    def _prune(self, now: float) -> None:
        for key in [k for k, ids in self._claims.items() if not ids or min(ids.values()) <= now]:
            live = {i: t for i, t in self._claims[key].items() if t > now}
            if live:
                self._claims[key] = live
            else:
                del self._claims[key]


def purchase_key(client: ShipStation, path: str, body: Mapping[str, Any]) -> Key:
    """The registry key of a label purchase: the account and what tells purchases apart."""
    return (client._account, label_key(path, body))


def purchase_intent(body: Mapping[str, Any]) -> str:
    """What a purchase asked for, as one comparable text (its body, keys sorted)."""
    return json.dumps(body, sort_keys=True, default=str)


INTENTS = Intents()
"""The process's registry."""


async def outcome_of(key: Key, flight: Flight) -> Any:
    """``flight``'s outcome (it runs on any event loop); :class:`FlightLost` if that loop closed."""
    waiting = asyncio.wrap_future(flight.outcome)
    while not waiting.done():
        # Not cancelled when this caller is: wrap_future would pass that on to the flight.
        await asyncio.wait((waiting,), timeout=LOOP_CHECK_SECONDS)
        if not waiting.done():
            INTENTS.free_if_lost(key, flight)
    return waiting.result()


def remember_cancelled(key: Key, intent: str, watch: SendWatch) -> None:
    """Remember the write of ``watch`` whose caller was cancelled with it on the wire."""
    if watch.cancelled is not None:
        INTENTS.remember_lost(key, intent, watch.cancelled, CANCELLED_ON_THE_WIRE)


def remember_on_wire(key: Key, intent: str, watch: SendWatch) -> None:
    """Remember the write of ``watch`` that went out before its event loop was closed."""
    if watch.sent and watch.on_wire is not None:
        INTENTS.remember_lost(key, intent, watch.on_wire(), LOOP_CLOSED_ON_THE_WIRE)


def lost_answer(attempt: WriteAttempt, why: str) -> AmbiguousRequestError:
    """The error remembered for a write that went out and whose answer will not be seen."""
    cause = TransportError(why, method=attempt.method, path=attempt.path, sent=True)
    return AmbiguousRequestError(
        f"{why}: it may have taken effect",
        method=attempt.method,
        path=attempt.path,
        cause=cause,
        attempt=attempt,
    )


@contextlib.asynccontextmanager
async def one_at_a_time(
    key: Key, intent: str = "", *, remember: bool = True
) -> AsyncIterator[SendWatch]:
    """Hold ``key`` for the duration: writes under one key in this process never overlap.

    For writes whose outcome is settled by comparing states (a label's shipments, add funds'
    balance), which a second write of the same kind in flight would confuse. With
    ``remember``, a write of the block that went out and whose answer its caller will not see
    (the caller was cancelled, or the event loop closed under it) is remembered as
    unresolved, under ``intent``. Yields the block's watch (the task's, meanwhile).
    """
    loop = asyncio.get_running_loop()
    watch = SendWatch()
    while True:
        flight, mine = INTENTS.join(key, uuid.uuid4().hex, loop)
        if mine:
            break
        with contextlib.suppress(Exception):
            await outcome_of(key, flight)

    def lost() -> None:
        if remember:
            remember_on_wire(key, intent, watch)

    flight.on_lost = lost
    token = SEND_WATCH.set(watch)
    try:
        yield watch
    except asyncio.CancelledError:
        if remember:
            remember_cancelled(key, intent, watch)
        raise
    except BaseException:
        # Torn down with its loop (the garbage collector closing it), unless already found lost.
        if loop.is_closed() and INTENTS.lose_once(flight):
            lost()
        raise
    finally:
        with contextlib.suppress(ValueError):  # closed by the collector, in another context
            SEND_WATCH.reset(token)
        INTENTS.land(key, flight)
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            flight.outcome.set_result(None)
