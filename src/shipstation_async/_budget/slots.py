"""Rule 1's bookkeeping: which sends hold a slot, and until when.

Sorted lists of times, no lock and no clock of its own (the ledger holds its lock and passes
every time in). A slot is held from its grant (``reserved``), while its send is in flight,
and until its answer + W (a *hold*); a send given up on holds it until the give-up time + W +
the longest answer time seen. Holds are stored less the margin, which is added when read, so
a margin learned later holds every slot longer.
"""

from __future__ import annotations

import bisect


class SlotBook:
    """The slots one budget's sends hold: reserved, in flight, and held after their answer."""

    __slots__ = ("answered", "gone", "holds", "in_flight", "longest", "reserved", "total_sent")

    def __init__(self) -> None:
        # When each answered (or given-up) send's slot frees, less the margin, sorted. The
        # first ``gone`` are free already; they are deleted in batches (one at a time would
        # move a high limit's whole list on every grant), and kept a little while for rule 6.
        self.holds: list[float] = []
        self.gone = 0
        self.reserved = 0  # granted, not yet sent
        self.in_flight: list[float] = []  # send times of those in flight, sorted
        # When landed sends were answered (given up: by when they may have been counted),
        # sorted: those answered after a request was sent may have been counted after it.
        self.answered: list[float] = []
        self.total_sent = 0
        self.longest = 0.0  # the longest answer time seen: a bound on counting delays

    # -- counting -----------------------------------------------------------------------------

    def held(self) -> int:
        """Sent requests holding a slot (rule 1): in flight, or answered less than W ago."""
        return len(self.in_flight) + len(self.holds) - self.gone

    def free(self, limit: int) -> int:
        """Slots neither held nor reserved under ``limit``."""
        # held(), written out: this runs on every grant.
        return limit - len(self.in_flight) - len(self.holds) + self.gone - self.reserved

    @property
    def busy(self) -> bool:
        """Whether any request is granted or in flight."""
        return bool(self.in_flight or self.reserved)

    def nth_freeing(self, count: int) -> float | None:
        """When ``count`` more held slots will have freed, less the margin.

        None when fewer are held after an answer (the rest are in flight: their answers tell).
        """
        if count > len(self.holds) - self.gone:
            return None
        return self.holds[self.gone + count - 1]

    # -- a send's life ------------------------------------------------------------------------

    def record_send(self, at: float) -> None:
        """A reserved slot's request went out ``at``."""
        self.reserved -= 1
        self.total_sent += 1
        bisect.insort(self.in_flight, at)

    def landed(self, sent_at: float) -> None:
        """A send of ``sent_at`` is no longer in flight (answered or failed)."""
        in_flight = self.in_flight
        index = bisect.bisect_left(in_flight, sent_at)
        if index < len(in_flight):
            del in_flight[index]

    def answer_took(self, seconds: float) -> None:
        """A send was answered ``seconds`` after it went out (a bound on counting delays)."""
        if seconds > self.longest:
            self.longest = seconds

    def hold(self, until: float) -> None:
        """Hold a slot until ``until`` + the margin."""
        holds = self.holds
        if not holds or until >= holds[-1]:
            holds.append(until)
        else:
            index = bisect.bisect_right(holds, until, self.gone)
            holds.insert(index, until)
            if index < self.gone:  # pragma: no cover - a hold always ends in the future
                self.gone += 1

    def answered_hold(self, at: float, until: float) -> None:
        """A send landed (or may have been counted by) ``at``; its slot is held until ``until``.

        :meth:`hold` and :meth:`note_answered` in one call (every answer makes both).
        """
        holds = self.holds
        if holds and until >= holds[-1]:  # hold(), for the usual case: the latest hold
            holds.append(until)
        else:
            self.hold(until)
        answered = self.answered
        if not answered or at >= answered[-1]:
            answered.append(at)
        else:
            bisect.insort(answered, at)

    def note_answered(self, at: float) -> None:
        """A send landed (or may have been counted by) ``at``."""
        answered = self.answered
        if not answered or at >= answered[-1]:
            answered.append(at)
        else:
            bisect.insort(answered, at)

    # -- time passing -------------------------------------------------------------------------

    def advance(self, now: float, margin: float, reach: float) -> bool:
        """Bring the lists to ``now``: free the holds that ended, drop what nothing needs.

        Returns whether a hold ended. A hold ends by now less the margin. Slots freed before
        the oldest send still in flight (by more than rule 6's ``reach``) can no longer
        matter to any answer, nor come back with a margin it learns: they are dropped, as
        are the answer times before them.
        """
        holds = self.holds
        gone = self.gone
        freed = gone < len(holds) and holds[gone] <= now - margin
        if freed:
            gone = self.gone = bisect.bisect_right(holds, now - margin, gone)
        in_flight = self.in_flight
        horizon = (min(now, in_flight[0]) if in_flight else now) - reach
        if gone and holds[0] <= horizon - margin:
            cut = bisect.bisect_right(holds, horizon - margin, 0, gone)
            if cut * 4 >= len(holds):
                del holds[:cut]
                self.gone -= cut
        answered = self.answered
        if answered and answered[0] <= horizon:
            cut = bisect.bisect_right(answered, horizon)
            if cut * 4 >= len(answered):
                del answered[:cut]
        return freed

    def hold_again_from(self, freed_after: float) -> None:
        """Slots freed after ``freed_after`` (less the margin) are held again (a new margin)."""
        self.gone = min(self.gone, bisect.bisect_right(self.holds, freed_after))

    # -- what an answer's count may include ---------------------------------------------------

    def maybe_counted(self, freed_by: float) -> int:
        """Ours the server may have counted before a request, sent as ``freed_by``'s holds freed.

        Those in flight, and those still held then (ending after ``freed_by``).
        """
        holds = self.holds
        return len(self.in_flight) + len(holds) - bisect.bisect_right(holds, freed_by)

    def certainly_counted(self, answered_before: float, still_held_after: float) -> int:
        """Ours certainly in a count: answered before its request was sent, and still held."""
        holds = self.holds
        return bisect.bisect_right(holds, answered_before) - bisect.bisect_right(
            holds, still_held_after
        )

    def maybe_uncounted(self, sent_at: float) -> int:
        """Ours the server may not have counted when it counted a request sent at ``sent_at``.

        Those in flight, granted, or answered after it was sent.
        """
        answered = self.answered
        return (
            len(self.in_flight)
            + self.reserved
            + len(answered)
            - bisect.bisect_right(answered, sent_at)
        )

    def freed_shortly_before(self, freed_by: float, reach: float) -> list[float]:
        """The holds (less the margin) that ended within ``reach`` before ``freed_by``."""
        holds = self.holds
        end = bisect.bisect_right(holds, freed_by)
        start = bisect.bisect_right(holds, freed_by - reach)
        return holds[start:end]
