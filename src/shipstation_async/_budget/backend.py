"""The seam between the waiting rooms and a budget store: what one budget must offer.

A *budget backend* keeps one (API, key) budget's window accounting and decides every grant by
the rules in :mod:`shipstation_async._budget`. The waiting rooms (:mod:`.waiting`) and the
client's request loop use nothing else of it, so a store shared by many processes (Redis:
atomic scripts on the server's clock) can stand in for the in-process :class:`~.ledger.Ledger`
without touching them. This module holds the vocabulary of that seam: :class:`Grant`,
:class:`RateLimitStatus`, :class:`Listener` and :class:`BudgetBackend`.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import attrs

from .._sansio import Lane, RateLimitHeaders
from ..events import BudgetDegraded, BudgetShared
from ..limits import RateLimit


@attrs.define(eq=False)
class Grant:
    """A slot handed to one attempt: reserved, then sent, then done."""

    lane: Lane
    epoch: int
    probe: bool
    state: Literal["reserved", "sent", "done"] = "reserved"
    sent_at: float | None = None
    margin: float = 0.0  # the budget's margin when it was sent


@attrs.frozen
class RateLimitStatus:
    """A snapshot of one API key's budget as this process sees it.

    ``remaining`` is how many sends an interactive call could make right now, ``next_slot_in``
    the seconds until the next slot frees when none is left (None when waiting on a response),
    ``sent_in_window`` the sends still holding a slot (in flight, or answered less than
    ``period + margin`` seconds ago), ``margin`` the seconds a slot is held beyond ``period``
    (the configured margin plus what the answers showed the server needs). ``queued`` counts
    waiters per lane on the calling event loop; ``rate_limited`` counts 429s seen since start;
    ``reset_rounding`` is what was learned of the server's whole-second Reset (``"floor"``,
    ``"ceil"``, ``"nearest"`` or ``"unknown"``). With a shared budget (Redis), ``shared`` is
    True, ``sent_in_window`` and ``in_flight`` count every process's sends, ``processes`` is
    how many processes used the key lately and ``degraded`` whether this process runs on its
    local share because Redis did not answer.
    """

    limit: int
    period: float
    margin: float
    reserve: int
    remaining: int
    next_slot_in: float | None
    sent_in_window: int
    in_flight: int
    reserved: int
    queued: dict[str, int]
    rate_limited: int
    paused_for: float
    probing: bool
    total_sent: int
    server_remaining: int | None
    server_reset_in: float | None
    reset_rounding: str = "unknown"
    shared: bool = False
    processes: int = 1
    degraded: bool = False


class Listener(Protocol):
    """A waiting room to wake when the budget may have room again (any thread may call)."""

    @property
    def has_waiters(self) -> bool:
        """Whether any request waits there for a slot."""

    def wake_threadsafe(self) -> None:
        """Run a dispatch soon on the waiting room's own event loop."""


class Listeners:
    """The waiting rooms a budget wakes when it may have room again (held weakly; any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: tuple[weakref.ref[Listener], ...] = ()

    def add(self, listener: Listener) -> None:
        """Register ``listener`` (rooms that went away are dropped meanwhile)."""
        with self._lock:
            alive = tuple(ref for ref in self._refs if ref() is not None)
            self._refs = (*alive, weakref.ref(listener))

    def notify(self) -> None:
        """Wake every registered room that has requests waiting."""
        for ref in self._refs:
            listener = ref()
            if listener is not None and listener.has_waiters:
                listener.wake_threadsafe()


class BudgetBackend(Protocol):
    """The operations the waiting rooms and the request loop need from one budget.

    Every method is safe to call from any thread. ``now``/``at`` default to :attr:`clock`'s
    reading; a backend whose clock lives elsewhere (Redis TIME) converts. A grant is settled
    exactly once, by :meth:`release`, :meth:`complete` or :meth:`fail`; settling it again does
    nothing.
    """

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock deadlines and ``at`` times are read on."""

    @property
    def epoch(self) -> int:
        """Moves with every 429 pause and every probe: an older grant queues again before sending.

        So nothing granted before a probe goes out while the probe is on its way.
        """

    @property
    def rate_limit(self) -> RateLimit:
        """The plan the budget was configured with."""

    @property
    def transitions(self) -> int:
        """Switches between a shared store and a local share so far (0 for a local budget)."""

    def local_share(self) -> int | None:
        """The requests per window spent alone while a shared store is away (None: shared)."""

    def mode_log(self) -> Sequence[tuple[int, BudgetDegraded | BudgetShared]]:
        """The latest switches (up to 64), each with its number in ``transitions``."""

    def configure(self, rate_limit: RateLimit) -> None:
        """Adopt a (new) plan. Slots already held stay held."""

    def try_grant(self, lane: Lane, now: float | None = None) -> Grant | None:
        """Reserve a slot for ``lane`` now, or return None if the budget has none to give."""

    def next_opportunity(self, lane: Lane, now: float | None = None) -> float | None:
        """Earliest clock time at which ``try_grant(lane)`` may succeed (None: on an answer)."""

    def release(self, grant: Grant) -> None:
        """Give back a slot that was granted but never sent."""

    def mark_sent(self, grant: Grant, at: float | None = None) -> None:
        """Stamp the moment the request went out (at or before its headers were written)."""

    def complete(
        self,
        grant: Grant,
        status: int,
        headers: RateLimitHeaders | None,
        at: float | None = None,
    ) -> None:
        """Account for a response that arrived ``at``: free its slot W later, follow headers."""

    def fail(self, grant: Grant, *, sent: bool, at: float | None = None) -> None:
        """Account for an attempt with no response; ``sent``: it may have gone out."""

    def paused_until(self) -> float:
        """Clock time until which a 429 pause holds every request (-inf when not paused)."""

    def add_listener(self, listener: Listener) -> None:
        """Register a waiting room to be woken when the budget may have room again."""

    def snapshot(self, queued: dict[str, int], now: float | None = None) -> RateLimitStatus:
        """A :class:`RateLimitStatus` of the budget; ``queued`` comes from a waiting room."""


def emit_modes(
    budget: BudgetBackend, seen: int, emit: Callable[[BudgetDegraded | BudgetShared], None]
) -> int:
    """Emit the budget's switches numbered after ``seen``, oldest first; the count now.

    Every switch is emitted, not only the latest: a client that made no call while Redis was
    away still reports that it was (``BudgetDegraded``, then ``BudgetShared``).
    """
    for number, event in budget.mode_log():
        if number > seen:
            emit(event)
    return budget.transitions
