"""The sandbox server's middleware chain, in the order a request passes it.

1. :meth:`Middleware.arrival`: record the arrival time, method, path and counts; the control
   API under ``/__sandbox`` is answered here, before everything below (no credentials, no
   rate window, no faults, not counted);
2. :meth:`Middleware.auth`: Basic auth; missing, malformed (not base64, non-ASCII) or wrong
   credentials get 401 ``401 Unauthorized`` (text/plain, no rate-limit headers, the window
   untouched: a guess, see :func:`.responses.unauthorized`);
   ``POST /accounts/registeraccount`` needs none and skips this and the next step;
3. :meth:`Middleware.rate_window`: the API key's rate window; with a ``counting_delay`` the
   request first waits a random 0 to D seconds in a queue (a loaded server counts it late),
   then it is counted at that moment on the window's clock; a refusal gets 429
   ``{"message": "Too Many Requests"}``; everything from here on carries
   ``X-Rate-Limit-Limit/Remaining/Reset``;
4. :meth:`Middleware.faults`: scripted or random errors, drops, 429s and late processing
   (:class:`..faults.Faults`);
5. :meth:`Middleware.latency`: the request body is read, the handler processes it, and only
   then the answer waits ``latency`` plus ``Faults.latency`` seconds, as on a real server: a
   request whose client timed out meanwhile has still taken effect. The body's limits apply
   at this read (:func:`.request_body.read_body`): a body over ``max_body_size`` gets 413,
   one not received within ``body_timeout`` seconds 408 (the connection closed), after the
   rate window counted the request (so with rate-limit headers), and no handler runs;
6. the handler the router picks (ASP.NET-style 404/405 when none; see :mod:`.server`).
"""

from __future__ import annotations

import asyncio
import base64
import random
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs
from aiohttp import web

from ...limits import RateLimit
from ..faults import FaultDecision, Faults
from ..ratewindow import Decision, RateWindow, ResetFormat, WindowMeter, WindowMode
from .handlers import CONTROL_PREFIX
from .handlers.accounts import REGISTER_PATH
from .request_body import read_body
from .responses import server_error, too_many_requests, unauthorized

ARRIVAL_LOG_SIZE = 100_000
"""How many arrivals :meth:`Middleware.arrivals` keeps (the most recent)."""

# aiohttp's handler and middleware shapes, spelt out (its typedefs module is not public API).
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AiohttpMiddleware(Protocol):
    """What ``web.Application(middlewares=...)`` takes."""

    def __call__(
        self, request: web.Request, handler: Handler
    ) -> Awaitable[web.StreamResponse]:  # pragma: no cover - a shape
        """Answer ``request``, calling ``handler`` for the rest of the chain."""
        ...


class Settings(Protocol):
    """The server options the chain reads at each request (they may change at runtime)."""

    rate_limit: RateLimit
    window: WindowMode
    reset_format: ResetFormat
    count_rejected: bool
    counting_delay: float
    latency: float
    faults: Faults
    body_timeout: float


@attrs.frozen
class SandboxStats:
    """A snapshot of what the sandbox saw since it started (or since ``reset_stats()``).

    ``requests``: every request that arrived, whatever its status. ``accepted``: admitted by
    the rate window. ``rate_limited``: 429s sent (window refusals and scripted ones).
    ``max_in_window``: the most admitted requests counted inside any half-open interval
    ``[t, t + period)``, per API key, the maximum over keys, taken at the moments the window
    counted them (on its own clock, so a server thread starved of CPU still measures exactly
    what it admitted); a client that respects the limit keeps it at or under
    ``rate_limit.requests`` in every window mode.
    ``by_path``: requests per path (no query string). ``by_status``: responses per status.
    ``dropped``: connections closed by faults. ``handled``: requests a route handler ran for
    (a ``drop_after`` counts, a ``drop_before`` does not).
    """

    requests: int = 0
    accepted: int = 0
    rate_limited: int = 0
    max_in_window: int = 0
    by_path: dict[str, int] = attrs.field(factory=dict)
    by_status: dict[int, int] = attrs.field(factory=dict)
    dropped: int = 0
    handled: int = 0


@attrs.define
class _Arrival:
    time: float
    method: str
    path_qs: str
    status: int = 0


_API_KEY: web.RequestKey[str] = web.RequestKey("shipstation_sandbox.api_key", str)
_ARRIVAL: web.RequestKey[_Arrival] = web.RequestKey("shipstation_sandbox.arrival", _Arrival)
_DROPPED: web.RequestKey[bool] = web.RequestKey("shipstation_sandbox.dropped", bool)
_FAULT: web.RequestKey[FaultDecision] = web.RequestKey("shipstation_sandbox.fault", FaultDecision)
_DECISION: web.RequestKey[Decision] = web.RequestKey("shipstation_sandbox.decision", Decision)


@attrs.define
class _Counters:
    requests: int = 0
    accepted: int = 0
    rate_limited: int = 0
    dropped: int = 0
    handled: int = 0
    by_path: Counter[str] = attrs.field(factory=Counter)
    by_status: Counter[int] = attrs.field(factory=Counter)


class Middleware:
    """The chain's five middlewares and what they keep: credentials, rate windows, counters.

    ``settings``: the server's options; ``control``: answers control API requests;
    ``clock``: arrival times; ``window_clock``: the rate windows' clock; ``seed``: the
    counting delays' random stream (reproducible per seed).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        control: Callable[[web.Request], Awaitable[web.StreamResponse]],
        credentials: dict[str, str],
        clock: Callable[[], float],
        window_clock: Callable[[], float],
        seed: int,
    ) -> None:
        self._settings = settings
        self._control = control
        self._credentials = dict(credentials)
        self._clock = clock
        self._window_clock = window_clock
        self._queue_rng = random.Random(seed)
        self._windows: dict[str, RateWindow] = {}
        self._meters: dict[str, WindowMeter] = {}
        self._counters = _Counters()
        self._arrivals: deque[_Arrival] = deque(maxlen=ARRIVAL_LOG_SIZE)
        self._lock = threading.Lock()

    def chain(self) -> list[AiohttpMiddleware]:
        """The middlewares in the order a request passes them (see the module docstring)."""
        return [self.arrival, self.auth, self.rate_window, self.faults, self.latency]

    # -- inspection (thread-safe) -------------------------------------------------------

    def add_credentials(self, api_key: str, api_secret: str) -> None:
        """Accept another key pair; each API key has its own rate window."""
        with self._lock:
            self._credentials[api_key] = api_secret

    def count_handled(self) -> None:
        """Count one request a route handler runs for."""
        with self._lock:
            self._counters.handled += 1

    def stats(self) -> SandboxStats:
        """A snapshot of the counters."""
        with self._lock:
            c = self._counters
            return SandboxStats(
                requests=c.requests,
                accepted=c.accepted,
                rate_limited=c.rate_limited,
                max_in_window=max((m.max_in_window for m in self._meters.values()), default=0),
                by_path=dict(c.by_path),
                by_status=dict(c.by_status),
                dropped=c.dropped,
                handled=c.handled,
            )

    def reset_stats(self) -> None:
        """Zero the counters and the arrival log; the rate windows keep their state."""
        with self._lock:
            self._counters = _Counters()
            self._arrivals.clear()
            for m in self._meters.values():
                m.reset()

    def arrivals(self) -> list[tuple[float, str, str, int]]:
        """The recent arrivals ``(time, method, path_qs, status)``, oldest first."""
        with self._lock:
            return [(a.time, a.method, a.path_qs, a.status) for a in self._arrivals]

    def window_state(self, key: str) -> Decision:
        """The current state of an API key's window, not counted."""
        with self._lock:
            return self._window(key).peek(self._window_clock())

    # -- the chain ----------------------------------------------------------------------

    def _window(self, key: str) -> RateWindow:
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = RateWindow(
                self._settings.rate_limit,
                mode=self._settings.window,
                count_rejected=self._settings.count_rejected,
            )
            self._meters[key] = WindowMeter(self._settings.rate_limit.period)
        return w

    @web.middleware
    async def arrival(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """1. Record the arrival (time, method, path, counts); the control API bypasses all."""
        if _is_control(request.path):
            return await self._control(request)
        entry = _Arrival(self._clock(), request.method, request.path_qs)
        with self._lock:
            self._counters.requests += 1
            self._counters.by_path[request.path] += 1
            self._arrivals.append(entry)
        request[_ARRIVAL] = entry
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self._finish(entry, exc.status, dropped=False)
            raise
        self._finish(entry, response.status, dropped=request.get(_DROPPED, False))
        return response

    def _finish(self, entry: _Arrival, status: int, *, dropped: bool) -> None:
        with self._lock:
            c = self._counters
            if dropped:
                c.dropped += 1
                entry.status = 0
                return
            entry.status = status
            c.by_status[status] += 1
            if status == 429:
                c.rate_limited += 1

    def _authenticate(self, header: str | None) -> str | None:
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except ValueError:  # not base64 (non-ASCII text included), or not UTF-8 once decoded
            return None
        key, sep, secret = decoded.partition(":")
        if not sep:
            return None
        with self._lock:
            expected = self._credentials.get(key)
        return key if expected is not None and expected == secret else None

    @web.middleware
    async def auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """2. Basic auth: 401 without valid credentials (registeraccount excepted)."""
        key = self._authenticate(request.headers.get("Authorization"))
        if key is None:
            if _is_open(request):
                return await handler(request)
            return unauthorized()
        request[_API_KEY] = key
        return await handler(request)

    @web.middleware
    async def rate_window(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """3. The API key's rate window: 429 when refused; rate-limit headers from here on."""
        key = request.get(_API_KEY)
        if key is None:  # an open path without credentials: no key, so no window
            return await handler(request)
        if self._settings.counting_delay > 0:
            # Queued before the limit counts it, as at a loaded server's front door.
            await asyncio.sleep(self._queue_rng.uniform(0.0, self._settings.counting_delay))
        with self._lock:
            # Counted now, on the window's own clock read under the lock: the meter sees the
            # very moments the window decided on, however late this thread got the CPU.
            now = self._window_clock()
            decision = self._window(key).decide(now)
            if decision.admitted:
                self._counters.accepted += 1
                self._meters[key].observe(now)
        headers = decision.headers(self._settings.reset_format)
        if decision.admitted:
            request[_DECISION] = decision
            response = await handler(request)
        else:
            response = too_many_requests()
        response.headers.update(headers)
        return response

    @web.middleware
    async def faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """4. Injected faults: errors, drops, 429s, late processing (:class:`Faults`)."""
        fault = self._settings.faults.decide(request.method, request.path)
        request[_FAULT] = fault
        if fault.kind == "late":
            # Read whole now (the client may be gone by the time it is processed), then
            # processed late: the effect lands after the delay, whoever is still waiting.
            problem = await read_body(request, self._settings.body_timeout)
            if problem is not None:
                return problem
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if fault.kind is None or fault.kind == "drop_after":
            response = await handler(request)
            if fault.kind == "drop_after":
                self._drop(request)
            return response
        await self._delay(fault)
        if fault.kind == "error":
            return server_error(fault.status)
        if fault.kind == "rate_limit":
            response = too_many_requests()
            if fault.retry_after is not None:
                response.headers["Retry-After"] = _format_seconds(fault.retry_after)
            return response
        self._drop(request)  # drop_before
        return web.Response(status=500)

    @web.middleware
    async def latency(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """5. Read the body, run the handler, then wait ``latency`` plus the fault's."""
        # Read and processed first, then delayed: a client that times out during the delay
        # leaves a request that took effect, as a slow real server does.
        problem = await read_body(request, self._settings.body_timeout)
        if problem is not None:
            return problem
        response = await handler(request)
        await self._delay(request[_FAULT])
        return response

    async def _delay(self, fault: FaultDecision) -> None:
        delay = self._settings.latency + fault.latency
        if delay > 0:
            await asyncio.sleep(delay)

    def _drop(self, request: web.Request) -> None:
        request[_DROPPED] = True
        transport = request.transport
        if transport is not None:
            transport.close()


def _is_control(path: str) -> bool:
    lower = path.lower()
    return lower == CONTROL_PREFIX or lower.startswith(CONTROL_PREFIX + "/")


def _is_open(request: web.Request) -> bool:
    """Whether a request may go without credentials (registeraccount)."""
    return request.method == "POST" and request.path.lower().rstrip("/") == REGISTER_PATH


def _format_seconds(seconds: float) -> str:
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0")
