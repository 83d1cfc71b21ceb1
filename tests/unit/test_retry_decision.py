"""The retry decision over its whole table, and the send state's transitions."""

from __future__ import annotations

import itertools

import pytest

from shipstation_async import Operation
from shipstation_async._pipeline import method_kind
from shipstation_async._sansio import Decision, Failure, Method, Safety, decide_retry
from shipstation_async._send_state import TRANSITIONS, Send, SendTracker

R, A, X = Decision.RETRY, Decision.AMBIGUOUS, Decision.RAISE
SAFE, IDEM, NON = Method.SAFE, Method.IDEMPOTENT, Method.NON_IDEMPOTENT

# failure kind -> {(method, sent): decision}. An answer (429, 4xx, 5xx, unreadable) implies
# the request was sent; its row with sent=False shows that the flag does not change it.
TABLE: dict[Failure, dict[tuple[Method, bool], Decision]] = {
    Failure.CONNECT: {
        (SAFE, False): R, (IDEM, False): R, (NON, False): R,
        (SAFE, True): R, (IDEM, True): R, (NON, True): A,
    },
    Failure.DROPPED: {
        (SAFE, False): R, (IDEM, False): R, (NON, False): R,
        (SAFE, True): R, (IDEM, True): R, (NON, True): A,
    },
    Failure.TIMEOUT: {
        (SAFE, False): R, (IDEM, False): R, (NON, False): R,
        (SAFE, True): R, (IDEM, True): R, (NON, True): A,
    },
    Failure.RATE_LIMITED: {
        (SAFE, False): R, (IDEM, False): R, (NON, False): R,
        (SAFE, True): R, (IDEM, True): R, (NON, True): R,
    },
    Failure.SERVER_ERROR: {
        (SAFE, False): R, (IDEM, False): R, (NON, False): A,
        (SAFE, True): R, (IDEM, True): R, (NON, True): A,
    },
    Failure.CLIENT_ERROR: {
        (SAFE, False): X, (IDEM, False): X, (NON, False): X,
        (SAFE, True): X, (IDEM, True): X, (NON, True): X,
    },
    Failure.UNREADABLE_2XX: {
        (SAFE, False): X, (IDEM, False): X, (NON, False): A,
        (SAFE, True): X, (IDEM, True): X, (NON, True): A,
    },
    Failure.REDIRECTED: {
        (SAFE, False): X, (IDEM, False): X, (NON, False): A,
        (SAFE, True): X, (IDEM, True): X, (NON, True): A,
    },
}  # fmt: skip

CASES = [
    (method, failure, sent, TABLE[failure][method, sent])
    for failure, method, sent in itertools.product(Failure, Method, (False, True))
]


def test_the_table_covers_every_combination() -> None:
    assert set(TABLE) == set(Failure)
    assert all(len(row) == len(Method) * 2 for row in TABLE.values())


@pytest.mark.parametrize(("method", "failure", "sent", "expected"), CASES)
def test_retry_decision(method: Method, failure: Failure, sent: bool, expected: Decision) -> None:
    assert decide_retry(method, failure, sent=sent) is expected


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        (Operation("GET", "/orders"), SAFE),
        (Operation("get", "/orders"), SAFE),
        (Operation("DELETE", "/warehouses/1"), IDEM),
        (Operation("POST", "/orders/holduntil", body={}), IDEM),
        (Operation("POST", "/orders/createlabelfororder", safety=Safety.NON_IDEMPOTENT), NON),
    ],
)
def test_method_kind(operation: Operation, kind: Method) -> None:
    assert method_kind(operation, operation.method.upper()) is kind


def _walk(*steps: str) -> SendTracker:
    tracker = SendTracker()
    for step in steps:
        if step == "mark_sent":
            tracker.mark_sent(1.0)
        else:
            getattr(tracker, step)()
    return tracker


EVENTS = {
    "mark_sent": (Send.SENT, Send.RESENT),
    "mark_answered": (Send.ANSWERED,),
    "mark_dropped": (Send.DROPPED,),
    "time_out": (Send.TIMED_OUT,),
    "cut_off": (Send.CUT_OFF,),
}

# A path of events to each state from NOT_SENT.
PATHS = {
    Send.NOT_SENT: (),
    Send.SENT: ("mark_sent",),
    Send.ANSWERED: ("mark_sent", "mark_answered"),
    Send.TIMED_OUT: ("mark_sent", "time_out"),
    Send.CUT_OFF: ("mark_sent", "cut_off"),
    Send.DROPPED: ("mark_sent", "mark_dropped"),
    Send.RESENT: ("mark_sent", "mark_dropped", "mark_sent"),
}


def test_every_state_is_reachable_by_its_path() -> None:
    assert set(PATHS) == set(Send) == set(TRANSITIONS)
    for state, path in PATHS.items():
        assert _walk(*path).state is state


@pytest.mark.parametrize(("state", "event"), list(itertools.product(Send, EVENTS)))
def test_events_move_only_along_the_transitions(state: Send, event: str) -> None:
    tracker = _walk(*PATHS[state], event)
    targets = [to for to in EVENTS[event] if to in TRANSITIONS[state]]
    assert tracker.state is (targets[0] if targets else state)


def test_a_re_send_is_remembered_once_answered() -> None:
    tracker = _walk("mark_sent", "mark_dropped", "mark_sent", "mark_answered")
    assert tracker.resent and tracker.went_out and tracker.latest_went_out
    assert not _walk("mark_sent", "mark_answered").resent


def test_what_the_states_say() -> None:
    assert not _walk().went_out and not _walk().latest_went_out
    dropped = _walk("mark_sent", "mark_dropped")
    assert dropped.went_out and not dropped.latest_went_out  # the re-send waits for a slot
    assert _walk("mark_sent", "time_out").timed_out
    assert _walk("mark_sent", "cut_off").was_cut_off
    sent = SendTracker()
    assert sent.mark_sent(5.0) and sent.at == 5.0
    assert not sent.mark_sent(6.0) and sent.at == 5.0  # one stamp per send
