"""Concurrent streams over ShipStation's lists: every record exactly once, at the budget's pace.

V1 has no cursor or snapshot, so "exactly once" needs a precise meaning. T0 is the caller's end
or, when none is given, the server's ``Date`` (from the first response) minus two minutes.
Every record whose creation time is at or before T0, and that exists and matches the filters for
the whole listing, is yielded exactly once; a record created, deleted, or entering or leaving the
filters during the listing is yielded at most once.

How: instead of offset pages (an item shifting across a page boundary is skipped or seen twice),
each sub-range of the creation-date range is walked as a keyset on CreateDate, which never
changes: ``sortBy=CreateDate&sortDir=ASC&createDateStart=<cursor second - 1 s>&createDateEnd=
<end second + 1 s>&page=1``. Records are compared as the server's own Pacific wall-clock strings
(which sidesteps the fall-back hour and the unknown inclusivity of second-precision filters).
For a full page, the records before the last record's second are accepted and the cursor moves
to that second; a second holding a whole page or more is read page by page, re-read until its
total is stable, and de-duplicated by id within that second only. Memory stays flat: no set of
every id seen.

The modules: ``.plan`` (pure: keys, parts, cuts, estimates), ``.walker`` (the requests
of one part's walk), ``.stream`` (:class:`ItemStream`: planning, fan-out, hand-over) and
``.registry`` (:data:`WALKS`: how each listing is walked, shared with the backfill).
"""

from .._raw_records import RawRecord
from .plan import MAX_RANGE, T0_LAG, Plan, Split, SubRange, key_of, split, wall_key
from .registry import (
    CUSTOMERS,
    FULFILLMENTS,
    MODIFIED_ORDERS,
    ORDERS,
    PRODUCTS,
    SHIPMENTS,
    WALKS,
    Walk,
)
from .stream import ItemStream
from .walker import Batch, StreamError

__all__ = [
    "CUSTOMERS",
    "FULFILLMENTS",
    "MAX_RANGE",
    "MODIFIED_ORDERS",
    "ORDERS",
    "PRODUCTS",
    "SHIPMENTS",
    "T0_LAG",
    "WALKS",
    "Batch",
    "ItemStream",
    "Plan",
    "RawRecord",
    "Split",
    "StreamError",
    "SubRange",
    "Walk",
    "key_of",
    "split",
    "wall_key",
]
