"""The pure rules of settling an ambiguous write: timing on a fake clock, matching, money."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipstation_async._intents import Intents
from shipstation_async._settle import (
    CLOCK_MARGIN,
    HOST_CLOCK_MARGIN,
    PollSchedule,
    created_since,
    earliest_creation,
    filter_start,
    fulfillment_matches,
    funds_outcome,
    horizon_seconds,
    label_charges,
    label_key,
    label_key_matches,
    ounces,
    refinements_agree,
    same_postal_code,
    warehouse_matches,
)
from shipstation_async._time import PACIFIC
from shipstation_async.models import Address, Fulfillment, Shipment, Warehouse, Weight

ORDER_LABEL = "/orders/createlabelfororder"
LABEL = "/shipments/createlabel"


def looks(schedule: PollSchedule, step: float = 0.01) -> list[float]:
    """The moments the schedule asks for looks, each look taking no time, on a fake clock."""
    now, done, last, out = 100.0, 0, None, []
    while True:
        at = schedule.next_look(looks=done, last_look=last, now=now)
        if at is None:
            return out
        assert at >= now
        out.append(at)
        now, done, last = at + step, done + 1, at


def test_the_horizon_follows_the_timeout_and_the_slowest_answer() -> None:
    assert horizon_seconds(30.0) == 121.0  # ASP.NET stops a request after 110 s
    assert horizon_seconds(90.0) == 181.0
    assert horizon_seconds(30.0, 40.0) == 161.0
    assert horizon_seconds(1.0, 0.01, minimum=0) == 3.0
    assert horizon_seconds(1.0, 5.0, minimum=0) == 21.0  # a server this slow may finish late
    assert horizon_seconds(2.0, None, 0) == horizon_seconds(2.0, 0.0, 0) == 5.0


def test_looks_begin_at_once_double_their_gaps_and_end_with_one_at_the_horizon() -> None:
    schedule = PollSchedule(sent_at=99.0, horizon=21.0)  # settled at 120
    times = looks(schedule)
    assert times[0] == 100.0  # at once: a request processed before it was dropped shows now
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[:4] == pytest.approx([0.5, 1.0, 2.0, 4.0])
    assert max(gaps) <= 21.0 / 4 + 1e-9  # never blind for long
    assert times[-1] == pytest.approx(120.0)  # the concluding look: exactly at the horizon
    assert sum(1 for t in times if t >= schedule.settled_at) == 1
    assert schedule.proves_absence(times[-1]) and not schedule.proves_absence(times[-2])


def test_a_short_horizon_still_looks_at_least_each_second_apart_at_most() -> None:
    times = looks(PollSchedule(sent_at=100.0, horizon=3.0))
    assert times[0] == 100.0 and times[-1] == pytest.approx(103.0)
    assert all(b - a <= 1.0 + 1e-9 for a, b in itertools.pairwise(times))


def test_a_deadline_before_the_horizon_ends_the_looks_without_a_conclusion() -> None:
    schedule = PollSchedule(sent_at=99.0, horizon=61.0, deadline=110.0)
    times = looks(schedule)
    assert times and max(times) <= 110.0
    assert not any(schedule.proves_absence(t) for t in times)


def test_a_settlement_begun_after_the_horizon_looks_once_and_concludes() -> None:
    schedule = PollSchedule(sent_at=0.0, horizon=3.0)
    assert looks(schedule) == [100.0]
    assert schedule.proves_absence(100.0)


def test_after_failed_looks_the_pause_doubles_up_to_the_schedules_longest_gap() -> None:
    long = PollSchedule(sent_at=0.0, horizon=121.0)
    assert [long.retry_gap(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30.25, 30.25]
    short = PollSchedule(sent_at=0.0, horizon=2.6)
    assert [short.retry_gap(n) for n in range(1, 5)] == [0.5, 1.0, 1.0, 1.0]


@given(
    horizon=st.floats(0.0, 500.0),
    started=st.floats(0.0, 600.0),
    step=st.floats(0.0, 3.0),
)
def test_exactly_one_look_can_conclude_and_it_comes_at_or_after_the_horizon(
    horizon: float, started: float, step: float
) -> None:
    schedule = PollSchedule(sent_at=100.0 - started, horizon=horizon)
    times = looks(schedule, step)
    concluding = [t for t in times if schedule.proves_absence(t)]
    assert len(concluding) == 1
    assert times[-1] == concluding[0] >= schedule.settled_at
    assert len(times) <= 12  # bounded: gaps double, at least a second once long


def test_the_earliest_creation_comes_from_the_servers_date_not_this_hosts_clock() -> None:
    server_now = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
    header = format_datetime(server_now, usegmt=True)
    # This host's clock is an hour off: it does not matter when a Date came back.
    wall = (server_now + timedelta(hours=1)).timestamp()
    earliest = earliest_creation(date_header=header, answered_at=20.0, sent_at=8.0, wall_now=wall)
    assert earliest == server_now - timedelta(seconds=12 + CLOCK_MARGIN)
    # Without a Date, this host's clock, with a wide margin.
    no_date = earliest_creation(date_header=None, answered_at=20.0, sent_at=8.0, wall_now=wall)
    assert no_date == server_now + timedelta(hours=1) - timedelta(seconds=12 + HOST_CLOCK_MARGIN)
    assert (
        earliest_creation(date_header="not a date", answered_at=20.0, sent_at=8.0, wall_now=wall)
        == no_date
    )


def test_a_creation_in_the_repeated_autumn_hour_is_never_dropped_by_the_ambiguity() -> None:
    # 01:30 on 2026-11-01 happens twice in Pacific time; the API's text cannot tell which.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=PACIFIC)  # fold=0: the PDT reading
    earliest = datetime(2026, 11, 1, 9, 10, tzinfo=UTC)  # 01:10 PST, the second pass
    assert first < earliest  # read as the first pass it would fall before the bound
    assert created_since(first, earliest)  # but it may be the second pass: kept
    assert not created_since(datetime(2026, 11, 1, 0, 30, tzinfo=PACIFIC), earliest)
    assert created_since(None, earliest)


def test_the_filter_start_leaves_an_hour_for_the_autumn_clock_change() -> None:
    start = filter_start(datetime(2026, 7, 1, 19, 0, 0, 600_000, tzinfo=UTC))
    assert start == datetime(2026, 7, 1, 11, 59, 59, tzinfo=PACIFIC)
    assert start.tzinfo is PACIFIC and start.microsecond == 0
    # A label made at 01:00:00 PST after a send at 01:59:59 PDT: the filter's wall-clock
    # time precedes the label's on either reading of the repeated hour.
    sent = datetime(2026, 11, 1, 8, 59, 59, tzinfo=UTC)  # 01:59:59 PDT
    made = datetime(2026, 11, 1, 1, 0, 0, tzinfo=PACIFIC).replace(fold=1)  # 01:00 PST
    wall = filter_start(sent - timedelta(seconds=CLOCK_MARGIN)).replace(tzinfo=None)
    assert wall < made.replace(tzinfo=None)
    assert wall.hour == 0  # out of the repeated hour altogether


def shipment(**changes: object) -> Shipment:
    fields: dict[str, object] = {
        "shipment_id": 7,
        "order_id": 41,
        "carrier_code": "ups",
        "service_code": "ups_ground",
        "package_code": "package",
        "ship_date": date(2026, 7, 2),
        "confirmation": "none",
        "weight": Weight(value=Decimal(32), units="ounces", weight_units=1),
        "ship_to": Address(name="Ada  Lovelace", postal_code="20500-0003"),
    }
    fields.update(changes)
    return Shipment(**fields)  # type: ignore[arg-type]


SENT_FOR_ORDER = {
    "orderId": 41,
    "carrierCode": "UPS",
    "serviceCode": "ups_ground",
    "packageCode": "package",
    "confirmation": None,
    "shipDate": "2026-07-02",
    "weight": {"value": Decimal(2), "units": "pounds"},
    "testLabel": False,
}
SENT_WITHOUT_ORDER = {
    **{k: v for k, v in SENT_FOR_ORDER.items() if k != "orderId"},
    "shipTo": {"name": "ada lovelace", "postalCode": "20500"},
}


def label_matches(path: str, sent: dict[str, Any], found: Any) -> bool:
    """Whether a shipment is the purchase, as settling reads it: its key, then the rest."""
    return label_key_matches(path, sent, found) and refinements_agree(sent, found)


def test_a_label_matches_its_order_carrier_service_package_and_agrees_on_the_rest() -> None:
    assert label_matches(ORDER_LABEL, SENT_FOR_ORDER, shipment())
    assert label_matches(ORDER_LABEL, SENT_FOR_ORDER, shipment(weight=None, ship_date=None))
    for change in (
        {"order_id": 42},
        {"carrier_code": "fedex"},
        {"service_code": "ups_next_day_air"},
        {"package_code": "letter"},
        {"ship_date": date(2026, 7, 3)},
        {"weight": Weight(value=Decimal(33), units="ounces")},
    ):
        assert not label_matches(ORDER_LABEL, SENT_FOR_ORDER, shipment(**change)), change
    with_confirmation = {**SENT_FOR_ORDER, "confirmation": "signature"}
    assert not label_matches(ORDER_LABEL, with_confirmation, shipment())
    assert label_matches(ORDER_LABEL, with_confirmation, shipment(confirmation="signature"))


def test_a_label_without_an_order_matches_its_recipient() -> None:
    assert label_matches(LABEL, SENT_WITHOUT_ORDER, shipment(order_id=None))
    assert label_matches(LABEL, SENT_WITHOUT_ORDER, shipment(order_id=99))  # a hidden order
    assert not label_matches(
        LABEL, SENT_WITHOUT_ORDER, shipment(ship_to=Address(name="Ada", postal_code="20500"))
    )
    assert not label_matches(
        LABEL,
        SENT_WITHOUT_ORDER,
        shipment(ship_to=Address(name="Ada Lovelace", postal_code="20501")),
    )
    assert not label_matches(LABEL, SENT_WITHOUT_ORDER, shipment(ship_to=None))


def test_label_keys_part_what_a_look_can_tell_apart() -> None:
    base = label_key(ORDER_LABEL, SENT_FOR_ORDER)
    assert label_key(ORDER_LABEL, {**SENT_FOR_ORDER, "weight": None}) == base
    assert label_key(ORDER_LABEL, {**SENT_FOR_ORDER, "testLabel": True}) == base
    assert label_key(ORDER_LABEL, {**SENT_FOR_ORDER, "orderId": 42}) != base
    assert label_key(ORDER_LABEL, {**SENT_FOR_ORDER, "serviceCode": "x"}) != base
    other = {**SENT_WITHOUT_ORDER, "shipTo": {"name": "Ada Lovelace", "postalCode": "20500"}}
    assert label_key(LABEL, SENT_WITHOUT_ORDER) == label_key(LABEL, other)
    # A key is never finer than a match: ZIP and ZIP+4 match, so they share a key.
    plus4 = {**SENT_WITHOUT_ORDER, "shipTo": {"name": "Ada Lovelace", "postalCode": "20500-0003"}}
    assert label_key(LABEL, plus4) == label_key(LABEL, SENT_WITHOUT_ORDER)


@given(
    a=st.text(alphabet="0123456789- AB", max_size=10),
    b=st.text(alphabet="0123456789- AB", max_size=10),
)
def test_postal_codes_that_match_share_a_key(a: str, b: str) -> None:
    def sent(code: str) -> dict[str, object]:
        return {**SENT_WITHOUT_ORDER, "shipTo": {"name": "X", "postalCode": code}}

    if same_postal_code(a, b):
        assert label_key(LABEL, sent(a)) == label_key(LABEL, sent(b))


def test_recipients_without_postal_codes_can_still_be_matched() -> None:
    sent = {**SENT_WITHOUT_ORDER, "shipTo": {"name": "ada lovelace"}}
    assert label_matches(LABEL, sent, shipment(ship_to=Address(name="Ada Lovelace")))
    assert not label_matches(
        LABEL, sent, shipment(ship_to=Address(name="Ada Lovelace", postal_code="1"))
    )


def test_weights_are_compared_in_ounces() -> None:
    assert ounces({"value": 2, "units": "pounds"}) == 32
    assert ounces(Weight(value=Decimal(12), weight_units=1)) == 12
    assert ounces({"value": "x", "units": "ounces"}) is None
    assert ounces({"value": 1, "units": "stone"}) is None
    assert ounces(None) is None


def test_fulfillments_and_warehouses_match_what_was_sent() -> None:
    sent = {"orderId": 5, "carrierCode": "usps", "trackingNumber": "9400"}
    assert fulfillment_matches(sent, Fulfillment(order_id=5, carrier_code="USPS"))
    assert not fulfillment_matches(sent, Fulfillment(order_id=6, carrier_code="usps"))
    assert not fulfillment_matches(sent, Fulfillment(order_id=5, tracking_number="1Z"))
    origin = {"street1": "1 Main St", "postalCode": "78703"}
    body = {"warehouseName": "East", "originAddress": origin}
    home = Address(street1="1 main st", postal_code="78703-1111")
    assert warehouse_matches(body, Warehouse(warehouse_name="East", origin_address=home))
    assert not warehouse_matches(body, Warehouse(warehouse_name="West", origin_address=home))
    assert not warehouse_matches(body, Warehouse(warehouse_name="East", origin_address=None))


def test_funds_settle_only_on_an_exact_fit() -> None:
    amount = Decimal("50.00")
    assert (
        funds_outcome(amount=amount, before=Decimal(10), after=Decimal(60), spent=Decimal(0))
        == "bought"
    )
    # A label charged 7.25 meanwhile: the funding still shows.
    assert (
        funds_outcome(
            amount=amount, before=Decimal(10), after=Decimal("52.75"), spent=Decimal("7.25")
        )
        == "bought"
    )
    assert (
        funds_outcome(
            amount=amount, before=Decimal(10), after=Decimal("2.75"), spent=Decimal("7.25")
        )
        == "not_bought"
    )
    assert (
        funds_outcome(amount=amount, before=Decimal(10), after=Decimal(61), spent=Decimal(0))
        is None
    )


def test_label_charges_refuse_to_guess_at_the_edges() -> None:
    since = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
    until = since + timedelta(minutes=1)

    def labelled(seconds: float, carrier: str = "stamps_com") -> Shipment:
        return Shipment(
            carrier_code=carrier,
            create_date=(since + timedelta(seconds=seconds)).astimezone(PACIFIC),
            shipment_cost=Decimal("5.10"),
            insurance_cost=Decimal("1.00"),
        )

    inside = [labelled(20), labelled(30), labelled(31, "ups")]
    assert label_charges(inside, carrier_code="stamps_com", since=since, until=until) == Decimal(
        "12.20"
    )
    assert label_charges([labelled(70)], carrier_code="stamps_com", since=since, until=until) == 0
    for edge in (0.5, 59.0, -1.5):
        assert (
            label_charges([labelled(edge)], carrier_code="stamps_com", since=since, until=until)
            is None
        )


def test_the_registry_remembers_claims_and_unresolved_purchases_for_a_while() -> None:
    now = [0.0]
    registry = Intents(clock=lambda: now[0])
    key = ("acct", ("k",))
    registry.claim(key, [5, 0, None])
    assert registry.unresolved(key) is None
    assert registry.claimed(key) == {5}
    flight, mine = registry.join(key, "a")
    again, theirs = registry.join(key, "b")
    assert mine and not theirs and again is flight
    registry.land(key, flight)
    assert registry.join(key, "b")[1]
    now[0] = 3601.0
    assert registry.claimed(key) == frozenset()


def test_errors_pickle_and_copy_with_their_attributes() -> None:
    import copy
    import pickle

    from shipstation_async import AmbiguousRequestError, ServerError, TransportError, WriteAttempt

    attempt = WriteAttempt(
        method="POST", path="/p", body={"a": 1}, sent_at=1.0, ended_at=2.0, timeout=3.0, account="x"
    )
    cause = ServerError("boom", status=502, method="POST", path="/p")
    error = AmbiguousRequestError("m", method="POST", path="/p", cause=cause, attempt=attempt)
    error.add_note("a note")
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(clone) is AmbiguousRequestError and str(clone) == str(error)
        assert clone.attempt == attempt and clone.cause.status == 502
        assert clone.__notes__ == ["a note"]
    transport = pickle.loads(pickle.dumps(TransportError("t", method="GET", path="/", sent=True)))
    assert transport.sent is True
