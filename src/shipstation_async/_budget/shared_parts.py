"""The shared budget's vocabulary and pure rules: grants, settings, the view, local shares.

Kept apart from :mod:`.shared`, whose :class:`~.shared.SharedLedger` does the I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import attrs

from .._sansio import RateLimitHeaders
from ..limits import RateLimit
from .backend import Grant, RateLimitStatus
from .ledger import Ledger
from .redis_store import ScriptArg

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


def header_args(headers: RateLimitHeaders | None) -> list[ScriptArg]:
    """The rate-limit headers as COMPLETE's arguments ('' for each one missing)."""
    if headers is None:
        return ["", "", "", ""]
    reset = None
    if headers.reset is not None:
        reset = headers.reset + (1.0 if headers.reset_floored else 0.0)
    return [
        "" if value is None else value
        for value in (headers.limit, headers.remaining, reset, headers.retry_after)
    ]


def shared_status(
    view: SharedView,
    plan: RateLimit,
    queued: dict[str, int],
    paused_for: float,
    degraded: bool,
    now: float,
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
    )
