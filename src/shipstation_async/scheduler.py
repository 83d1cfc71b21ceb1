"""The shared request budget: one window ledger per API key, one waiting room per event loop.

The :class:`Ledger` is pure bookkeeping behind a thread lock with an injectable clock: it grants
slots, records when sends went out and when their answers came, follows the server's rate-limit
headers and pauses on 429. It never sleeps and never touches asyncio, so it is unit-tested with
a fake clock. It is shared process-wide per (API, key), so clients on other threads and other
event loops, and clients made one per request or one per ``asyncio.run()``, all spend one
budget.

The :class:`LoopScheduler` is the asyncio side, one per (ledger, event loop): it queues waiters
in two lanes, hands out slots as the ledger allows, wakes itself with a timer when the window
will next have room, and enforces ``max_wait`` and cancellation.

The rules, and why (L requests per W seconds):

1. **When a slot frees.** A server counts a request somewhere between its send and its answer,
   and a loaded one may queue it for seconds first, so the send time says little about when
   the slot it took frees again. The answer does: a request cannot have been counted later
   than its answer arrived, and whatever the window (fixed, aligned to the server's clock or
   rolling), a request counted at c has left it by c + W. So a slot is held from its grant
   until its answer arrived + W; a request still unanswered holds it; one the client gave up
   on (a timeout, a cancellation, a connection lost after sending: it may still be counted)
   holds it until the give-up time + W + the longest answer time seen (no counting delay seen
   was longer). At most L slots are held at once, so any L + 1 requests the server counts
   span more than W, whatever its counting delay: the last of them was sent W after the
   first's answer. Safe on every window type, it costs an answer's time per window (a few
   milliseconds against a prompt server), where a margin fixed in advance costs a share of W
   and still fails a server slower than it.
2. **The whole budget at once.** Waiting requests go out together, up to what rule 1 allows;
   at cold start, after two idle windows and after a 429 one request (the probe) goes alone
   and the rest wait for its headers (another process may have spent the window).
3. **The headers, when someone else spends the budget.** An answer says the server's window
   held n = Limit - Remaining requests when it counted the request. When our own sends that
   may be in that window (it, those in flight, those still holding their slot when it was
   sent) account for n, rule 1 already covers everything the server counts, and the headers
   change nothing: neither Reset nor its rounding costs a prompt server anything. When they
   do not, another client (or a server counting longer than it says) uses the key, and a
   room follows the headers: Remaining less our sends the server may not have counted yet
   (those in flight or granted, and those answered after it was sent) caps our sends until
   the Reset; then one slot frees (a rolling window frees one at a time, and the next
   answer's Reset says when the next one frees), and W after that answer everything the
   server had counted then has left and the room is gone. The answer to a request sent after
   a room's answer arrived was counted later: it replaces the room.
4. **Reset's rounding is learned.** A whole-second Reset may be rounded down or up (the API
   does not say): until known, R means the reset comes within (R - 1, R + 1]. The first
   answer of a window this client opened (Remaining = Limit - 1, Reset = W) pins that
   window's end within that request's flight; the later answers of the same window then show
   which way R was rounded: down gives [R, R + 1), up (R - 1, R]. A fractional Reset is taken
   to its last digit.
5. **A 429 pauses everyone** until the server's Reset (Retry-After when given) has passed, then
   one probe goes. The refused request holds its slot by rule 1 (some servers count refused
   requests). When the probe is refused too, the window is still full past the reset it
   announced (a sliding window that counted our refused request, or another client): the next
   probe waits until W after the previous refusal, when everything the server had counted
   then has left. So at most one extra probe per window on every window type, and no pause
   longer than the server's Reset plus what rule 1 needs.
6. **The margin is measured.** It is ``RateLimit.margin`` (0 by default) until an answer shows
   the server still counting sends of ours that rule 1 had freed (more in its window than we
   could have put there, explained by sends freed just before): then every slot is held that
   much longer, with a warning.
7. ``bulk`` leaves a reserve of slots to ``interactive`` calls.
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

# Clock readings and float arithmetic: instants this close are not told apart.
_TOLERANCE = 0.002

# How far back (as a share of W, beyond the longest answer time) sends of ours freed before a
# request was sent may explain a server count larger than ours: further back, it is another
# client's doing, not a server that counts longer than it says.
_SLACK_REACH = 0.02

LANES: tuple[Lane, ...] = ("interactive", "bulk")

# The true seconds to a reset lie within [R + low, R + high] for a whole-second Reset R.
_ROUNDINGS: dict[str, tuple[float, float]] = {
    "floor": (0.0, 1.0),
    "ceil": (-1.0, 0.0),
    "nearest": (-0.5, 0.5),
}


@attrs.define(eq=False)
class Grant:
    """A slot handed to one attempt: reserved, then sent, then done."""

    lane: Lane
    epoch: int
    probe: bool
    state: Literal["reserved", "sent", "done"] = "reserved"
    sent_at: float | None = None
    margin: float = 0.0  # the ledger's margin when it was sent


@attrs.define
class _Room:
    """What the headers allow while another client spends the key too: ``room`` more sends.

    Set by the answer to a request sent at ``basis`` and answered at ``answered``. The server's
    window ends (rolling: its oldest request leaves) within ``[earliest, latest]``; past
    ``latest`` one more slot is free (``bumped``), and at ``expires`` (the answer + W)
    everything the server had counted then has left: the room is dropped. ``doubt`` is how
    much of Remaining was held back for our sends it may not have counted (those in flight
    then): once they have all landed, one probe can find out whether the server had.
    """

    room: int
    earliest: float
    latest: float
    expires: float
    basis: float = -math.inf
    answered: float = -math.inf
    doubt: int = 0
    bumped: bool = False


class _ResetRounding:
    """Which way the server rounds a whole-second Reset, learned from its answers.

    Every rounding stays possible until an answer shows the true seconds to the reset outside
    its range; if none is left (a server rounding some other way), all are possible again.
    """

    __slots__ = ("kinds",)

    def __init__(self) -> None:
        self.kinds = set(_ROUNDINGS)

    def offsets(self) -> tuple[float, float]:
        """(low, high): the reset is within [R + low, R + high] for a whole-second Reset R."""
        kinds = self.kinds
        return (
            min(_ROUNDINGS[k][0] for k in kinds),
            max(_ROUNDINGS[k][1] for k in kinds),
        )

    @property
    def learned(self) -> str:
        """The roundings that fit the answers (``"floor"``, ``"ceil or nearest"``...).

        ``"unknown"`` while every rounding does.
        """
        if len(self.kinds) == len(_ROUNDINGS):
            return "unknown"
        return " or ".join(kind for kind in _ROUNDINGS if kind in self.kinds)

    def observe(self, low: float, high: float) -> None:
        """The true seconds to the reset were R + d for some d in ``[low, high]``."""
        if high < -1.0 - _TOLERANCE or low > 1.0 + _TOLERANCE:
            return  # no rounding explains it: the anchor was not this window's end
        left = {
            kind
            for kind in self.kinds
            if low <= _ROUNDINGS[kind][1] + _TOLERANCE and high >= _ROUNDINGS[kind][0] - _TOLERANCE
        }
        self.kinds = left or set(_ROUNDINGS)


def _last_digit(value: float) -> float:
    """One unit of the last decimal a fractional Reset was written with (at least 1 us)."""
    text = repr(value)
    if "e" in text or "." not in text:
        return 1e-6
    return max(1e-6, 10.0 ** -len(text.split(".", 1)[1]))


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
    ``"ceil"``, ``"nearest"`` or ``"unknown"``).
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
        # When each answered (or given-up) send's slot frees, less the margin (added when
        # read, so a margin learned later holds every slot longer), sorted. The first
        # ``_gone`` are free already; they are deleted in batches (one at a time would move a
        # high limit's whole list on every grant), and kept a little while for rule 6.
        self._holds: list[float] = []
        self._gone = 0
        self._reserved = 0
        self._in_flight_sent: list[float] = []  # send times of those in flight, sorted
        # When landed sends were answered (given up: by when they may have been counted),
        # sorted: those answered after a request was sent may have been counted after it.
        self._answered: list[float] = []
        self._rooms: list[_Room] = []
        self._paused_until = -math.inf
        self._needs_probe = True
        self._probe_out = False
        self._epoch = 0
        self._last_seen = -math.inf
        self._server_remaining: int | None = None
        self._server_reset_at: float | None = None
        self.rate_limited = 0
        self._refused_at: float | None = None  # answer time of the last 429 of a run of them
        self.total_sent = 0
        self._longest = 0.0  # the longest answer time seen: a bound on counting delays
        self._slack = 0.0  # margin learned from the answers (rule 6)
        self._foreign_at = -math.inf  # when an answer last showed another client's requests
        # Whether the answer to a probe that reused a freed slot showed the server agreeing
        # with rule 1 (and whether the probe out is that check).
        self._checked = False
        self._checking = False
        self._rounding = _ResetRounding()
        # The end of a window this client opened: (earliest, latest, usable until, answered).
        self._anchor: tuple[float, float, float, float] | None = None
        self._listeners: tuple[weakref.ref[LoopScheduler], ...] = ()
        self.configure(rate_limit)

    # -- configuration ---------------------------------------------------------------------

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
        """Increases with every 429 pause; a grant from an older epoch must be re-queued."""
        return self._epoch

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock the ledger reads."""
        return self._clock

    @property
    def reset_rounding(self) -> str:
        """What the answers showed of the server's whole-second Reset (rule 4)."""
        return self._rounding.learned

    # -- internals (lock held) ---------------------------------------------------------------

    def _reach(self) -> float:
        """How far back before a send rule 6 looks for sends of ours freed too early."""
        return self._longest + _SLACK_REACH * self.period

    def _purge(self, now: float) -> None:
        holds = self._holds
        gone = self._gone
        freed_by = now - self.margin
        if gone < len(holds) and holds[gone] <= freed_by:
            gone = bisect.bisect_right(holds, freed_by, gone)
            if not self._checked and not self._needs_probe:
                # The first slot to be used again (and the first after the margin grew):
                # one request goes alone, so that a server that counts longer than rule 1
                # assumes costs one 429, not a window's worth.
                self._needs_probe = self._checking = True
        # Slots freed before the oldest send still in flight (by more than rule 6's reach)
        # can no longer matter to any answer, nor come back with a margin it learns.
        in_flight = self._in_flight_sent
        horizon = (min(now, in_flight[0]) if in_flight else now) - self._reach()
        if gone and holds[0] <= horizon - self.margin:
            cut = bisect.bisect_right(holds, horizon - self.margin, 0, gone)
            if cut * 4 >= len(holds):
                del holds[:cut]
                gone -= cut
        self._gone = gone
        answered = self._answered
        if answered and answered[0] <= horizon:
            cut = bisect.bisect_right(answered, horizon)
            if cut * 4 >= len(answered):
                del answered[:cut]
        if self._rooms:
            margin = self.margin
            kept = []
            for room in self._rooms:
                if room.expires <= now:
                    continue
                if not room.bumped and room.latest + margin <= now:
                    # The reset has passed: at least the oldest request has left.
                    room.bumped = True
                    room.room += 1
                kept.append(room)
            self._rooms = kept
        if (
            not self._needs_probe
            and not self._in_flight_sent
            and not self._reserved
            and now - self._last_seen > 2 * self.period
        ):
            # Idle for two windows: another process may have spent the budget meanwhile.
            self._needs_probe = True

    def _held(self) -> int:
        """Sent requests holding a slot (rule 1): in flight, or answered less than W ago."""
        return len(self._in_flight_sent) + len(self._holds) - self._gone

    def _free(self) -> int:
        free = self.limit - self._held() - self._reserved
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

    def _hold(self, until: float) -> None:
        """Hold a slot until ``until`` + the margin."""
        holds = self._holds
        if not holds or until >= holds[-1]:
            holds.append(until)
        else:
            index = bisect.bisect_right(holds, until, self._gone)
            holds.insert(index, until)
            if index < self._gone:  # pragma: no cover - a hold always ends in the future
                self._gone += 1

    def _note_answered(self, at: float) -> None:
        answered = self._answered
        if not answered or at >= answered[-1]:
            answered.append(at)
        else:
            bisect.insort(answered, at)

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
                local_free = self.limit - self._held() - self._reserved
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
            deficit = need - (self.limit - self._held() - self._reserved)
            if deficit > 0:
                if deficit > len(self._holds) - self._gone:
                    return None  # the rest are in flight: their answers will tell
                when = max(when, self._holds[self._gone + deficit - 1] + self.margin)
            doubt = self._doubt_blocks(need) if deficit <= 0 else None
            if doubt is not None:
                return when if doubt else None  # a probe now, or after the answers in flight
            for room in self._rooms:
                if room.room < need:
                    if not room.bumped and room.room + 1 >= need:
                        when = max(when, room.latest + self.margin)
                    else:
                        when = max(when, room.expires)
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
        """Stamp the moment the request went out (at or before its headers were written)."""
        with self._lock:
            if grant.state != "reserved":
                return
            self._record_send(grant, self._clock() if at is None else at)

    def _record_send(self, grant: Grant, at: float) -> None:
        grant.state = "sent"
        grant.sent_at = at
        grant.margin = self.margin
        self._reserved -= 1
        self.total_sent += 1
        bisect.insort(self._in_flight_sent, at)

    def _landed(self, grant: Grant) -> None:
        """A sent attempt is no longer in flight (answered or failed)."""
        index = bisect.bisect_left(self._in_flight_sent, grant.sent_at or 0.0)
        if index < len(self._in_flight_sent):
            del self._in_flight_sent[index]

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
            observed = grant.state == "sent"
            if not observed:
                # No hook saw the send (a user's own session): stamp it now; its answer, not
                # its send, decides when its slot frees.
                self._record_send(grant, at)
            self._landed(grant)
            grant.state = "done"
            self._last_seen = at
            sent_at = grant.sent_at if grant.sent_at is not None else at
            if observed and at - sent_at > self._longest:
                self._longest = at - sent_at
            if headers is not None:
                self._follow_headers(grant, status, headers, at, observed)
            self._hold(at + self.period)
            self._note_answered(at)
            if status == 429:
                self._pause(sent_at, headers, at)
            else:
                if self._refused_at is not None and sent_at >= self._refused_at:
                    self._refused_at = None  # a request sent after the refusals went through
                if grant.probe:
                    self._needs_probe = False
                    self._probe_out = False
                    if self._checking:
                        self._checked, self._checking = True, False
        self._notify()

    def fail(self, grant: Grant, *, sent: bool, at: float | None = None) -> None:
        """Account for an attempt with no response; ``sent``: it may have gone out.

        One that may have gone out holds its slot until ``at`` + the longest answer time seen
        + W: it may still be counted (rule 1).
        """
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
                counted_by = at + self._longest
                self._hold(counted_by + self.period)
                self._note_answered(counted_by)
            grant.state = "done"
            if grant.probe:
                self._probe_out = False  # the next queued request probes instead
        self._notify()

    def _reset_offsets(self, headers: RateLimitHeaders) -> tuple[float, float]:
        """(low, high): the reset is within [Reset + low, Reset + high] seconds (rule 4)."""
        if headers.reset is None:
            return 0.0, 0.0  # no Reset: W is assumed, which bounds any window
        if headers.reset_floored:
            return self._rounding.offsets()
        unit = _last_digit(headers.reset)
        return -unit, unit

    def _learn_rounding(
        self, sent_at: float, at: float, counted: int, reset: float, observed: bool
    ) -> None:
        period = self.period
        if counted == 1 and math.floor(period) <= reset <= math.ceil(period):
            # Alone in the server's window, with a whole window ahead: this request opened it
            # (or is its oldest), so the window ends W after it was counted. Answers up to a
            # second short of that (an aligned window may have begun up to a second earlier)
            # are from the same window.
            if observed:
                self._anchor = (sent_at + period, at + period, sent_at + period - 1.0, at)
            return
        anchor = self._anchor
        if anchor is None or counted < 2 or not observed:
            return
        end_low, end_high, usable_until, anchored_at = anchor
        if sent_at < anchored_at or at >= usable_until:
            return  # not counted after the anchor, or perhaps in a later window
        # Counted within [sent_at, at]: the true seconds to the window's end were within
        # [end_low - at, end_high - sent_at].
        self._rounding.observe(end_low - at - reset, end_high - sent_at - reset)

    def _follow_headers(
        self, grant: Grant, status: int, headers: RateLimitHeaders, at: float, observed: bool
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
        remaining = headers.remaining
        if remaining is None:
            return
        sent_at = grant.sent_at if grant.sent_at is not None else at
        reset = headers.reset if headers.reset is not None else self.period
        self._server_remaining = remaining
        self._server_reset_at = at + reset
        server_limit = headers.limit if headers.limit is not None else self.limit
        counted = max(0, server_limit - remaining)
        if headers.reset is not None and headers.reset_floored:
            self._learn_rounding(sent_at, at, counted, headers.reset, observed)
        # Besides this request, the server's window held ``others`` (a 429: at least L, its
        # window was full without it). Ours among them, at most (rule 3): those in flight and
        # those whose slot was still held when this request was sent (under the margin then).
        others = counted if status == 429 else counted - 1
        holds = self._holds
        ours = (
            len(self._in_flight_sent)
            + len(holds)
            - bisect.bisect_right(holds, sent_at - grant.margin)
        )
        surplus = others - ours
        low, high = self._reset_offsets(headers)
        # When the server's window ends (rolling: its oldest leaves), at the latest: Reset's
        # rounding may add a second, but the window that counted this request ends within W
        # of it; a Reset longer than W is taken as said.
        latest = at + max(reset, min(reset + high, self.period))
        if surplus <= 0:
            if not self._rooms:
                return  # our own sends may explain the count: rule 1 covers them
            # Ours certainly counted before it and still counted: answered before it was
            # sent, and still held now (those in flight may not have been counted yet).
            certain = bisect.bisect_right(holds, sent_at + self.period) - bisect.bisect_right(
                holds, at - self.margin
            )
            if others <= certain:
                # Our own sends explain a count that came after these rooms' counts.
                self._rooms = [room for room in self._rooms if room.answered > sent_at]
                return
            # Other clients' requests may still be in it: this fresher count replaces the
            # rooms it supersedes, below.
        elif observed:
            self._learn_slack(grant, at, surplus, latest)
        if status == 429:
            return  # the pause and its probe (rule 5) take over
        earliest = sent_at + reset + low
        answered = self._answered
        uncounted = (
            len(self._in_flight_sent)
            + self._reserved
            + len(answered)
            - bisect.bisect_right(answered, sent_at)
        )
        room = max(0, remaining - uncounted)
        new = _Room(
            room=room,
            earliest=earliest,
            latest=latest,
            expires=at + self.period + self.margin,
            basis=sent_at,
            answered=at,
            doubt=remaining - room,
        )
        rooms: list[_Room] = []
        merged = False
        for existing in self._rooms:
            if existing.answered <= sent_at:
                continue  # sent after that answer, so counted later: this count replaces it
            if (
                not merged
                and existing.basis != math.inf
                and existing.earliest <= latest
                and earliest <= existing.latest
            ):
                # The same server window, counted in an order we cannot tell: narrow its
                # reset instant, and the lower room holds.
                existing.earliest = max(existing.earliest, earliest)
                existing.latest = min(existing.latest, latest)
                bound = min(existing.room + existing.doubt, room + new.doubt)
                existing.room = min(existing.room, room)
                existing.doubt = bound - existing.room
                existing.expires = max(existing.expires, new.expires)
                existing.basis = max(existing.basis, sent_at)
                existing.answered = max(existing.answered, at)
                merged = True
            rooms.append(existing)
        if not merged:
            rooms.append(new)
        if len(rooms) > _MAX_ROOMS:
            # A server whose Reset does not count down would add a room per answer: fold the
            # two oldest into one that is never less strict (the lower room, the wider span,
            # no slot freed before the later of them expires).
            first, second = rooms[0], rooms[1]
            rooms[:2] = [
                _Room(
                    room=min(first.room, second.room),
                    earliest=min(first.earliest, second.earliest),
                    latest=max(first.latest, second.latest),
                    expires=max(first.expires, second.expires),
                    basis=math.inf,  # folded: no answer narrows or matches it again
                    answered=max(first.answered, second.answered),
                    bumped=True,
                )
            ]
        self._rooms = rooms

    def _learn_slack(self, grant: Grant, at: float, surplus: int, leaves_by: float) -> None:
        """Rule 6: the server counted ``surplus`` more than ours that could be in its window.

        When that many of our sends had freed their slots shortly before this request was sent,
        and no other client was seen lately, the server still counted them: it counts longer
        than answer + W. The oldest of them leaves its window by ``leaves_by`` (its Reset):
        hold every slot that much longer (by at most the reach per answer, so that a surplus
        mistaken for ours cannot stall the budget). Otherwise another client spends the key.
        """
        holds = self._holds
        sent_at = grant.sent_at if grant.sent_at is not None else at
        end = bisect.bisect_right(holds, sent_at - grant.margin)
        start = bisect.bisect_right(holds, sent_at - grant.margin - self._reach())
        if end - start < surplus:
            self._foreign_at = at  # more than ours could explain: another client
            return
        if at - self._foreign_at < 2 * self.period:
            return  # another client was seen lately: the surplus may be its doing
        # The surplus-th most recently freed before the send was still counted: its hold
        # needed to last until it left.
        freed = holds[end - surplus]
        margin = self.margin
        needed = min(max(at, leaves_by) - freed, grant.margin + self._reach()) + _TOLERANCE
        if needed <= margin:
            return  # an earlier answer already taught as much
        self._slack = needed - self.rate_limit.effective_margin
        self.margin = needed
        # Check the new margin when a slot is next used again (not by this answer's probe).
        self._checked = self._checking = False
        # Slots freed under the old margin may be held again.
        self._gone = min(self._gone, bisect.bisect_right(holds, at - needed))
        _log.warning(
            "budget %s: the server still counted requests after their slots were freed; "
            "holding each slot %.3f s beyond W from now on",
            self.name,
            needed,
        )

    def _pause(self, sent_at: float, headers: RateLimitHeaders | None, at: float) -> None:
        self.rate_limited += 1
        if headers is not None and headers.retry_after is not None:
            until = at + headers.retry_after
        elif headers is not None and headers.reset is not None:
            _, high = self._reset_offsets(headers)
            # Rounding adds at most up to W (see _follow_headers); Reset itself is obeyed.
            until = at + max(headers.reset, min(headers.reset + high, self.period))
        else:
            until = at + self.period
        refused = self._refused_at
        if refused is None or sent_at >= refused:
            if refused is not None:
                # A probe sent after the last refusal was refused too: the window is still
                # full past the reset it announced (a sliding window that counted our refused
                # request, or another client). All the server had counted at that refusal
                # has left W after it: probe then, not at every slot it frees.
                until = max(until, refused + self.period)
            self._refused_at = at
        until += self.margin
        if until > self._paused_until:
            self._paused_until = until
        self._needs_probe = True
        self._probe_out = False
        self._checking = False  # a probe after the pause proves nothing of rule 1: check again
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
            # Read together under the lock: another thread may be dropping old holds.
            sent_in_window = self._held()
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
            reset_rounding=self._rounding.learned,
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
