"""The exception hierarchy: every error the SDK raises is a :class:`ShipStationError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .settlement import Settlement


class ShipStationError(Exception):
    """Base class of every error raised by shipstation-async.

    Errors pickle and copy with their attributes (task queues such as arq and Celery send a
    job's exception to another process that way).
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[ShipStationError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(ShipStationError):
    """The client or sandbox was configured wrongly (missing credentials, bad limits)."""


class ClientClosedError(ConfigurationError):
    """The client (or the aiohttp session it uses) was closed before the call could go out.

    ``sent`` is True when an earlier attempt of this call may have taken effect (it reached
    the server and no answer proved otherwise; the close came before its retry or aiohttp's
    re-send). Only an idempotent call gets here that way, so making it again is safe; a
    non-idempotent call in that state raises :class:`AmbiguousRequestError` instead.
    ``method`` and ``path`` name the call, when known.
    """

    def __init__(
        self,
        message: str = "this ShipStation client is closed",
        *,
        method: str = "",
        path: str = "",
        sent: bool = False,
    ) -> None:
        where = f"{method} {path}: " if method else ""
        if sent:
            tail = "; an earlier attempt may have taken effect (the call is safe to repeat)"
        else:
            tail = "; the call did not take effect"
        super().__init__(where + message + tail)
        self.reason = message
        self.method = method
        self.path = path
        self.sent = sent


class InvalidRequestError(ShipStationError, ValueError):
    """Bad input caught before any request was sent; ``field`` names the offending argument."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class APIError(ShipStationError):
    """ShipStation answered with an error status.

    ``status`` is the HTTP status, ``message`` ShipStation's message (``Message`` and
    ``ExceptionMessage`` joined), ``details`` the validation ``ModelState`` when given, and
    ``method``/``path`` the request that failed (never its credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        details: Mapping[str, Any] | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.message = message
        self.details = dict(details) if details else {}
        self.method = method
        self.path = path
        self.body = body


class BadRequestError(APIError):
    """400: ShipStation rejected the parameters or body; ``details`` holds its ModelState."""


class AuthenticationError(APIError):
    """401: the API key or secret was refused. Check SHIPSTATION_API_KEY/SECRET."""


class PermissionDeniedError(APIError):
    """403: the credentials are valid but may not do this."""


class NotFoundError(APIError):
    """404: the resource does not exist (or was soft-deleted and is not visible)."""


class RateLimitError(APIError):
    """429 after the retry budget ran out, or no slot could be granted within ``max_wait``.

    ``retry_after`` is the number of seconds after which a slot is expected (None if unknown).
    When raised before sending, ``status`` is 429 and ``sent`` is False.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        retry_after: float | None = None,
        sent: bool = True,
        status: int = 429,
        details: Mapping[str, Any] | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, method=method, path=path, details=details, body=body
        )
        self.retry_after = retry_after
        self.sent = sent


class ServerError(APIError):
    """5xx: ShipStation (or a gateway in front of it) failed."""


class TransportError(ShipStationError):
    """The connection failed or timed out; ``sent`` says whether the request had gone out."""

    def __init__(self, message: str, *, method: str, path: str, sent: bool) -> None:
        super().__init__(f"{method} {path}: {message}")
        self.method = method
        self.path = path
        self.sent = sent


class DecodeError(ShipStationError):
    """The response was not the JSON shape the SDK expected (malformed or unexpected)."""


@attrs.frozen
class WriteAttempt:
    """What an ambiguous write sent and when: what :meth:`ShipStation.settle` checks against.

    ``body`` is the JSON body as sent (addresses and amounts; never credentials).
    ``sent_at`` and ``ended_at`` are ``time.monotonic()`` readings: when the request went out
    and when the client stopped waiting for it (so only this process can settle it).
    ``timeout`` is the client's answer timeout, ``slowest_answer`` the slowest answer it had
    seen and ``min_horizon`` its ``settle_min_horizon`` (seconds; they set how long a
    settlement waits, see :func:`shipstation_async.settlement.horizon_seconds`). ``account``
    identifies the API and key it was sent on (a digest, not the key). ``baseline`` is what
    was read just before, where a check needs it (add funds: the carrier's balance).
    """

    method: str
    path: str
    body: Any = attrs.field(repr=False)
    sent_at: float
    ended_at: float
    timeout: float
    account: str
    slowest_answer: float | None = None
    baseline: Any = attrs.field(default=None, repr=False)
    min_horizon: float = 120.0


class AmbiguousRequestError(ShipStationError):
    """A non-idempotent request may or may not have taken effect, so it was not retried.

    Raised when, for example, a label purchase timed out after it was sent or met a 5xx. The
    request may have succeeded on ShipStation: ``await ss.settle(exc)`` finds out (for label
    purchases, mark-as-shipped, add funds and create warehouse), and the ``create_label_once``
    methods buy a label at most once, settling this case themselves. ``cause`` is the
    underlying error (a :class:`TransportError` or :class:`ServerError`); ``attempt`` what was
    sent and when (a :class:`WriteAttempt`, None when not known); ``settlement`` the
    :class:`~shipstation_async.settlement.Settlement` that ended without certainty, when this
    was raised after one.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        cause: ShipStationError,
        attempt: WriteAttempt | None = None,
        settlement: Settlement | None = None,
    ) -> None:
        super().__init__(f"{method} {path}: {message}")
        self.method = method
        self.path = path
        self.cause = cause
        self.attempt = attempt
        self.settlement = settlement


__all__ = [
    "APIError",
    "AmbiguousRequestError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "DecodeError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ShipStationError",
    "TransportError",
    "WriteAttempt",
]
