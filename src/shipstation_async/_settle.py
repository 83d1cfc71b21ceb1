"""The pure rules for settling an ambiguous write: when to look, what counts as its trace.

No I/O and no clock: every function takes the moments it needs, so the timing is tested with
a fake clock and the matching with plain records. :mod:`.settlement` does the looking.

The facts the rules stand on:

- A request that went out may be processed by the server at any moment until it has finished
  processing; ShipStation gives no way to ask "did you process this?" and has no idempotency
  key. So an absence proves nothing until the server has surely finished: the *horizon*, a
  number of seconds after the send, derived from the client's timeout and the slowest answer
  the client has seen (see :func:`horizon_seconds`). Only a look that begins after the horizon
  and finds nothing may conclude that the write did not take effect.
- A record the write made was created after the request went out, on the server's clock. The
  server's clock is read from the ``Date`` header of the look's own answer, never from this
  host's clock (hosts drift): see :func:`earliest_creation`.
- Two identical requests cannot be told apart by what they leave behind. The in-process
  registry (:mod:`._intents`) keeps identical purchases from overlapping and remembers the
  records earlier purchases were answered with, so that a look never takes those for this
  one's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import attrs

from ._time import PACIFIC

Outcome = Literal["bought", "not_bought", "still_ambiguous"]
"""What a settlement found: the write took effect, it did not, or no certainty was reached."""

LABEL_PATHS = frozenset({"/orders/createlabelfororder", "/shipments/createlabel"})
MARK_SHIPPED_PATH = "/orders/markasshipped"
ADD_FUNDS_PATH = "/carriers/addfunds"
CREATE_WAREHOUSE_PATH = "/warehouses/createwarehouse"
SETTLEABLE_PATHS = LABEL_PATHS | {MARK_SHIPPED_PATH, ADD_FUNDS_PATH, CREATE_WAREHOUSE_PATH}
"""The writes whose outcome can be checked afterwards through the API."""

# -- timing -----------------------------------------------------------------------------------

HORIZON_TIMEOUTS = 2.0
"""The horizon is at least this many client timeouts after the send ..."""
HORIZON_SLOWEST = 4.0
"""... and at least this many times the slowest answer seen ..."""
HORIZON_SLACK = 1.0
"""... plus this many seconds (a listing may show a new record a moment after it is made)."""
FIRST_INTERVAL = 0.5
"""Seconds between the first look and the second; each later gap doubles."""


MIN_HORIZON = 120.0
"""The shortest horizon by default: ASP.NET, which runs the API, lets a request execute for
110 s before it stops it (its default executionTimeout)."""


def horizon_seconds(
    timeout: float, slowest_answer: float | None = None, minimum: float = MIN_HORIZON
) -> float:
    """Seconds after its send by which a request the server was still processing has landed.

    The client gives up on an answer after ``timeout``; a server that is still processing then
    finishes within a few of its own slowest answers, and ASP.NET stops a request after 110 s.
    The horizon is the longest of ``minimum`` (default ``MIN_HORIZON``), twice the timeout
    and four times the slowest answer seen (``slowest_answer``), plus a second.
    """
    slowest = slowest_answer if slowest_answer is not None and slowest_answer > 0 else 0.0
    return max(minimum, HORIZON_TIMEOUTS * timeout, HORIZON_SLOWEST * slowest) + HORIZON_SLACK


@attrs.frozen
class PollSchedule:
    """When to look for an ambiguous write's trace, in monotonic seconds.

    ``sent_at``: the moment the request went out; ``horizon``: seconds after it by which any
    processing has landed; ``deadline``: when the caller stops waiting (None: never before
    the horizon). Looks begin at once, then after gaps that double from
    :data:`FIRST_INTERVAL` (at most a quarter of the horizon, at least one second when the
    horizon is long), and one look always begins at the horizon, the one that may conclude.
    """

    sent_at: float
    horizon: float
    deadline: float | None = None

    @property
    def settled_at(self) -> float:
        """The moment after which a look that finds nothing proves nothing was made."""
        return self.sent_at + self.horizon

    def next_look(self, *, looks: int, last_look: float | None, now: float) -> float | None:
        """When the next look should begin, or None when the wait is over.

        ``looks``: how many looks began so far; ``last_look``: when the latest began.
        None means either a look at or after the horizon already happened (nothing more can
        be learned) or the next one would begin after ``deadline``.
        """
        if last_look is not None and last_look >= self.settled_at:
            return None
        if looks == 0 or last_look is None:
            at = now
        else:
            gap = min(FIRST_INTERVAL * 2 ** (looks - 1), max(1.0, self.horizon / 4))
            at = max(now, min(last_look + gap, self.settled_at))
        if self.deadline is not None and at > self.deadline:
            return None
        return at

    def proves_absence(self, look_began: float) -> bool:
        """Whether a look that began at ``look_began`` and found nothing settles it as not made."""
        return look_began >= self.settled_at

    def retry_gap(self, failures: int) -> float:
        """The longest wait before looking again after ``failures`` failed looks in a row.

        It doubles from :data:`FIRST_INTERVAL` up to the schedule's longest gap: a server
        that timed out is not asked again at once, and settlements that failed together (one
        overloaded server) spread out when the caller draws each wait from the upper half.
        """
        return min(FIRST_INTERVAL * 2.0 ** max(0, failures - 1), max(1.0, self.horizon / 4))


LOOK_RETRIES = 4
"""Looks a settlement without ``max_wait`` still makes once its wait is over, one after each
look that failed transiently (a timeout, a lost connection, a 5xx, no budget in time) or that
only learnt the server's clock: a server slow for a while is asked again, a few more times,
before the outcome is left unknown. With ``max_wait`` the wait ends when it says."""


# -- the server's clock -----------------------------------------------------------------------

CLOCK_MARGIN = 5.0
"""Seconds allowed between the clock behind ``Date`` and the one that stamps createDate (the
servers of one farm, a database's clock); wider would take older identical labels along."""
HOST_CLOCK_MARGIN = 300.0
"""Seconds allowed between this host's clock and the server's when no ``Date`` came back."""


def server_date(header: str | None) -> datetime | None:
    """The instant an HTTP ``Date`` header gives, or None when absent or unreadable."""
    if not header:
        return None
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def earliest_creation(
    *,
    date_header: str | None,
    answered_at: float,
    sent_at: float,
    wall_now: float,
) -> datetime:
    """The earliest server time at which a request sent at ``sent_at`` can have made a record.

    ``date_header``: the ``Date`` of an answer that arrived at ``answered_at`` (monotonic);
    ``sent_at``: when the ambiguous request went out (monotonic); ``wall_now``: this host's
    ``time.time()`` at ``answered_at``, used only when there is no ``Date``.

    ``Date`` is stamped while the answer is made, so before it arrived, and it is rounded down
    to the second: the server's clock at ``sent_at`` was at least ``Date - (answered_at -
    sent_at)``. :data:`CLOCK_MARGIN` covers servers whose clocks differ a little. Without a
    ``Date``, this host's clock stands in with a much wider margin.
    """
    elapsed = max(0.0, answered_at - sent_at)
    stamped = server_date(date_header)
    if stamped is None:
        base = datetime.fromtimestamp(wall_now, UTC)
        margin = HOST_CLOCK_MARGIN
    else:
        base, margin = stamped, CLOCK_MARGIN
    return base - timedelta(seconds=elapsed + margin)


def created_since(created: datetime | None, earliest: datetime) -> bool:
    """Whether a record's createDate can be at or after ``earliest``.

    A Pacific wall-clock time in the autumn's repeated hour is taken at its later reading, so
    that the ambiguity can only keep a candidate, never drop one. A record without a
    createDate is kept.
    """
    if created is None:
        return True
    if created.tzinfo is PACIFIC:
        created = created.replace(fold=1)
    return created >= earliest


def filter_start(earliest: datetime) -> datetime:
    """The ``createDateStart`` filter that returns every record from ``earliest`` on.

    The filter is read at second precision as a Pacific wall-clock time: a second earlier.
    In the autumn's repeated hour that time is ambiguous (a server may read it as the later
    pass, or compare wall clocks), so there it goes an hour earlier still.
    :func:`created_since` makes the exact cut.
    """
    start = (earliest - timedelta(seconds=1)).astimezone(PACIFIC).replace(microsecond=0)
    if start.replace(fold=0).utcoffset() != start.replace(fold=1).utcoffset():
        start = (start - timedelta(hours=1)).astimezone(PACIFIC)
    return start


# -- matching -----------------------------------------------------------------------------------

_OUNCES = {
    "ounces": Decimal(1),
    "pounds": Decimal(16),
    "grams": Decimal("0.03527396195"),
}
WEIGHT_TOLERANCE = Decimal("0.05")
"""Ounces two weights may differ by and still be one (units converted and rounded)."""


def ounces(weight: Any) -> Decimal | None:
    """A weight mapping or model in ounces, or None when it cannot be read."""
    if weight is None:
        return None
    value = _get(weight, "value")
    units = _get(weight, "units")
    if units is None and (_get(weight, "WeightUnits") == 1 or _get(weight, "weightUnits") == 1):
        units = "ounces"
    factor = _OUNCES.get(str(units).lower()) if units is not None else None
    number = _decimal(value)
    if factor is None or number is None:
        return None
    return number * factor


def same_text(a: Any, b: Any) -> bool:
    """Whether two codes or names are the same, ignoring case and runs of spaces."""
    return _norm(a) == _norm(b)


def same_postal_code(a: Any, b: Any) -> bool:
    """Whether two postal codes are the same place (a ZIP+4 is its five-digit ZIP).

    Two missing codes agree (the other parts of a match must then tell); one missing does not.
    """
    return _postal_core(a) == _postal_core(b)


def _postal_core(value: Any) -> str:
    # What a postal code is compared by, in matches and in keys alike: a US ZIP's five digits
    # (so ZIP+4 agrees), any other code whole, without spaces and dashes.
    code = _postal(value)
    return code[:5] if code[:5].isdigit() and len(code) >= 5 else code


def label_key(path: str, body: Mapping[str, Any]) -> tuple[str, ...]:
    """What tells label purchases apart afterwards: the purchases a look cannot separate.

    A label for an order is known by its order, carrier, service and package; one without an
    order by its recipient's name and postal code instead of the order. Two purchases with
    the same key may leave indistinguishable shipments, so the process never has two in
    flight at once (ship date, weight and confirmation refine a match, but only when the
    server reports them).
    """
    parts = [path, _norm(body.get("carrierCode")), _norm(body.get("serviceCode"))]
    parts.append(_norm(body.get("packageCode")))
    if path == "/orders/createlabelfororder":
        parts.append(str(body.get("orderId")))
    else:
        ship_to = body.get("shipTo") or {}
        parts += [_norm(_get(ship_to, "name")), _postal_core(_get(ship_to, "postalCode"))]
    return tuple(parts)


def label_key_matches(path: str, sent: Mapping[str, Any], shipment: Any) -> bool:
    """Whether ``shipment`` (a :class:`~shipstation_async.models.Shipment`) has a purchase's key.

    The key of the purchase that sent ``sent`` (see label_key): its carrier, service and
    package equal what was sent, and its order (or, without one, its recipient's name and
    postal code). It is the purchase when its ship date, weight and
    confirmation also agree (:func:`refinements_agree`; its createDate is checked apart, by
    :func:`created_since`). One with the key whose refinements disagree may still be the
    purchase, as the server reported it (a weight converted, a confirmation or ship date it
    set): it can never prove that nothing was bought.
    """
    for key, attr in (
        ("carrierCode", "carrier_code"),
        ("serviceCode", "service_code"),
        ("packageCode", "package_code"),
    ):
        if not same_text(sent.get(key), getattr(shipment, attr)):
            return False
    if path == "/orders/createlabelfororder":
        if shipment.order_id != sent.get("orderId"):
            return False
    else:
        ship_to = sent.get("shipTo") or {}
        record_to = shipment.ship_to
        if record_to is None or not same_text(_get(ship_to, "name"), record_to.name):
            return False
        if not same_postal_code(_get(ship_to, "postalCode"), record_to.postal_code):
            return False
    return True


def refinements_agree(sent: Mapping[str, Any], shipment: Any) -> bool:
    """Whether ``shipment``'s ship date, weight and confirmation agree with what was sent."""
    ship_date = sent.get("shipDate")
    if ship_date and shipment.ship_date is not None and str(shipment.ship_date) != ship_date:
        return False
    confirmation = sent.get("confirmation")
    if (
        confirmation
        and shipment.confirmation
        and not same_text(confirmation, shipment.confirmation)
    ):
        return False
    sent_oz, record_oz = ounces(sent.get("weight")), ounces(shipment.weight)
    return sent_oz is None or record_oz is None or abs(sent_oz - record_oz) <= WEIGHT_TOLERANCE


def fulfillment_matches(sent: Mapping[str, Any], fulfillment: Any) -> bool:
    """Whether a fulfillment is the trace of a mark-as-shipped that sent ``sent``."""
    if fulfillment.order_id != sent.get("orderId"):
        return False
    if fulfillment.carrier_code and not same_text(
        sent.get("carrierCode"), fulfillment.carrier_code
    ):
        return False
    tracking = sent.get("trackingNumber")
    return not (
        tracking
        and fulfillment.tracking_number
        and not same_text(tracking, fulfillment.tracking_number)
    )


def warehouse_matches(sent: Mapping[str, Any], warehouse: Any) -> bool:
    """Whether a warehouse is the one a createwarehouse that sent ``sent`` would have made."""
    name = sent.get("warehouseName")
    if name and not same_text(name, warehouse.warehouse_name):
        return False
    origin, record = sent.get("originAddress") or {}, warehouse.origin_address
    if record is None:
        return False
    return same_text(_get(origin, "street1"), record.street1) and same_postal_code(
        _get(origin, "postalCode"), record.postal_code
    )


# -- add funds ---------------------------------------------------------------------------------


@attrs.frozen
class FundsCheck:
    """A carrier's balance before a funding attempt, read with the server's ``Date``.

    ``balance``: the balance read just before the request; ``read_at``: the server time of
    that read (from its ``Date``; the read happened within the second after it).
    """

    carrier_code: str
    balance: Decimal
    read_at: datetime


def funds_outcome(
    *, amount: Decimal, before: Decimal, after: Decimal, spent: Decimal
) -> Literal["bought", "not_bought"] | None:
    """Whether a funding took effect, from the balances and the labels charged in between.

    The balance moves by the funding (``amount`` or nothing) minus what labels bought in the
    meantime were charged (``spent``). Anything but an exact fit of one of the two (a refund,
    a fee, a label missed at the edge of the interval) gives None: no conclusion.
    """
    moved = after - before + spent
    if moved == amount:
        return "bought"
    if moved == 0:
        return "not_bought"
    return None


def label_charges(
    shipments: Iterable[Any], *, carrier_code: str, since: datetime, until: datetime
) -> Decimal | None:
    """The sum charged for the carrier's labels created between two server times, or None.

    ``since``/``until`` are instants known to within a second (read from ``Date``): a label
    created within :data:`CLOCK_MARGIN` of either edge may or may not be inside, so the sum is
    then unknown (None). Test labels and other carriers' labels are not charged.
    """
    fuzz = timedelta(seconds=1 + CLOCK_MARGIN)
    total = Decimal(0)
    for shipment in shipments:
        if not same_text(shipment.carrier_code, carrier_code):
            continue
        created = shipment.create_date
        if created is None:
            return None
        for edge in (since, until):
            if abs(created - edge) <= fuzz or abs(created.replace(fold=1) - edge) <= fuzz:
                return None
        if since < created <= until:
            total += (shipment.shipment_cost or 0) + (shipment.insurance_cost or 0)
    return total


# -- helpers -------------------------------------------------------------------------------------


def _get(obj: Any, name: str) -> Any:
    # A body sent (camelCase keys) or a model read back (snake_case attributes).
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower(), None)


def _norm(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _postal(value: Any) -> str:
    return re.sub(r"[\s-]", "", str(value)).upper() if value is not None else ""


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def describe_sent(path: str, sent: Mapping[str, Any]) -> str:
    """A short account of what an ambiguous write asked for, for messages (no credentials)."""
    if path in LABEL_PATHS:
        who = (
            f"order {sent.get('orderId')}"
            if path == "/orders/createlabelfororder"
            else f"{_get(sent.get('shipTo') or {}, 'name')!s} "
            f"{_get(sent.get('shipTo') or {}, 'postalCode')!s}"
        )
        kind = "test label" if sent.get("testLabel") else "label"
        return (
            f"a {kind} for {who}: {sent.get('carrierCode')} {sent.get('serviceCode')} "
            f"{sent.get('packageCode')}, ship date {sent.get('shipDate')}"
        )
    if path == MARK_SHIPPED_PATH:
        return f"marking order {sent.get('orderId')} shipped with {sent.get('carrierCode')}"
    if path == ADD_FUNDS_PATH:
        return f"adding ${sent.get('amount')} to {sent.get('carrierCode')}"
    if path == CREATE_WAREHOUSE_PATH:
        return f"creating warehouse {sent.get('warehouseName') or '(unnamed)'}"
    return path
