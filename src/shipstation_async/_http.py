"""The aiohttp I/O around the sans-I/O core: send one prepared request, read one response.

The only place that touches aiohttp. One hook ties the wire to the budget and to the
attempt's :class:`~._send_state.SendTracker`: the trace hook ``_headers_sent``, awaited
once a connection is ready and just before the headers are written. There a request granted
before a 429 pause is held back, the send is stamped, and its read deadline starts. aiohttp
re-sends an idempotent request once when its connection drops (RFC 9112, 9.3.1), and the
hook runs again for the re-send's headers: the attempt then decides whether that re-send may
go (with a budget slot of its own) or is refused (a write that may have acted never goes out
twice behind the retry policy's back).

The hook is aiohttp's public trace signal ``on_request_headers_sent``, on the client's own
session and on a user's alike: src subclasses no aiohttp class and reaches no private name.
On the client's own session :class:`ReadDeadlines` times out the reads by cancelling the
request's task, which aiohttp never re-sends; on a user's session aiohttp's own per-read
timeout applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, Protocol, cast

import aiohttp
import attrs
import yarl
from multidict import CIMultiDictProxy

from ._redact import Redactor
from ._sansio import Credentials, PreparedRequest
from ._send_state import Send, SendTracker
from .errors import ClientClosedError, RateLimitError, ShipStationError, TransportError


class Abortable(Protocol):
    """What :class:`ReadDeadlines` cuts when a request is overdue."""

    def abort(self) -> None:
        """Stop the request: its pending read fails."""


class _ResendRefused(Exception):
    """aiohttp's own re-send of a request that went out once was refused."""


MAX_ANSWER_BYTES = 64 << 20
"""The largest answer read (a 500-record page is a few MB): a broken or hostile server or
proxy sending more would take the process's memory. A larger one fails as a transport error
(sent: for a write, an AmbiguousRequestError)."""


class AnswerTooLarge(Exception):
    """The answer's body is over MAX_ANSWER_BYTES (its reading stopped there)."""


class SendHooks:
    """One attempt as the I/O layer sees it: its send state and the budget's hooks on the send.

    This base only tracks the state; the pipeline's attempt adds the budget. ``deadlines``:
    the client's own session's read timer (None on a user's session); ``loop``: the event
    loop the request runs on, when the caller knows it (it saves looking it up again).
    """

    __slots__ = ("_cut", "_loop", "_task", "deadlines", "tracker")

    def __init__(
        self,
        deadlines: ReadDeadlines | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.tracker = SendTracker()
        self.deadlines = deadlines
        self._loop = loop
        self._task: asyncio.Task[Any] | None = None  # the task awaiting the answer
        self._cut = False  # the read deadline cancelled it

    def must_hold(self) -> bool:
        """A cheap check whether :meth:`before_send` has anything to do (usually not)."""
        return False

    async def before_send(self) -> None:
        """Hold the request, when :meth:`must_hold` says so, before its headers are written."""

    def on_sent(self, at: float) -> None:
        """Called once per send, with a monotonic time at or before the headers went out.

        Never later: the server may count the request as soon as they are written, and the
        budget bounds when it was counted from below by this time.
        """

    async def before_resend(self) -> None:
        """Called before aiohttp re-sends after a drop: refuse, or get the re-send a slot."""
        self.tracker.mark_dropped()
        raise _ResendRefused("the connection dropped after sending; not re-sent")

    def must_wait(self) -> bool:
        """Whether the send must wait first: aiohttp's own re-send, or a 429 pause."""
        return self.tracker.went_out or self.must_hold()

    async def wait_before_send(self) -> None:
        """Refuse or admit aiohttp's re-send, or hold a request granted before a 429 pause."""
        if self.tracker.went_out:  # the headers of aiohttp's own re-send
            await self.before_resend()
        else:
            # Again while the new grant is stale too: a probe may be granted (or a 429 come)
            # between this request's new grant and its turn to run.
            while self.must_hold():
                await self.before_send()

    def stamp(self) -> None:
        """The headers go out now: stamp the send and start its read deadline."""
        at = time.monotonic()  # before writing: the server may count it at once
        if self.tracker.mark_sent(at):
            self.on_sent(at)
            deadlines = self.deadlines
            if deadlines is not None:
                self._task = asyncio.current_task(self._loop)
                deadlines.watch(self.tracker, self, at)

    def abort(self) -> None:
        """Cut the request (the read deadline's :class:`Abortable`): cancel its task."""
        if self._task is not None:
            self._cut = True
            self._task.cancel()

    def cut_by_deadline(self) -> bool:
        """Whether a cancellation came from the read deadline alone (then it is taken back)."""
        if not self._cut or self._task is None:
            return False
        self._cut = False
        return self._task.uncancel() == 0


class ReadDeadlines:
    """The read timeout of the requests on the client's own session: one timer for all of them.

    aiohttp's per-read timeout arms and cancels a timer for every request and every read,
    which costs a request about 5% of its CPU. Here a request only notes a deadline: when its
    headers have gone out, and again when the response headers arrive (so the body gets a full
    timeout). One timer, armed while any request waits, checks them all every tenth of the
    timeout (at most every second), so a timeout fires up to that much late. An overdue
    request is aborted (on a session: its task is cancelled, which fails its pending read and
    closes its connection), its state moves to ``TIMED_OUT``, and it reports a timeout.
    The time a request is held before sending (a 429 pause) is not counted: the deadline
    starts when its headers go out, so it covers uploading the body too (a stalled upload
    times out; aiohttp's per-read timeout starts only once the body is written).
    """

    __slots__ = ("_entries", "_handle", "_period", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._period = min(1.0, timeout / 10)
        self._entries: dict[SendTracker, tuple[Abortable, float]] = {}
        self._handle: asyncio.TimerHandle | None = None

    def watch(self, ctx: SendTracker, transport: Abortable, now: float | None = None) -> None:
        """The request's headers went out (``now``): its answer is due within the timeout.

        ``transport`` cuts it when it is not.
        """
        at = time.monotonic() if now is None else now
        self._entries[ctx] = (transport, at + self.timeout)
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._period, self._check)

    def extend(self, ctx: SendTracker, now: float | None = None) -> None:
        """The response headers arrived (``now``): the body is due within the timeout."""
        entry = self._entries.get(ctx)
        if entry is not None:
            at = time.monotonic() if now is None else now
            self._entries[ctx] = (entry[0], at + self.timeout)

    def forget(self, ctx: SendTracker) -> None:
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
            ctx.cut_off()
            transport.abort()
        return len(entries)

    def _check(self) -> None:
        now = time.monotonic()
        overdue = [ctx for ctx, (_, deadline) in self._entries.items() if deadline <= now]
        try:
            for ctx in overdue:
                transport, _ = self._entries.pop(ctx)
                ctx.time_out()
                transport.abort()  # the pending read fails; the connection is never reused
        finally:
            # Re-armed whatever happened above: a stopped timer would time nothing out.
            self._handle = (
                asyncio.get_running_loop().call_later(self._period, self._check)
                if self._entries
                else None
            )


@attrs.define  # not frozen: a frozen class costs every request twice the time to make one
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


def _request_ctx(trace_request_ctx: object = None) -> object:
    # The trace context aiohttp hands the hook: the request's own SendHooks (what the request
    # passed as trace_request_ctx), not a namespace made around it for every request.
    return trace_request_ctx


async def _headers_sent(_: aiohttp.ClientSession, hooks: object, __: Any) -> None:
    # aiohttp awaits this once a connection is ready, just before it writes the headers.
    # The hook's whole work: wait when the send must (rare), then stamp it. No coroutine of
    # its own for the usual case: this runs on every request.
    if isinstance(hooks, SendHooks):
        if hooks.tracker.state is not Send.NOT_SENT or hooks.must_hold():  # must_wait()
            await hooks.wait_before_send()
        hooks.stamp()


def make_trace_config() -> aiohttp.TraceConfig:
    """The trace hook every session of ours carries (frozen, ready to add to a session)."""
    # A factory is what the parameter takes (typed as SimpleNamespace, its default).
    config = aiohttp.TraceConfig(cast("type[SimpleNamespace]", _request_ctx))
    config.on_request_headers_sent.append(_headers_sent)
    config.freeze()
    return config


# One for every session: a session carrying the hook twice would run it twice per request,
# and the second run would take the first send for a re-send.
SEND_HOOK = make_trace_config()
_hooked_sessions: weakref.WeakKeyDictionary[aiohttp.ClientSession, int] = (
    weakref.WeakKeyDictionary()
)


def attach_send_hook(session: aiohttp.ClientSession) -> None:
    """Add the send hook to a user's session (counted: several clients may share it)."""
    users = _hooked_sessions.get(session, 0)
    if not users and SEND_HOOK not in session.trace_configs:
        session.trace_configs.append(SEND_HOOK)
    _hooked_sessions[session] = users + 1


def detach_send_hook(session: aiohttp.ClientSession) -> None:
    """A client closed: remove the hook once no client of ours uses the session."""
    users = _hooked_sessions.get(session, 0) - 1
    if users > 0:
        _hooked_sessions[session] = users
        return
    _hooked_sessions.pop(session, None)
    with contextlib.suppress(ValueError):
        session.trace_configs.remove(SEND_HOOK)


async def send(
    session: aiohttp.ClientSession,
    request: PreparedRequest,
    hooks: SendHooks,
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
    one that writes the credentials. ``limits`` are
    aiohttp's timeouts; on our own session the reads are timed by ``hooks.deadlines``
    instead. ``redactor`` takes the credential out of what a failure quotes (a malformed
    status line, say) before it becomes a message.
    """
    headers: Mapping[str, str] | None = request.headers
    if session_headers is not None:
        if request.headers is session_headers:
            headers = None
        else:
            extra = {k: v for k, v in request.headers.items() if session_headers.get(k) != v}
            headers = extra or None
    tracker, deadlines = hooks.tracker, hooks.deadlines
    failure: ShipStationError
    try:
        # In a frame of its own, so that nothing it held (the response, aiohttp's request
        # with its headers) is a local of this frame when the failure is raised below.
        return await _exchange(session, request, hooks, limits, headers, middlewares)
    except (RateLimitError, ClientClosedError) as exc:
        # From the send hook, which held the request before its headers (a 429 pause, a
        # probe): nothing went out, and the caller gets what waiting for a slot raises.
        # Without aiohttp's frames, which hold the request's headers.
        raise exc.with_traceback(None) from None
    except asyncio.CancelledError as exc:
        if not hooks.cut_by_deadline():
            # Without the frames it came through: aiohttp's own hold the request's headers
            # (the credential among them), and a caller's timeout chains this into what it
            # raises.
            raise exc.with_traceback(None) from None
        failure = _cut_failure(request, hooks)
    except RuntimeError as exc:
        if isinstance(exc.__context__, GeneratorExit):
            # Its loop was closed under it and the collector closes it: aiohttp's cleanup
            # found the loop closed. Let the close go on (no error to report to anyone).
            raise exc.__context__ from None
        if session.closed and not tracker.went_out:
            # aiohttp refuses a closed session before it connects: nothing went out
            failure = ClientClosedError("the HTTP session is closed")
        else:  # (closed under a request already sent: it may have taken effect)
            failure = TransportError(
                redactor.text(_describe(exc)),
                method=request.method,
                path=request.path,
                sent=tracker.went_out,
            )
    except Exception as exc:  # aiohttp's errors, OSError, TimeoutError, anything unforeseen
        if tracker.timed_out or tracker.was_cut_off:
            failure = _cut_failure(request, hooks)
        else:
            failure = TransportError(
                redactor.text(_describe(exc)),
                method=request.method,
                path=request.path,
                sent=tracker.went_out,
            )
    finally:
        if deadlines is not None:
            deadlines.forget(tracker)
    # Raised outside the except block so that aiohttp's exception (whose repr can show the
    # request headers, credential included) is not kept as __context__.
    raise failure


def _cut_failure(request: PreparedRequest, hooks: SendHooks) -> TransportError:
    deadlines = hooks.deadlines
    return TransportError(
        f"timed out (no answer within {deadlines.timeout:g} s)"
        if hooks.tracker.timed_out and deadlines is not None
        else "cut off: the client was closed before the answer came back",
        method=request.method,
        path=request.path,
        sent=True,
    )


async def _exchange(
    session: aiohttp.ClientSession,
    request: PreparedRequest,
    hooks: SendHooks,
    limits: aiohttp.ClientTimeout,
    headers: Mapping[str, str] | None,
    middlewares: tuple[aiohttp.ClientMiddlewareType, ...] | None,
) -> RawResponse:
    tracker, deadlines = hooks.tracker, hooks.deadlines
    # Awaited rather than entered: the response is released below, as leaving the block
    # would, without the four coroutines of aiohttp's context managers on every request.
    response = await session.request(
        request.method,
        yarl.URL(request.url, encoded=True),  # the sans-I/O layer encoded it exactly
        headers=headers,
        data=request.body,
        timeout=limits,
        allow_redirects=False,
        raise_for_status=False,
        trace_request_ctx=hooks,
        middlewares=middlewares,
    )
    try:
        headers_at = time.monotonic()
        tracker.mark_answered()
        # The body stream itself: read() would add a trace signal per request for nothing.
        # A read that fails leaves the payload unfinished, so the release below closes the
        # connection rather than reusing it.
        if deadlines is None:
            body = await _read_body(response)
        else:
            deadlines.extend(tracker, headers_at)
            try:
                body = await _read_body(response)
            finally:
                # As soon as the body is in: no timeout can cut this request from here on.
                deadlines.forget(tracker)
        return RawResponse(
            status=response.status,
            headers=response.headers,
            body=body,
            received_at=time.monotonic(),
            headers_at=headers_at,
        )
    finally:
        response.release()


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, at most MAX_ANSWER_BYTES (in chunks when its length is not given).

    A compressed body's length is not its size once aiohttp has decompressed it: counted too.
    """
    content, size = response.content, response.content_length
    if size is not None and "Content-Encoding" not in response.headers:
        if size > MAX_ANSWER_BYTES:
            raise AnswerTooLarge(f"the answer announces {size} bytes, over {MAX_ANSWER_BYTES}")
        return await content.read()
    chunks, total = [], 0
    async for chunk in content.iter_any():
        total += len(chunk)
        if total > MAX_ANSWER_BYTES:
            raise AnswerTooLarge(f"the answer ran past {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    # aiohttp's exceptions can carry request_info (with headers) in their repr, so build the
    # message from the type and str() only; the original is not chained for the same reason.
    text = str(exc) or "no detail"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text}"
