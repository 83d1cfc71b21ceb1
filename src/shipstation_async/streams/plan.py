"""A stream's plan, pure: wall-clock keys, the parts of a date range, cuts and estimates.

Nothing here sends a request or waits: the walkers (:mod:`.walker`) move the cursors and
report what they learn into a :class:`Plan`, which decides where to cut a part in two and how
much is left.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

import attrs

from ..errors import DecodeError

_log = logging.getLogger("shipstation_async.streams")

# The API allows at most 90 days per date-range request; the query window adds 1 s each side.
# Ranges are Pacific wall-clock times: one that spans the autumn clock change lasts an hour
# longer than its wall-clock length, so a part is an hour shorter, within 90 days either way.
MAX_RANGE = timedelta(days=90) - timedelta(hours=1, seconds=4)

T0_LAG = timedelta(minutes=2)
"""Without an end, a listing stops this long before the server's clock (T0)."""

KEY_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}")
"""A wall-clock key: ``YYYY-MM-DDTHH:MM:SS.fffffff``."""


def wall_key(text: str) -> str:
    """A server timestamp as a fixed-width wall-clock key that sorts like time.

    ``"2015-07-16T14:00:34.823"`` -> ``"2015-07-16T14:00:34.8230000"``.
    """
    if KEY_SHAPE.fullmatch(text):
        return text  # a key already (as the API writes orders' dates): the rest would keep it
    return spelt_out(text)


def spelt_out(text: str) -> str:
    """:func:`wall_key` of any text, without the shortcut for one that is a key already."""
    text = text.strip().replace(" ", "T")
    head, _, fraction = text.partition(".")
    if len(head) == 10:
        head += "T00:00:00"
    fraction = "".join(ch for ch in fraction if ch.isdigit())
    return f"{head[:19]}.{fraction[:7].ljust(7, '0')}"


def key_of(moment: datetime) -> str:
    """The wall-clock key of a naive Pacific datetime."""
    # isoformat, not strftime: "%Y" leaves a year before 1000 unpadded on Linux.
    return moment.replace(tzinfo=None).isoformat("T", "seconds") + f".{moment.microsecond:06d}0"


def second_of(key: str) -> datetime:
    """The whole second a key falls in, as a naive Pacific datetime."""
    try:
        return datetime.strptime(key[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:  # shaped like a time but not one ("2024-13-45T...")
        raise DecodeError(f"not a timestamp the server could have written: {key!r}") from None


def query_time(moment: datetime) -> str:
    """A naive Pacific datetime as a date filter takes it (second precision)."""
    return moment.replace(tzinfo=None).isoformat(" ", "seconds")


def count_of(value: Any) -> int:
    """An answer's ``total`` as a count for estimates (anything unusable counts as none)."""
    return total_of(value) or 0


def total_of(value: Any) -> int | None:
    """An answer's ``total`` as a count, or None when it is missing or unusable.

    Unknown, not zero: a walk that cannot count what is left reads on until a page is empty.
    """
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return None


@attrs.define
class SubRange:
    """A part of the walk: ``[cursor, end)`` (``end`` inclusive for the last part)."""

    cursor: str
    end: str
    inclusive: bool
    done: bool = False

    def contains(self, key: str) -> bool:
        """Whether a record's key is still to be yielded by this part."""
        return self.cursor <= key and (key < self.end or (self.inclusive and key == self.end))

    def seconds_left(self) -> float:
        """The span still to walk, from the cursor to the end, in seconds."""
        return (second_of(self.end) - second_of(self.cursor)).total_seconds()


def split(
    start: datetime, end: datetime, parts: int, max_range: timedelta | None
) -> list[SubRange]:
    """Split ``[start, end]`` (naive Pacific) into pieces, the last one inclusive of ``end``.

    At least ``parts`` pieces, and none longer than ``max_range``.
    """
    span = end - start
    count = max(1, parts)
    if max_range is not None and span > max_range:
        count = max(count, -(-span // max_range))
    step = span / count
    bounds = [start + step * i for i in range(count)] + [end]
    ranges = [
        SubRange(key_of(bounds[i]), key_of(bounds[i + 1]), inclusive=i == count - 1)
        for i in range(count)
    ]
    return [r for r in ranges if r.cursor < r.end or r.inclusive]


@attrs.frozen
class Split:
    """Part ``part`` now ends at ``end`` (exclusive); the rest became part ``new_index``."""

    part: int
    end: str
    new_index: int
    new_part: SubRange


def _pages(records: int, page_size: int) -> int:
    return max(1, -(-records // page_size))


@attrs.define
class Plan:
    """The parts of one walk and what the walkers learned of them: records left, density.

    ``left``: records a part has still to fetch, per its last answer; ``density``: records per
    second over what a part had left at its last answer; ``expected``: every record the walk
    should yield, when the first request counted them all (no start given);
    ``emitted``/``delivered``: records fetched, and handed to the consumer.
    """

    page_size: int
    parts: list[SubRange] = attrs.Factory(list)
    left: dict[int, int] = attrs.Factory(dict)
    density: dict[int, float] = attrs.Factory(dict)
    expected: int | None = None
    emitted: int = 0
    delivered: int = 0

    def estimate_left(self) -> tuple[int, int] | None:
        """Records and requests still to come (records fetched but not handed over included).

        Each answer's ``total`` counts its part's records from the cursor on, so the estimate
        firms up as the walk goes. The parts not started yet share what the first request
        counted (when it counted every matching record) less what is known; otherwise they count
        as dense as those walked. None until a first full page has shown how dense records are.
        """
        records = self.emitted - self.delivered  # fetched, not yet handed over
        requests = 0
        unstarted: list[float] = []  # seconds of each part not started yet
        for index, part in enumerate(self.parts):
            if part.done:
                continue
            left = self.left.get(index)
            if left is None:
                if not part.end:
                    return None  # an offset walk: no time span to estimate from
                unstarted.append(part.seconds_left())
                continue
            records += left
            requests += _pages(left, self.page_size)
        if not unstarted:
            return records, requests
        if self.expected is not None:
            rest = max(0, self.expected - self.delivered - records)
            per_second = rest / max(1.0, sum(unstarted))
        elif self.density:
            per_second = sum(self.density.values()) / len(self.density)
        else:
            return None
        for seconds in unstarted:
            left = int(seconds * per_second)
            records += left
            requests += _pages(left, self.page_size)
        return records, requests

    def split_largest(self, walking: set[int]) -> Split | None:
        """Cut the walked part with the most records left in two; the second half is new.

        Records left are the part's last answer's count (or its density over what is left). A
        part is cut only if each half should still fill two pages: a cut costs about one
        request (a partial last page), so it must buy more than that in walkers kept busy.
        """
        best: tuple[float, int] | None = None
        for index in walking:
            part = self.parts[index]
            density = self.density.get(index)
            if part.done or density is None:
                continue
            seconds = part.seconds_left()
            left = self.left.get(index, seconds * density)
            if seconds >= 2 and left >= 4 * self.page_size and (best is None or left > best[0]):
                best = (left, index)
        if best is None:
            return None
        origin = best[1]
        part = self.parts[origin]
        low, high = second_of(part.cursor), second_of(part.end)
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        cut = SubRange(key_of(middle), part.end, inclusive=part.inclusive)
        index = len(self.parts)
        self.parts.append(cut)
        # The walker of ``part`` reads ``end`` at each answer: it stops at the cut.
        part.end, part.inclusive = cut.cursor, False
        self.density[index] = self.density[origin]
        if origin in self.left:
            self.left[index] = self.left[origin] // 2
            self.left[origin] -= self.left[index]
        _log.debug("split part %d at %s into part %d", origin, cut.cursor, index)
        return Split(origin, part.end, index, attrs.evolve(cut))


class Passes:
    """Decides when whole reads of an offset-paged listing have missed nothing.

    A page boundary shifts when a record joins or leaves between two page reads (one may be
    skipped even though the total stays the same), and records with equal sort keys may come
    in another order on every read. Settled: two reads in a row saw the same ids, as many as
    the total; or, since the last read that showed a change (an id never seen before, or
    another total) and not counting that read (it may have straddled the change), the reads
    together saw exactly the total (a shuffled order fills in over several reads).
    """

    def __init__(self) -> None:
        self._last: set[Any] | None = None
        self._seen: set[Any] = set()
        self._total: int | None = None
        self._since_change: set[Any] = set()

    def settled(self, ids: set[Any], total: int | None) -> bool:
        """Whether the reads so far, this one included (its ids and total), missed nothing.

        With no total (None), two reads in a row that saw the same ids settle it.
        """
        last, self._last = self._last, ids
        if last is not None and ids == last and (total is None or len(ids) == total):
            return True
        if total is None:
            return False
        changed = not ids <= self._seen or total != self._total
        self._seen |= ids
        if changed:
            self._total = total
            self._since_change = set()
            return False
        self._since_change |= ids
        return len(self._since_change) == total
