"""The aiohttp I/O around the sans-I/O core: send one prepared request, read one response.

The only place that touches aiohttp. Two hooks tie the wire to the scheduler: the moment the
request headers go out is the send's timestamp, and just before that (a connection has been
obtained) a request granted before a 429 pause is held back. On the client's own session the
hooks live in a :class:`ScheduledRequest` subclass (cheap: aiohttp's tracing costs about a
fifth of a request's CPU), :class:`ReadDeadlines` times out the reads, and
:class:`ScheduledConnector` stops aiohttp re-sending a request that timed out; on a session the
user passed in, the hooks are a trace config and aiohttp's own per-read timeout applies.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import aiohttp
import attrs
import yarl
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from multidict import CIMultiDictProxy

from ._redact import Redactor
from ._sansio import Credentials, PreparedRequest
from .errors import ClientClosedError, ShipStationError, TransportError


class AttemptContext:
    """One attempt as the I/O layer sees it: the scheduler's hooks around writing the headers.

    The client subclasses it; this base only records that the request went out. ``sent``:
    the headers of the current send went out; ``ever_sent`` (sticky): some send of this
    attempt went out (aiohttp may re-send after a drop). ``timed_out`` / ``cut_off``:
    :class:`ReadDeadlines` aborted its connection, overdue / because the client closed.
    """

    __slots__ = ("cut_off", "deadlines", "ever_sent", "sent", "timed_out")

    def __init__(self, deadlines: ReadDeadlines | None = None) -> None:
        self.sent = False
        self.ever_sent = False
        self.deadlines = deadlines
        self.timed_out = False
        self.cut_off = False

    def mark_sent(self, at: float | None = None) -> None:
        """Record that the headers went out (idempotent); ``at``: taken before writing them."""
        if not self.sent:
            self.sent = True
            self.ever_sent = True
            self.on_sent(time.monotonic() if at is None else at)

    def on_sent(self, at: float) -> None:
        """Called once per send, with a monotonic time at or before the headers went out.

        Never later: the server may count the request as soon as they are written, and the
        scheduler bounds when it was counted from below by this time.
        """

    def must_hold(self) -> bool:
        """A cheap check whether :meth:`before_send` has anything to do (usually not)."""
        return False

    async def before_send(self) -> None:
        """Hold the request, when :meth:`must_hold` says so, before its headers are written.

        Awaited once a connection is ready. aiohttp itself re-sends an idempotent request
        once when the server drops the connection, so this can run again after ``sent``: it
        must then get the re-send a slot of its own.
        """


class ReadDeadlines:
    """The read timeout of the requests on the client's own session: one timer for all of them.

    aiohttp's per-read timeout arms and cancels a timer for every request and every read,
    which costs a request about 5% of its CPU. Here a request only notes a deadline: when its
    headers have gone out, and again when the response headers arrive (so the body gets a full
    timeout). One timer, armed while any request waits, checks them all every tenth of the
    timeout (at most every second), so a timeout fires up to that much late. An overdue
    request's connection is aborted, which fails its pending read, and it reports a timeout.
    The time a request is held before sending (a 429 pause) is not counted: the deadline
    starts when its headers go out, so it covers uploading the body too (a stalled upload
    times out; aiohttp's per-read timeout starts only once the body is written).
    """

    __slots__ = ("_entries", "_handle", "_period", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._period = min(1.0, timeout / 10)
        self._entries: dict[AttemptContext, tuple[asyncio.Transport, float]] = {}
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, ctx: AttemptContext, transport: asyncio.Transport) -> None:
        """The request's headers went out on ``transport``: its answer is due within the timeout."""
        self._entries[ctx] = (transport, time.monotonic() + self.timeout)
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._period, self._check)

    def extend(self, ctx: AttemptContext) -> None:
        """The response headers arrived: the body is due within the timeout from now."""
        entry = self._entries.get(ctx)
        if entry is not None:
            self._entries[ctx] = (entry[0], time.monotonic() + self.timeout)

    def forget(self, ctx: AttemptContext) -> None:
        """The request is done with its connection (called before the connection is released)."""
        self._entries.pop(ctx, None)

    def close(self) -> int:
        """Stop the timer and cut off the requests still waited on (the session is closing).

        Their pending reads fail, as a timeout's do (without being called one), once the loop
        has run the transports' connection_lost: let it run before closing the session, which
        would otherwise detach the reads first and leave them waiting. Returns how many.
        """
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        entries, self._entries = self._entries, {}
        for ctx, (transport, _) in entries.items():
            ctx.cut_off = True
            transport.abort()
        return len(entries)

    def _check(self) -> None:
        now = time.monotonic()
        overdue = [ctx for ctx, (_, deadline) in self._entries.items() if deadline <= now]
        try:
            for ctx in overdue:
                transport, _ = self._entries.pop(ctx)
                ctx.timed_out = True
                transport.abort()  # the pending read fails; the connection is never reused
        finally:
            # Re-armed whatever happened above: a stopped timer would time nothing out.
            self._handle = (
                asyncio.get_running_loop().call_later(self._period, self._check)
                if self._entries
                else None
            )


@attrs.define(frozen=True)
class RawResponse:
    """Status, headers and body bytes of a response, with monotonic receipt times.

    ``headers_at``: when its headers were read (the rate-limit headers' freshest moment);
    ``received_at``: when the whole body was. Its repr leaves out the headers and the body,
    which a server may have filled with anything, an echo of the credential included (and
    it is not a tuple, whose items error trackers list one by one).
    """

    status: int
    headers: CIMultiDictProxy[str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    received_at: float
    headers_at: float


def credentials_middleware(credentials: Credentials) -> aiohttp.ClientMiddlewareType:
    """A per-request middleware that writes our credential headers, for a user's session.

    The one place besides the client's own session headers where they are revealed. It runs
    after a session's own auth is applied, so it replaces any Authorization that session
    carries (aiohttp would refuse an explicit one next to session auth).
    """

    async def middleware(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.headers.update(credentials.headers())
        return await handler(request)

    return middleware


_CURRENT_ATTEMPT: contextvars.ContextVar[AttemptContext | None] = contextvars.ContextVar(
    "shipstation_async_attempt", default=None
)


class ScheduledConnector(aiohttp.TCPConnector):
    """aiohttp's connector, refusing the re-send of a request that timed out or was cut off."""

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's own signature
    ) -> Connection:
        """Get a connection for ``req``, unless its attempt already timed out or was cut off."""
        ctx = _CURRENT_ATTEMPT.get()
        if ctx is not None and (ctx.timed_out or ctx.cut_off):
            # aiohttp re-sends a GET once when its connection drops, as an abort by
            # ReadDeadlines does; refusing before connecting costs no connection: a request
            # that timed out is not sent again. aiohttp re-wraps this as a connection timeout;
            # send() words the error from the attempt's flags, which are set whenever it fires.
            raise aiohttp.ServerTimeoutError("timed out or cut off; not re-sent")
        return await super().connect(req, traces, timeout)


class ScheduledRequest(aiohttp.ClientRequest):
    """aiohttp's request with the scheduler's two hooks around writing the headers."""

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        """Hold the request if a 429 pause began since its grant, send it, stamp the send."""
        ctx = _CURRENT_ATTEMPT.get()
        if ctx is None:
            return await super().send(conn)
        if ctx.deadlines is not None and ctx.sent:
            # aiohttp re-sends after a dropped connection: the first send's deadline no longer
            # applies (it would count the hold below, and the new connection gets its own).
            ctx.deadlines.forget(ctx)
            ctx.timed_out = False
        if ctx.must_hold():
            await ctx.before_send()
        started = time.monotonic()  # before writing: the server may count it at once
        try:
            response = await super().send(conn)
        finally:
            # Also on failure: once send() started, assume the headers may have gone out.
            ctx.mark_sent(started)
        transport = conn.transport
        if ctx.deadlines is not None and transport is not None:
            ctx.deadlines.watch(ctx, transport)
        return response


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
    *,
    session_headers: Mapping[str, str] | None,
    middlewares: tuple[aiohttp.ClientMiddlewareType, ...] | None,
    redactor: Redactor,
) -> RawResponse:
    """Send ``request`` and read the whole response; failures become :class:`TransportError`.

    ``TransportError.sent`` tells whether the request may have reached the server: False only
    when that is certain (the connection could not be made, or the headers never went out).
    ``session_headers``: the headers our own session sends by default (the credentials among
    them); only the others are passed per request. ``middlewares``: on a user's session, the
    one that writes the credentials. ``limits`` are aiohttp's timeouts; on our own session the
    reads are timed by ``ctx.deadlines`` instead. ``redactor`` takes the credential out of
    what a failure quotes (a malformed status line, say) before it becomes a message.
    """
    headers: Mapping[str, str] | None = request.headers
    if session_headers is not None:
        if request.headers is session_headers:
            headers = None
        else:
            extra = {k: v for k, v in request.headers.items() if session_headers.get(k) != v}
            headers = extra or None
    deadlines = ctx.deadlines
    token = _CURRENT_ATTEMPT.set(ctx)
    failure: ShipStationError
    try:
        # In a frame of its own, so that nothing it held (the response, aiohttp's request
        # with its headers) is a local of this frame when the failure is raised below.
        return await _exchange(session, request, ctx, limits, headers, middlewares)
    except asyncio.CancelledError as exc:
        # Without the frames it came through: aiohttp's own hold the request's headers (the
        # credential among them), and a caller's timeout chains this into what it raises.
        raise exc.with_traceback(None) from None
    except RuntimeError as exc:
        if not session.closed:
            failure = TransportError(
                redactor.text(_describe(exc)),
                method=request.method,
                path=request.path,
                sent=ctx.ever_sent,
            )
        elif ctx.ever_sent:  # closed under a request already sent: it may have taken effect
            failure = TransportError(
                redactor.text(_describe(exc)),
                method=request.method,
                path=request.path,
                sent=True,
            )
        else:  # aiohttp refuses a closed session before it connects: nothing went out
            failure = ClientClosedError("the HTTP session is closed")
    except Exception as exc:  # aiohttp's errors, OSError, TimeoutError, anything unforeseen
        failure = TransportError(
            # Every session carries our hooks (our own: the request class; a user's: the trace
            # config), so a send that went out was seen.
            f"timed out (no answer within {deadlines.timeout:g} s)"
            if ctx.timed_out and deadlines is not None
            else "cut off: the client was closed before the answer came back"
            if ctx.cut_off
            else redactor.text(_describe(exc)),
            method=request.method,
            path=request.path,
            sent=ctx.ever_sent,
        )
    finally:
        _CURRENT_ATTEMPT.reset(token)
        if deadlines is not None:
            deadlines.forget(ctx)
    # Raised outside the except block so that aiohttp's exception (whose repr can show the
    # request headers, credential included) is not kept as __context__.
    raise failure


async def _exchange(
    session: aiohttp.ClientSession,
    request: PreparedRequest,
    ctx: AttemptContext,
    limits: aiohttp.ClientTimeout,
    headers: Mapping[str, str] | None,
    middlewares: tuple[aiohttp.ClientMiddlewareType, ...] | None,
) -> RawResponse:
    deadlines = ctx.deadlines
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
        if deadlines is None:
            body = await response.read()
        else:
            deadlines.extend(ctx)
            try:
                body = await response.read()
            finally:
                # As soon as the body is in. aiohttp may already have pooled the connection
                # (when the last bytes arrived); no other request can take it before this
                # task resumes, and a check in between only aborts an idle connection,
                # which the pool then discards.
                deadlines.forget(ctx)
        return RawResponse(
            status=response.status,
            headers=response.headers,
            body=body,
            received_at=time.monotonic(),
            headers_at=headers_at,
        )


def _describe(exc: BaseException) -> str:
    # aiohttp's exceptions can carry request_info (with headers) in their repr, so build the
    # message from the type and str() only; the original is not chained for the same reason.
    text = str(exc) or "no detail"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text}"
