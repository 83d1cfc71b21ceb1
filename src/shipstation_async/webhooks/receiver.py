"""``WebhookReceiver``: receive ShipStation's deliveries, hand each record version over once."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from .._redact import Redactor, Secret
from ..errors import ConfigurationError, InvalidRequestError, ShipStationError
from ..models.webhooks import WebhookEvent
from ._asgi import asgi_app
from ._dispatch import Dispatcher, RetryPlan, Route
from ._http import (
    EVENTS,
    TOKEN_PARAM,
    Answer,
    Refused,
    answer,
    check_token,
    read_delivery,
)
from ._polling import Poller, mark_time
from ._records import POLLED
from ._resource_url import BATCH_KEYS, Origin, UnsafeResourceURL, parse_resource_url
from ._subscribe import (
    SubscriptionReport,
    WebhookSubscriptionError,
    ensure_subscribed,
    without_frames,
)
from ._tokens import guard_logs, tokens_from
from .events import EVENT_ORDER, DeadLetter
from .store import DeadLetterRecord, Job, Progress, SQLiteStore, WebhookStore

if TYPE_CHECKING:
    import aiohttp.web

    from ..client import ShipStation

logger = logging.getLogger("shipstation_async.webhooks")

H = TypeVar("H", bound=Callable[..., Any])

LONGEST_WEBHOOK_DELAY = timedelta(hours=1)
"""How late a delivery is assumed to arrive at most (ShipStation says "a few minutes")."""


class WebhookReceiver:
    """Receives ShipStation webhooks and hands each new record version to handlers once.

    ``token``: the secret that authenticates deliveries; it travels in the subscribed URL
    (:meth:`target_url`). Give two (current first) to rotate; None reads
    ``SHIPSTATION_WEBHOOK_TOKEN`` (comma-separated). At least 16 characters;
    ``secrets.token_urlsafe(32)`` makes a good one.
    ``store``: where accepted deliveries wait (a :class:`WebhookStore`, or a path for an
    :class:`SQLiteStore`; default ``shipstation-webhooks.sqlite``). A delivery is answered
    200 once stored, before any handler ran.
    ``poll_interval``: seconds between polling rounds while started (None: no polling unless
    :meth:`poll` runs); ``overlap``: how far before the last round's end a round starts;
    ``lookback``: how far back the first round ever looks (default: ``overlap``);
    ``sync_lag``: how far behind the server's clock a round ends (records appear in lists
    a little after their time).
    ``attempts``/``first_retry``/``max_retry``: a failing handler's schedule before its
    records go to the dead letters. ``concurrency``: fetches and handler calls at once.
    ``remember``: how long handled versions and delivery keys are remembered.
    ``max_pending``: accepted jobs at most; beyond, deliveries get 503 (whether ShipStation
    delivers again is undocumented: the polling backup lists what a refused one named).

    The receiver runs on the event loop that started it (:meth:`start`, or the first
    delivery): keep that loop running, as an ASGI or aiohttp server does.
    """

    def __init__(
        self,
        client: ShipStation,
        *,
        token: str | Sequence[str] | None = None,
        store: WebhookStore | str | Path = "shipstation-webhooks.sqlite",
        poll_interval: float | None = 300.0,
        overlap: timedelta = timedelta(minutes=10),
        lookback: timedelta | None = None,
        sync_lag: timedelta = timedelta(minutes=2),
        attempts: int = 8,
        first_retry: float = 1.0,
        max_retry: float = 300.0,
        concurrency: int = 8,
        remember: timedelta = timedelta(days=3),
        max_body: int = 64 * 1024,
        max_pending: int = 10_000,
    ) -> None:
        self._tokens = tokens_from(token)
        self._accepted = tuple(t.reveal().encode() for t in self._tokens)
        self._token_redactor = Redactor(t.reveal() for t in self._tokens)
        self._log_guard = guard_logs(self._token_redactor, [t.reveal() for t in self._tokens])
        _check_settings(poll_interval, overlap, remember, attempts, concurrency, max_body)
        if lookback is not None and (not isinstance(lookback, timedelta) or lookback < overlap):
            raise ConfigurationError("lookback must be a timedelta of at least the overlap")
        if not isinstance(sync_lag, timedelta) or sync_lag < timedelta(0):
            raise ConfigurationError("sync_lag must be a timedelta >= 0")
        self._client = client
        self._store: WebhookStore = (
            store if not isinstance(store, str | Path) else SQLiteStore(store)
        )
        self._routes: dict[str, Route] = {}
        self._origin = Origin.of(client.base_url)
        self._max_body = max_body
        self._remember = remember.total_seconds()
        self._overlap = overlap
        self._lookback = lookback or overlap
        self._sync_lag = sync_lag
        self._max_pending = max_pending
        self._closed = False
        self._poll_interval = poll_interval
        self._retry = RetryPlan(attempts, first_retry, max_retry)
        self._concurrency = concurrency
        self._dispatcher: Dispatcher | None = None
        self._poller: Poller | None = None
        self._background: list[asyncio.Task[None]] = []
        self._starting: asyncio.Lock | None = None
        self._storing: set[asyncio.Future[bool]] = set()  # deliveries being stored
        self._replaying = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"WebhookReceiver({len(self._routes)} handlers, store={self._store!r})"

    # -- handlers ----------------------------------------------------------------------

    def on(
        self, *events: WebhookEvent, items: bool = False, name: str | None = None
    ) -> Callable[[H], H]:
        """Register an async handler for ``events``: ``@receiver.on("ORDER_NOTIFY")``.

        The handler receives a :class:`Notification`. ``items``: shipments are fetched with
        their items. ``name`` (default: the function's module and qualified name) is how the
        store knows the handler across restarts: keep it stable.
        """
        unknown = [e for e in events if e not in EVENTS]
        if not events or unknown:
            raise InvalidRequestError(
                f"on() takes ShipStation events, got {events!r}", field="events"
            )

        def register(handler: H) -> H:
            call = inspect.getattr_static(handler, "__call__", None)  # an async __call__
            if not (inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)):
                raise InvalidRequestError(
                    "a webhook handler must be an async function", field="handler"
                )
            key = name or _name_of(handler)
            if key in self._routes:
                raise ConfigurationError(f"a handler named {key!r} is already registered")
            self._routes[key] = Route(key, frozenset(events), handler, items)
            return handler

        return register

    # -- where ShipStation posts --------------------------------------------------------

    def target_url(self, url: str) -> str:
        """``url`` with the current token added: the URL to subscribe."""
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise InvalidRequestError(
                "a webhook URL must be https (http on loopback only)", field="url"
            )
        if parts.username or parts.password or parts.fragment:
            raise InvalidRequestError("a webhook URL takes no user info or fragment", field="url")
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != TOKEN_PARAM]
        query.append((TOKEN_PARAM, self._tokens[0].reveal()))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def authorized(self, path_qs: str) -> bool:
        """Whether a request target carries an accepted token (check before reading a body)."""
        return check_token(path_qs, self._accepted)

    async def handle(
        self, method: str, path_qs: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: (status, headers, body). For any framework.

        401 without an accepted token, 405 for a method other than POST, 413 for a body
        over the limit, 400 for a malformed delivery or a ``resource_url`` that is not
        ShipStation's (logged; nothing is fetched), 503 when the store failed (whether
        ShipStation delivers again is undocumented; the polling backup lists those records),
        and 200 once the delivery is stored.
        """
        del headers  # deliveries are unsigned: nothing in the headers authenticates them
        if method.upper() != "POST":
            return answer(405, "POST only")
        if not self.authorized(path_qs):
            return answer(401, "unauthorized")
        return await self._accept(body)

    async def _accept(self, body: bytes) -> Answer:
        """Queue an authorized delivery's body; see :meth:`handle` for the answers."""
        try:
            delivery = read_delivery(body, self._max_body)
            query = parse_resource_url(delivery.resource_url, self._origin)
        except Refused as refusal:
            return answer(refusal.status, str(refusal))
        except UnsafeResourceURL as unsafe:
            logger.warning("webhook delivery refused: %s", unsafe)
            return answer(400, "resource_url refused")
        if not any(delivery.resource_type in r.events for r in self._routes.values()):
            return answer(200, "no handler for this event")
        now = time.time()
        # A batch's deliveries are one event; any other URL is fetched at most once a minute.
        keep = self._remember if BATCH_KEYS & set(query.filters) else 60.0
        job = Job(
            id=uuid.uuid4().hex,
            key=f"{delivery.resource_type}|{query.batch_key()}",
            resource_type=delivery.resource_type,
            source="webhook",
            received_at=now,
            resource_url=delivery.resource_url,
            query={"kind": query.kind, "filters": dict(query.filters)},
        )
        try:
            dispatcher = await self._started()
            if dispatcher.pending >= self._max_pending:
                return answer(503, "too many deliveries waiting")
            # Stored and started together even if this request is cancelled meanwhile (a
            # client that hung up): a stored job nothing runs would be lost until a restart.
            # close() waits for it before it closes the store.
            storing = asyncio.ensure_future(self._store_and_run(dispatcher, job, now + keep))
            self._storing.add(storing)
            storing.add_done_callback(self._storing.discard)
            added = await asyncio.shield(storing)
        except Exception as exc:
            logger.error("webhook delivery not stored: %s", type(exc).__name__)
            return answer(503, "could not store the delivery")
        return answer(200, "accepted" if added else "already received")

    async def _store_and_run(self, dispatcher: Dispatcher, job: Job, remember_until: float) -> bool:
        added = await self._store.add_job(job, remember_until=remember_until)
        if added:
            dispatcher.submit(job)  # closed meanwhile: it stays stored for the next start
        return added

    def aiohttp_app(self) -> aiohttp.web.Application:
        """An aiohttp application that receives deliveries on any path (add it as a sub-app).

        It starts the receiver on start-up and closes it on clean-up. Mounted with
        ``app.add_subapp("/shipstation", ...)`` it answers ``/shipstation/<anything>``, not
        ``/shipstation`` itself: subscribe a URL with a path below the prefix.
        """
        from ._aiohttp import aiohttp_app

        return aiohttp_app(self, self._max_body)

    def aiohttp_handler(
        self,
    ) -> Callable[[aiohttp.web.Request], Awaitable[aiohttp.web.StreamResponse]]:
        """An aiohttp request handler, for a route of your own (``add_post(path, ...)``).

        Start and close the receiver yourself (``await receiver.start()`` on start-up).
        """
        from ._aiohttp import aiohttp_handler

        return aiohttp_handler(self, self._max_body)

    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI application (FastAPI/Starlette ``mount``, uvicorn, any ASGI server).

        It answers lifespan events when it is the top-level app; mounted, it starts the
        receiver on the first delivery (or ``await receiver.start()`` at start-up).
        """
        return asgi_app(self, self._max_body)

    # -- running ------------------------------------------------------------------------

    async def start(self) -> None:
        """Resume the store's unfinished jobs and start the polling backup, if configured."""
        await self._started()

    async def _started(self) -> Dispatcher:
        if self._closed:
            raise ConfigurationError("this webhook receiver is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            # Its jobs run on the loop that started it; work queued from another would die
            # with that loop.
            raise ConfigurationError("this webhook receiver runs on another event loop")
        self._loop = loop
        if self._dispatcher is not None:
            return self._dispatcher
        async with self._start_lock():
            if self._closed:  # closed while this waited for the lock
                raise ConfigurationError("this webhook receiver is closed")
            if self._dispatcher is None:
                dispatcher = Dispatcher(
                    self._client,
                    self._store,
                    self._routes,
                    retry=self._retry,
                    remember=self._remember,
                    concurrency=self._concurrency,
                    redact=self._redact,
                )
                jobs = await self._store.jobs()
                if self._closed:  # close() waits for this lock: start nothing it would miss
                    raise ConfigurationError("this webhook receiver is closed")
                for job in jobs:
                    dispatcher.submit(job)
                self._poller = Poller(
                    self._client,
                    self._store,
                    dispatcher,
                    overlap=self._overlap,
                    lookback=self._lookback,
                    sync_lag=self._sync_lag,
                    remember=self._remember,
                )
                self._dispatcher = dispatcher
                self._background.append(asyncio.create_task(self._prune_every(3600.0)))
                if self._poll_interval is not None:
                    self._background.append(asyncio.create_task(self.poll(self._poll_interval)))
        return self._dispatcher

    def _start_lock(self) -> asyncio.Lock:
        if self._starting is None:
            self._starting = asyncio.Lock()
        return self._starting

    async def close(self, grace: float = 5.0) -> None:
        """Stop polling and running jobs (unfinished ones stay stored) and close the store.

        Handler calls under way get ``grace`` seconds to return. A start under way ends
        first (raising ConfigurationError); a delivery being stored is kept for the next
        start. Deliveries after this get 503; a closed receiver does not start again.
        """
        self._closed = True
        async with self._start_lock():  # a start under way ends first (and starts nothing)
            for task in self._background:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            self._background.clear()
            if self._dispatcher is not None:
                await self._dispatcher.close(grace)  # from here, new jobs are only stored
                self._dispatcher = None
            # Deliveries being stored: their jobs wait in the store for the next start.
            await asyncio.gather(*self._storing, return_exceptions=True)
            await self._store.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def drain(self) -> None:
        """Wait until every accepted job has been handed over (or dead-lettered).

        Bound it with ``asyncio.timeout()``: a failing handler's retries may take long.
        """
        dispatcher = await self._started()
        await dispatcher.drain()

    async def poll(self, interval: float = 60.0) -> None:
        """Run the polling backup every ``interval`` seconds until cancelled."""
        while True:
            started = time.monotonic()
            try:
                # With a shared store one process polls at a time; the others stand by.
                if await self._store.lead("poller", 3 * interval + 10):
                    await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning(
                    "webhook polling round failed: %s", self._redact(f"{type(exc).__name__}: {exc}")
                )
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def poll_once(self) -> int:
        """One polling round over the lists some handler is for; returns the records found."""
        await self._started()
        assert self._poller is not None
        return await self._poller.round(self._polled_lists())

    def _polled_lists(self) -> dict[str, bool]:
        """The lists some handler is for (name -> shipments with their items)."""
        lists: dict[str, bool] = {}
        for kind, family in POLLED.items():
            routes = [r for r in self._routes.values() if r.events & set(family)]
            if routes:
                lists[kind] = any(r.wants_items for r in routes)
        return lists

    async def _prune_every(self, seconds: float) -> None:
        while True:
            try:
                # A version stays remembered while a poll may still list it again: after a
                # long stop, the next round starts at the old mark less the overlap.
                now = time.time()
                cutoff = now
                for kind in self._polled_lists() if self._poll_interval is not None else ():
                    mark = await self._store.mark(f"poll:{kind}")
                    if mark is None or mark_time(mark) < now - self._remember:
                        continue  # a list not polled for long holds nothing back
                    since = mark_time(mark) - self._overlap.total_seconds() - 3600.0
                    cutoff = min(cutoff, since)
                await self._store.prune(cutoff)
            except Exception as exc:
                logger.warning("webhook store prune failed: %s", type(exc).__name__)
            await asyncio.sleep(seconds)

    # -- subscriptions and dead letters --------------------------------------------------

    async def ensure_subscribed(
        self,
        url: str,
        events: Sequence[WebhookEvent] | None = None,
        *,
        store_id: int | None = None,
        prune: bool = False,
        friendly_name: str = "shipstation-async",
    ) -> SubscriptionReport:
        """Subscribe ``target_url(url)`` to each event it is not yet subscribed to.

        ``events``: default, every event a handler is registered for. Idempotent: safe at
        every start-up. ``prune=True`` also removes hooks on this URL's exact scheme, host
        and path that are not wanted (an old token, another event); never any other hook.
        An API error is raised as :class:`WebhookSubscriptionError`, the token taken out.
        """
        if events is None:
            events = [e for e in EVENT_ORDER if any(e in r.events for r in self._routes.values())]
        unknown = [e for e in events if e not in EVENTS]
        if not events or unknown:
            raise InvalidRequestError("events must be ShipStation events", field="events")
        failure: BaseException
        try:
            return await ensure_subscribed(
                self._client,
                Secret(self.target_url(url)),  # shown only where it is sent
                events,
                store_id=store_id,
                prune=prune,
                friendly_name=friendly_name,
            )
        except ShipStationError as exc:
            # An API error may quote the URL it was given, token included.
            message = self._redact(f"{type(exc).__name__}: {exc}")
            failure = WebhookSubscriptionError(message, status=getattr(exc, "status", None))
        except BaseException as exc:
            # A timeout, a cancellation, anything: the frames it came through (the API's answer,
            # the request) hold the token, and error trackers record their locals.
            failure = without_frames(exc, self._redact)
        # Raised outside the except block: no __context__ holding the original error.
        raise failure

    async def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter, oldest first."""
        from datetime import UTC, datetime

        return [
            DeadLetter(
                id=letter.id,
                handler=letter.handler,
                resource_type=letter.job.resource_type,  # type: ignore[arg-type]
                source=letter.job.source,  # type: ignore[arg-type]
                resource_url=letter.job.resource_url,
                attempts=letter.job.fetch.attempts,
                error=letter.job.fetch.error,
                failed_at=datetime.fromtimestamp(letter.failed_at, UTC),
                records={k: tuple(v) for k, v in (letter.job.records or {}).items()},
            )
            for letter in await self._store.dead_letters()
        ]

    async def replay(self, letter_id: str | None = None) -> int:
        """Hand a dead letter's records (every letter: None) to its handler again; the count.

        A version its handler has handled since is still left out. A letter whose handler is
        not registered here stays (ConfigurationError); an unknown id is an InvalidRequestError.
        """
        dispatcher = await self._started()
        async with self._replaying:
            letters = await self._store.dead_letters()
            if letter_id is not None:
                letters = [letter for letter in letters if letter.id == letter_id]
                if not letters:
                    raise InvalidRequestError("no dead letter has that id", field="letter_id")
            missing = sorted({lt.handler for lt in letters} - set(self._routes))
            if missing:
                raise ConfigurationError(f"no handler registered as {', '.join(missing)}")
            return await self._requeue(dispatcher, letters)

    async def _requeue(self, dispatcher: Dispatcher, letters: list[DeadLetterRecord]) -> int:
        count = 0
        for letter in letters:
            job = attrs.evolve(
                letter.job,
                id=uuid.uuid4().hex,
                key=f"replay:{uuid.uuid4().hex}",
                source="replay",
                received_at=time.time(),
                fetch=Progress(),
            )
            if await self._store.add_job(job, remember_until=time.time() + self._remember):
                await self._store.drop_dead_letter(letter.id)
                dispatcher.submit(job)
                count += 1
        return count

    def _redact(self, text: str) -> str:
        return self._token_redactor.text(self._client._credentials.redact(text))


def _name_of(handler: Callable[..., Any]) -> str:
    owner = handler if inspect.isfunction(handler) or inspect.ismethod(handler) else type(handler)
    return f"{owner.__module__}.{owner.__qualname__}"


def _check_settings(
    poll_interval: float | None,
    overlap: timedelta,
    remember: timedelta,
    attempts: int,
    concurrency: int,
    max_body: int,
) -> None:
    if poll_interval is not None and not (
        isinstance(poll_interval, int | float) and poll_interval > 0
    ):
        raise ConfigurationError("poll_interval must be a positive number of seconds or None")
    if not isinstance(overlap, timedelta) or overlap < timedelta(0):
        raise ConfigurationError("overlap must be a timedelta >= 0")
    if not isinstance(remember, timedelta) or remember < overlap + LONGEST_WEBHOOK_DELAY:
        # A version forgotten before a late delivery or an overlapping poll brings it back
        # would be handed over twice.
        raise ConfigurationError("remember must cover the overlap plus an hour of webhook delay")
    for name, value in (
        ("attempts", attempts),
        ("concurrency", concurrency),
        ("max_body", max_body),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"{name} must be a positive int")
