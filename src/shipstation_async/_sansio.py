"""The pure core of the request pipeline: build, decode, errors (the retry decision beside it).

No I/O, no clock: everything here is a function of its arguments, so it is tested without a
network. The retry decision is :mod:`._retry_decision` (its names are importable from here
too), the I/O around it lives in :mod:`._http`, the loop that carries out its decisions in
:mod:`._pipeline`, and the budget in :mod:`.scheduler`.
"""

from __future__ import annotations

import enum
import gc
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import UTC
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any, Literal

import attrs
from multidict import istr

from ._arguments import MAX_QUERY
from ._credentials import Credentials as Credentials  # its home before; imported from here
from ._exact_json import dumps_exact as dumps_exact
from ._query import QueryValue, encode_query
from ._query import encode_query_value as encode_query_value
from ._redact import Redactor
from ._retry_decision import Decision as Decision
from ._retry_decision import Failure as Failure
from ._retry_decision import Method as Method
from ._retry_decision import ambiguous_message as ambiguous_message
from ._retry_decision import decide_retry as decide_retry
from ._retry_decision import may_have_acted as may_have_acted
from ._retry_decision import transport_failure as transport_failure
from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    DecodeError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ShipStationError,
)

Lane = Literal["interactive", "bulk"]
"""Scheduling lane: ``interactive`` calls go ahead of ``bulk`` work (streams, backfills)."""

USER_AGENT = f"shipstation-async/{__version__}"


class Safety(enum.Enum):
    """Whether repeating an operation can change the outcome, which decides how it is retried."""

    IDEMPOTENT = "idempotent"
    """Repeating it leaves the same state (GET, PUT, DELETE, state setters): retried freely."""
    NON_IDEMPOTENT = "non_idempotent"
    """Repeating it acts twice (buying a label): retried only when provably not processed."""


@attrs.frozen
class Operation:
    """One API call described as data: what resources hand to ``client.request``.

    ``safety`` decides how failures are retried. ``recover`` is consulted only when an earlier
    attempt of this operation had an ambiguous outcome and a retry then failed with an
    :class:`APIError`: it may turn that error into a success result (a 404 on a retried DELETE
    means the first attempt deleted it) by returning a value, or return None to let the error
    stand.
    """

    method: str
    path: str
    query: Mapping[str, QueryValue] | None = None
    body: Any = None
    safety: Safety = Safety.IDEMPOTENT
    lane: Lane | None = None
    recover: Callable[[APIError], Any] | None = attrs.field(default=None, eq=False)
    recover_answer: Callable[[Any], Any] | None = attrs.field(default=None, eq=False)
    """Like ``recover``, for a successful answer after an ambiguous attempt (a retried
    voidlabel that says "already voided" means the first attempt voided it)."""
    structure: Callable[[Any], Any] | None = attrs.field(default=None, eq=False, repr=False)
    """Reads the decoded answer into what the call returns (a model), inside the pipeline:
    an answer a non-idempotent write cannot be read into is reported as ambiguous."""
    baseline: Any = attrs.field(default=None, eq=False, repr=False)
    """What was read just before a non-idempotent write so that an ambiguous outcome can be
    settled (add funds: the carrier's balance); carried into the error's ``attempt``."""
    decode: Callable[[bytes], Any] | None = attrs.field(default=None, eq=False, repr=False)
    """Reads a successful answer's body in place of the JSON reader (a backfill's page reader,
    which keeps each record's bytes). A body that may hold the credential is still read by the
    JSON reader, and the credential taken out."""


@attrs.define
class PreparedRequest:
    """A request ready for the wire. Its repr omits the headers, which hold credentials.

    Not a tuple, which error trackers walk item by item, credential included; and not frozen,
    which costs a request twice the time to make one.
    """

    method: str
    url: str
    path: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes | None = attrs.field(repr=False)


@attrs.frozen
class RateLimitHeaders:
    """What a response said about the budget.

    ``reset`` is seconds until the server's next window; ``reset_floored`` is True when it came
    as a whole number, rounded by the server one way or the other (ShipStation does not say
    which; the scheduler learns it), so the true value may lie up to a second either side.
    ``retry_after`` is seconds from the response, when the server sent Retry-After.
    """

    limit: int | None
    remaining: int | None
    reset: float | None
    reset_floored: bool
    retry_after: float | None


def encode_json(body: Any) -> bytes:
    """Encode a request body as compact JSON; Decimals keep their exact digits.

    A value JSON cannot carry (NaN, infinity, an unknown type) is an InvalidRequestError.
    """
    try:
        return dumps_exact(body).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"the request body cannot be sent as JSON: {exc}") from None


# NaN and Infinity are not JSON, but the json module reads them: as Decimal, like other numbers.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=Decimal)

# What reading a body can raise besides ValueError: nesting too deep, and from the Decimal
# hook, an exponent beyond Decimal's range (InvalidOperation, an ArithmeticError).
_UNREADABLE = (ValueError, RecursionError, ArithmeticError)


def _fast_decoder() -> Callable[[bytes], Any] | None:
    # msgspec (the ``speedups`` extra) reads a page about twice as fast as the json module.
    try:
        import msgspec
    except ImportError:
        return None
    return msgspec.json.Decoder(float_hook=Decimal).decode


_fast_decode = _fast_decoder()

PAUSE_GC_BYTES = 1 << 16
"""Bodies at least this long are decoded with the cyclic garbage collector paused."""


def _read_text(data: bytes) -> Any:
    return _DECODER.decode(data.decode("utf-8"))


def _gc_paused(decode: Callable[[bytes], Any], data: bytes) -> Any:
    """``decode(data)`` with the cyclic garbage collector paused (unless paused already).

    A 500-order page decodes into some ten thousand containers, which the collector's passes
    during the decode trace again and again, and which, promoted early, make the full
    collections that follow frequent: about a third of a page's decoding time, for no garbage
    (decoded JSON holds no cycles). Paused, the page meets the collector once, as a whole.
    The decoders hold the interpreter while they run: other threads hardly run meanwhile.
    """
    if not gc.isenabled():
        return decode(data)
    gc.disable()
    try:
        return decode(data)
    finally:
        gc.enable()


def decode_json(data: bytes) -> Any:
    """Decode a JSON body, reading every non-integer number as Decimal (money stays exact).

    With msgspec installed (``pip install shipstation-async[speedups]``) it does the reading;
    a body it refuses is read again by the json module, which has the last word: whatever the
    json module reads is read, with the same values (msgspec refuses a lone surrogate escape,
    NaN and Infinity, which the json module reads). Anything unreadable is a DecodeError.
    """
    if _fast_decode is not None:
        try:
            if len(data) < PAUSE_GC_BYTES:
                return _fast_decode(data)
            return _gc_paused(_fast_decode, data)
        except _UNREADABLE:
            pass  # the json module decides, and words the error
    try:
        if len(data) < PAUSE_GC_BYTES:
            return _DECODER.decode(data.decode("utf-8"))
        return _gc_paused(_read_text, data)
    except _UNREADABLE as exc:
        reason = str(exc)  # a position, never the content
    # The body may hold anything (an echo of the credential): not a local of a failing frame.
    del data
    raise DecodeError(f"response is not valid JSON: {reason}")


class RequestBuilder:
    """Builds the requests of one client: base URL fixed, headers made once.

    ``common_headers`` (User-Agent, Accept) is one read-only mapping shared by every request
    without a body. The credentials are not among a prepared request's headers: the I/O layer
    writes them (:meth:`Credentials.headers`), so that a request, a log or a traceback that
    shows one never shows them.
    """

    __slots__ = ("_with_body", "base_url", "common_headers")

    def __init__(self, *, base_url: str, user_agent: str = USER_AGENT) -> None:
        self.base_url = base_url.rstrip("/")
        common = {"User-Agent": user_agent, "Accept": "application/json"}
        self.common_headers: Mapping[str, str] = MappingProxyType(common)
        self._with_body: Mapping[str, str] = MappingProxyType(
            {**common, "Content-Type": "application/json"}
        )

    def __repr__(self) -> str:
        return f"RequestBuilder(base_url={self.base_url!r})"

    def build(self, operation: Operation) -> PreparedRequest:
        """Turn ``operation`` into the exact method, URL, headers and body bytes to send."""
        path = operation.path
        if not path.startswith("/"):
            raise InvalidRequestError(f"path must start with '/': {path!r}", field="path")
        if not (path.isascii() and path.isprintable()) or " " in path:
            # A space, a line break or a non-ASCII character would break the request line.
            raise InvalidRequestError(
                f"path must be printable ASCII without spaces (percent-encode the rest): {path!r}",
                field="path",
            )
        url = self.base_url + path
        if operation.query:
            query = encode_query(operation.query)
            if len(query) > MAX_QUERY:
                _query_too_long(operation.query)
            if query:
                url = f"{url}?{query}"
        if operation.body is None:
            return PreparedRequest(operation.method.upper(), url, path, self.common_headers, None)
        body = encode_json(operation.body)
        return PreparedRequest(operation.method.upper(), url, path, self._with_body, body)


def _query_too_long(query: Mapping[str, QueryValue]) -> typing.NoReturn:
    longest = max(query, key=lambda name: len(encode_query({name: query[name]})))
    field = re.sub(r"(?<!^)([A-Z])", r"_\1", longest).lower()  # the argument's own name
    raise InvalidRequestError(
        f"{field} makes the query string longer than the {MAX_QUERY} characters the API's "
        "web server takes (once percent-encoded); shorten it",
        field=field,
    )


def build_request(
    operation: Operation, *, base_url: str, user_agent: str = USER_AGENT
) -> PreparedRequest:
    """Turn an :class:`Operation` into the exact method, URL, headers and body bytes to send."""
    return RequestBuilder(base_url=base_url, user_agent=user_agent).build(operation)


_HEADER_NUMBER_CAP = 86_400.0 * 366  # nothing in a rate-limit header means more than a year
LONGEST_WAIT = 900.0
"""A Reset or Retry-After is read as this many seconds at most. ShipStation's window is a
minute: a longer wait (a broken or hostile server) would hold every request on the key for
nothing, and the probe after 15 minutes finds out whether the server still refuses."""


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    if len(text) < 16 and text.isdigit() and text.isascii():
        # The usual whole number: no sign, space, exponent or overflow to check.
        return min(float(text), _HEADER_NUMBER_CAP)
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None  # NaN, infinities and negatives are not trusted
    return min(value, _HEADER_NUMBER_CAP)


def parse_retry_after(value: str | None, date_header: str | None = None) -> float | None:
    """Seconds to wait from Retry-After: delta-seconds, or an HTTP date relative to Date."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
        now = parsedate_to_datetime(date_header) if date_header else None
        if now is None:
            return None
        # "-0000" parses as a naive datetime: it means UTC.
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        return min(max(0.0, (when - now).total_seconds()), _HEADER_NUMBER_CAP)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# Header names as multidict's case-insensitive strings: a CIMultiDict looks them up without
# folding them again (a plain dict, which a test may pass, finds them by these spellings).
_LIMIT = istr("X-Rate-Limit-Limit")
_REMAINING = istr("X-Rate-Limit-Remaining")
_RESET = istr("X-Rate-Limit-Reset")
_RETRY_AFTER = istr("Retry-After")


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """Read ``X-Rate-Limit-{Limit,Remaining,Reset}`` and ``Retry-After``; None when all absent.

    ``headers`` must be case-insensitive (aiohttp's CIMultiDict is). Malformed, negative or
    non-finite values are treated as absent rather than trusted; this never raises.
    """
    get = headers.get
    limit_text = get(_LIMIT)
    remaining_text = get(_REMAINING)
    reset_text = get(_RESET)
    retry_text = get(_RETRY_AFTER)
    if retry_text is None and limit_text and remaining_text and reset_text:
        digits = limit_text + remaining_text + reset_text
        if (
            len(limit_text) < 8
            and len(remaining_text) < 8
            and len(reset_text) < 8
            and digits.isdigit()
            and digits.isascii()
        ):
            # What every answer of the real API carries: three small whole numbers (below
            # the cap).
            limit = int(limit_text)
            reset = min(float(reset_text), LONGEST_WAIT)
            return RateLimitHeaders(
                limit if limit >= 1 else None, int(remaining_text), reset, True, None
            )
    return read_rate_limit(
        limit_text,
        remaining_text,
        reset_text,
        retry_text,
        None if retry_text is None else headers.get("Date"),
    )


def read_rate_limit(
    limit_text: str | None,
    remaining_text: str | None,
    reset_text: str | None,
    retry_text: str | None,
    date_text: str | None = None,
) -> RateLimitHeaders | None:
    """:func:`parse_rate_limit` for header values of any shape (what it does past its fast path)."""
    if limit_text is None and remaining_text is None and reset_text is None and retry_text is None:
        return None
    limit = _number(limit_text)
    remaining = _number(remaining_text)
    reset = _number(reset_text)
    floored = reset is not None and reset_text is not None and "." not in reset_text
    retry_after = None if retry_text is None else parse_retry_after(retry_text, date_text)
    return RateLimitHeaders(
        limit=int(limit) if limit is not None and limit >= 1 else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=None if reset is None else min(reset, LONGEST_WAIT),
        reset_floored=floored,
        retry_after=None if retry_after is None else min(retry_after, LONGEST_WAIT),
    )


_ERROR_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def _error_message(payload: Any, text: str, status: int) -> tuple[str, dict[str, Any]]:
    if isinstance(payload, Mapping):
        lowered = {str(k).lower(): v for k, v in payload.items()}
        parts = [
            str(lowered[key])
            for key in ("message", "exceptionmessage")
            if lowered.get(key) not in (None, "")
        ]
        details = lowered.get("modelstate")
        detail_map = dict(details) if isinstance(details, Mapping) else {}
        if detail_map:
            parts.append(
                "; ".join(f"{field}: {_join(reasons)}" for field, reasons in detail_map.items())
            )
        if parts:
            return " - ".join(parts), detail_map
    cleaned = " ".join(text.split())
    if len(cleaned) > 300:
        cleaned = cleaned[:300] + "..."
    return cleaned or f"HTTP {status}", {}


def _join(reasons: Any) -> str:
    if isinstance(reasons, list):
        return ", ".join(str(r) for r in reasons)
    return str(reasons)


def error_for_status(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
    redactor: Redactor | None = None,
    location: str | None = None,
) -> APIError:
    """Map an error response (status >= 400, or a 3xx) to the matching :class:`APIError` subclass.

    Understands ShipStation's ASP.NET bodies (``Message``, ``ExceptionMessage``, ``ModelState``),
    the 429 body (``{"message": "Too Many Requests"}``) and plain-text bodies (a 401 may be text).
    ``redactor`` (:attr:`Credentials.redactor`) takes the credential out of the body, decoded and
    raw, in any encoding, so that an echo of the request's headers carries none into the error's
    message, details or body. A 3xx is :func:`redirect_error` (``location``: where it points).
    """
    if 300 <= status < 400:
        return redirect_error(status, location, method=method, path=path, redactor=redactor)
    raw = body.decode("utf-8", errors="replace")
    try:
        payload: Any = _DECODER.decode(raw) if raw.strip() else None
    except _UNREADABLE:
        payload = None
    text = raw
    if redactor is not None:
        text = redactor.text(raw)
        if payload is not None:
            payload = redactor.value(payload)
            if "\\" in raw:  # escapes may compose encodings the raw text hides: write it anew
                text = json.dumps(payload, ensure_ascii=False)
    message, details = _error_message(payload, text, status)
    if status == 429:
        return RateLimitError(
            message,
            method=method,
            path=path,
            retry_after=retry_after,
            details=details,
            body=text,
        )
    cls = _ERROR_CLASSES.get(status, ServerError if status >= 500 else APIError)
    return cls(message, status=status, method=method, path=path, details=details, body=text)


def redirect_error(
    status: int,
    location: str | None,
    *,
    method: str,
    path: str,
    redactor: Redactor | None = None,
) -> APIError:
    """The error of a 3xx answer: the client follows no redirect (``location``: where to)."""
    where = ""
    if location:
        shown = redactor.text(location) if redactor is not None else location
        where = f" to {shown[:200]!r}"
    return APIError(
        f"a redirect{where}, which the client does not follow: the API does not redirect, "
        "so base_url points elsewhere (or at a proxy in front of it)",
        status=status,
        method=method,
        path=path,
    )


def decode_response(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    redactor: Redactor | None = None,
    decode: Callable[[bytes], Any] | None = None,
) -> Any:
    """Decode a successful response's body; raise the typed error for an error status.

    An empty body (204, or the 200 with no content that unsubscribe returns) decodes to None.
    ``redactor``: as for :func:`error_for_status`; a body that may hold the credential has it
    taken out of every string once decoded, before any error can quote a value of it.
    ``decode``: reads a body that holds no credential, in place of :func:`decode_json`.
    """
    if status < 400:
        if not body or body.isspace():
            return None
        if redactor is None or not redactor.may_hold(body):
            return (decode or decode_json)(body)
        try:
            return redactor.value(decode_json(body))
        except DecodeError as exc:
            failure: ShipStationError = exc
    else:
        failure = error_for_status(status, body, method=method, path=path, redactor=redactor)
    # The body may hold anything (an echo of the credential): an error tracker that shows the
    # locals of the frames an error passed through must not find it here.
    del body
    raise failure
