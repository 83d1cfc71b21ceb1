"""The in-process budget backend: one (API, key) budget's window accounting, thread-safe.

The :class:`Ledger` decides every grant by the rules in :mod:`shipstation_async._budget`. It
is pure bookkeeping behind a thread lock with an injectable clock: it never sleeps and never
touches asyncio, so its rules are unit-tested on a fake clock. Rule 1's lists live in
:class:`~.slots.SlotBook`, what the server said in :class:`~.server_view.ServerView` and
:class:`~.server_view.Probes`; the ledger ties them together and learns the margin (rule 6).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._sansio import Lane, RateLimitHeaders
from ..limits import RateLimit
from .backend import BudgetBackend, Grant, Listener, Listeners, RateLimitStatus
from .server_view import TOLERANCE, Probes, Room, ServerView
from .slots import SlotBook

# The logger keeps the name of the module the budget grew in: users filter on it.
_log = logging.getLogger("shipstation_async.scheduler")

# How far back (as a share of W, beyond the longest answer time) sends of ours freed before a
# request was sent may explain a server count larger than ours: further back, it is another
# client's doing, not a server that counts longer than it says.
_SLACK_REACH = 0.02


class Ledger:
    """Process-wide, thread-safe window accounting for one (API, key) budget.

    ``limit``, ``period`` and ``reserve`` are set by :meth:`configure`, and ``limit`` and
    ``reserve`` lowered when the server reports a smaller plan; ``margin`` is the configured
    margin plus what the answers showed the server needs (rule 6). Nothing else writes them.
    """

    def __init__(
        self, rate_limit: RateLimit, *, name: str = "", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._slots = SlotBook()
        self._view = ServerView()
        self._probes = Probes()
        self._slack = 0.0  # margin learned from the answers (rule 6)
        self._foreign_at = -math.inf  # when an answer last showed another client's requests
        self._listeners = Listeners()
        self.configure(rate_limit)

    # -- configuration and figures ----------------------------------------------------------

    def configure(self, rate_limit: RateLimit) -> None:
        """Adopt a (new) plan. Slots already held stay held."""
        with self._lock:
            self.rate_limit = rate_limit
            self.limit = rate_limit.requests
            self.period = rate_limit.period
            self.margin = rate_limit.effective_margin + self._slack
            self._reserve_override = rate_limit.reserve
            self.reserve = rate_limit.effective_reserve

    @property
    def epoch(self) -> int:
        """Moves with every 429 pause and every probe: an older grant queues again before sending.

        So nothing granted before a probe goes out while the probe is on its way.
        """
        return self._view.epoch

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock the ledger reads."""
        return self._clock

    @property
    def transitions(self) -> int:
        """Always 0: an in-process budget has no shared store to lose."""
        return 0

    def local_share(self) -> int | None:
        """None: an in-process budget is never a fallback share."""
        return None

    def mode_log(self) -> tuple[()]:
        """Empty: an in-process budget never switches."""
        return ()

    @property
    def reset_rounding(self) -> str:
        """What the answers showed of the server's whole-second Reset (rule 4)."""
        return self._view.rounding.learned

    @property
    def rate_limited(self) -> int:
        """429s seen since start."""
        return self._view.rate_limited

    @property
    def total_sent(self) -> int:
        """Requests sent since start."""
        return self._slots.total_sent

    def paused_until(self) -> float:
        """Clock time until which a 429 pause holds every request (-inf when not paused)."""
        return self._view.paused_until

    # -- internals (lock held) ---------------------------------------------------------------

    def _reach(self) -> float:
        """How far back before a send rule 6 looks for sends of ours freed too early."""
        return self._slots.longest + _SLACK_REACH * self.period

    def _purge(self, now: float) -> None:
        """Bring the books to ``now``: free the holds that ended, age rooms, note idleness."""
        slots, probes, margin = self._slots, self._probes, self.margin
        if slots.advance(now, margin, slots.longest + _SLACK_REACH * self.period):  # _reach()
            probes.slot_reused()
        if self._view.rooms:
            self._view.age(now, margin)
        if not probes.needed and now - probes.last_seen > 2 * self.period:
            probes.after_idle(now, self.period, slots.busy)  # (on every grant: tested first)

    def _free(self) -> int:
        return self._view.cap(self._slots.free(self.limit))

    def _need(self, lane: Lane) -> int:
        return 1 if lane == "interactive" else 1 + self.reserve

    def _doubt_blocks(self, need: int) -> bool | None:
        waiting = self._slots.busy or self._probes.out
        return self._view.doubt_blocks(need, waiting)

    def _record_send(self, grant: Grant, at: float) -> None:
        grant.state = "sent"
        grant.sent_at = at
        grant.margin = self.margin
        self._slots.record_send(at)

    # -- granting ----------------------------------------------------------------------------

    def try_grant(self, lane: Lane, now: float | None = None) -> Grant | None:
        """Reserve a slot for ``lane`` now, or return None if the budget has none to give."""
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            probes, view = self._probes, self._view
            if now < view.paused_until or (probes.needed and probes.out):  # a probe blocks
                return None
            need = 1 if lane == "interactive" else 1 + self.reserve
            probe = probes.needed
            free = self._slots.free(self.limit)
            if (view.cap(free) if view.rooms else free) < need:
                if free < need or not self._doubt_blocks(need):
                    return None
                probe = True  # its answer is the fresh count the doubtful room waits for
            self._slots.reserved += 1
            if view.rooms:
                view.take_slot()
            if not probe:
                return Grant(lane, view.epoch, False)
            view.epoch += 1  # it goes alone: grants not sent yet queue again (must_hold)
            grant = probes.current = Grant(lane, view.epoch, True)  # only it settles the probe
            return grant

    def next_opportunity(self, lane: Lane, now: float | None = None) -> float | None:
        """Earliest clock time at which ``try_grant(lane)`` may succeed.

        None means no time-based change will help: the ledger is waiting on a response (a probe
        or sends in flight) and will be notified by it.
        """
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            if now < self._view.paused_until:
                return self._view.paused_until
            if self._probes.blocking:
                return None
            need = self._need(lane)
            when = now
            deficit = need - self._slots.free(self.limit)
            if deficit > 0:
                frees = self._slots.nth_freeing(deficit)
                if frees is None:
                    return None  # the rest are in flight: their answers will tell
                when = max(when, frees + self.margin)
            doubt = self._doubt_blocks(need) if deficit <= 0 else None
            if doubt is not None:
                return when if doubt else None  # a probe now, or after the answers in flight
            return self._view.room_frees(need, when, self.margin)

    def release(self, grant: Grant) -> None:
        """Give back a slot that was granted but never sent (the caller was cancelled)."""
        with self._lock:
            if grant.state != "reserved":
                return
            grant.state = "done"
            self._slots.reserved -= 1
            self._view.give_slot()
            self._probes.given_up(grant)
        self._notify()

    def hold_until(self, until: float) -> None:
        """Hold one slot until clock time ``until``: a send this ledger did not grant.

        A backend taking over from another store (the shared budget falling back to a local
        share) enters the slots its process still holds there.
        """
        with self._lock:
            self._slots.hold(until - self.margin)

    def mark_sent(self, grant: Grant, at: float | None = None) -> None:
        """Stamp the moment the request went out (at or before its headers were written)."""
        with self._lock:
            if grant.state != "reserved":
                return
            if at is None:
                at = self._clock()
            # _record_send(), written out: every send comes here.
            grant.state = "sent"
            grant.sent_at = at
            grant.margin = self.margin
            self._slots.record_send(at)

    # -- answers and failures ----------------------------------------------------------------

    def complete(
        self,
        grant: Grant,
        status: int,
        headers: RateLimitHeaders | None,
        at: float | None = None,
    ) -> None:
        """Account for a response that arrived ``at``: follow its rate-limit headers.

        Its slot frees W after ``at`` (rule 1); a 429 pauses everyone (rule 5).
        """
        with self._lock:
            if grant.state == "done":
                return  # settled already (aiohttp re-sent it under a new grant)
            if at is None:
                at = self._clock()
            slots = self._slots
            observed = grant.state == "sent"
            if not observed:
                # No hook saw the send (a user's own session): stamp it now; its answer, not
                # its send, decides when its slot frees.
                self._record_send(grant, at)
            slots.landed(grant.sent_at or 0.0)
            grant.state = "done"
            self._probes.last_seen = at
            sent_at = grant.sent_at if grant.sent_at is not None else at
            if observed and at - sent_at > slots.longest:
                slots.answer_took(at - sent_at)
            if headers is not None:
                self._follow_headers(grant, status, headers, at, observed)
            slots.answered_hold(at, at + self.period)
            if status == 429:
                self._pause(sent_at, headers, at)
            else:
                if self._view.refused_at is not None:
                    self._view.went_through(sent_at)
                if grant is self._probes.current:  # not a probe a 429 pause replaced
                    self._probes.answered()
                if headers is not None and headers.remaining == 0:
                    self._probes.window_full()
        self._listeners.notify()  # _notify(), one call less

    def fail(self, grant: Grant, *, sent: bool, at: float | None = None) -> None:
        """Account for an attempt with no response; ``sent``: it may have gone out.

        One that may have gone out holds its slot until ``at`` + the longest answer time seen
        + W: it may still be counted (rule 1).
        """
        with self._lock:
            if grant.state == "done":
                return  # settled already: do not touch another request's probe
            at = self._clock() if at is None else at
            slots = self._slots
            if grant.state == "reserved":
                if sent:
                    self._record_send(grant, at)
                else:
                    slots.reserved -= 1
                    self._view.give_slot()
            if grant.state == "sent":
                slots.landed(grant.sent_at or 0.0)
                counted_by = at + slots.longest
                slots.hold(counted_by + self.period)
                slots.note_answered(counted_by)
            grant.state = "done"
            self._probes.given_up(grant)  # the probe out: the next queued request probes
        self._notify()

    # -- following the headers (rules 3, 4 and 6) --------------------------------------------

    def _follow_headers(
        self, grant: Grant, status: int, headers: RateLimitHeaders, at: float, observed: bool
    ) -> None:
        if headers.limit is not None and headers.limit != self.limit:
            self._adopt_limit(headers.limit)
        remaining = headers.remaining
        if remaining is None:
            return
        sent_at = grant.sent_at if grant.sent_at is not None else at
        view = self._view
        counted = view.count(headers, remaining, sent_at, at, observed, self.period, self.limit)
        # Besides this request, the server's window held ``others`` (a 429: at least L, its
        # window was full without it). Ours among them, at most (rule 3): those in flight and
        # those whose slot was still held when this request was sent (under the margin then).
        others = counted if status == 429 else counted - 1
        surplus = others - self._slots.maybe_counted(sent_at - grant.margin)
        if surplus <= 0:
            if not view.rooms or self._ours_explain(others, sent_at, at):
                return  # (no rooms: the usual case, and _ours_explain's first answer)
            # Other clients' requests may still be in it: this fresher count replaces the
            # rooms it supersedes, below.
        elif observed:
            self._learn_slack(grant, at, surplus, view.span(headers, sent_at, at, self.period)[1])
        if status == 429:
            return  # the pause and its probe (rule 5) take over
        earliest, latest = view.span(headers, sent_at, at, self.period)
        room = max(0, remaining - self._slots.maybe_uncounted(sent_at))
        view.add_room(
            Room(
                room=room,
                earliest=earliest,
                latest=latest,
                expires=at + self.period + self.margin,
                basis=sent_at,
                answered=at,
                doubt=remaining - room,
            )
        )

    def _ours_explain(self, others: int, sent_at: float, at: float) -> bool:
        """Whether our own sends explain a count, so that rule 1 covers everything it holds."""
        view = self._view
        if not view.rooms:
            return True  # our own sends may explain the count: rule 1 covers them
        # Ours certainly counted before it and still counted: answered before it was sent,
        # and still held now (those in flight may not have been counted yet).
        certain = self._slots.certainly_counted(sent_at + self.period, at - self.margin)
        if others <= certain:
            # Our own sends explain a count that came after these rooms' counts.
            view.drop_rooms_answered_by(sent_at)
            return True
        return False

    def _adopt_limit(self, limit: int) -> None:
        # A plan change (or a stricter server): follow it down, and back up once the server
        # says so, never past the configured limit (configure RateLimit for a bigger plan).
        limit = min(limit, self.rate_limit.requests)
        if limit == self.limit:
            return
        if limit < self.limit:
            _log.warning(
                "budget %s: server reports a limit of %d requests (configured %d); adopting it",
                self.name,
                limit,
                self.rate_limit.requests,
            )
        else:
            _log.info("budget %s: server reports a limit of %d requests again", self.name, limit)
        self.limit = limit
        self.reserve = (
            min(self._reserve_override, self.limit - 1)
            if self._reserve_override is not None
            else min(max(1, self.limit // 10), self.limit - 1)
        )

    def _learn_slack(self, grant: Grant, at: float, surplus: int, leaves_by: float) -> None:
        """Rule 6: the server counted ``surplus`` more than ours that could be in its window.

        When that many of our sends had freed their slots shortly before this request was sent,
        and no other client was seen lately, the server still counted them: it counts longer
        than answer + W. The oldest of them leaves its window by ``leaves_by`` (its Reset):
        hold every slot that much longer (by at most the reach per answer, so that a surplus
        mistaken for ours cannot stall the budget). Otherwise another client spends the key.
        """
        sent_at = grant.sent_at if grant.sent_at is not None else at
        recent = self._slots.freed_shortly_before(sent_at - grant.margin, self._reach())
        if len(recent) < surplus:
            self._foreign_at = at  # more than ours could explain: another client
            return
        if at - self._foreign_at < 2 * self.period:
            return  # another client was seen lately: the surplus may be its doing
        # The surplus-th most recently freed before the send was still counted: its hold
        # needed to last until it left.
        freed = recent[-surplus]
        needed = min(max(at, leaves_by) - freed, grant.margin + self._reach()) + TOLERANCE
        # Never past half a window, as on Redis: another client's sends taken for ours one
        # step at a time would otherwise stall the budget.
        needed = min(needed, self.period / 2)
        if needed <= self.margin:
            return  # an earlier answer already taught as much
        self._slack = needed - self.rate_limit.effective_margin
        self.margin = needed
        self._probes.margin_grew()
        # Slots freed under the old margin may be held again.
        self._slots.hold_again_from(at - needed)
        _log.warning(
            "budget %s: the server still counted requests after their slots were freed; "
            "holding each slot %.3f s beyond W from now on",
            self.name,
            needed,
        )

    def _pause(self, sent_at: float, headers: RateLimitHeaders | None, at: float) -> None:
        until = self._view.pause(sent_at, headers, at, period=self.period, margin=self.margin)
        self._probes.refused()
        _log.warning(
            "budget %s: 429 Too Many Requests; holding every request for %.2f s, then one probe",
            self.name,
            until - at,
        )

    # -- listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Register a loop's waiting room to be woken when the budget may have room again."""
        self._listeners.add(listener)

    def _notify(self) -> None:
        self._listeners.notify()

    # -- observation -------------------------------------------------------------------------

    def snapshot(self, queued: dict[str, int], now: float | None = None) -> RateLimitStatus:
        """A :class:`RateLimitStatus` for this budget; ``queued`` comes from a loop scheduler."""
        view = self._view
        with self._lock:
            now = self._clock() if now is None else now
            self._purge(now)
            free = max(0, self._free())
            if now < view.paused_until or self._probes.blocking:
                free = 0
            # Read together under the lock: another thread may be dropping old holds.
            sent_in_window = self._slots.held()
            in_flight = len(self._slots.in_flight)
            reserved = self._slots.reserved
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
            rate_limited=view.rate_limited,
            paused_for=max(0.0, view.paused_until - now),
            probing=self._probes.needed,
            total_sent=self._slots.total_sent,
            server_remaining=view.server_remaining,
            server_reset_in=(
                None if view.server_reset_at is None else max(0.0, view.server_reset_at - now)
            ),
            reset_rounding=view.rounding.learned,
        )


if TYPE_CHECKING:
    # The in-process ledger is the default budget backend: mypy checks it fits the seam.
    _DEFAULT_BACKEND: type[BudgetBackend] = Ledger
