"""What the server's answers said: header rooms, Reset's rounding and 429 pauses (rules 3-5).

Pure bookkeeping without a lock or a clock of its own: the ledger calls it with its lock held
and passes every time in. :class:`ServerView` keeps the rooms the headers allow while another
client spends the key, learns which way a whole-second Reset is rounded and holds everyone
after a 429; :class:`Probes` says when one request must go alone and the rest wait for its
answer.
"""

from __future__ import annotations

import math

import attrs

from .._sansio import RateLimitHeaders

_MAX_ROOMS = 8  # server windows tracked at once; real servers need one or two

# Clock readings and float arithmetic: instants this close are not told apart.
TOLERANCE = 0.002

# The true seconds to a reset lie within [R + low, R + high] for a whole-second Reset R.
_ROUNDINGS: dict[str, tuple[float, float]] = {
    "floor": (0.0, 1.0),
    "ceil": (-1.0, 0.0),
    "nearest": (-0.5, 0.5),
}

# Per rounding, the bounds an observation must reach to fit it: (high + TOLERANCE, low - it).
_FITS = {kind: (high + TOLERANCE, low - TOLERANCE) for kind, (low, high) in _ROUNDINGS.items()}


@attrs.define
class Room:
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


class ResetRounding:
    """Which way the server rounds a whole-second Reset, learned from its answers.

    Every rounding stays possible until an answer shows the true seconds to the reset outside
    its range; if none is left (a server rounding some other way), all are possible again.
    """

    __slots__ = ("_kinds", "_offsets")

    def __init__(self) -> None:
        self.kinds = set(_ROUNDINGS)

    @property
    def kinds(self) -> set[str]:
        """The roundings that still fit the answers."""
        return self._kinds

    @kinds.setter
    def kinds(self, kinds: set[str]) -> None:
        self._kinds = kinds
        # Read on every answer, changed rarely: worked out once per change.
        self._offsets = (
            min(_ROUNDINGS[k][0] for k in kinds),
            max(_ROUNDINGS[k][1] for k in kinds),
        )

    def offsets(self) -> tuple[float, float]:
        """(low, high): the reset is within [R + low, R + high] for a whole-second Reset R."""
        return self._offsets

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
        if high < -1.0 - TOLERANCE or low > 1.0 + TOLERANCE:
            return  # no rounding explains it: the anchor was not this window's end
        kinds = self._kinds
        left = {kind for kind in kinds if low <= _FITS[kind][0] and high >= _FITS[kind][1]}
        if len(left) != len(kinds):  # usually none is ruled out: nothing to work out again
            self.kinds = left or set(_ROUNDINGS)


def last_digit(value: float) -> float:
    """One unit of the last decimal a fractional Reset was written with (at least 1 us)."""
    text = repr(value)
    if "e" in text or "." not in text:
        return 1e-6
    return max(1e-6, 10.0 ** -len(text.split(".", 1)[1]))


class Probes:
    """When one request (the probe) goes alone and the rest wait for its answer (rule 2).

    At cold start, after two idle windows, after a 429, and after a full window against a
    server that showed it counts longer (:meth:`window_full`), the window's state is
    unknown. The first slot used again (and the first after the margin grew) checks once that
    the server frees slots when rule 1 does (``checking`` until its answer, then
    ``checked``).
    """

    __slots__ = ("checked", "checking", "current", "distrust", "last_seen", "needed")

    def __init__(self) -> None:
        self.needed = True
        # The server refused a send or counted longer than rule 1 assumes: full windows are
        # checked before the slots they free go out together (see window_full).
        self.distrust = False
        self.current: object = None  # the grant that is the probe out (only it settles it)
        self.checked = False
        self.checking = False
        self.last_seen = -math.inf  # when the last answer came

    @property
    def out(self) -> bool:
        """Whether a probe is on its way (granted, not settled)."""
        return self.current is not None

    @property
    def blocking(self) -> bool:
        """Whether a probe is out and everyone else waits for its answer."""
        return self.needed and self.out

    def slot_reused(self) -> None:
        """A freed slot is about to be used again: the first time, it goes alone."""
        if not self.checked and not self.needed:
            # A server that counts longer than rule 1 assumes costs one 429, not a window's
            # worth.
            self.needed = self.checking = True

    def window_full(self) -> None:
        """An answer said the server's window is full: the next send may have to go alone.

        Rule 1 says when our slots free; a server whose window outlasts W (by less than its
        answers can show: rule 6) refuses a whole burst sent then, where one send alone
        draws one 429 and teaches the margin. Only once such a server showed itself (a 429,
        or a margin learned), so that a prompt server pays nothing; and once rule 1 was
        checked (else the check itself goes alone). It costs one answer's time per window.
        """
        if self.checked and self.distrust:
            self.needed = True

    def after_idle(self, now: float, period: float, busy: bool) -> None:
        """Probe again after two idle windows: another process may have spent the budget."""
        if not self.needed and not busy and now - self.last_seen > 2 * period:
            self.needed = True

    def answered(self) -> None:
        """The probe went through: the others may go."""
        self.needed = False
        self.current = None
        if self.checking:
            self.checked, self.checking = True, False

    def refused(self) -> None:
        """A 429: the next request after the pause probes, and rule 1 is checked again."""
        self.needed = self.distrust = True
        self.current = None
        self.checking = False  # a probe after the pause proves nothing of rule 1

    def given_up(self, grant: object) -> None:
        """``grant`` settled without an answer: if it is the probe out, the next one probes."""
        if grant is self.current:
            self.current = None

    def margin_grew(self) -> None:
        """Check the new margin when a slot is next used again (not by the current probe)."""
        self.checked = self.checking = False
        self.distrust = True


class ServerView:
    """The rooms the headers allow, Reset's rounding, and the 429 pause (rules 3, 4, 5)."""

    def __init__(self) -> None:
        self.rooms: list[Room] = []
        self.rounding = ResetRounding()
        # The end of a window this client opened: (earliest, latest, usable until, answered).
        self.anchor: tuple[float, float, float, float] | None = None
        self.server_remaining: int | None = None
        self.server_reset_at: float | None = None
        self.paused_until = -math.inf
        self.refused_at: float | None = None  # answer time of the last 429 of a run of them
        self.rate_limited = 0
        self.epoch = 0

    # -- rooms, as grants see them ------------------------------------------------------------

    def cap(self, free: int) -> int:
        """``free`` slots, lowered to the lowest room."""
        for room in self.rooms:
            if room.room < free:
                free = room.room
        return free

    def take_slot(self) -> None:
        """A slot was granted: every room has one less."""
        for room in self.rooms:
            room.room -= 1

    def give_slot(self) -> None:
        """A granted slot was never sent: every room has it back."""
        for room in self.rooms:
            room.room += 1

    def age(self, now: float, margin: float) -> None:
        """Drop the rooms whose window has gone; past its reset, a room has one more slot."""
        if not self.rooms:
            return
        kept = []
        for room in self.rooms:
            if room.expires <= now:
                continue
            if not room.bumped and room.latest + margin <= now:
                # The reset has passed: at least the oldest request has left.
                room.bumped = True
                room.room += 1
            kept.append(room)
        self.rooms = kept

    def doubt_blocks(self, need: int, waiting: bool) -> bool | None:
        """Whether only doubt keeps ``need`` slots back (None: no, or nothing keeps them back).

        True when a probe could go now, False when it could once the answers in flight are in
        (``waiting``: some are, or granted, or a probe is out). A room that subtracted sends
        the server may not have counted stays low until a fresher answer, and at the end of a
        burst none may come: a single send (a probe) brings one.
        """
        blocked = False
        for room in self.rooms:
            if room.room < need:
                if room.room + room.doubt < need:
                    return None
                blocked = True
        return (not waiting) if blocked else None

    def room_frees(self, need: int, when: float, margin: float) -> float:
        """The earliest time from ``when`` at which every room has ``need`` slots."""
        for room in self.rooms:
            if room.room < need:
                if not room.bumped and room.room + 1 >= need:
                    when = max(when, room.latest + margin)
                else:
                    when = max(when, room.expires)
        return when

    # -- reading an answer --------------------------------------------------------------------

    def reset_offsets(self, headers: RateLimitHeaders) -> tuple[float, float]:
        """(low, high): the reset is within [Reset + low, Reset + high] seconds (rule 4)."""
        if headers.reset is None:
            return 0.0, 0.0  # no Reset: W is assumed, which bounds any window
        if headers.reset_floored:
            return self.rounding.offsets()
        unit = last_digit(headers.reset)
        return -unit, unit

    def count(
        self,
        headers: RateLimitHeaders,
        remaining: int,
        sent_at: float,
        at: float,
        observed: bool,
        period: float,
        limit: int,
    ) -> int:
        """Take in an answer's Remaining and Reset: how many its server window counted.

        The answer arrived ``at``; ``observed``: the send time is known (not stamped at the
        answer). When that window ends is :meth:`span`, worked out only when a room follows
        it or rule 6 learns from it (every answer is counted; most need no more).
        """
        reset = headers.reset
        self.server_remaining = remaining
        self.server_reset_at = at + (reset if reset is not None else period)
        server_limit = headers.limit if headers.limit is not None else limit
        counted = max(0, server_limit - remaining)
        if reset is None or not headers.reset_floored:
            return counted
        # Rule 4: what a whole-second Reset shows of its rounding.
        if counted == 1 and math.floor(period) <= reset <= math.ceil(period):
            # Alone in the server's window, with a whole window ahead: this request opened it
            # (or is its oldest), so the window ends W after it was counted. Answers up to a
            # second short of that (an aligned window may have begun up to a second earlier)
            # are from the same window.
            if observed:
                self.anchor = (sent_at + period, at + period, sent_at + period - 1.0, at)
            return counted
        anchor = self.anchor
        if anchor is None or counted < 2 or not observed:
            return counted
        end_low, end_high, usable_until, anchored_at = anchor
        if sent_at < anchored_at or at >= usable_until:
            return counted  # not counted after the anchor, or perhaps in a later window
        # Counted within [sent_at, at]: the true seconds to the window's end were within
        # [end_low - at, end_high - sent_at].
        self.rounding.observe(end_low - at - reset, end_high - sent_at - reset)
        return counted

    def span(
        self, headers: RateLimitHeaders, sent_at: float, at: float, period: float
    ) -> tuple[float, float]:
        """(earliest, latest): when the window that counted the answer's request ends."""
        reset = headers.reset if headers.reset is not None else period
        low, high = self.reset_offsets(headers)
        # When the server's window ends (rolling: its oldest leaves), at the latest: Reset's
        # rounding may add a second, but the window that counted this request ends within W
        # of it; a Reset longer than W is taken as said.
        return sent_at + reset + low, at + max(reset, min(reset + high, period))

    def drop_rooms_answered_by(self, sent_at: float) -> None:
        """Our own sends explain a count that came after these rooms' counts: drop them."""
        self.rooms = [room for room in self.rooms if room.answered > sent_at]

    def add_room(self, new: Room) -> None:
        """Follow a fresher count: it replaces the rooms it supersedes, narrows its own."""
        rooms: list[Room] = []
        merged = False
        for existing in self.rooms:
            if existing.answered <= new.basis:
                continue  # sent after that answer, so counted later: this count replaces it
            if (
                not merged
                and existing.basis != math.inf
                and existing.earliest <= new.latest
                and new.earliest <= existing.latest
            ):
                _narrow(existing, new)
                merged = True
            rooms.append(existing)
        if not merged:
            rooms.append(new)
        if len(rooms) > _MAX_ROOMS:
            # A server whose Reset does not count down would add a room per answer: fold the
            # two oldest into one that is never less strict.
            rooms[:2] = [_fold(rooms[0], rooms[1])]
        self.rooms = rooms

    # -- 429 ----------------------------------------------------------------------------------

    def went_through(self, sent_at: float) -> None:
        """A request was admitted: if sent after the refusals, their run is over."""
        if self.refused_at is not None and sent_at >= self.refused_at:
            self.refused_at = None

    def pause(
        self,
        sent_at: float,
        headers: RateLimitHeaders | None,
        at: float,
        *,
        period: float,
        margin: float,
    ) -> float:
        """Hold everyone after a 429 answered ``at`` (rule 5); returns until when."""
        self.rate_limited += 1
        if headers is not None and headers.retry_after is not None:
            until = at + headers.retry_after
        elif headers is not None and headers.reset is not None:
            _, high = self.reset_offsets(headers)
            # Rounding adds at most up to W (see read); Reset itself is obeyed.
            until = at + max(headers.reset, min(headers.reset + high, period))
        else:
            until = at + period
        refused = self.refused_at
        if refused is None or sent_at >= refused:
            if refused is not None:
                # A probe sent after the last refusal was refused too: the window is still
                # full past the reset it announced (a sliding window that counted our refused
                # request, or another client). All the server had counted at that refusal
                # has left W after it: probe then, not at every slot it frees.
                until = max(until, refused + period)
            self.refused_at = at
        until += margin
        if until > self.paused_until:
            self.paused_until = until
        self.epoch += 1
        return until


def _narrow(existing: Room, new: Room) -> None:
    """Merge ``new`` into ``existing``: the same server window, counted in an unknown order.

    Its reset instant narrows, and the lower room holds.
    """
    existing.earliest = max(existing.earliest, new.earliest)
    existing.latest = min(existing.latest, new.latest)
    bound = min(existing.room + existing.doubt, new.room + new.doubt)
    existing.room = min(existing.room, new.room)
    existing.doubt = bound - existing.room
    existing.expires = max(existing.expires, new.expires)
    existing.basis = max(existing.basis, new.basis)
    existing.answered = max(existing.answered, new.answered)


def _fold(first: Room, second: Room) -> Room:
    """One room never less strict than both.

    The lower room, the wider span, no slot freed before the later of them expires.
    """
    return Room(
        room=min(first.room, second.room),
        earliest=min(first.earliest, second.earliest),
        latest=max(first.latest, second.latest),
        expires=max(first.expires, second.expires),
        basis=math.inf,  # folded: no answer narrows or matches it again
        answered=max(first.answered, second.answered),
        bumped=True,
    )
