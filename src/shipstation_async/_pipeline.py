"""The one request loop: wait for a budget slot, send one attempt, decide what its outcome means.

A call goes through :meth:`Pipeline.request`: its lane and wait are checked, the request is
built (:mod:`._sansio`), and then each attempt gets a slot from the shared budget
(:mod:`.scheduler`), is sent (:mod:`._http`, its send state tracked by
:class:`~._send_state.SendTracker`) and accounted for in the ledger. What a failed attempt leads
to is :func:`~._retry_decision.decide_retry`'s answer; this module carries it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import MutableMapping
from typing import Any

import aiohttp
import attrs

from . import _http
from ._backoff import RetryPolicy
from ._budget import BudgetBackend, Grant, InFlightLimit, LoopScheduler, loop_scheduler_for
from ._budget.backend import emit_modes
from ._credentials import Credentials
from ._sansio import (
    Decision,
    Failure,
    Lane,
    Method,
    Operation,
    PreparedRequest,
    RateLimitHeaders,
    RequestBuilder,
    Safety,
    ambiguous_message,
    decide_retry,
    decode_response,
    error_for_status,
    may_have_acted,
    parse_rate_limit,
    transport_failure,
)
from ._send_state import SendTracker
from ._send_watch import SEND_WATCH
from .errors import (
    AmbiguousRequestError,
    APIError,
    ClientClosedError,
    DecodeError,
    RateLimitError,
    ShipStationError,
    TransportError,
    WriteAttempt,
)
from .events import (
    CompletedAfterCancel,
    Event,
    Hook,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
    Throttled,
)

_log = logging.getLogger("shipstation_async")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Answer = tuple[_http.RawResponse, RateLimitHeaders | None]


def method_kind(operation: Operation, method: str) -> Method:
    """How safe the operation is to repeat, as the retry decision reads it."""
    if operation.safety is Safety.NON_IDEMPOTENT:
        return Method.NON_IDEMPOTENT
    return Method.SAFE if method in _SAFE_METHODS else Method.IDEMPOTENT


@attrs.frozen
class Settings:
    """What the pipeline is configured with (read from the client's options)."""

    timeout: float
    retry: RetryPolicy
    settle_min_horizon: float
    account: str
    """Names the API and key in a write attempt without carrying the key itself."""


@attrs.define
class _Call:
    """One call's progress across its attempts."""

    operation: Operation
    prepared: PreparedRequest
    lane: Lane
    deadline: float | None
    method: Method
    attempt: int = 0
    rate_limited: int = 0  # attempts answered 429
    ambiguous: bool = False  # an earlier attempt may have taken effect
    front: bool = False  # a retry goes ahead of its lane
    latest_send: SendTracker | None = None  # the latest attempt's (not the attempt: no cycle)


class Pipeline:
    """One client's request loop and what it keeps between requests.

    It owns the aiohttp session (or borrows a user's), the client's in-flight cap and the
    hooks, and reads the shared budget through ``ledger``. ``closed``: :meth:`close` began.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        credentials: Credentials,
        builder: RequestBuilder,
        ledger: BudgetBackend,
        in_flight: InFlightLimit,
        hooks: tuple[Hook, ...],
        session: aiohttp.ClientSession | None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.builder = builder
        self.ledger = ledger
        self.in_flight = in_flight
        self.hooks = hooks
        self.session = session
        self.owns_session = session is None
        self.closed = False
        # The latest answer times: how slow the server can be, for settling ambiguous writes.
        self.answer_times: deque[float] = deque(maxlen=64)
        timeout = settings.timeout
        # Never a total, so that time spent holding a granted request during a 429 pause
        # (inside aiohttp's call) is not taken for a slow server. On our own session,
        # ReadDeadlines times the answer (cheaper); on a user's, aiohttp's per-read timeout.
        self.deadlines = _http.ReadDeadlines(timeout) if session is None else None
        self.aiohttp_timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=min(10.0, timeout),
            sock_read=None if self.deadlines is not None else timeout,
        )
        self._loop_scheduler: LoopScheduler | None = None
        self._budget_transitions = 0  # the shared budget's switches this client reported
        # On a user's session, a middleware writes the credential headers on each request,
        # and the send hook (aiohttp's public tracing) is added, once however many clients
        # share the session, until the last of them closes.
        self.middlewares: tuple[aiohttp.ClientMiddlewareType, ...] | None = None
        # What our own session sends by default, so that a request passes only the rest.
        self.session_headers = builder.common_headers if session is None else None
        if session is not None:
            self.middlewares = (_http.credentials_middleware(credentials),)
            _http.attach_send_hook(session)

    def ensure_session(self) -> aiohttp.ClientSession:
        """The session, created on first use; ClientClosedError once closing began."""
        if self.closed:
            raise ClientClosedError()
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(100, self.in_flight.maximum)),
                # Sent by default, so that a request without a body passes no headers at all;
                # the credentials are revealed here, into the session, and nowhere else.
                headers={**self.builder.common_headers, **self.credentials.headers()},
                trace_configs=[_http.SEND_HOOK],
            )
        return self.session

    def scheduler(self, loop: asyncio.AbstractEventLoop | None = None) -> LoopScheduler:
        """The budget's scheduler for ``loop``, the running loop (looked up when not given)."""
        if loop is None:
            loop = asyncio.get_running_loop()
        scheduler = self._loop_scheduler
        if scheduler is None or not scheduler.serves(loop):
            scheduler = self._loop_scheduler = loop_scheduler_for(self.ledger, loop)
        return scheduler

    async def close(self, grace: float | None) -> None:
        """Refuse new work, give what is under way ``grace`` seconds, then close the session."""
        if self.closed and self.session is None:
            return
        self.closed = True
        try:
            scheduler = self._loop_scheduler
            # Its requests live on the loop they were made on (as its session does).
            if scheduler is not None and scheduler.serves(asyncio.get_running_loop()):
                scheduler.fail_group(self.in_flight, ClientClosedError)
                grace = self.settings.timeout if grace is None else grace
                if self.in_flight.count and grace > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.in_flight.wait_idle(), grace)
        finally:
            # Cut the requests still awaiting an answer, and let them see it before the
            # session closes under them.
            if self.deadlines is not None and self.deadlines.close():
                await asyncio.sleep(0)
            session, self.session = self.session, None
            if self.owns_session and session is not None:
                await session.close()
            elif session is not None:
                _http.detach_send_hook(session)

    async def request(
        self,
        operation: Operation,
        *,
        lane: Lane,
        wait_budget: float | None,
        headers_out: MutableMapping[str, str] | None,
    ) -> Any:
        """Send ``operation`` (lane and wait checked by the caller); see ``ShipStation.request``."""
        prepared = self.builder.build(operation)
        session = self.session
        if session is None or self.closed:
            session = self.ensure_session()
        loop = asyncio.get_running_loop()
        scheduler = self._loop_scheduler
        if scheduler is None or not scheduler.serves(loop):
            scheduler = self.scheduler(loop)
        deadline = None if wait_budget is None else self.ledger.clock() + wait_budget
        call = _Call(operation, prepared, lane, deadline, method_kind(operation, prepared.method))
        in_flight = self.in_flight
        while True:
            call.attempt += 1
            try:
                try:
                    # A free slot without a coroutine; only a request that must wait queues.
                    grant = None if self.closed else scheduler.grant_now(lane, in_flight)
                    if grant is None:
                        grant = await self._grant(call, scheduler)
                finally:
                    if self.ledger.transitions != self._budget_transitions:  # Redis away or back
                        seen = self._budget_transitions
                        self._budget_transitions = emit_modes(self.ledger, seen, self.emit)
                call.front = True
                attempt = Attempt(self, session, scheduler, call, grant, loop)
                call.latest_send = attempt.tracker
                if call.method is Method.NON_IDEMPOTENT:
                    raw, headers = await attempt.run_shielded()
                else:
                    raw, headers = await attempt.send()
                if attempt.tracker.resent:
                    call.ambiguous = True
            except ClientClosedError as exc:  # before a retry, while queued, or before sending
                sent = call.ambiguous or exc.sent
                raise ClientClosedError(
                    exc.reason, method=prepared.method, path=prepared.path, sent=sent
                ) from None
            except TransportError as exc:
                last = call.latest_send
                failure = transport_failure(exc.sent, timed_out=bool(last and last.timed_out))
                await self._failed(call, failure, exc.sent, exc)
                continue
            status = raw.status
            if status < 300 or (400 <= status < 500 and status != 429):  # read them at once
                try:
                    return self._read(call, raw, headers_out)
                except DecodeError as error:
                    await self._failed(call, Failure.UNREADABLE_2XX, True, error, status)
                    continue  # what the retry decision says (today: never for this)
            await self._not_served(call, raw, headers)

    async def _grant(self, call: _Call, scheduler: LoopScheduler) -> Grant:
        if self.closed:  # a retry after close() began
            raise ClientClosedError()
        try:
            return await scheduler.acquire(
                call.lane,
                owner=self.in_flight,
                deadline=call.deadline,
                front=call.front,
                method=call.prepared.method,
                path=call.prepared.path,
            )
        except RateLimitError as exc:
            if call.rate_limited:
                exc.add_note(
                    f"gave up after {call.attempt - 1} attempts, {call.rate_limited} of them "
                    "answered 429 Too Many Requests: the next would pass max_wait"
                )
            raise

    async def _not_served(
        self, call: _Call, raw: _http.RawResponse, headers: RateLimitHeaders | None
    ) -> None:
        """A 3xx, 429 or 5xx answer: return to try again, or raise."""
        method, path = call.prepared.method, call.prepared.path
        status = raw.status
        if status == 429:
            # Not a failure of the request (a 429 proves it was not processed) but of the
            # budget: retried for as long as max_wait allows, whatever max_attempts says.
            call.rate_limited += 1
            pause = self.ledger.paused_until() - self.ledger.clock()
            self.emit(Throttled(method, path, max(0.0, pause)))
            self.emit(RetryScheduled(method, path, call.attempt + 1, 0.0, "429 Too Many Requests"))
            return  # the ledger holds everyone until the window resets
        redactor = self.credentials.redactor
        location = raw.headers.get("Location")  # a 3xx's
        error = error_for_status(
            status, raw.body, method=method, path=path, redactor=redactor, location=location
        )
        server_delay = headers.retry_after if headers is not None else None
        kind = Failure.REDIRECTED if status < 400 else Failure.SERVER_ERROR  # never followed
        await self._failed(call, kind, True, error, status, server_delay)

    def _read(
        self, call: _Call, raw: _http.RawResponse, headers_out: MutableMapping[str, str] | None
    ) -> Any:
        """The result of an answer below 500 other than 429; raises its APIError or DecodeError.

        An APIError after an ambiguous attempt may be recovered into a success.
        """
        status, method, path = raw.status, call.prepared.method, call.prepared.path
        if headers_out is not None:
            # Only the server's clock: other headers may echo anything (the credential).
            headers_out["Date"] = self.credentials.redact(raw.headers.get("Date", ""))
        operation = call.operation
        try:
            answer = decode_response(
                status,
                raw.body,
                method=method,
                path=path,
                redactor=self.credentials.redactor,
                decode=operation.decode,
            )
            if operation.structure is not None and status < 300:
                answer = operation.structure(answer)
        except APIError as error:
            recover = operation.recover
            recovered = recover(error) if call.ambiguous and recover is not None else None
            if recovered is None:
                raise
            done = "after an ambiguous attempt counts as success"
            _log.info("%s %s: %d %s", method, path, error.status, done)
            return recovered
        if call.ambiguous and operation.recover_answer is not None:
            return operation.recover_answer(answer)
        return answer

    async def _failed(
        self,
        call: _Call,
        failure: Failure,
        sent: bool,
        error: ShipStationError,
        status: int | None = None,
        server_delay: float | None = None,
    ) -> None:
        """Carry out the retry decision for a failed attempt: return to retry, or raise.

        ``status``: the answer's, when there was one.
        """
        decision = decide_retry(call.method, failure, sent=sent)
        if decision is Decision.AMBIGUOUS:
            raise AmbiguousRequestError(
                ambiguous_message(failure, error, status),
                method=call.prepared.method,
                path=call.prepared.path,
                cause=error,
                attempt=self.write_attempt(call),
            ) from None
        if decision is Decision.RAISE:
            raise error
        call.ambiguous = call.ambiguous or may_have_acted(failure, sent=sent)
        reason = f"HTTP {status}" if status is not None else f"transport: {error}"
        await self._backoff(call, error, server_delay, reason)

    def write_attempt(self, call: _Call) -> WriteAttempt:
        """What an ambiguous write sent and when, for settling it later."""
        now = self.ledger.clock()
        last = call.latest_send
        sent_at = last.at if last is not None and last.at is not None else now
        return WriteAttempt(
            method=call.prepared.method,
            path=call.prepared.path,
            body=call.operation.body,
            sent_at=sent_at,
            ended_at=now,
            timeout=self.settings.timeout,
            account=self.settings.account,
            slowest_answer=max(self.answer_times, default=None),
            baseline=call.operation.baseline,
            min_horizon=self.settings.settle_min_horizon,
        )

    async def _backoff(
        self,
        call: _Call,
        error: ShipStationError,
        server_delay: float | None,
        reason: str,
    ) -> None:
        """Wait before the next attempt, or raise ``error``.

        Only attempts that failed (not those answered 429) count towards the retry policy's
        cap and backoff.
        """
        attempt, retry = call.attempt, self.settings.retry
        failed = attempt - call.rate_limited
        method, path = call.prepared.method, call.prepared.path
        if failed >= retry.max_attempts:
            error.add_note(
                f"gave up after {attempt} attempts, {failed} of them failed "
                "(the retry policy's max_attempts)"
                if failed != attempt
                else f"gave up after {attempt} attempts (the retry policy's max_attempts)"
            )
            raise error
        delay = retry.delay(failed, server_delay=server_delay)
        if call.deadline is not None and self.ledger.clock() + delay > call.deadline:
            error.add_note(f"gave up after {attempt} attempts: the next would pass max_wait")
            raise error
        self.emit(RetryScheduled(method, path, attempt + 1, delay, reason))
        _log.info("%s %s: retrying in %.2f s after %s", method, path, delay, reason)
        if delay > 0:
            await asyncio.sleep(delay)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every hook; a hook that raises is logged and ignored."""
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                _log.exception("a shipstation_async hook raised; ignoring it")


class Attempt(_http.SendHooks):
    """One attempt: the send, its accounting in the ledger, and its in-flight slot."""

    __slots__ = ("call", "grant", "pipeline", "scheduler", "session")

    def __init__(
        self,
        pipeline: Pipeline,
        session: aiohttp.ClientSession,
        scheduler: LoopScheduler,
        call: _Call,
        grant: Grant,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(pipeline.deadlines, loop)
        self.pipeline = pipeline
        self.session = session
        self.scheduler = scheduler
        self.call = call
        self.grant = grant

    def must_hold(self) -> bool:
        """A 429 pause began, or a probe was granted, since the grant: see :meth:`before_send`."""
        grant = self.grant
        return grant.state == "reserved" and grant.epoch != self.scheduler.ledger.epoch

    def on_sent(self, at: float) -> None:
        """Stamp the send in the ledger (and tell the hooks, and a purchase's watch)."""
        watch = SEND_WATCH.get()
        if watch is not None and self.call.method is Method.NON_IDEMPOTENT:
            watch.sent = True  # the purchase, not a settlement's look
            watch.on_wire = lambda: self.pipeline.write_attempt(self.call)
        self.scheduler.ledger.mark_sent(self.grant, at)
        if self.pipeline.hooks:
            prepared = self.call.prepared
            self.pipeline.emit(
                RequestSent(
                    prepared.method,
                    prepared.path,
                    self.call.lane,
                    self.call.attempt,
                    self.grant.probe,
                )
            )

    async def before_send(self) -> None:
        """A 429 or a probe came between the grant and the send: queue again, at the front.

        The slot goes back: nothing reaches the server during a pause or while a probe is out.
        """
        self.scheduler.ledger.release(self.grant)
        await self._new_grant()

    async def before_resend(self) -> None:
        """Count the dropped send; refuse to send a write again, or get the re-send a slot.

        aiohttp re-sends a dropped GET/PUT/DELETE once on a new connection: that first send
        stays counted, and the re-send waits for a slot too.
        """
        dropped = self.tracker.mark_dropped()
        deadlines = self.deadlines
        if deadlines is not None:
            # The first send's deadline no longer applies (it would count the wait below).
            deadlines.forget(self.tracker)
        self.scheduler.ledger.fail(self.grant, sent=True)
        if self.call.method is Method.NON_IDEMPOTENT or not dropped:
            await super().before_resend()  # refuses
        await self._new_grant()

    async def _new_grant(self) -> None:
        if self.pipeline.closed:  # close() began: no new slot, nothing more goes out
            raise ClientClosedError(sent=self.tracker.resent)
        call = self.call
        self.grant = await self.scheduler.acquire(
            call.lane,
            owner=None,
            deadline=call.deadline,
            front=True,
            method=call.prepared.method,
            path=call.prepared.path,
            group=self.pipeline.in_flight,
        )

    async def run_shielded(self) -> Answer:
        """Send a non-idempotent request that, once on the wire, outlives its caller.

        If the caller is cancelled after the request went out, it runs to completion, its
        outcome logged and passed to the hooks (what was sent, to the watch); else it is dropped.
        """
        task = asyncio.ensure_future(self.send())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if self.tracker.latest_went_out:  # it ran, or runs on, unseen by its caller
                if (watch := SEND_WATCH.get()) is not None:
                    watch.cancelled = self.pipeline.write_attempt(self.call)
                task.add_done_callback(self._report_after_cancel)  # at once if done
            elif not task.done():
                task.cancel()  # not on the wire yet: safe to drop
            raise

    async def send(self) -> Answer:
        """Send once; account for the attempt in the ledger whatever happens."""
        pipeline = self.pipeline
        ledger = self.scheduler.ledger
        try:
            raw = await _http.send(
                self.session,
                self.call.prepared,
                self,
                pipeline.aiohttp_timeout,
                session_headers=pipeline.session_headers,
                middlewares=pipeline.middlewares,
                redactor=pipeline.credentials.redactor,
            )
        except TransportError as exc:
            ledger.fail(self.grant, sent=exc.sent)
            raise
        except BaseException:
            ledger.fail(self.grant, sent=self.tracker.latest_went_out)
            raise
        finally:
            self.scheduler.owner_released(pipeline.in_flight)
        headers = parse_rate_limit(raw.headers)
        # The headers' moment, not the body's: a long body would widen the window's reset bounds.
        ledger.complete(self.grant, raw.status, headers, at=raw.headers_at)
        sent_at = self.tracker.at
        elapsed = raw.received_at - (sent_at if sent_at is not None else raw.received_at)
        pipeline.answer_times.append(elapsed)
        if pipeline.hooks or _log.isEnabledFor(logging.DEBUG):
            self._report(raw.status, elapsed, headers)
        return raw, headers

    def _report(self, status: int, elapsed: float, headers: RateLimitHeaders | None) -> None:
        call = self.call
        method, path = call.prepared.method, call.prepared.path
        if self.pipeline.hooks:
            self.pipeline.emit(
                ResponseReceived(
                    method,
                    path,
                    call.lane,
                    call.attempt,
                    status,
                    elapsed,
                    headers,
                    self.grant.probe,
                )
            )
        _log.debug(
            "%s %s -> %d in %.3f s (attempt %d)", method, path, status, elapsed, call.attempt
        )

    def _report_after_cancel(self, task: asyncio.Future[Answer]) -> None:
        method, path = self.call.prepared.method, self.call.prepared.path
        if task.cancelled():
            status, error = None, "cancelled"
        elif task.exception() is not None:
            status, error = None, str(task.exception())
        else:
            status, error = task.result()[0].status, None
        _log.warning(
            "%s %s ran to completion after its caller was cancelled: %s",
            method,
            path,
            f"HTTP {status}" if status is not None else error,
        )
        self.pipeline.emit(CompletedAfterCancel(method, path, status, error))
