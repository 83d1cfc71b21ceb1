"""The sandbox's webhook emitter: the world's notifications POSTed to its subscriptions.

The world decides what to announce (:mod:`..state.webhook_triggers`, under its lock, in
whatever thread wrote); the emitter only matches each notification to the subscriptions
(``HookType`` one of its events, ``StoreID`` null or its store), draws the faults
(:class:`..webhook_delivery.WebhookDelivery`) and hands the copies to the sandbox's event
loop, where they are sent through one ``aiohttp.ClientSession``. It runs while the sandbox
serves: notifications made before :meth:`WebhookEmitter.start` or after
:meth:`WebhookEmitter.close` are not emitted, and close cancels every delivery still waiting
(its emissions end ``"cancelled"``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from ..._sansio import USER_AGENT
from ..webhook_delivery import (
    Outcome,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEmission,
    target_origin,
)

if TYPE_CHECKING:
    from ..state.webhook_triggers import WebhookNotification
    from ..world import World

log = logging.getLogger("shipstation_async.sandbox")

SANDBOX_USER_AGENT = f"ShipStation-Sandbox-Webhooks ({USER_AGENT})"
"""The User-Agent of the sandbox's webhook POSTs (ShipStation's own is not documented)."""

CopyState = str  # "pending", "delivered", "failed", "cancelled"


@attrs.define
class _Entry:
    """An emission as it progresses (snapshotted into a :class:`WebhookEmission`)."""

    sequence: int
    notification: WebhookNotification
    webhook_id: int
    target_url: str = attrs.field(repr=False)  # may hold the receiver's token: never shown
    resource_type: str
    resource_url: str
    emitted_at: float
    refused: bool = False
    dropped: bool = False
    delays: tuple[float, ...] = ()
    copies: list[CopyState] = attrs.field(factory=list)
    attempts: list[WebhookAttempt] = attrs.field(factory=list)

    def outcome(self) -> Outcome:
        if self.refused:
            return "refused"
        if self.dropped:
            return "dropped"
        for state in ("pending", "failed", "cancelled"):
            if state in self.copies:
                return state
        return "delivered"

    def snapshot(self) -> WebhookEmission:
        n = self.notification
        return WebhookEmission(
            sequence=self.sequence,
            notification=n.sequence,
            webhook_id=self.webhook_id,
            target=target_origin(self.target_url),
            resource_type=self.resource_type,
            resource_url=self.resource_url,
            resource=n.resource,
            store_id=n.store_id,
            batch=n.batch,
            record_ids=n.record_ids,
            versions=n.versions,
            emitted_at=self.emitted_at,
            outcome=self.outcome(),
            delays=self.delays,
            delivered=self.copies.count("delivered"),
            attempts=tuple(self.attempts),
        )


class WebhookEmitter:
    """Delivers ``world``'s webhook notifications by the rules of ``options``.

    ``options`` may be replaced (or its rates changed) at any time; each emission reads it
    when it is decided, each POST when it is sent. Thread-safe.
    """

    def __init__(self, world: World, options: WebhookDelivery) -> None:
        self.world = world
        self.options = options
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0  # copies scheduled and not finished
        self._closing = False
        self._unsubscribe: Any = None

    # -- lifecycle (on the sandbox's event loop) ------------------------------------------------

    async def start(self, base_url: str) -> None:
        """Start emitting; ``base_url`` is the sandbox's, the host of every resource_url."""
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": SANDBOX_USER_AGENT}, trust_env=False
        )
        self._base_url = base_url.rstrip("/")
        with self._lock:
            self._closing = False
        self._unsubscribe = self.world.webhook_triggers.subscribe(self._on_notification)

    async def close(self) -> None:
        """Stop emitting; cancel the deliveries still waiting or in progress (idempotent)."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        with self._lock:
            self._closing = True
            tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._loop = None
        with self._lock:  # copies handed to the loop but never started end here
            for entry in self._entries:
                for copy, state in enumerate(entry.copies):
                    if state == "pending":
                        entry.copies[copy] = "cancelled"
            self._in_flight = 0

    async def settle(self) -> None:
        """Wait until no copy is waiting or being sent (bound it with ``asyncio.timeout``)."""
        # Polled between waits: other threads add copies, and cannot set an asyncio.Event.
        while self.pending():
            tasks = list(self._tasks)
            if tasks:
                await asyncio.wait(tasks)
            else:  # handed to the loop, not started yet
                await asyncio.sleep(0.005)

    # -- inspection -------------------------------------------------------------------------

    def log(self) -> list[WebhookEmission]:
        """Every emission so far, oldest first, as it stands now."""
        with self._lock:
            return [e.snapshot() for e in self._entries]

    def pending(self) -> int:
        """How many copies are waiting (a delay, a retry) or being sent."""
        with self._lock:
            return self._in_flight

    # -- deciding (any thread, under the world's lock) ---------------------------------------

    def _on_notification(self, notification: WebhookNotification) -> None:
        hooks = [
            h
            for h in self.world.webhook_backend.list_webhooks()
            if h.get("Active", True)
            and h["HookType"] in notification.events
            and (h.get("StoreID") is None or h["StoreID"] == notification.store_id)
        ]
        for hook in hooks:
            self._emit(notification, hook)

    def _emit(self, notification: WebhookNotification, hook: dict[str, Any]) -> None:
        options = self.options
        event = str(hook["HookType"])
        target = str(hook["Url"])
        with self._lock:
            entry = _Entry(
                sequence=len(self._entries) + 1,
                notification=notification,
                webhook_id=int(hook["WebHookID"]),
                target_url=target,
                resource_type=event,
                resource_url=self._base_url + notification.resource_path(event),
                emitted_at=time.time(),
            )
            self._entries.append(entry)
            if not options.allows(target):
                entry.refused = True
                log.warning(
                    "webhook %s not delivered: %s is not a loopback target (allow_remote is off)",
                    entry.webhook_id,
                    target_origin(target),
                )
                return
            plan = options.plan()
            entry.dropped = plan.dropped
            entry.delays = plan.delays
            entry.copies = ["pending"] * len(plan.delays)
            self._in_flight += len(plan.delays)
        for copy, delay in enumerate(plan.delays):
            self._schedule(entry, copy, delay)

    def _schedule(self, entry: _Entry, copy: int, delay: float) -> None:
        loop = self._loop
        try:
            if loop is None:
                raise RuntimeError("not serving")
            loop.call_soon_threadsafe(self._launch, entry, copy, delay)
        except RuntimeError:  # the loop is closed or gone: the sandbox has stopped
            self._finish(entry, copy, "cancelled")

    # -- delivering (on the event loop) -------------------------------------------------------

    def _launch(self, entry: _Entry, copy: int, delay: float) -> None:
        with self._lock:
            closing = self._closing
        if closing or self._session is None:
            self._finish(entry, copy, "cancelled")
            return
        task = asyncio.get_running_loop().create_task(self._deliver(entry, copy, delay))
        with self._lock:
            self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, entry: _Entry, copy: int, delay: float) -> None:
        state = "cancelled"
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            attempt = 0
            while True:
                attempt += 1
                options = self.options
                status, error = await self._post(entry, options)
                with self._lock:
                    entry.attempts.append(WebhookAttempt(copy, attempt, status, error, time.time()))
                if 200 <= status < 300:
                    state = "delivered"
                    return
                if attempt > options.retries:
                    state = "failed"
                    log.info("webhook %s: gave up after %d attempts", entry.webhook_id, attempt)
                    return
                await asyncio.sleep(options.retry_backoff * 2 ** (attempt - 1))
        finally:
            self._finish(entry, copy, state)

    async def _post(self, entry: _Entry, options: WebhookDelivery) -> tuple[int, str | None]:
        """POST the payload once: (status, None), or (0, the failure's class name)."""
        session = self._session
        if session is None:
            return 0, "SessionClosed"
        payload = {"resource_url": entry.resource_url, "resource_type": entry.resource_type}
        try:
            async with session.post(
                entry.target_url,
                json=payload,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=options.timeout),
                allow_redirects=False,  # a redirect could lead off loopback
            ) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return 0, type(exc).__name__

    def _finish(self, entry: _Entry, copy: int, state: CopyState) -> None:
        with self._lock:
            if entry.copies[copy] == "pending":
                entry.copies[copy] = state
                self._in_flight -= 1
