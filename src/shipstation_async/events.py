"""Events passed to the client's hooks, for metrics and tracing. None carries a credential."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._sansio import Lane, RateLimitHeaders

__all__ = [
    "BudgetDegraded",
    "BudgetShared",
    "CompletedAfterCancel",
    "Event",
    "Hook",
    "RateLimitHeaders",
    "RequestSent",
    "ResponseReceived",
    "RetryScheduled",
    "Throttled",
]


@attrs.frozen
class RequestSent:
    """An attempt's request headers went out (every attempt counts against the budget).

    ``probe`` is True for the request that goes alone at cold start or after a 429 pause.
    """

    method: str
    path: str
    lane: Lane
    attempt: int
    probe: bool = False


@attrs.frozen
class ResponseReceived:
    """A response arrived; ``elapsed`` is seconds from send to the end of the body."""

    method: str
    path: str
    lane: Lane
    attempt: int
    status: int
    elapsed: float
    rate_limit: RateLimitHeaders | None
    probe: bool = False


@attrs.frozen
class RetryScheduled:
    """A failed attempt will be retried after ``delay`` seconds (plus any budget wait)."""

    method: str
    path: str
    attempt: int
    delay: float
    reason: str


@attrs.frozen
class Throttled:
    """The server answered 429: every request on this key is held for ``paused_for`` seconds."""

    method: str
    path: str
    paused_for: float


@attrs.frozen
class CompletedAfterCancel:
    """A non-idempotent request whose caller was cancelled ran to completion anyway.

    ``status`` is the response status, or None with ``error`` describing a failure. Check the
    outcome (for example whether a label was bought) before trying the operation again.
    """

    method: str
    path: str
    status: int | None
    error: str | None


@attrs.frozen
class BudgetDegraded:
    """Redis, where the budget is shared, does not answer: this process spends a local share.

    ``share`` is the requests per window it may send alone meanwhile (0: it holds its
    requests until Redis answers), out of the limit divided among ``processes`` seen lately.
    """

    share: int
    processes: int


@attrs.frozen
class BudgetShared:
    """Redis answers again after a :class:`BudgetDegraded`: the budget is shared again."""


Event = (
    RequestSent
    | ResponseReceived
    | RetryScheduled
    | Throttled
    | CompletedAfterCancel
    | BudgetDegraded
    | BudgetShared
)
"""Any event a hook may receive."""

Hook = Callable[[Event], None]
"""A synchronous callable that receives events. Exceptions it raises are logged and ignored."""
