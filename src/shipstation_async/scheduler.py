"""The shared request budget: one window ledger per API key, one waiting room per event loop.

The :class:`Ledger` is pure bookkeeping behind a thread lock with an injectable clock: it grants
slots, records when sends went out, follows the server's rate-limit headers and pauses on 429.
It never sleeps and never touches asyncio, so it is unit-tested with a fake clock. It is shared
process-wide per (API, key), so clients on other threads and other event loops, and clients made
one per request or one per ``asyncio.run()``, all spend one budget.

The :class:`LoopScheduler` is the asyncio side, one per (ledger, event loop): it queues waiters
in two lanes, hands out slots as the ledger allows, wakes itself with a timer when the window
will next have room, and enforces ``max_wait`` and cancellation.

Rules (see the project's issue on the core engine for the reasoning):
1. at most L sends in any interval of W + margin, stamped when the request headers go out;
2. the whole budget is usable at once, except that at cold start, after a long idle spell and
   after a 429 pause one request (the probe) goes alone and the rest wait for its headers;
3. the server's headers only ever reduce room below the local count, until its window
   resets: room = Remaining less our requests it may not have counted; a stale header (the
   answer to an older request) can only lower it, the answer to a later request replaces it;
4. a 429 pauses everyone until the window resets;
6. ``bulk`` leaves a reserve of slots to ``interactive`` calls.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Literal

import attrs
import yarl

from ._sansio import Lane, RateLimitHeaders
from .errors import RateLimitError
from .limits import RateLimit

_log = logging.getLogger("shipstation_async.scheduler")


_MAX_ROOMS = 8  # server windows tracked at once; real servers need one or two

# Requests sent this close together on separate connections may reach the server in either order.
_REORDER = 0.05

# Beyond this many landed sends to weigh one answer against (those sent from just before its
# request on: a high request rate, or an answer that took long), room takes the safe bound,
# every one of them uncounted, instead of a per-send scan. The bound never allows more sends;
# it may hold back up to that many until the answer to a later request replaces it.
_SCAN_LIMIT = 64

LANES: tuple[Lane, ...] = ("interactive", "bulk")


@attrs.define(eq=False)
class Grant:
    """A slot handed to one attempt: reserved, then sent, then done."""

    lane: Lane
    epoch: int
    probe: bool
    state: Literal["reserved", "sent", "done"] = "reserved"
    sent_at: float | None = None


@attrs.define
class _Room:
    """What the server's headers allow: ``room`` more sends until its window resets.

    The reset instant is known only within ``[earliest, latest)``: the server computed Reset
    somewhere between our send and our receipt, and may have floored it. Answers from the same
    server window narrow the interval, so a floored Reset costs far less than a whole second.
    ``basis`` is when the request whose answer set ``room`` was sent: an answer to a request
    sent later is a fresher view of the server's count and replaces it; an older one (a stale
    header) can only lower it. ``doubt`` is how much of the answer's Remaining was held back for
    our sends it may not have counted yet (those in flight then): once they have all landed,
    one probe can find out whether the server had counted them.
    """

    room: int
    earliest: float
    latest: float
    basis: float = -math.inf
    doubt: int = 0


@attrs.frozen
class RateLimitStatus:
    """A snapshot of one API key's budget as this process sees it.

    ``remaining`` is how many sends an interactive call could make right now, ``next_slot_in``
    the seconds until the next slot frees when none is left (None when waiting on a response),
    ``sent_in_window`` the sends in the last ``period + margin`` seconds. ``queued`` counts
    waiters per lane on the calling event loop; ``rate_limited`` counts 429s seen since start.
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


class Ledger:
    """Process-wide, thread-safe window accounting for one (API, key) budget.

    ``limit``, ``period``, ``margin``, ``span`` (period + margin: the interval in which at most
    ``limit`` sends may fall) and ``reserve`` are set by :meth:`configure`, and ``limit`` and
    ``reserve`` lowered when the server reports a smaller plan; nothing else writes them.
    """

    def __init__(
        self, rate_limit: RateLimit, *, name: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        # Send times, sorted; the first ``_expired`` are older than W + margin and are deleted
        # in batches (one at a time would move a high limit's whole list on every grant).
        self._stamps: list[float] = []
        self._expired = 0
        self._reserved = 0
        self._in_flight_sent: list[float] = []  # send times of those in flight, sorted
        # Sends that landed within the last W + margin, by send time: (sent_at, Remaining of
        # their answer or None, the reset interval it implied).
        self._landed_log: list[tuple[float, int | None, float, float]] = []
        self._landed_times: list[float] = []  # the log's send times, for bisecting in C
        self._rooms: list[_Room] = []
        self._paused_until = -math.inf
        self._needs_probe = True
        self._probe_out = False
        self._epoch = 0
        self._last_seen = -math.inf
        self._server_remaining: int | None = None
        self._server_reset_at: float | None = None
        self.rate_limited = 0
        self._consecutive_429 = 0
        self.total_sent = 0
        self._listeners: tuple[weakref.ref[LoopScheduler], ...] = ()
        self.configure(rate_limit)

    # -- configuration ---------------------------------------------------------------------

    def configure(self, rate_limit: RateLimit) -> None:
        """Adopt a (new) plan. Sends already stamped stay counted."""
        with self._lock:
            self.rate_limit = rate_limit
            self.limit = rate_limit.requests
            self.period = rate_limit.period
            self.margin = rate_limit.effective_margin
            self.span = self.period + self.margin
            self._reserve_override = rate_limit.reserve
            self.reserve = rate_limit.effective_reserve

    @property
    def epoch(self) -> int:
        """Increases with every 429 pause; a grant from an older epoch must be re-queued."""
        return self._epoch

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock the ledger reads."""
        return self._clock

    # -- internals (lock held) ---------------------------------------------------------------

    def _purge(self, now: float) -> None:
        horizon = now - self.span
        stamps = self._stamps
        expired = self._expired
        if expired < len(stamps) and stamps[expired] <= horizon:
            expired = bisect.bisect_right(stamps, horizon, expired)
            if expired * 4 >= len(stamps):
                del stamps[:expired]
                expired = 0
            self._expired = expired
        margin = self.margin
        for room in self._rooms:
            if room.latest + margin <= now:
                self._rooms = [r for r in self._rooms if r.latest + margin > now]
                break
        if (
            not self._needs_probe
            and not self._in_flight_sent
            and not self._reserved
            and now - self._last_seen > 2 * self.span
        ):
            # Idle for two windows: another process may have spent the budget meanwhile.
            self._needs_probe = True

    def _sent_in_window(self) -> int:
        return len(self._stamps) - self._expired

    def _free(self) -> int:
        free = self.limit - self._sent_in_window() - self._reserved
        for room in self._rooms:
            if room.room < free:
                free = room.room
        return free

    def _need(self, lane: Lane) -> int:
        return 1 if lane == "interactive" else 1 + self.reserve

    def _doubt_blocks(self, need: int) -> bool | None:
        """Whether only doubt keeps ``need`` slots back (None: no, or nothing keeps them back).

        True when a probe could go now, False when it could once the answers in flight are in.
        A room that subtracted sends the server may not have counted stays low until a fresher
        answer, and at the end of a burst none may come: a single send (a probe) brings one.
        """
        waiting = bool(self._in_flight_sent or self._reserved or self._probe_out)
        blocked = False
        for room in self._rooms:
            if room.room < need:
                if room.room + room.doubt < need:
                    return None
                blocked = True
        return (not waiting) if blocked else None

    # -- granting ----------------------------------------------------------------------------

    def try_grant(self, lane: Lane, now: float | None = None) -> Grant | None:
        """Reserve a slot for ``lane`` now, or return None if the budget has none to give."""
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            if now < self._paused_until or (self._needs_probe and self._probe_out):
                return None
            need = self._need(lane)
            probe = self._needs_probe
            if self._free() < need:
                local_free = self.limit - self._sent_in_window() - self._reserved
                if local_free < need or not self._doubt_blocks(need):
                    return None
                probe = True  # its answer is the fresh count the doubtful room waits for
            if probe:
                self._probe_out = True
            self._reserved += 1
            for room in self._rooms:
                room.room -= 1
            return Grant(lane, self._epoch, probe)

    def next_opportunity(self, lane: Lane, now: float | None = None) -> float | None:
        """Earliest clock time at which ``try_grant(lane)`` may succeed.

        None means no time-based change will help: the ledger is waiting on a response (a probe
        or sends in flight) and will be notified by it.
        """
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            if now < self._paused_until:
                return self._paused_until
            if self._needs_probe and self._probe_out:
                return None
            need = self._need(lane)
            when = now
            deficit = need - (self.limit - self._sent_in_window() - self._reserved)
            if deficit > 0:
                if deficit > self._sent_in_window():
                    return None
                when = max(when, self._stamps[self._expired + deficit - 1] + self.span)
            doubt = self._doubt_blocks(need) if deficit <= 0 else None
            if doubt is not None:
                return when if doubt else None  # a probe now, or after the answers in flight
            for room in self._rooms:
                if room.room < need:
                    when = max(when, room.latest + self.margin)
            return when

    def release(self, grant: Grant) -> None:
        """Give back a slot that was granted but never sent (the caller was cancelled)."""
        with self._lock:
            if grant.state != "reserved":
                return
            grant.state = "done"
            self._reserved -= 1
            for room in self._rooms:
                room.room += 1
            if grant.probe:
                self._probe_out = False
        self._notify()

    def mark_sent(self, grant: Grant, at: float | None = None) -> None:
        """Stamp the moment the request headers went out: from now on the send is counted."""
        with self._lock:
            if grant.state != "reserved":
                return
            self._record_send(grant, self._clock() if at is None else at)

    def _record_send(self, grant: Grant, at: float) -> None:
        grant.state = "sent"
        grant.sent_at = at
        self._reserved -= 1
        self.total_sent += 1
        if not self._stamps or at >= self._stamps[-1]:
            self._stamps.append(at)
        else:
            bisect.insort(self._stamps, at)
        bisect.insort(self._in_flight_sent, at)

    def _landed(self, grant: Grant) -> None:
        """A sent attempt is no longer in flight (answered or failed)."""
        index = bisect.bisect_left(self._in_flight_sent, grant.sent_at or 0.0)
        if index < len(self._in_flight_sent):
            del self._in_flight_sent[index]

    def _log_landed(
        self, sent_at: float, remaining: int | None, earliest: float, latest: float
    ) -> None:
        log = self._landed_log
        # Only answers to requests in flight now (or sent later) will look at the log, and
        # only back to their own send less the reorder allowance: older entries can go.
        oldest = self._in_flight_sent[0] if self._in_flight_sent else sent_at
        horizon = min(oldest, sent_at) - _REORDER
        times = self._landed_times
        if times and times[0] < horizon:
            cut = bisect.bisect_left(times, horizon)
            del log[:cut], times[:cut]
        entry = (sent_at, remaining, earliest, latest)
        if not times or sent_at >= times[-1]:
            log.append(entry)
            times.append(sent_at)
        else:
            index = bisect.bisect_right(times, sent_at)
            log.insert(index, entry)
            times.insert(index, sent_at)

    def complete(
        self,
        grant: Grant,
        status: int,
        headers: RateLimitHeaders | None,
        at: float | None = None,
    ) -> None:
        """Account for a response: follow its rate-limit headers, and pause on a 429."""
        with self._lock:
            if grant.state == "done":
                return  # settled already (aiohttp re-sent it under a new grant)
            if at is None:
                at = self._clock()
            observed = grant.state == "sent"
            if not observed:
                # No trace hook saw the send (a user's own session): stamp it now, the latest
                # it can have happened, which keeps the window accounting on the safe side.
                self._record_send(grant, at)
            self._landed(grant)
            grant.state = "done"
            self._last_seen = at
            if headers is not None:
                self._follow_headers(grant, headers, at, observed)
            if grant.sent_at is not None and (headers is None or headers.remaining is None):
                self._log_landed(grant.sent_at, None, -math.inf, math.inf)
            if status == 429:
                self._pause(headers, at)
            else:
                self._consecutive_429 = 0
                if grant.probe:
                    self._needs_probe = False
                    self._probe_out = False
        self._notify()

    def fail(self, grant: Grant, *, sent: bool, at: float | None = None) -> None:
        """Account for an attempt with no response; ``sent``: it may have gone out."""
        with self._lock:
            if grant.state == "done":
                return  # settled already: do not touch another request's probe
            at = self._clock() if at is None else at
            if grant.state == "reserved":
                if sent:
                    self._record_send(grant, at)
                else:
                    self._reserved -= 1
                    for room in self._rooms:
                        room.room += 1
            if grant.state == "sent":
                self._landed(grant)
                if grant.sent_at is not None:
                    # It may have been counted: until shown otherwise, it takes a slot.
                    self._log_landed(grant.sent_at, None, -math.inf, math.inf)
            grant.state = "done"
            if grant.probe:
                self._probe_out = False  # the next queued request probes instead
        self._notify()

    def _uncounted(self, sent_at: float, remaining: int, earliest: float, latest: float) -> int:
        """Our sends that a Remaining computed for a request sent at ``sent_at`` may miss.

        Those still in flight (a server may count a request only once it is done), those
        granted but not yet sent, and those that landed but were sent after it (or just before:
        requests on separate connections can reach the server in either order), unless their
        own answer, from the same window, showed more left: then the server counted them first.
        """
        log = self._landed_log
        start = bisect.bisect_left(self._landed_times, sent_at - _REORDER)
        base = len(self._in_flight_sent) + self._reserved
        local_free = self.limit - self._sent_in_window() - self._reserved
        candidates = len(log) - start
        if remaining - base - candidates >= local_free or candidates > _SCAN_LIMIT:
            # Even counting every one of them, the server leaves more room than our own count;
            # or there are so many that a scan would cost more than the safe bound: count all.
            return base + candidates
        landed = 0
        for _, other_remaining, other_earliest, other_latest in log[start:]:
            counted_before = (
                other_remaining is not None
                and other_remaining > remaining
                and other_earliest <= latest
                and earliest <= other_latest
            )
            landed += not counted_before
        return base + landed

    def _follow_headers(
        self, grant: Grant, headers: RateLimitHeaders, at: float, observed: bool
    ) -> None:
        if headers.limit is not None and headers.limit < self.limit:
            # A plan change (or a stricter server): follow it down. A higher figure is not
            # trusted to raise room; configure RateLimit for a bigger plan.
            _log.warning(
                "budget %s: server reports a limit of %d requests (configured %d); adopting it",
                self.name,
                headers.limit,
                self.limit,
            )
            self.limit = headers.limit
            self.reserve = (
                min(self._reserve_override, self.limit - 1)
                if self._reserve_override is not None
                else min(max(1, self.limit // 10), self.limit - 1)
            )
        if headers.remaining is None:
            return
        reset = headers.reset if headers.reset is not None else self.period
        sent_at = grant.sent_at if grant.sent_at is not None else at
        earliest = sent_at + reset
        # A floored Reset may be up to a second short.
        latest = at + reset + (1.0 if headers.reset_floored else 0.0)
        # Room = Remaining less our other requests still in flight (and granted, about to go);
        # for a send the hooks saw, also less those sent after it that have landed since.
        if observed:
            uncounted = self._uncounted(sent_at, headers.remaining, earliest, latest)
        else:
            uncounted = len(self._in_flight_sent) + self._reserved
        room = max(0, headers.remaining - uncounted)
        doubt = headers.remaining - room
        self._server_remaining = headers.remaining
        self._server_reset_at = at + reset
        for existing in self._rooms:
            if existing.basis == math.inf:
                continue  # several windows folded into one: it only waits to expire
            if existing.earliest <= latest and earliest <= existing.latest:
                # The same server window: narrow its reset instant.
                existing.earliest = max(existing.earliest, earliest)
                existing.latest = min(existing.latest, latest)
                if observed and sent_at > existing.basis:
                    # A later request's answer is the fresher count. Answers overtake each
                    # other on separate connections, and one counted in an earlier Remaining
                    # but still in flight then was subtracted twice: room recovers here
                    # instead of staying low for the rest of the window.
                    existing.room = room
                    existing.basis = sent_at
                    existing.doubt = doubt
                else:
                    # A stale header (an older request's answer) can only lower room, and
                    # what room could be once the doubt is cleared.
                    bound = min(existing.room + existing.doubt, room + doubt)
                    existing.room = min(existing.room, room)
                    existing.doubt = bound - existing.room
                self._log_landed(sent_at, headers.remaining, earliest, latest)
                return
        basis = sent_at if observed else -math.inf
        self._rooms.append(
            _Room(room=room, earliest=earliest, latest=latest, basis=basis, doubt=doubt)
        )
        if len(self._rooms) > _MAX_ROOMS:
            # A server whose Reset does not count down would add a room per answer: fold the
            # two oldest into one that is never less strict (the lower room, the wider span).
            first, second = self._rooms[0], self._rooms[1]
            self._rooms[:2] = [
                _Room(
                    room=min(first.room, second.room),
                    earliest=min(first.earliest, second.earliest),
                    latest=max(first.latest, second.latest),
                    basis=math.inf,  # folded: no answer narrows, raises or matches it again
                )
            ]
        self._log_landed(sent_at, headers.remaining, earliest, latest)

    def _pause(self, headers: RateLimitHeaders | None, at: float) -> None:
        self.rate_limited += 1
        self._consecutive_429 += 1
        if headers is not None and headers.retry_after is not None:
            delay = headers.retry_after
        elif headers is not None and headers.reset is not None:
            delay = headers.reset + (1.0 if headers.reset_floored else 0.0)
        else:
            delay = self.period
        if self._consecutive_429 > 1:
            # Still full after the reset it announced (a sliding window frees one slot at a
            # time, and may count our rejected probes): back off, up to a whole period.
            backoff = self.period / self.limit * 2 ** (self._consecutive_429 - 1)
            delay = max(delay, min(self.period, backoff))
        until = at + delay + self.margin
        if until > self._paused_until:
            self._paused_until = until
        self._needs_probe = True
        self._probe_out = False
        self._epoch += 1
        _log.warning(
            "budget %s: 429 Too Many Requests; holding every request for %.2f s, then one probe",
            self.name,
            until - at,
        )

    # -- listeners ---------------------------------------------------------------------------

    def add_listener(self, scheduler: LoopScheduler) -> None:
        """Register a loop's scheduler to be woken when the budget may have room again."""
        with self._lock:
            alive = tuple(ref for ref in self._listeners if ref() is not None)
            self._listeners = (*alive, weakref.ref(scheduler))

    def _notify(self) -> None:
        for ref in self._listeners:
            scheduler = ref()
            if scheduler is not None and scheduler.has_waiters:
                scheduler.wake_threadsafe()

    # -- observation -------------------------------------------------------------------------

    def paused_until(self) -> float:
        """Clock time until which a 429 pause holds every request (-inf when not paused)."""
        return self._paused_until

    def snapshot(self, queued: dict[str, int], now: float | None = None) -> RateLimitStatus:
        """A :class:`RateLimitStatus` for this budget; ``queued`` comes from a loop scheduler."""
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            free = max(0, self._free())
            if now < self._paused_until or (self._needs_probe and self._probe_out):
                free = 0
            # Read together under the lock: another thread may be dropping old stamps.
            sent_in_window = self._sent_in_window()
            in_flight = len(self._in_flight_sent)
            reserved = self._reserved
        next_at = None if free else self.next_opportunity("interactive", now)
        return RateLimitStatus(
            limit=self.limit,
            period=self.period,
            margin=self.margin,
            reserve=self.reserve,
            remaining=free,
            next_slot_in=None if next_at is None else max(0.0, next_at - now),
            sent_in_window=sent_in_window,
            in_flight=in_flight,
            reserved=reserved,
            queued=queued,
            rate_limited=self.rate_limited,
            paused_for=max(0.0, self._paused_until - now),
            probing=self._needs_probe,
            total_sent=self.total_sent,
            server_remaining=self._server_remaining,
            server_reset_in=(
                None if self._server_reset_at is None else max(0.0, self._server_reset_at - now)
            ),
        )


class InFlightLimit:
    """A client's cap on concurrent requests; ``bulk`` leaves the last slot to ``interactive``."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.count = 0
        self._bulk_maximum = maximum - 1 if maximum > 1 else maximum
        self._idle_waiters: list[asyncio.Future[None]] = []

    def has_room(self, lane: Lane) -> bool:
        """Whether one more request of ``lane`` may start."""
        return self.count < (self.maximum if lane == "interactive" else self._bulk_maximum)

    def release(self) -> None:
        """One request finished (or gave its slot back)."""
        self.count -= 1
        if not self.count and self._idle_waiters:
            for future in self._idle_waiters:
                if not future.done():
                    future.set_result(None)
            self._idle_waiters.clear()

    async def wait_idle(self) -> None:
        """Return once no request holds a slot (those granted, sending or awaiting an answer)."""
        if self.count:
            future = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(future)
            await future


@attrs.define(eq=False)
class _Waiter:
    future: asyncio.Future[Grant]
    lane: Lane
    owner: InFlightLimit | None
    deadline: float | None
    group: object | None  # whose request it is (a client closing fails its own waiters)
    timer: asyncio.TimerHandle | None = None


class LoopScheduler:
    """The waiting room of one budget on one event loop: lanes, timers, max_wait, cancellation."""

    def __init__(self, ledger: Ledger, loop: asyncio.AbstractEventLoop) -> None:
        self.ledger = ledger
        self._loop_ref = weakref.ref(loop)
        self._queues: dict[Lane, deque[_Waiter]] = {lane: deque() for lane in LANES}
        # Waiters per in-flight owner per lane, so a scan can stop once every owner is full.
        self._owners: dict[Lane, dict[int, int]] = {lane: {} for lane in LANES}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._wake_pending = False
        ledger.add_listener(self)

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether this is the waiting room of ``loop``."""
        return self._loop_ref() is loop

    @property
    def has_waiters(self) -> bool:
        """Whether any request on this loop waits for a slot."""
        return bool(self._queues["interactive"] or self._queues["bulk"])

    def queued(self) -> dict[str, int]:
        """Waiting requests per lane."""
        return {lane: sum(1 for w in q if not w.future.done()) for lane, q in self._queues.items()}

    def grant_now(self, lane: Lane, owner: InFlightLimit | None) -> Grant | None:
        """A slot for ``lane`` at once, or None (then :meth:`acquire` queues).

        Given only when nobody waits ahead of it and the budget and ``owner``'s cap allow.
        """
        queues = self._queues
        if queues[lane] or (lane == "bulk" and queues["interactive"]):
            return None
        if owner is not None and not owner.has_room(lane):
            return None
        grant = self.ledger.try_grant(lane)
        if grant is not None and owner is not None:
            owner.count += 1
        return grant

    async def acquire(
        self,
        lane: Lane,
        *,
        owner: InFlightLimit | None,
        deadline: float | None,
        front: bool = False,
        method: str = "",
        path: str = "",
        group: object | None = None,
    ) -> Grant:
        """A slot in ``lane`` (and room under ``owner``'s in-flight cap), waiting if need be.

        :meth:`grant_now` first, else the request queues; ``front`` puts it ahead of its lane
        (retries). Raises :class:`RateLimitError` (``sent=False``) at once when the budget
        cannot have room before ``deadline``, or when the deadline passes while waiting. On
        cancellation a slot already granted is returned. ``group`` (default ``owner``) names
        whose request it is, for :meth:`fail_group`.
        """
        grant = self.grant_now(lane, owner)
        if grant is not None:
            return grant
        loop = asyncio.get_running_loop()
        ledger = self.ledger
        now = ledger.clock()
        if deadline is not None:
            when = ledger.next_opportunity(lane, now)
            if when is not None and when > deadline:
                raise RateLimitError(
                    f"no request slot can be granted within max_wait (next in {when - now:.2f} s)",
                    method=method,
                    path=path,
                    retry_after=when - now,
                    sent=False,
                )
        waiter = _Waiter(
            loop.create_future(), lane, owner, deadline, owner if group is None else group
        )
        if front:
            self._queues[lane].appendleft(waiter)
        else:
            self._queues[lane].append(waiter)
        owners = self._owners[lane]
        owners[id(owner)] = owners.get(id(owner), 0) + 1
        if deadline is not None:
            waiter.timer = loop.call_at(
                _loop_time(loop, deadline, ledger.clock), self._expire, waiter, method, path
            )
        self.wake()  # one dispatch for every request queued in this loop iteration
        try:
            return await waiter.future
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                self._give_back(future.result(), owner)
            else:
                self._discard(waiter)
            raise
        finally:
            if waiter.timer is not None:
                waiter.timer.cancel()

    def _give_back(self, grant: Grant, owner: InFlightLimit | None) -> None:
        if owner is not None:
            owner.release()
        self.ledger.release(grant)
        self.wake()

    def owner_released(self, owner: InFlightLimit) -> None:
        """An in-flight request of ``owner`` finished: waiters it blocked may go."""
        owner.release()
        if self.has_waiters:
            self.wake()

    def fail_group(self, group: object, error: Callable[[], BaseException]) -> int:
        """Fail every request of ``group`` still waiting for a slot with ``error()``.

        None of them was sent (or, for a re-send, sent again). Returns how many there were.
        """
        failed = 0
        for queue in self._queues.values():
            for waiter in [w for w in queue if w.group is group and not w.future.done()]:
                self._discard(waiter)
                waiter.future.set_exception(error())
                failed += 1
        if failed:
            self.wake()  # the others may now be granted what these held back
        return failed

    def _discard(self, waiter: _Waiter) -> None:
        try:
            self._queues[waiter.lane].remove(waiter)
        except ValueError:
            pass
        else:
            self._forget_owner(waiter)
        if not self.has_waiters:
            self._cancel_timer()

    def _forget_owner(self, waiter: _Waiter) -> None:
        owners = self._owners[waiter.lane]
        key = id(waiter.owner)
        left = owners.get(key, 1) - 1
        if left > 0:
            owners[key] = left
        else:
            owners.pop(key, None)

    def _expire(self, waiter: _Waiter, method: str, path: str) -> None:
        if waiter.future.done():
            return
        self._discard(waiter)
        now = self.ledger.clock()
        when = self.ledger.next_opportunity(waiter.lane, now)
        waiter.future.set_exception(
            RateLimitError(
                "no request slot was granted within max_wait",
                method=method,
                path=path,
                retry_after=None if when is None else max(0.0, when - now),
                sent=False,
            )
        )

    def wake(self) -> None:
        """Run a dispatch soon on this loop (call from the loop's own thread)."""
        loop = self._loop_ref()
        if loop is None or self._wake_pending:
            return
        self._wake_pending = True
        loop.call_soon(self._dispatch)

    def wake_threadsafe(self) -> None:
        """Run a dispatch soon on this loop, from any thread."""
        loop = self._loop_ref()
        if loop is not None:
            call_on_loop(loop, self.wake)

    def _dispatch(self) -> None:
        self._wake_pending = False
        ledger = self.ledger
        now = ledger.clock()
        # Lanes whose waiters the budget (not a client's in-flight cap) holds back: only they
        # need a timer; a cap is lifted by owner_released, which wakes us.
        budget_blocked: list[Lane] = []
        for position, lane in enumerate(LANES):
            queue = self._queues[lane]
            blocked_owners: set[int] = set()
            budget_exhausted = False
            index = 0
            while index < len(queue):
                waiter = queue[index]
                if waiter.future.done():
                    del queue[index]
                    self._forget_owner(waiter)
                    continue
                owner = waiter.owner
                if owner is not None and not owner.has_room(lane):
                    blocked_owners.add(id(owner))
                    if len(blocked_owners) >= len(self._owners[lane]):
                        break  # every waiting client is at its cap: a release wakes us
                    index += 1
                    continue
                grant = ledger.try_grant(lane, now)
                if grant is None:
                    budget_exhausted = True
                    break
                del queue[index]
                self._forget_owner(waiter)
                if owner is not None:
                    owner.count += 1
                waiter.future.set_result(grant)
            if budget_exhausted:
                # Lower lanes need more room than this one, so they are held back too.
                budget_blocked += [later for later in LANES[position:] if self._queues[later]]
                break
        self._arm_timer(now, budget_blocked)

    def _arm_timer(self, now: float, lanes: list[Lane]) -> None:
        loop = self._loop_ref()
        when = math.inf
        for lane in lanes:
            at = self.ledger.next_opportunity(lane, now)
            if at is not None:
                when = min(when, max(at, now + 0.001))
        if loop is None or when == math.inf:
            self._cancel_timer()
            return
        if self._timer is not None and now < self._timer_at <= when:
            return
        self._cancel_timer()
        self._timer_at = when
        self._timer = loop.call_at(_loop_time(loop, when, self.ledger.clock), self._on_timer)

    def _cancel_timer(self) -> None:
        # Drop the handle too: it references the loop, which must be free to go away.
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, math.inf

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, math.inf
        self._dispatch()

    def status(self) -> RateLimitStatus:
        """A snapshot of the budget with this loop's queue lengths."""
        return self.ledger.snapshot(self.queued())


def call_on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """Run ``callback`` on ``loop``: now when called from it, else soon from its own thread.

    Dropped when the loop is closed (nothing is left there to act on).
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback()
        return
    with contextlib.suppress(RuntimeError):  # closed, or closing meanwhile
        loop.call_soon_threadsafe(callback)


def _loop_time(loop: asyncio.AbstractEventLoop, at: float, clock: Callable[[], float]) -> float:
    # asyncio's clock is time.monotonic, like the ledger's by default; convert anyway so an
    # injected clock keeps working.
    if clock is time.monotonic:
        return at
    return loop.time() + (at - clock())


# -- the process-wide registry ---------------------------------------------------------------

_SHIPSTATION_HOST = re.compile(r"ssapi\d*\.shipstation\.com", re.IGNORECASE)
_registry: dict[tuple[str, str], Ledger] = {}
_registry_lock = threading.Lock()
_loop_schedulers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, LoopScheduler]] = (
    weakref.WeakKeyDictionary()
)


def budget_key(base_url: str, api_key: str) -> tuple[str, str]:
    """The (API, key) a request is budgeted under.

    Every ``ssapi*.shipstation.com`` host (webhooks point at numbered ``ssapiN`` hosts) is one
    API; any other base URL (the sandbox) is keyed by its host and port.
    """
    url = yarl.URL(base_url)
    host = (url.host or "").lower()
    api = "shipstation" if _SHIPSTATION_HOST.fullmatch(host) else f"{host}:{url.port}"
    return api, api_key


def ledger_for(key: tuple[str, str], rate_limit: RateLimit) -> Ledger:
    """The process-wide ledger of ``key``, created on first use.

    A later client that asks for a different plan on the same key reconfigures the shared
    ledger (one key has one plan), with a log line.
    """
    with _registry_lock:
        ledger = _registry.get(key)
        if ledger is None:
            ledger = Ledger(rate_limit, name=key[0])
            _registry[key] = ledger
            return ledger
    if ledger.rate_limit != rate_limit:
        _log.info("budget %s: rate limit reconfigured to %s", key[0], rate_limit)
        ledger.configure(rate_limit)
    return ledger


def loop_scheduler_for(ledger: Ledger, loop: asyncio.AbstractEventLoop) -> LoopScheduler:
    """The waiting room of ``ledger`` on ``loop``, created on first use (per loop, per ledger)."""
    with _registry_lock:
        per_loop = _loop_schedulers.get(loop)
        if per_loop is None:
            per_loop = {}
            _loop_schedulers[loop] = per_loop
        scheduler = per_loop.get(id(ledger))
        if scheduler is None:
            scheduler = LoopScheduler(ledger, loop)
            per_loop[id(ledger)] = scheduler
        return scheduler
