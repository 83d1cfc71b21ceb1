"""The sandbox server: a local ShipStation V1 that enforces the rate limit.

Each request passes the middleware chain of ``.middleware`` in this order: arrival, Basic
auth, the API key's rate window, faults, latency (the body is read there: its size limit
applies after the rate window and the faults), then the handler the router picks
(ASP.NET-style 404/405 when none).

Two exceptions. ``POST /accounts/registeraccount`` needs no credentials (ShipStation serves it
to partners without an account) and so skips the auth and the rate window. The control API under
``/__sandbox`` skips everything above (no credentials, no rate window, no faults, not counted
in :meth:`Sandbox.stats`):

- ``POST /__sandbox/seed/{resource}``: add a record (object) or records (array) of stores,
  warehouses, products, customers, orders, tags or users; ``{"created": [...]}``.
- ``GET /__sandbox/records/{resource}/{id}``: any record, inactive and deleted ones included.
- ``GET /__sandbox/labels``: the label ledger; ``GET /__sandbox/writes``: how many times
  each write endpoint took effect; ``GET /__sandbox/stats`` and ``POST /__sandbox/reset-stats``.
- ``GET /__sandbox/mutations``: the attached mutation workload's log.
- ``GET /__sandbox/webhooks`` and ``POST /__sandbox/webhooks`` (a JSON object of settings to
  change): the webhook delivery settings; ``GET /__sandbox/webhooks/log``: every emission.
- ``GET /__sandbox/settings`` and ``POST /__sandbox/settings``: ``max_date_range_days`` (the
  90-day range rule) and ``body_timeout``.

The same from Python: ``sandbox.world`` (:class:`World`: ``add_*``, ``get``, ``labels()``,
``write_counts()``), ``sandbox.labels()``, ``sandbox.write_counts()``, ``sandbox.stats()``,
``sandbox.webhooks`` and ``sandbox.webhook_log()``.

Webhooks: while it serves, the sandbox POSTs ``{"resource_url", "resource_type"}`` to every
subscription (``POST /webhooks/subscribe``) whose event a write triggers, as ShipStation does
(rules in ``..state.webhook_triggers``), with ``resource_url`` on the sandbox's own URL;
only to loopback targets unless told otherwise, with switchable delay, drop and duplicate
faults (:class:`..webhook_delivery.WebhookDelivery`; delivering: ``.emitter``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self, TypedDict

from aiohttp import web

from ...errors import ConfigurationError
from ...limits import RateLimit, is_seconds
from ..defaults import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_RATE_LIMIT
from ..faults import Faults
from ..labels import LabelPurchase
from ..mutations import MutationWorkload
from ..ratewindow import (
    RESET_FORMATS,
    WINDOW_MODES,
    Decision,
    ResetFormat,
    WindowMode,
    reset_rounding,
)
from ..webhook_delivery import WebhookDelivery, WebhookEmission
from ..world import World
from .context import CONTEXT, SandboxContext
from .emitter import WebhookEmitter
from .handlers import build_control_router, build_router
from .middleware import ARRIVAL_LOG_SIZE, Middleware, SandboxStats
from .request_body import read_body
from .responses import (
    method_not_allowed,
    no_resource,
    server_error,
)
from .router import PARAMS_KEY, Router

__all__ = [
    "ARRIVAL_LOG_SIZE",
    "DEFAULT_RATE_LIMIT",
    "Sandbox",
    "SandboxOptions",
    "SandboxStats",
]

log = logging.getLogger("shipstation_async.sandbox")


LINGERING_SECONDS = 1.0
"""How long the rest of an unread body (after a 401, 408, 413) is read and dropped."""


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
    webhooks: WebhookDelivery | None
    body_timeout: float
    max_body_size: int


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
    ``max_date_range_days``: the longest date range (``*Start`` to ``*End``) the orders and
    shipments lists accept, 90 by default as the API's integration notes state it (None: no
    limit; settable later through ``sb.max_date_range_days`` or ``POST /__sandbox/settings``),
    so an account whose limit differs can be modelled.
    ``body_timeout``: seconds a request body may take to arrive (then 408, the connection
    closed; settable later); ``max_body_size``: the largest body in bytes (then 413). Where
    these and the sandbox's other HTTP answers are documented facts and where guesses:
    ``.request_body``, ``.binding``.
    ``webhooks``: how webhooks are delivered (:class:`WebhookDelivery`: delay, drop and
    duplicate rates, seed, retries; default: each payload once, at once; settable later
    through ``sb.webhooks``). ``webhook_log()`` lists every emission.
    ``prebuild``: from the start, build every order's answer in a background thread after any
    page a reader is owed, so that later first reads of order lists find them built (2 to 3
    ms a 500-order page instead of about 25). It keeps a core busy about 4 s per 50,000
    orders and fills up to 176 MiB of the order cache (192 MiB, about 60,000 orders, less 16
    MiB left for reads); :meth:`close` stops it. Off by default: in a client's own process it
    would take the client's interpreter; ``sandbox serve`` and ``backfill --sandbox`` (a
    sandbox in a process of its own) turn it on.
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
        webhooks: WebhookDelivery | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        prebuild: bool = False,
    ) -> None:
        _check_limits(max_date_range_days, body_timeout, max_body_size)
        _check_options(
            rate_limit=rate_limit,
            window=window,
            reset_format=reset_format,
            counting_delay=counting_delay,
            latency=latency,
            orders=orders,
            api_key=api_key,
            api_secret=api_secret,
            shaped=world is not None and (world_end is not None or bool(dense_seconds)),
        )
        self.rate_limit = rate_limit
        self.window: WindowMode = window
        self.reset_format: ResetFormat = reset_rounding(reset_format)
        self.count_rejected = count_rejected
        self.counting_delay = counting_delay
        self.latency = latency
        self.faults = faults if faults is not None else Faults()
        self.host, self.port = host, port
        self.api_key, self.api_secret = api_key, api_secret
        self.max_body_size = max_body_size
        self.prebuild = bool(prebuild)
        if world is None:
            try:
                world = World(orders=orders, seed=seed, end=world_end, dense_seconds=dense_seconds)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from exc
        self.world = world
        self.emitter = WebhookEmitter(world, webhooks or WebhookDelivery())
        self.context = SandboxContext(
            world=self.world,
            max_date_range_days=max_date_range_days,
            add_credentials=self.add_credentials,
            stats=self._stats_json,
            reset_stats=self.reset_stats,
            mutations=mutations,
            emitter=self.emitter,
            body_timeout=float(body_timeout),
        )
        self.router: Router = build_router()
        self.control_router: Router = build_control_router()
        self.middleware = Middleware(
            self,
            control=self._dispatch_control,
            credentials={api_key: api_secret},
            clock=clock or time.monotonic,
            window_clock=clock or (time.time if window == "aligned" else time.monotonic),
            seed=seed,
        )
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
            middlewares=self.middleware.chain(), client_max_size=self.max_body_size
        )
        app[CONTEXT] = self.context
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            # After a 408 or 413 the rest of a body is read and dropped for 1 s, not aiohttp's
            # 10 s: a connection that timed out is released soon after its answer.
            lingering_time=LINGERING_SECONDS,
        )
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
        await self.emitter.start(self._url)
        if self.prebuild:
            self.world.orders.prebuild()
        log.debug("ShipStation sandbox serving at %s", self._url)

    async def close(self) -> None:
        """Stop serving and close every connection (idempotent).

        Webhook deliveries still waiting (a delay, a retry) are cancelled first, and a
        prebuild still running stops after its current few orders.
        """
        self.world.orders.encoded.stop_prebuild()
        await self.emitter.close()
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

    @property
    def max_date_range_days(self) -> int | None:
        """The longest date range the orders and shipments lists accept (None: no limit)."""
        return self.context.max_date_range_days

    @max_date_range_days.setter
    def max_date_range_days(self, days: int | None) -> None:
        _check_limits(days, self.body_timeout, self.max_body_size)
        self.context.max_date_range_days = days

    @property
    def body_timeout(self) -> float:
        """Seconds a request body may take to arrive before the answer is 408."""
        return self.context.body_timeout

    @body_timeout.setter
    def body_timeout(self, seconds: float) -> None:
        _check_limits(self.max_date_range_days, seconds, self.max_body_size)
        self.context.body_timeout = float(seconds)

    @property
    def webhooks(self) -> WebhookDelivery:
        """How webhooks are delivered; change its rates, or assign a new one, at any time."""
        return self.emitter.options

    @webhooks.setter
    def webhooks(self, options: WebhookDelivery) -> None:
        self.emitter.options = options

    def webhook_log(self) -> list[WebhookEmission]:
        """Every webhook emission (one payload for one subscription), oldest first."""
        return self.emitter.log()

    async def settle_webhooks(self) -> None:
        """Wait until no webhook delivery is waiting or in progress.

        Await it on the sandbox's event loop, bounded: ``async with asyncio.timeout(10):``.
        """
        await self.emitter.settle()

    def add_credentials(self, api_key: str, api_secret: str) -> None:
        """Accept another key pair; each API key has its own rate window."""
        if not api_key or not api_secret:
            raise ConfigurationError("api_key and api_secret must be non-empty")
        self.middleware.add_credentials(api_key, api_secret)

    def stats(self) -> SandboxStats:
        """A snapshot of the counters (safe from any thread)."""
        return self.middleware.stats()

    def reset_stats(self) -> None:
        """Zero the counters and the arrival log; the rate windows keep their state."""
        self.middleware.reset_stats()

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
        return self.middleware.arrivals()

    def window_state(self, api_key: str | None = None) -> Decision:
        """The current state of an API key's window (default: the main key), not counted."""
        return self.middleware.window_state(api_key if api_key is not None else self.api_key)

    # -- dispatch ------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch_to(self.router, request, count=True)

    async def _dispatch_control(self, request: web.Request) -> web.StreamResponse:
        problem = await read_body(request, self.body_timeout)  # the API's limits apply here too
        if problem is not None:
            return problem
        return await self._dispatch_to(self.control_router, request, count=False)

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
            self.middleware.count_handled()
        try:
            return await match.handler(request)
        except Exception as exc:
            log.exception("sandbox handler failed for %s %s", request.method, request.path_qs)
            return server_error(500, f"{type(exc).__name__}: {exc}")


def _check_limits(max_date_range_days: int | None, body_timeout: float, max_body_size: int) -> None:
    """Raise ConfigurationError for a range limit, body timeout or body size out of range."""
    if max_date_range_days is not None and (
        isinstance(max_date_range_days, bool)
        or not isinstance(max_date_range_days, int)
        or max_date_range_days < 1
    ):
        raise ConfigurationError(
            f"max_date_range_days must be None or a whole number >= 1, got {max_date_range_days!r}"
        )
    if not is_seconds(body_timeout) or body_timeout <= 0:
        raise ConfigurationError(f"body_timeout must be > 0 seconds, got {body_timeout!r}")
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
        raise ConfigurationError(f"max_body_size must be >= 1 byte, got {max_body_size!r}")


def _check_options(
    *,
    rate_limit: object,
    window: str,
    reset_format: str,
    counting_delay: float,
    latency: float,
    orders: int,
    api_key: str,
    api_secret: str,
    shaped: bool,
) -> None:
    """Raise ConfigurationError for options the sandbox cannot run with."""
    if not isinstance(rate_limit, RateLimit):
        # (Read on every request: anything else would answer 500 to each of them.)
        raise ConfigurationError(
            f"rate_limit must be a RateLimit (RateLimit(40, 2) for 40 per 2 s), got {rate_limit!r}"
        )
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
    if shaped:
        raise ConfigurationError(
            "world_end and dense_seconds shape a generated world: give them to World, "
            "not beside world="
        )
