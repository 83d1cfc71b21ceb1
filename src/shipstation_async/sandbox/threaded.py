"""A sandbox served from its own thread and event loop, for synchronous and any-loop callers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from types import TracebackType
from typing import Self, Unpack

from ..limits import RateLimit
from .faults import Faults
from .http.server import Sandbox, SandboxOptions, SandboxStats
from .labels import LabelPurchase
from .mutations import MutationWorkload
from .ratewindow import Decision
from .webhook_delivery import WebhookDelivery, WebhookEmission
from .world import World

log = logging.getLogger("shipstation_async.sandbox")

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class ThreadedSandbox:
    """A :class:`Sandbox` running in a background thread with its own event loop.

    ``with ThreadedSandbox(**sandbox_kwargs) as sb:`` works from synchronous code and from
    async code on any loop (the server never shares the caller's loop), so it suits
    function-scoped pytest-asyncio loops and session fixtures alike. It exposes the same
    ``url``, ``api_key``, ``api_secret``, ``rate_limit``, ``faults``, ``world``,
    ``mutations`` and ``webhooks`` (settable), ``stats()``, ``reset_stats()``, ``arrivals()``,
    ``add_credentials()``, ``labels()``, ``write_counts()`` and ``webhook_log()`` as the
    sandbox, and ``settle_webhooks()`` as a blocking call (all thread-safe: the world's
    seeding and inspection methods, ``world.add_order(...)`` and the rest, take the world's
    lock, which the server's handlers hold while they change it). Takes the keyword
    arguments of :class:`Sandbox`.
    """

    def __init__(self, **options: Unpack[SandboxOptions]) -> None:
        self.sandbox = Sandbox(**options)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server thread and wait until the sandbox accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._run, args=(ready, failure), name="shipstation-sandbox", daemon=True
        )
        self._thread = thread
        thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError(f"the sandbox did not start within {START_TIMEOUT} s")
        if failure:
            thread.join(STOP_TIMEOUT)
            self._thread = None
            raise failure[0]
        return self

    def close(self) -> None:
        """Stop the server, close its connections and join the thread (idempotent)."""
        thread, loop, stop = self._thread, self._loop, self._stop
        self._thread = None
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            log.warning("the sandbox thread did not stop within %s s", STOP_TIMEOUT)

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            asyncio.run(self._serve(ready, failure))
        except BaseException as exc:  # pragma: no cover - asyncio.run itself failing
            if not ready.is_set():
                failure.append(exc)
                ready.set()
            else:
                log.exception("the sandbox thread failed")

    async def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.sandbox.start()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.sandbox.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the sandbox's surface ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return self.sandbox.url

    @property
    def api_key(self) -> str:
        """The main API key."""
        return self.sandbox.api_key

    @property
    def api_secret(self) -> str:
        """The main API secret."""
        return self.sandbox.api_secret

    @property
    def rate_limit(self) -> RateLimit:
        """The enforced rate limit."""
        return self.sandbox.rate_limit

    @property
    def faults(self) -> Faults:
        """The injected faults (mutable while serving)."""
        return self.sandbox.faults

    @property
    def world(self) -> World:
        """The served data."""
        return self.sandbox.world

    @property
    def mutations(self) -> MutationWorkload | None:
        """The mutation workload applied before list requests are answered, or None."""
        return self.sandbox.mutations

    @mutations.setter
    def mutations(self, workload: MutationWorkload | None) -> None:
        self.sandbox.mutations = workload

    @property
    def webhooks(self) -> WebhookDelivery:
        """How webhooks are delivered (mutable while serving; see :class:`WebhookDelivery`)."""
        return self.sandbox.webhooks

    @webhooks.setter
    def webhooks(self, options: WebhookDelivery) -> None:
        self.sandbox.webhooks = options

    def webhook_log(self) -> list[WebhookEmission]:
        """Every webhook emission (one payload for one subscription), oldest first."""
        return self.sandbox.webhook_log()

    def settle_webhooks(self, timeout: float = 30.0) -> bool:
        """Block until no webhook delivery is waiting or in progress (False: timed out)."""
        loop = self._loop
        if loop is None or self._thread is None:
            return self.sandbox.emitter.pending() == 0
        future = asyncio.run_coroutine_threadsafe(self.sandbox.settle_webhooks(), loop)
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return False
        return True

    def stats(self) -> SandboxStats:
        """A snapshot of the counters (see :class:`SandboxStats`)."""
        return self.sandbox.stats()

    def reset_stats(self) -> None:
        """Zero the counters; the rate windows keep their state."""
        self.sandbox.reset_stats()

    def arrivals(self) -> list[tuple[float, str, str, int]]:
        """The recent arrivals ``(time, method, path_qs, status)`` (see Sandbox.arrivals)."""
        return self.sandbox.arrivals()

    def add_credentials(self, api_key: str, api_secret: str) -> None:
        """Accept another key pair; each API key has its own rate window."""
        self.sandbox.add_credentials(api_key, api_secret)

    def labels(self) -> list[LabelPurchase]:
        """The label ledger: every label bought, oldest first."""
        return self.sandbox.labels()

    def write_counts(self) -> dict[str, int]:
        """How many times each write endpoint took effect, by ``"METHOD /path"``."""
        return self.sandbox.write_counts()

    def window_state(self, api_key: str | None = None) -> Decision:
        """The current state of an API key's window, not counted as a request."""
        return self.sandbox.window_state(api_key)
