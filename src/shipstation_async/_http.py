"""The aiohttp I/O around the sans-I/O core: send one prepared request, read one response.

The only place that touches aiohttp. Two hooks tie the wire to the scheduler: the moment the
request headers go out is the send's timestamp, and just before that (a connection has been
obtained) a request granted before a 429 pause is held back. On the client's own session the
hooks live in a :class:`ScheduledRequest` subclass (cheap: aiohttp's tracing costs about a
fifth of a request's CPU); on a session the user passed in, in a trace config.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, NamedTuple

import aiohttp
import yarl
from aiohttp.connector import Connection
from multidict import CIMultiDictProxy

from ._sansio import PreparedRequest
from .errors import TransportError


class AttemptContext:
    """One attempt as the I/O layer sees it: the scheduler's hooks around writing the headers.

    The client subclasses it; this base only records that the request went out. ``sent``:
    the headers of the current send went out; ``ever_sent`` (sticky): some send of this
    attempt went out (aiohttp may re-send after a drop).
    """

    __slots__ = ("ever_sent", "sent")

    def __init__(self) -> None:
        self.sent = False
        self.ever_sent = False

    def mark_sent(self) -> None:
        """Record that the headers went out (idempotent)."""
        if not self.sent:
            self.sent = True
            self.ever_sent = True
            self.on_sent(time.monotonic())

    def on_sent(self, at: float) -> None:
        """Called once per send, with the monotonic time the request headers went out."""

    def must_hold(self) -> bool:
        """A cheap check whether :meth:`before_send` has anything to do (usually not)."""
        return False

    async def before_send(self) -> None:
        """Hold the request, when :meth:`must_hold` says so, before its headers are written.

        Awaited once a connection is ready. aiohttp itself re-sends an idempotent request
        once when the server drops the connection, so this can run again after ``sent``: it
        must then get the re-send a slot of its own.
        """


class RawResponse(NamedTuple):
    """Status, headers and body bytes of a response, with monotonic receipt times.

    ``headers_at``: when its headers were read (the rate-limit headers' freshest moment);
    ``received_at``: when the whole body was.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    received_at: float
    headers_at: float


def _replace_authorization(value: str) -> aiohttp.ClientMiddlewareType:
    """A per-request middleware that puts our credential in place of a session's own auth.

    Used only for a user's session that carries default auth: aiohttp refuses an explicit
    Authorization header next to it, and a middleware runs after the session's auth is applied.
    """

    async def middleware(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.headers["Authorization"] = value
        return await handler(request)

    return middleware


_CURRENT_ATTEMPT: contextvars.ContextVar[AttemptContext | None] = contextvars.ContextVar(
    "shipstation_async_attempt", default=None
)


class ScheduledRequest(aiohttp.ClientRequest):
    """aiohttp's request with the scheduler's two hooks around writing the headers."""

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        """Hold the request if a 429 pause began since its grant, send it, stamp the send."""
        ctx = _CURRENT_ATTEMPT.get()
        if ctx is None:
            return await super().send(conn)
        if ctx.must_hold():
            await ctx.before_send()
        try:
            return await super().send(conn)
        finally:
            # Also on failure: once send() started, assume the headers may have gone out.
            ctx.mark_sent()


async def _headers_sent(_: aiohttp.ClientSession, trace: SimpleNamespace, __: Any) -> None:
    # aiohttp awaits this just before it writes the headers: hold, then stamp the send.
    ctx = trace.trace_request_ctx
    if isinstance(ctx, AttemptContext):
        if ctx.must_hold():
            await ctx.before_send()
        ctx.mark_sent()


def make_trace_config() -> aiohttp.TraceConfig:
    """The trace hooks the scheduler relies on (frozen, ready to add to a session)."""
    config = aiohttp.TraceConfig()
    config.on_request_headers_sent.append(_headers_sent)
    config.freeze()
    return config


async def send(
    session: aiohttp.ClientSession,
    request: PreparedRequest,
    ctx: AttemptContext,
    limits: aiohttp.ClientTimeout,
    session_headers: Mapping[str, str] | None = None,
) -> RawResponse:
    """Send ``request`` and read the whole response; failures become :class:`TransportError`.

    ``TransportError.sent`` tells whether the request may have reached the server: False only
    when that is certain (the connection could not be made, or the headers never went out).
    ``session_headers``: the headers our own session sends by default; only the others are
    passed per request (aiohttp merges per-request headers at a cost).
    """
    headers: Mapping[str, str] | None = request.headers
    middlewares: tuple[aiohttp.ClientMiddlewareType, ...] | None = None
    if session_headers is not None:
        if headers is session_headers:
            headers = None
        else:
            extra = {k: v for k, v in request.headers.items() if session_headers.get(k) != v}
            headers = extra or None
    elif session.auth is not None:
        headers = {k: v for k, v in request.headers.items() if k != "Authorization"}
        middlewares = (_replace_authorization(request.headers["Authorization"]),)
    token = _CURRENT_ATTEMPT.set(ctx)
    try:
        async with session.request(
            request.method,
            yarl.URL(request.url, encoded=True),  # the sans-I/O layer encoded it exactly
            headers=headers,
            data=request.body,
            timeout=limits,
            allow_redirects=False,
            raise_for_status=False,
            trace_request_ctx=ctx,
            middlewares=middlewares,
        ) as response:
            headers_at = time.monotonic()
            body = await response.read()
            return RawResponse(
                status=response.status,
                headers=response.headers,
                body=body,
                received_at=time.monotonic(),
                headers_at=headers_at,
            )
    except asyncio.CancelledError:
        raise
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        failure = TransportError(
            # Every session carries our hooks (our own: the request class; a user's: the trace
            # config), so a send that went out was seen.
            _describe(exc),
            method=request.method,
            path=request.path,
            sent=ctx.ever_sent,
        )
    finally:
        _CURRENT_ATTEMPT.reset(token)
    # Raised outside the except block so that aiohttp's exception (whose repr can show the
    # request headers, credential included) is not kept as __context__.
    raise failure


def _describe(exc: BaseException) -> str:
    # aiohttp's exceptions can carry request_info (with headers) in their repr, so build the
    # message from the type and str() only; the original is not chained for the same reason.
    text = str(exc) or "no detail"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text}"
