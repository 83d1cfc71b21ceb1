"""The sandbox server: a local ShipStation V1 that enforces the rate limit.

Each request passes an aiohttp middleware chain in this order:

1. arrival: record the arrival time, method, path and counts;
2. Basic auth: missing or wrong credentials get 401 ``401 Unauthorized`` (text/plain, no
   rate-limit headers, the window untouched);
3. the API key's rate window: with a ``counting_delay`` the request first waits a random 0 to
   D seconds in a queue (a loaded server counts it late), then it is counted at that moment on
   the window's clock; a refusal gets 429 ``{"message": "Too Many Requests"}``; everything
   from here on carries ``X-Rate-Limit-Limit/Remaining/Reset``;
4. faults: scripted or random errors, drops, 429s and late processing (:class:`Faults`);
5. latency: the request body is read, the handler processes it, and only then the answer
   waits ``latency`` plus ``Faults.latency`` seconds, as on a real server: a request whose
   client timed out meanwhile has still taken effect;
6. the handler the router picks (ASP.NET-style 404/405 when none).

Two exceptions. ``POST /accounts/registeraccount`` needs no credentials (ShipStation serves it
to partners without an account) and so skips steps 2 and 3. The control API under
``/__sandbox`` skips everything above (no credentials, no rate window, no faults, not counted
in :meth:`Sandbox.stats`):

- ``POST /__sandbox/seed/{resource}``: add a record (object) or records (array) of stores,
  warehouses, products, customers, orders, tags or users; ``{"created": [...]}``.
- ``GET /__sandbox/records/{resource}/{id}``: any record, inactive and deleted ones included.
- ``GET /__sandbox/labels``: the label ledger; ``GET /__sandbox/writes``: how many times
  each write endpoint took effect; ``GET /__sandbox/stats`` and ``POST /__sandbox/reset-stats``.
- ``GET /__sandbox/mutations``: the attached mutation workload's log.

The same from Python: ``sandbox.world`` (:class:`World`: ``add_*``, ``get``, ``labels()``,
``write_counts()``), ``sandbox.labels()``, ``sandbox.write_counts()``, ``sandbox.stats()``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self, TypedDict

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from ..errors import ConfigurationError
from ..limits import RateLimit, is_seconds
from .context import CONTEXT, SandboxContext
from .faults import FaultDecision, Faults
from .handlers import CONTROL_PREFIX, build_control_router, build_router
from .handlers.accounts import REGISTER_PATH
from .labels import LabelPurchase
from .mutations import MutationWorkload
from .ratewindow import (
    RESET_FORMATS,
    WINDOW_MODES,
    Decision,
    RateWindow,
    ResetFormat,
    WindowMeter,
    WindowMode,
    reset_rounding,
)
from .responses import (
    method_not_allowed,
    no_resource,
    server_error,
    too_many_requests,
    unauthorized,
)
from .router import PARAMS_KEY, Router
from .world import World

log = logging.getLogger("shipstation_async.sandbox")

ARRIVAL_LOG_SIZE = 100_000
"""How many arrivals :meth:`Sandbox.arrivals` keeps (the most recent)."""

DEFAULT_RATE_LIMIT = RateLimit()
"""ShipStation's limit, 40 requests per 60 s per API key: the sandbox's default."""


class SandboxOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Sandbox` (for :class:`ThreadedSandbox` and fixtures)."""

    orders: int
    seed: int
    rate_limit: RateLimit
    window: WindowMode
    reset_format: ResetFormat
    count_rejected: bool
    counting_delay: float
    latency: float
    faults: Faults | None
    host: str
    port: int
    api_key: str
    api_secret: str
    clock: Callable[[], float] | None
    max_date_range_days: int | None
    world: World | None
    world_end: datetime | None
    dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]]
    mutations: MutationWorkload | None


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


class Sandbox:
    """A local ShipStation V1 server on loopback that enforces the rate limit.

    Use as ``async with Sandbox(...) as sb:`` (or ``await sb.start()`` / ``await sb.close()``)
    and point a client at ``sb.url`` with ``sb.api_key`` / ``sb.api_secret``.

    ``orders``/``seed``: the generated world (see :class:`World`; or pass ``world``);
    ``world_end``: its end (``World(end=...)``; default the start of the current hour, so
    give it for the same data in every process and hour); ``dense_seconds``: runs of orders
    sharing one createDate second (``World(dense_seconds=...)``). ``mutations``: a
    :class:`MutationWorkload` applied before list requests are answered (also settable later
    through ``sb.mutations``; None: none).
    ``rate_limit``: L requests per W seconds per API key. ``window``: ``"fixed"`` (opens at
    the first request after the previous window closed), ``"aligned"`` (``[k*W, (k+1)*W)`` on
    the wall clock, ``time.time()``) or ``"rolling"`` (sliding). ``reset_format``: ``"floor"``
    (or ``"int"``) rounds X-Rate-Limit-Reset down to whole seconds, ``"ceil"`` up, ``"float"``
    gives 3 decimals. ``count_rejected``: whether refused requests count against the window.
    ``counting_delay``: each request waits a random 0 to ``counting_delay`` seconds in a queue
    before the window counts it (a loaded server; its Reset is computed then). ``latency``:
    seconds added to every admitted request. ``faults``: injected faults (mutable at
    runtime through ``sb.faults``). ``port`` 0 picks a free port. ``clock``: a monotonic
    clock in seconds replacing ``time.monotonic`` (and ``time.time`` for aligned windows).
    ``max_date_range_days``: the longest date range a list filter accepts (None: no limit).
    """

    def __init__(
        self,
        *,
        orders: int = 1000,
        seed: int = 0,
        rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
        window: WindowMode = "fixed",
        reset_format: ResetFormat = "floor",
        count_rejected: bool = True,
        counting_delay: float = 0.0,
        latency: float = 0.0,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "sandbox-key",
        api_secret: str = "sandbox-secret",
        clock: Callable[[], float] | None = None,
        max_date_range_days: int | None = 90,
        world: World | None = None,
        world_end: datetime | None = None,
        dense_seconds: Sequence[tuple[int, int] | tuple[int, int, int]] = (),
        mutations: MutationWorkload | None = None,
    ) -> None:
        if window not in WINDOW_MODES:
            raise ConfigurationError(f"window must be one of {WINDOW_MODES}, got {window!r}")
        if reset_format not in RESET_FORMATS:
            raise ConfigurationError(
                f"reset_format must be one of {RESET_FORMATS}, got {reset_format!r}"
            )
        if not is_seconds(counting_delay) or counting_delay < 0:
            raise ConfigurationError(f"counting_delay must be >= 0 seconds, got {counting_delay!r}")
        if not is_seconds(latency) or latency < 0:
            raise ConfigurationError(f"latency must be >= 0 seconds, got {latency!r}")
        if orders < 0:
            raise ConfigurationError(f"orders must be >= 0, got {orders!r}")
        if not api_key or not api_secret:
            raise ConfigurationError("the sandbox needs a non-empty api_key and api_secret")
        if world is not None and (world_end is not None or dense_seconds):
            raise ConfigurationError(
                "world_end and dense_seconds shape a generated world: give them to World, "
                "not beside world="
            )
        self.rate_limit = rate_limit
        self.window: WindowMode = window
        self.reset_format: ResetFormat = reset_rounding(reset_format)
        self.count_rejected = count_rejected
        self.counting_delay = counting_delay
        self._queue_rng = random.Random(seed)  # the counting delays, reproducible per seed
        self.latency = latency
        self.faults = faults if faults is not None else Faults()
        self.host = host
        self.port = port
        self.api_key = api_key
        self.api_secret = api_secret
        if world is None:
            try:
                world = World(orders=orders, seed=seed, end=world_end, dense_seconds=dense_seconds)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from exc
        self.world = world
        self.context = SandboxContext(
            world=self.world,
            max_date_range_days=max_date_range_days,
            add_credentials=self.add_credentials,
            stats=self._stats_json,
            reset_stats=self.reset_stats,
            mutations=mutations,
        )
        self.router: Router = build_router()
        self.control_router: Router = build_control_router()
        self._clock: Callable[[], float] = clock or time.monotonic
        self._window_clock: Callable[[], float] = clock or (
            time.time if window == "aligned" else time.monotonic
        )
        self._credentials: dict[str, str] = {api_key: api_secret}
        self._windows: dict[str, RateWindow] = {}
        self._meters: dict[str, WindowMeter] = {}
        self._counters = _Counters()
        self._arrivals: deque[_Arrival] = deque(maxlen=ARRIVAL_LOG_SIZE)
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` (no trailing slash); set by :meth:`start`."""
        if self._url is None:
            raise RuntimeError("the sandbox is not started: use `async with` or await start()")
        return self._url

    async def start(self) -> None:
        """Start serving on ``host:port`` (port 0: a free port, then available in ``url``)."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        app = web.Application(
            middlewares=[
                self._arrival_mw,
                self._auth_mw,
                self._rate_mw,
                self._faults_mw,
                self._latency_mw,
            ]
        )
        app[CONTEXT] = self.context
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        host = self.host if ":" not in self.host else f"[{self.host}]"
        self._url = f"http://{host}:{self.port}"
        log.debug("ShipStation sandbox serving at %s", self._url)

    async def close(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.debug("ShipStation sandbox at %s stopped", self._url)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- control and inspection (thread-safe) ------------------------------------------------

    @property
    def mutations(self) -> MutationWorkload | None:
        """The mutation workload applied before list requests are answered, or None."""
        return self.context.mutations

    @mutations.setter
    def mutations(self, workload: MutationWorkload | None) -> None:
        self.context.mutations = workload

    def add_credentials(self, api_key: str, api_secret: str) -> None:
        """Accept another key pair; each API key has its own rate window."""
        if not api_key or not api_secret:
            raise ConfigurationError("api_key and api_secret must be non-empty")
        with self._lock:
            self._credentials[api_key] = api_secret

    def stats(self) -> SandboxStats:
        """A snapshot of the counters (safe from any thread)."""
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

    def _stats_json(self) -> dict[str, object]:
        s = self.stats()
        return {
            "requests": s.requests,
            "accepted": s.accepted,
            "rate_limited": s.rate_limited,
            "max_in_window": s.max_in_window,
            "by_path": s.by_path,
            "by_status": {str(k): v for k, v in s.by_status.items()},
            "dropped": s.dropped,
            "handled": s.handled,
        }

    def labels(self) -> list[LabelPurchase]:
        """The label ledger: every label bought, oldest first (see ``World.labels``)."""
        return self.world.labels()

    def write_counts(self) -> dict[str, int]:
        """How many times each write endpoint took effect (see ``World.write_counts``)."""
        return self.world.write_counts()

    def arrivals(self) -> list[tuple[float, str, str, int]]:
        """The recent arrivals ``(time, method, path_qs, status)``, oldest first.

        ``time`` is the sandbox clock (``time.monotonic`` unless a clock was given); status
        is 0 for a dropped connection or a request still in progress. At most
        ``ARRIVAL_LOG_SIZE`` entries are kept.
        """
        with self._lock:
            return [(a.time, a.method, a.path_qs, a.status) for a in self._arrivals]

    def window_state(self, api_key: str | None = None) -> Decision:
        """The current state of an API key's window (default: the main key), not counted."""
        key = api_key if api_key is not None else self.api_key
        with self._lock:
            return self._window(key).peek(self._window_clock())

    # -- the middleware chain -----------------------------------------------------------------

    def _window(self, key: str) -> RateWindow:
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = RateWindow(
                self.rate_limit, mode=self.window, count_rejected=self.count_rejected
            )
            self._meters[key] = WindowMeter(self.rate_limit.period)
        return w

    @web.middleware
    async def _arrival_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_control(request.path):
            return await self._dispatch_to(self.control_router, request, count=False)
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
        except (binascii.Error, UnicodeDecodeError):
            return None
        key, sep, secret = decoded.partition(":")
        if not sep:
            return None
        with self._lock:
            expected = self._credentials.get(key)
        return key if expected is not None and expected == secret else None

    @web.middleware
    async def _auth_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = self._authenticate(request.headers.get("Authorization"))
        if key is None:
            if _is_open(request):
                return await handler(request)
            return unauthorized()
        request[_API_KEY] = key
        return await handler(request)

    @web.middleware
    async def _rate_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.get(_API_KEY)
        if key is None:  # an open path without credentials: no key, so no window
            return await handler(request)
        if self.counting_delay > 0:
            # Queued before the limit counts it, as at a loaded server's front door.
            await asyncio.sleep(self._queue_rng.uniform(0.0, self.counting_delay))
        with self._lock:
            # Counted now, on the window's own clock read under the lock: the meter sees the
            # very moments the window decided on, however late this thread got the CPU.
            now = self._window_clock()
            decision = self._window(key).decide(now)
            if decision.admitted:
                self._counters.accepted += 1
                self._meters[key].observe(now)
        headers = decision.headers(self.reset_format)
        if decision.admitted:
            request[_DECISION] = decision
            response = await handler(request)
        else:
            response = too_many_requests()
        response.headers.update(headers)
        return response

    @web.middleware
    async def _faults_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = self.faults.decide(request.method, request.path)
        request[_FAULT] = fault
        if fault.kind == "late":
            # Read whole now (the client may be gone by the time it is processed), then
            # processed late: the effect lands after the delay, whoever is still waiting.
            await request.read()
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
    async def _latency_mw(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # Read and processed first, then delayed: a client that times out during the delay
        # leaves a request that took effect, as a slow real server does.
        await request.read()
        response = await handler(request)
        await self._delay(request[_FAULT])
        return response

    async def _delay(self, fault: FaultDecision) -> None:
        delay = self.latency + fault.latency
        if delay > 0:
            await asyncio.sleep(delay)

    def _drop(self, request: web.Request) -> None:
        request[_DROPPED] = True
        transport = request.transport
        if transport is not None:
            transport.close()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch_to(self.router, request, count=True)

    async def _dispatch_to(
        self, router: Router, request: web.Request, *, count: bool
    ) -> web.StreamResponse:
        match = router.resolve(request.method, request.path)
        if match is None:
            return no_resource(str(request.url))
        if isinstance(match, str):
            return method_not_allowed(request.method)
        request[PARAMS_KEY] = match.params
        if count:
            with self._lock:
                self._counters.handled += 1
        try:
            return await match.handler(request)
        except Exception as exc:
            log.exception("sandbox handler failed for %s %s", request.method, request.path_qs)
            return server_error(500, f"{type(exc).__name__}: {exc}")


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
