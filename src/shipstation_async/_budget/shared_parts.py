"""The shared budget's vocabulary and pure rules: grants, settings, the view, local shares.

Kept apart from :mod:`.shared`, whose :class:`~.shared.SharedLedger` does the I/O.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs

from .._sansio import RateLimitHeaders
from ..limits import RateLimit
from .backend import Grant, RateLimitStatus
from .ledger import Ledger
from .redis_store import ScriptArg
from .server_view import ServerView

_log = logging.getLogger("shipstation_async.scheduler")

Policy = Literal["share", "wait"]


@attrs.define(eq=False)
class SharedGrant(Grant):
    """A grant of the shared budget (``local``: the local share's grant while degraded)."""

    id: str = ""
    granted_at: str = "0"  # Redis time of the grant, as the script gave it
    local: Grant | None = None
    local_ledger: Ledger | None = None


@attrs.define
class SharedView:
    """What the latest replies from Redis said of the whole budget."""

    held: int = 0
    in_flight: int = 0
    processes: int = 1
    rank: int | None = None  # this process's place among them (from a renewal), when known
    rate_limited: int = 0
    sent: int = 0
    limit: int | None = None
    next_at: float | None = None  # the clock time the last refusal named

    def read_grant(self, reply: Sequence[Any]) -> None:
        """Take in a GRANT script's ``grant`` reply."""
        self.held, self.processes = int(reply[4]), int(reply[5])
        self.sent, self.rate_limited = int(reply[6]), int(reply[7])
        self.next_at = None

    def read_refusal(self, reply: Sequence[Any], now: float) -> float | None:
        """Take in a GRANT script's ``wait`` or ``answer`` reply: when to ask again, if known."""
        self.processes = int(reply[3])
        self.next_at = now + float(reply[1]) if reply[0] == b"wait" else None
        return self.next_at

    def read_renewal(self, reply: Sequence[Any]) -> int:
        """Take in a RENEW script's ``ok`` reply; returns the epoch Redis reported."""
        self.held, self.in_flight = int(reply[1]), int(reply[2])
        self.processes, self.rank = int(reply[3]), int(reply[4])
        self.rate_limited, self.sent = int(reply[7]), int(reply[8])
        self.limit = int(reply[9]) if int(reply[9]) > 0 else None
        return int(reply[6])


@attrs.frozen
class SharedSettings:
    """How a shared budget runs: its keys, lease, policy when Redis is away."""

    keys: tuple[str, ...]
    lease: float
    on_unavailable: Policy
    retry_every: float
    poll: float


def held_slots(mine: dict[str, float], now: float, in_flight_for: float) -> list[ScriptArg]:
    """RESTORE's triples for this process's live slots; ended ones are dropped from ``mine``.

    ``mine`` maps a grant id to when its slot frees (inf while in flight: then it is held
    ``in_flight_for`` more).
    """
    triples: list[ScriptArg] = []
    for grant_id, frees in list(mine.items()):
        if frees <= now:
            del mine[grant_id]
            continue
        flying = frees == math.inf
        triples += [grant_id, in_flight_for if flying else frees - now, int(flying)]
    return triples


def share_of(limit: int, processes: int, rank: int | None) -> int:
    """A process's part of ``limit`` among ``processes``: the parts never sum past it.

    The remainder goes to the first processes in Redis's order; without a known rank, none.
    """
    processes = max(1, processes)
    extra = rank is not None and rank < limit % processes
    return limit // processes + int(extra)


def local_share(
    plan: RateLimit,
    name: str,
    clock: Callable[[], float],
    mine: list[float],
    now: float,
    full_until: float,
) -> Ledger:
    """The local share: nothing more until ``full_until``, then ``plan`` per window.

    The other processes may have filled the window just before Redis went away (what Redis
    last said of them is already old), so the share starts full: only a window later can the
    shares safely add up to L. This process's own slots (``mine``: when each frees, inf
    while in flight) stay held as Redis would hold them.
    """
    local = Ledger(plan, name=name, clock=clock)
    for frees in mine:
        if now < frees < math.inf:
            local.hold_until(frees)
    for _ in range(plan.requests):
        local.hold_until(full_until)
    return local


def pause_of(headers: RateLimitHeaders | None, period: float) -> float:
    """How long a 429 holds every request, at most (the header's upper bound)."""
    if headers is not None and headers.retry_after is not None:
        return headers.retry_after
    if headers is not None and headers.reset is not None:
        return headers.reset + (1.0 if headers.reset_floored else 0.0)
    return period


class ResetReading:
    """Rule 4 for one process of a shared budget: which way a whole-second Reset is rounded.

    Learned from this process's own answers as the in-process ledger learns it (an answer
    alone in a window it opened anchors the window's end; later answers of that window rule
    roundings out). Redis then gets the Reset's true upper bound, not a second more.
    """

    def __init__(self) -> None:
        self._view = ServerView()

    @property
    def learned(self) -> str:
        """The roundings that fit the answers (``"unknown"`` while every one does)."""
        return self._view.rounding.learned

    def complete_args(
        self,
        headers: RateLimitHeaders | None,
        sent_at: float | None,
        at: float,
        plan: tuple[int, float],
    ) -> list[ScriptArg]:
        """COMPLETE's header arguments ('' for each one missing).

        Limit, Remaining, Reset's upper bound, Retry-After, and Reset as said. ``plan``:
        (limit, period).
        """
        if headers is None:
            return ["", "", "", "", ""]
        view = self._view
        if headers.remaining is not None:
            observed = sent_at is not None
            sent = sent_at if sent_at is not None else at
            view.count(headers, headers.remaining, sent, at, observed, plan[1], plan[0])
        upper = None if headers.reset is None else headers.reset + view.reset_offsets(headers)[1]
        values = (headers.limit, headers.remaining, upper, headers.retry_after, headers.reset)
        return ["" if value is None else value for value in values]


def margin_taught(name: str, margin: float) -> None:
    """Say that slots are held longer from now on (rule 6, or another process's margin)."""
    _log.warning(
        "budget %s: holding each slot %.3f s beyond W from now on, as every process sharing "
        "the key does (the answers showed the server still counting requests after their "
        "slots were freed, or another process is configured with this margin)",
        name,
        margin,
    )


def limit_reported(name: str, limit: int, configured: int) -> None:
    """Say that a server reported a lower limit than configured (every process adopts it)."""
    _log.warning(
        "budget %s: server reports a limit of %d requests (configured %d)", name, limit, configured
    )


def shared_status(
    view: SharedView,
    plan: RateLimit,
    queued: dict[str, int],
    paused_for: float,
    degraded: bool,
    now: float,
    reset_rounding: str,
) -> RateLimitStatus:
    """What ``rate_limit_status()`` shows of a shared budget: the latest replies' view."""
    limit = min(plan.requests, view.limit or plan.requests)
    paused_for = max(0.0, paused_for)
    return RateLimitStatus(
        limit=limit,
        period=plan.period,
        margin=plan.effective_margin,
        reserve=min(plan.effective_reserve, limit - 1),
        remaining=0 if paused_for else max(0, limit - view.held),
        next_slot_in=None if view.next_at is None else max(0.0, view.next_at - now),
        sent_in_window=view.held,
        in_flight=view.in_flight,
        reserved=0,
        queued=queued,
        rate_limited=view.rate_limited,
        paused_for=paused_for,
        probing=False,
        total_sent=view.sent,
        server_remaining=None,
        server_reset_in=None,
        shared=True,
        processes=view.processes,
        degraded=degraded,
        reset_rounding=reset_rounding,
    )
