"""The retry decision: retry, report as ambiguous, or raise, as a pure function of the failure.

Method safety x failure kind x whether the request may have gone out decides it
(:func:`decide_retry`; ``tests/unit/test_retry_decision.py`` holds its whole table). The
pipeline (:mod:`._pipeline`) carries the decision out with the retry policy's counts and
delays.
"""

from __future__ import annotations

import enum

from .errors import ShipStationError


class Method(enum.Enum):
    """How safe it is to send a request twice, for the retry decision."""

    SAFE = "safe"
    """A read (GET): it changes nothing on the server."""
    IDEMPOTENT = "idempotent"
    """A write whose repetition leaves the same state (PUT, DELETE, state setters)."""
    NON_IDEMPOTENT = "non_idempotent"
    """A write that acts again when repeated (buying a label)."""


class Failure(enum.Enum):
    """How an attempt failed, as far as the retry decision cares."""

    CONNECT = "connect"
    """No connection (refused, DNS, connect timeout): nothing was written."""
    DROPPED = "dropped"
    """The connection failed or closed on the way (before or after the send: see ``sent``)."""
    TIMEOUT = "timeout"
    """No answer within the timeout from the send."""
    RATE_LIMITED = "429"
    """429 Too Many Requests: the server did not process it."""
    SERVER_ERROR = "5xx"
    """A 5xx answer: the server may have processed it before failing."""
    CLIENT_ERROR = "4xx"
    """Another error answer (400, 401, 404...): it was refused."""
    UNREADABLE_2XX = "unreadable_2xx"
    """A 2xx answer whose body cannot be read: it took effect, its result is unknown."""
    REDIRECTED = "3xx"
    """A 3xx answer, which the client never follows (the API does not redirect): another
    server answered, or one in front of the API. A 303 to a POST says it was processed."""


_ANSWERED = frozenset(
    {Failure.RATE_LIMITED, Failure.SERVER_ERROR, Failure.CLIENT_ERROR}
    | {Failure.UNREADABLE_2XX, Failure.REDIRECTED}
)


class Decision(enum.Enum):
    """What the pipeline does with a failed attempt."""

    RETRY = "retry"
    """Send it again (after the backoff; a 429 after the window's pause)."""
    AMBIGUOUS = "ambiguous"
    """Raise AmbiguousRequestError: it may have taken effect and must be settled first."""
    RAISE = "raise"
    """Raise the error as it is."""


def may_have_acted(failure: Failure, *, sent: bool) -> bool:
    """Whether the server may have carried the request out (an answer implies it was sent)."""
    if failure is Failure.RATE_LIMITED or failure is Failure.CLIENT_ERROR:
        return False  # refused before processing
    return sent or failure in _ANSWERED


def transport_failure(sent: bool, *, timed_out: bool) -> Failure:
    """The kind of an attempt that got no answer: its timeout, a drop, or no connection."""
    if timed_out:
        return Failure.TIMEOUT
    return Failure.DROPPED if sent else Failure.CONNECT


def decide_retry(method: Method, failure: Failure, *, sent: bool) -> Decision:
    """Retry, report as ambiguous, or raise: the whole retry policy but its counts and delays.

    ``sent``: the request may have reached the server (its headers began to go out). A 429
    is always retried (the budget pauses first); a request that surely did not act is
    retried; one that may have acted is retried only when repeating it is harmless, and
    otherwise reported as ambiguous. A readable refusal, and an unreadable answer to a
    request that may be repeated, are raised.
    """
    if failure is Failure.RATE_LIMITED:
        return Decision.RETRY
    if failure is Failure.CLIENT_ERROR:
        return Decision.RAISE
    if not may_have_acted(failure, sent=sent):
        return Decision.RETRY
    if method is Method.NON_IDEMPOTENT:
        return Decision.AMBIGUOUS
    if failure is Failure.UNREADABLE_2XX or failure is Failure.REDIRECTED:
        return Decision.RAISE  # the same answer would come again
    return Decision.RETRY


def ambiguous_message(failure: Failure, error: ShipStationError, status: int | None) -> str:
    """What an AmbiguousRequestError says of a write that may have taken effect."""
    if failure is Failure.SERVER_ERROR:
        return (
            f"ShipStation answered {status}; the request may have taken effect, so it "
            "was not retried. Settle it (ss.settle(exc)) before sending it again."
        )
    if failure is Failure.REDIRECTED:
        return (
            f"answered {status}, a redirect, which the client does not follow (check "
            "base_url); whatever answered may have carried the request out, so it was not "
            "retried. Settle it (ss.settle(exc)) before sending it again."
        )
    if failure is Failure.UNREADABLE_2XX:
        # A write answered as done whose answer cannot be read: it took effect, but what it
        # made is unknown to the caller. Settling finds it.
        return (
            f"ShipStation answered {status}, but the answer could not be read ({error}); "
            "it most likely took effect. Settle it (ss.settle(exc)) before sending it "
            "again."
        )
    return (
        "the request was sent but no answer came back (" + str(error) + "); it may "
        "have taken effect, so it was not retried. Settle it (ss.settle(exc)) before "
        "sending it again."
    )
